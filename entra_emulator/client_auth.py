"""Client authentication at the token endpoint: client_secret_post or client_secret_basic."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote_plus

from .web import Request, Response

if TYPE_CHECKING:
    from .server import EntraEmulator


class ErrorFactory(Protocol):
    def __call__(self, status: int, error: str, code: int, message: str) -> Response: ...


def authenticate_client(
    emu: EntraEmulator, req: Request, form: dict[str, str], err: ErrorFactory
) -> Response | None:
    """client_secret_basic or client_secret_post; None when the client is authenticated."""
    if "client_assertion" in form:
        return err(
            401,
            "invalid_client",
            7000215,
            "The development emulator accepts client "
            "secrets only (client_secret_post or client_secret_basic).",
        )
    basic_id: str | None = None
    basic_secret: str | None = None
    header = req.headers.get("authorization", "").strip()
    if header:
        scheme, _, value = header.partition(" ")
        credentials = _basic(value) if scheme.lower() == "basic" else None
        if credentials is None:
            return err(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided: the "
                "Authorization header does not hold valid Basic credentials.",
            )
        basic_id, basic_secret = credentials
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if basic_secret is not None and form_secret is not None:
        return err(
            400,
            "invalid_request",
            90100,
            "The request uses more than one client "
            "authentication method (client_secret_basic and client_secret_post).",
        )
    if basic_id and form_id and basic_id != form_id:
        return err(
            400,
            "invalid_request",
            90100,
            "The client_id in the body does not match the Authorization header.",
        )
    client_id = basic_id or form_id or ""
    if not client_id:
        return err(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        )
    if client_id.lower() != emu.client_id.lower():
        return err(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory "
            f"'{emu.tenant_id}'.",
        )
    secret = basic_secret if basic_secret is not None else form_secret
    if not secret:
        return err(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided: the request "
            "carries no client secret (send client_secret or Basic credentials).",
        )
    expected = emu.client_secret.encode()
    candidates = [secret, unquote_plus(secret)] if basic_secret is not None else [secret]
    if not any(hmac.compare_digest(c.encode(), expected) for c in candidates):
        return err(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the "
            "secret being sent in the request is the client secret value, not the client "
            f"secret ID, for a secret added to app '{emu.client_id}'.",
        )
    return None


def _basic(value: str) -> tuple[str, str] | None:
    """Decode Basic credentials: (client id, secret as sent).

    RFC 6749 2.3.1 form-urlencodes each part first; many clients do not, so the secret is
    later accepted either as sent or url-decoded.
    """
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    raw_id, sep, raw_secret = decoded.partition(":")
    if not sep:
        return None
    return unquote_plus(raw_id), raw_secret
