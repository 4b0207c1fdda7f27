"""What a Keyfax session remembers about its sign-in: how it signed in, and (for an Entra
sign-in) which elements it was admitted to, under which settings."""

from __future__ import annotations

from django.http import HttpRequest

SIGN_IN_METHOD = "keyfax_sign_in_method"  # "entra" or "password"
ADMITTED_ELEMENTS = "keyfax_admitted"  # {element: SsoConfig.admission_key} of an Entra sign-in


def remember_sign_in(request: HttpRequest, method: str,
                     admitted: dict[str, str] | None = None) -> None:
    """Call right after ``login()``: the new session says how it was opened and, for Entra,
    each admitted element with the settings it was admitted under."""
    request.session[SIGN_IN_METHOD] = method
    if method == "entra":
        request.session[ADMITTED_ELEMENTS] = dict(sorted((admitted or {}).items()))


def sign_in_method(request: HttpRequest) -> str:
    return request.session.get(SIGN_IN_METHOD, "password")


def admitted_elements(request: HttpRequest) -> dict[str, str]:
    """The elements the session's Entra sign-in was admitted to, with their admission keys."""
    admitted = request.session.get(ADMITTED_ELEMENTS)
    if not isinstance(admitted, dict):
        return {}
    return {e: key for e, key in admitted.items() if isinstance(e, str) and isinstance(key, str)}
