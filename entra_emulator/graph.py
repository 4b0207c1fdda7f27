"""The Microsoft Graph side: ``/oidc/userinfo`` and ``/v1.0/users/{id}/getMemberObjects``."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from .tokens import pairwise_sub
from .web import Request, Response, graph_error, json_response

if TYPE_CHECKING:
    from .server import EntraEmulator

# "ok": answer; "slow": answer after graph_delay seconds; the others fail as Graph does.
GRAPH_MODES = ("ok", "error", "slow", "throttled", "forbidden", "down")
UNAUTHENTICATED = [("WWW-Authenticate", 'Bearer error="invalid_token"')]
THROTTLE_RETRY_AFTER = "7"


def simulated_failure(mode: str) -> Response | None:
    """The Graph error the simulation ``mode`` answers with, or None."""
    if mode in ("error", "down"):
        return graph_error(
            503,
            "serviceNotAvailable",
            "Service is temporarily unavailable. Please try again later.",
            [("Retry-After", "10")],
        )
    if mode == "throttled":
        return graph_error(
            429,
            "TooManyRequests",
            "Too many requests are being made. Please try again after the time in Retry-After.",
            [("Retry-After", THROTTLE_RETRY_AFTER)],
        )
    if mode == "forbidden":  # the app lacks the User.Read.All application permission
        return graph_error(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )
    return None


def app_grant_error(emu: EntraEmulator, req: Request) -> Response | None:
    """None if the request carries a valid application (client-credentials) token."""
    token = req.bearer_token()
    if token is None:
        return graph_error(
            401, "InvalidAuthenticationToken", "Access token is empty.", UNAUTHENTICATED
        )
    grant = emu.store.look_up_token(token, emu.clock())
    if grant is None:
        return graph_error(
            401,
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience.",
            UNAUTHENTICATED,
        )
    if not grant.is_app:
        return graph_error(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )
    return None


def handle_userinfo(emu: EntraEmulator, req: Request) -> Response:
    """Graph's OIDC userinfo: display claims only (no roles, groups, oid or tid)."""
    token = req.bearer_token()
    if token is None:
        return graph_error(
            401, "InvalidAuthenticationToken", "Access token is empty.", UNAUTHENTICATED
        )
    grant = emu.store.look_up_token(token, emu.clock())
    person = emu.person(grant.oid) if grant is not None and grant.oid else None
    if person is None:
        return graph_error(
            401, "InvalidAuthenticationToken", "Access token validation failure.", UNAUTHENTICATED
        )
    return json_response(
        200,
        {
            "sub": pairwise_sub(emu.client_id, person.oid),
            "name": person.name,
            "family_name": person.family_name,
            "given_name": person.given_name,
            "email": person.email,
        },
    )


def handle_member_objects(emu: EntraEmulator, req: Request, user: str) -> Response:
    """``POST /v1.0/users/{oid or upn}/getMemberObjects`` with an application token."""
    mode = emu.graph_mode
    failure = simulated_failure(mode)
    if failure is not None:
        return failure
    if mode == "slow":
        time.sleep(max(0.0, float(emu.graph_delay)))
    refused = app_grant_error(emu, req)
    if refused is not None:
        return refused
    try:
        body = json.loads(req.body.decode("utf-8")) if req.body else None
    except (UnicodeDecodeError, ValueError):
        return graph_error(400, "BadRequest", "Unable to read JSON request payload.")
    if not isinstance(body, dict) or not isinstance(body.get("securityEnabledOnly"), bool):
        return graph_error(
            400,
            "Request_BadRequest",
            "The request body must be a JSON object "
            "with the boolean parameter 'securityEnabledOnly'.",
        )
    person = emu.person(user)
    if person is None:
        return graph_error(
            404,
            "Request_ResourceNotFound",
            f"Resource '{user}' does not exist "
            "or one of its queried reference-property objects are not present.",
        )
    return json_response(
        200,
        {
            "@odata.context": f"{emu.base_url}/v1.0/$metadata#Collection(Edm.String)",
            "value": list(person.groups),
        },
    )
