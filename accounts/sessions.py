"""What a Keyfax session remembers about its sign-in: how it signed in, and (for an Entra
sign-in) which elements it was admitted to."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest

SIGN_IN_METHOD = "keyfax_sign_in_method"  # "entra" or "password"
ADMITTED_ELEMENTS = "keyfax_admitted_elements"  # the elements an Entra sign-in admits


def remember_sign_in(
    request: HttpRequest, method: str, admitted: Iterable[str] = ()
) -> None:
    """Call right after ``login()``: the new session says how it was opened."""
    request.session[SIGN_IN_METHOD] = method
    if method == "entra":
        request.session[ADMITTED_ELEMENTS] = sorted(admitted)


def sign_in_method(request: HttpRequest) -> str:
    return request.session.get(SIGN_IN_METHOD, "password")


def admitted_elements(request: HttpRequest) -> set[str]:
    """The elements the session's Entra sign-in was admitted to."""
    admitted = request.session.get(ADMITTED_ELEMENTS)
    if not isinstance(admitted, list):
        return set()
    return {value for value in admitted if isinstance(value, str)}
