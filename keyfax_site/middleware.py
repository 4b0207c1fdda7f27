"""Site-wide middleware that belongs to no single app."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable, Sequence
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from accounts.proxies import IPNetwork, trusted_proxy_networks

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_PORT = re.compile(r"[0-9]{1,5}")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

PROXY_ADDR = "KEYFAX_PROXY_ADDR"
"""``request.META`` key: the trusted proxy's own address, set only when the request came
through one (a client cannot set it: header keys all start ``HTTP_``)."""


class ClientAddressMiddleware:
    """Behind a trusted reverse proxy, ``REMOTE_ADDR`` becomes the client's address.

    Only when ``REMOTE_ADDR`` is in ``KEYFAX_TRUSTED_PROXIES`` is ``X-Forwarded-For`` read,
    and only from the right: each proxy appends the address it was connected from, so the
    entries right of the first untrusted one were written by trusted proxies and everything
    left of it by whoever sent the request. The walk skips trusted addresses; the first
    untrusted one is the client. It stops at a malformed entry (a trusted hop wrote something
    that is not an address, so nothing further left can be attributed): the client is then
    the last address it could vouch for, or the proxy itself. The leftmost entry is never
    believed for being leftmost. ``a.b.c.d:port`` and ``[v6]:port`` (as some Azure and IIS
    proxies write) are read as their address.

    The proxy's address stays in ``request.META["KEYFAX_PROXY_ADDR"]``, so every consumer
    (the audit log's ``source_ip``, the password throttle) reads the client from
    ``REMOTE_ADDR``. Place it first in ``MIDDLEWARE``: ``RequestIdMiddleware`` relies on it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop(PROXY_ADDR, None)
        networks = _trusted_networks(getattr(settings, "KEYFAX_TRUSTED_PROXIES", ()))
        peer = _address(request.META.get("REMOTE_ADDR", ""))
        if networks and peer is not None and _is_trusted(peer, networks):
            request.META[PROXY_ADDR] = request.META["REMOTE_ADDR"]
            client = _client_from(request.META.get("HTTP_X_FORWARDED_FOR", ""), networks)
            request.META["REMOTE_ADDR"] = str(client or peer)
        return self.get_response(request)


class RequestIdMiddleware:
    """Give every request an id: shown on error pages, stored on audit events, logged.

    A well-formed ``X-Request-ID`` is kept, so one id follows the request across systems,
    only when the request came through a trusted reverse proxy (``ClientAddressMiddleware``
    said so); anything else gets a fresh id, so nobody can stamp someone else's refusal
    reference on their own requests. The proxy must set the header itself, replacing any
    the client sent.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "") if PROXY_ADDR in request.META else ""
        request.request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def _trusted_networks(raw: object) -> tuple[IPNetwork, ...]:
    if isinstance(raw, Sequence) and not isinstance(raw, str):
        raw = ",".join(str(item) for item in raw)
    return _parsed(str(raw or ""))


@lru_cache(maxsize=16)
def _parsed(raw: str) -> tuple[IPNetwork, ...]:
    networks, _refused = trusted_proxy_networks(raw)  # refused entries: keyfax.E012
    return tuple(networks)


def _client_from(forwarded_for: str, networks: Sequence[IPNetwork]) -> IPAddress | None:
    client = None
    for hop in reversed(forwarded_for.split(",")):
        address = _forwarded_address(hop.strip())
        if address is None:
            break
        client = address
        if not _is_trusted(address, networks):
            break
    return client


def _forwarded_address(hop: str) -> IPAddress | None:
    """The address in one ``X-Forwarded-For`` entry, or ``None`` when it is not one."""
    if hop.startswith("["):
        host, closed, port = hop[1:].partition("]")
        if not closed or (port and not (port[0] == ":" and _PORT.fullmatch(port[1:]))):
            return None
        return _address(host) if ":" in host else None
    if hop.count(":") == 1:
        hop, _, port = hop.partition(":")
        if not _PORT.fullmatch(port):
            return None
    return _address(hop)


def _address(raw: str) -> IPAddress | None:
    """An address, IPv4-mapped IPv6 read as IPv4; zone ids and anything else refused."""
    if not raw or "%" in raw:
        return None
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in networks)
