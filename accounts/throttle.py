"""The failed-password throttle, in the cache: per (username, client address) and per address.

A username is locked only for the address that failed for it: failures from elsewhere never
lock its owner out of a new address, so nobody can lock the break-glass account out from
afar. Separately, an address that fails ``ADDRESS_ATTEMPTS_FACTOR`` times
``KEYFAX_LOGIN_ATTEMPTS`` for any usernames (spraying) is locked for every username. Both
last ``KEYFAX_LOGIN_LOCKOUT_SECONDS`` from the first failure. The client address is
``REMOTE_ADDR``, which ``ClientAddressMiddleware`` has made the client's behind a trusted
proxy. An IPv6 client counts by its /64, the block one subscriber usually holds.

The trade-off (docs/deployment.md): guesses at one username spread over many addresses are
never locked, only audited and slowed per address; so password accounts need long random
passwords.
"""

from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache

ADDRESS_ATTEMPTS_FACTOR = 4
"""An address is locked for everyone after this many times ``KEYFAX_LOGIN_ATTEMPTS``
failures (20 by default), whichever usernames they were for."""

IPV6_PREFIX = 64
"""IPv6 clients count per network of this size: one subscriber holds a whole /64."""

_UNKNOWN = "unknown"


def is_locked(username: str, address: str | None) -> bool:
    """Whether this username from this address, or anything from this address, is locked."""
    limits = _limits(username, address)
    counts = cache.get_many(list(limits))
    return any(counts.get(key, 0) >= limit for key, limit in limits.items())


def note_failure(username: str, address: str | None) -> None:
    for key in _limits(username, address):
        if cache.add(key, 1, timeout=settings.KEYFAX_LOGIN_LOCKOUT_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.KEYFAX_LOGIN_LOCKOUT_SECONDS)


def clear(username: str, address: str | None) -> None:
    """A success clears that username's count at that address, never the address's own."""
    cache.delete(_pair_key(username, _bucket(address)))


def _limits(username: str, address: str | None) -> dict[str, int]:
    bucket = _bucket(address)
    attempts = settings.KEYFAX_LOGIN_ATTEMPTS
    return {
        _pair_key(username, bucket): attempts,
        f"keyfax:login-fail:ip:{bucket}": attempts * ADDRESS_ATTEMPTS_FACTOR,
    }


def _pair_key(username: str, bucket: str) -> str:
    name = username.strip().lower()
    digest = hashlib.sha256(f"{name}\n{bucket}".encode()).hexdigest()[:32]
    return f"keyfax:login-fail:user-at:{digest}"


def _bucket(address: str | None) -> str:
    """The address as counted: normalised, IPv4-mapped as IPv4, IPv6 by its /64."""
    try:
        ip = ipaddress.ip_address(str(address or "").strip())
    except ValueError:
        return _UNKNOWN
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip), IPV6_PREFIX), strict=False))
    return str(ip)
