"""Signing out of "Microsoft": ending emulator sessions and Entra's front-channel logout.

When a person signs out of Entra, Entra loads each app's registered "Front-channel logout
URL" with ``?sid=<the session's sid>&iss=<issuer>`` in hidden iframes. The emulator does the
same on its signed-out pages; its JSON control, which has no browser, makes those requests
itself. The URL is ``EntraEmulator.front_channel_logout_urls`` if set, otherwise derived
from the redirect URI the session signed in with (``…/oidc/callback/`` becomes
``…/oidc/logout/front-channel/``), as Keyfax serves it there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import requests

from .pages import signed_out_page
from .store import Session
from .validation import CALLBACK_SUFFIX
from .web import Response, add_query, html_response

if TYPE_CHECKING:
    from .server import EntraEmulator

FRONT_CHANNEL_PATH = "/oidc/logout/front-channel/"


def check_front_channel_urls(urls: Iterable[str]) -> tuple[str, ...]:
    """Absolute http(s) URLs without a fragment; ValueError otherwise."""
    checked = tuple(dict.fromkeys(url.strip() for url in urls if url.strip()))
    for url in checked:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise ValueError(f"front-channel logout URL {url!r} is not an http(s) URL")
    return checked


def derived_logout_url(redirect_uri: str) -> str:
    """The front-channel logout URL of the app whose callback is ``redirect_uri``."""
    parts = urlsplit(redirect_uri)
    prefix = parts.path[: -len(CALLBACK_SUFFIX)] if parts.path.endswith(CALLBACK_SUFFIX) else ""
    return urlunsplit((parts.scheme, parts.netloc, prefix + FRONT_CHANNEL_PATH, "", ""))


def logout_urls(emu: EntraEmulator, session: Session) -> list[str]:
    """The registered front-channel logout URL(s) for the apps ``session`` signed in to."""
    if emu.front_channel_logout_urls:
        return list(emu.front_channel_logout_urls)
    sources = session.apps or sorted(emu.redirect_uris)[:1]
    return list(dict.fromkeys(derived_logout_url(uri) for uri in sources))


def front_channel_requests(emu: EntraEmulator, sessions: Iterable[Session]) -> list[str]:
    """Each logout URL with the ``sid`` of a session and the issuer, as Entra sends them."""
    return [
        add_query(url, [("sid", session.sid), ("iss", emu.issuer)])
        for session in sessions
        for url in logout_urls(emu, session)
    ]


def call_front_channel(urls: Iterable[str], timeout: float) -> list[dict[str, Any]]:
    """GET each URL server-side (no browser to load an iframe); the outcome of each."""
    results: list[dict[str, Any]] = []
    for url in urls:
        try:
            answer = requests.get(url, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            results.append({"url": url, "status": None, "error": type(exc).__name__})
        else:
            results.append({"url": url, "status": answer.status_code})
    return results


def origins(urls: Iterable[str]) -> list[str]:
    """The distinct ``scheme://host:port`` origins of ``urls`` (for CSP ``frame-src``)."""
    found = []
    for url in urls:
        parts = urlsplit(url)
        found.append(f"{parts.scheme}://{parts.netloc}")
    return list(dict.fromkeys(found))


def signed_out_response(
    emu: EntraEmulator,
    frames: list[str],
    continue_url: str | None,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """The "You signed out" page, loading ``frames`` in hidden iframes, then moving on."""
    page = signed_out_page(tenant_id=emu.tenant_id, frames=frames, continue_url=continue_url)
    return html_response(200, page, headers, frame_src=origins(frames))
