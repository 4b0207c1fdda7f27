"""The token endpoint: the authorization_code and client_credentials grants."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from .authorize import sign_in_refusal
from .client_auth import ErrorFactory, authenticate_client
from .people import Person
from .store import AccessGrant, AuthCode, CodeState
from .tokens import id_token_claims, id_token_header, opaque, sign
from .validation import CODE_VERIFIER, s256
from .web import Request, Response, entra_error, entra_error_text, json_response, single_values

if TYPE_CHECKING:
    from .server import EntraEmulator

USER_TOKEN_LIFETIME = 3600
APP_TOKEN_LIFETIME = 3599  # what Entra answers for client credentials
GRAPH_RESOURCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")
OIDC_SCOPES = ("openid", "profile", "email")
NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def handle_token(emu: EntraEmulator, req: Request) -> Response:
    """``POST /{tenant}/oauth2/v2.0/token`` (form-encoded)."""

    def err(status: int, error: str, code: int, message: str) -> Response:
        return entra_error(
            status, error, code, message, base_url=emu.base_url, correlation_id=req.correlation_id
        )

    if not req.is_form:
        return err(
            400,
            "invalid_request",
            900144,
            _missing("grant_type") + " (The token "
            "endpoint accepts application/x-www-form-urlencoded bodies only.)",
        )
    form, duplicate = single_values(req.form())
    if duplicate:
        return err(400, "invalid_request", 90100, f"The '{duplicate}' parameter is repeated.")
    grant_type = form.get("grant_type", "")
    if not grant_type:
        return err(400, "invalid_request", 900144, _missing("grant_type"))
    if grant_type == "authorization_code":
        forced = emu.take_token_error()
        if forced is not None:
            status, error, description = forced
            return entra_error_text(
                status,
                error,
                description,
                base_url=emu.base_url,
                correlation_id=req.correlation_id,
            )
    if grant_type not in ("authorization_code", "client_credentials"):
        return err(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant_type}'.",
        )
    failure = authenticate_client(emu, req, form, err)
    if failure is not None:
        return failure
    if grant_type == "authorization_code":
        return _authorization_code(emu, form, err)
    return _client_credentials(emu, form, err)


def _authorization_code(emu: EntraEmulator, form: dict[str, str], err: ErrorFactory) -> Response:
    code = form.get("code", "")
    if not code:
        return err(400, "invalid_request", 900144, _missing("code"))
    now = emu.clock()
    state, record = emu.store.look_up_code(code, now)
    if state is CodeState.REDEEMED and record is not None:
        emu.store.revoke_tokens_of(record)
        return err(
            400,
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already "
            "redeemed, please retry with a new valid code or use an existing refresh token.",
        )
    if state is not CodeState.VALID or record is None:
        return err(
            400,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token "
            "has expired due to inactivity. Send a new interactive authorization request "
            "for this user and resource.",
        )
    if record.client_id.lower() != emu.client_id.lower():
        return err(
            400,
            "invalid_grant",
            70000,
            "The provided value for the 'code' parameter is not valid for this client.",
        )
    redirect_uri = form.get("redirect_uri", "")
    if redirect_uri != record.redirect_uri:
        return err(
            400,
            "invalid_grant",
            50011,
            f"The redirect URI '{redirect_uri}' specified in "
            "the request does not match the redirect URI used to request the "
            "authorization code.",
        )
    verifier = form.get("code_verifier", "")
    if not CODE_VERIFIER.match(verifier) or not hmac.compare_digest(
        s256(verifier), record.code_challenge
    ):
        return err(
            400,
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the "
            "code_challenge supplied in the authorization request.",
        )
    person = emu.person(record.oid)
    if person is None:
        return err(400, "invalid_grant", 70008, "The user of this code no longer exists.")
    refusal = sign_in_refusal(emu, person)  # disabled or unassigned since the code was issued
    if refusal is not None:
        return err(400, "invalid_grant", *refusal)
    access_token = opaque(64)
    grant = AccessGrant(
        client_id=emu.client_id, expires_at=now + USER_TOKEN_LIFETIME, oid=person.oid
    )
    if not emu.store.redeem_code(code, access_token, grant, now):
        return err(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed.")
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": _granted_scope(record.scope),
        "expires_in": USER_TOKEN_LIFETIME,
        "ext_expires_in": USER_TOKEN_LIFETIME,
        "access_token": access_token,
        "id_token": _id_token(emu, record, person, int(now)),
    }
    return json_response(200, body, NO_STORE)


def _id_token(emu: EntraEmulator, record: AuthCode, person: Person, now: int) -> str:
    key = emu.keys.current
    header = id_token_header(key)
    claims = id_token_claims(
        person=person,
        client_id=emu.client_id,
        issuer=emu.issuer,
        tenant_id=emu.tenant_id,
        now=now,
        nonce=record.nonce,
        sid=record.sid,
        acrs=record.acrs,
    )
    hook = emu.id_token_hook
    if hook is not None:
        forged = hook(header, claims)
        if isinstance(forged, str):
            return forged
    return sign(header, claims, key)


def _granted_scope(requested: str) -> str:
    """Entra lists the OpenID scopes granted plus the Graph scope of the access token."""
    scopes = [s for s in requested.split() if s != "offline_access"]
    granted = [s for s in OIDC_SCOPES if s in scopes]
    others = [s for s in scopes if s not in OIDC_SCOPES]
    return " ".join([*granted, *(others or ["https://graph.microsoft.com/User.Read"])])


def _client_credentials(emu: EntraEmulator, form: dict[str, str], err: ErrorFactory) -> Response:
    scope = form.get("scope", "").strip()
    if not scope:
        return err(400, "invalid_request", 900144, _missing("scope"))
    resources = {emu.base_url, *GRAPH_RESOURCES}
    if " " in scope or not scope.endswith("/.default"):
        return err(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not "
            "valid. Client credential flows must have a scope value with /.default "
            "suffixed to the resource identifier (application ID URI).",
        )
    resource = scope.removesuffix("/.default")
    if resource not in resources:
        return err(
            400,
            "invalid_resource",
            500011,
            f"The resource principal named {resource} "
            f"was not found in the tenant named {emu.tenant_id}.",
        )
    now = emu.clock()
    token = opaque(64)
    emu.store.add_token(token, AccessGrant(emu.client_id, now + APP_TOKEN_LIFETIME), now)
    body = {
        "token_type": "Bearer",
        "expires_in": APP_TOKEN_LIFETIME,
        "ext_expires_in": APP_TOKEN_LIFETIME,
        "access_token": token,
    }
    return json_response(200, body, NO_STORE)


def _missing(name: str) -> str:
    return f"The request body must contain the following parameter: '{name}'."
