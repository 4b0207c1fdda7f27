"""Where a sign-in goes afterwards: a safe local ``next`` and the element it belongs to."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.http import HttpRequest
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.sso_config import Element

# URL namespaces of the portals, so a sign-in's ``next`` tells which element it is for.
ELEMENT_NAMESPACES = {"admin_tools": Element.ADMIN_TOOL, "staff_portal": Element.WEB_STAFF}


def safe_next(request: HttpRequest, candidate: object) -> str | None:
    """A local path to go to after sign-in, or ``None`` (no open redirect)."""
    if not isinstance(candidate, str) or not candidate.startswith("/"):
        return None
    if candidate.startswith(("//", "/\\")):
        return None
    ok = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if ok else None


def element_for_path(path: str | None) -> Element | None:
    """The element a local path belongs to (by its URL namespace), or ``None``."""
    if not path:
        return None
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return next((ELEMENT_NAMESPACES[n] for n in match.namespaces if n in ELEMENT_NAMESPACES), None)


def is_django_admin_path(path: str | None) -> bool:
    """Whether a local path is in Django admin (IT's surface, not an element)."""
    if not path:
        return False
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return False
    return "admin" in match.namespaces


def sign_in_url(next_url: str | None = None) -> str:
    """'Sign in with Microsoft', returning to ``next_url`` afterwards."""
    url = reverse("oidc_authentication_init")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url
