"""A small SCIM client that talks to the Keyfax site over HTTP, as Entra's provisioning
service does: bearer token in the Authorization header, ``application/scim+json`` bodies.

It knows nothing of the site's code (the emulator imports nothing of the product); it only
turns what the site answers into :class:`Exchange` objects, or a :class:`ProvisioningError`
that says in plain words what went wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

SCIM_PATH = "/scim/v2"
CONTENT_TYPE = "application/scim+json"
TIMEOUT_SECONDS = 15.0


class ProvisioningError(Exception):
    """The site is unreachable, refused the token, or answered a step unexpectedly."""


@dataclass(frozen=True)
class Exchange:
    """One request and the site's answer: ``line`` is the request as a person reads it."""

    line: str
    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def detail(self) -> str:
        """The SCIM error's ``detail`` (or ``scimType``), if the answer is an error."""
        return str(self.body.get("detail") or self.body.get("scimType") or "").strip()


def scim_base_url(site: str) -> str:
    """``http://host:port/scim/v2`` for a site URL given with or without ``/scim/v2``."""
    site = site.strip().rstrip("/")
    parts = urlsplit(site)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProvisioningError(
            f"--site must be the site's address, like http://127.0.0.1:8000, not {site!r}.")
    return site if site.endswith(SCIM_PATH) else site + SCIM_PATH


class ScimClient:
    """Sends SCIM requests to one site with one bearer token."""

    def __init__(self, site: str, token: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.base_url = scim_base_url(site)
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({
            "Authorization": f"Bearer {token}",
            "Accept": CONTENT_TYPE,
            "User-Agent": "Keyfax-Entra-emulator-provisioning",
        })

    def send(self, method: str, path: str, *, filter_: str | None = None,
             body: dict[str, Any] | None = None) -> Exchange:
        """``method`` ``path`` (under ``/scim/v2``), with an optional ``filter`` and body."""
        shown = urlsplit(self.base_url).path + path
        if filter_ is not None:
            shown += f"?filter={filter_}"
        line = f"{method} {shown}"
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=self.timeout,
                params={"filter": filter_} if filter_ is not None else None,
                data=None if body is None else json.dumps(body),
                headers={"Content-Type": CONTENT_TYPE} if body is not None else None,
            )
        except requests.RequestException as exc:
            raise ProvisioningError(
                f"Cannot reach the Keyfax site at {self.base_url} ({type(exc).__name__}): is "
                "it running (make run), and is --site right?") from exc
        exchange = Exchange(line, response.status_code, _json(response))
        _refuse_site_errors(exchange)
        return exchange

    def close(self) -> None:
        self.session.close()


def _json(response: requests.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        found = response.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _refuse_site_errors(exchange: Exchange) -> None:
    """Answers that stop the whole cycle, whichever step asked."""
    said = f" The site said: {exchange.detail}" if exchange.detail else ""
    if exchange.status == 401:
        raise ProvisioningError(
            f"{exchange.line} → 401: the site refused the SCIM token. Make one with "
            "`manage.py scim_token create NAME` and pass it with --token or SCIM_TOKEN."
            + said)
    if exchange.status == 429:
        raise ProvisioningError(
            f"{exchange.line} → 429: too many failed tokens from this address; wait 15 "
            "minutes." + said)
    if exchange.status == 503:
        raise ProvisioningError(
            f"{exchange.line} → 503: the site cannot provision accounts now." + said)
