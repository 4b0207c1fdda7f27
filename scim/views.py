"""``/scim/v2/``: the thin Django view in front of scim2-server.

It authenticates the bearer token (never a query-string token, never a session cookie),
throttles and audits failed ones, bounds the body, and hands the request to scim2-server's
handler over :class:`scim.storage.DjangoStorage`. Every answer is ``application/scim+json``,
errors included; nothing here answers a 5xx for anything a client sent.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from scim2_models import (
    Error,
    PayloadTooLargeException,
    SCIMException,
    UnauthorizedException,
)
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.routing import Operation

from accounts.services import Actor
from accounts.sso_config import sso_config
from audit.models import Action, Outcome
from audit.services import record
from scim import tokens
from scim.provider import service
from scim.storage import DjangoStorage

logger = logging.getLogger("keyfax.scim")

MAX_BODY_BYTES = 1024 * 1024
"""The largest request body (1 MiB): Entra's are a few kilobytes."""

URL_TOKEN_PARAMETERS = ("access_token", "token", "bearer", "auth", "authorization")
PREFIX = "/scim/v2"


@csrf_exempt
def scim_endpoint(request: HttpRequest, path: str = "") -> HttpResponse:
    try:
        response = _serve(request, "/" + path)
    except SCIMException as exception:
        response = service().error_response(exception)
    except Exception:  # a bug: logged with its traceback, answered as SCIM
        logger.exception("SCIM request failed")
        response = _error(HTTPStatus.INTERNAL_SERVER_ERROR, "Keyfax could not serve this "
                          "request; it is logged.")
    return _http_response(response)


def _serve(request: HttpRequest, path: str) -> ScimResponse:
    address = request.META.get("REMOTE_ADDR")
    scim_request = ScimRequest(
        method=request.method or "GET",
        base_url=request.build_absolute_uri(PREFIX),
        path=path,
        query={key: value for key, value in request.GET.items()},
        headers=dict(request.headers),
    )
    public = service().match(scim_request).operation is Operation.service_provider_config
    if any(name in request.GET for name in URL_TOKEN_PARAMETERS):
        return _refuse(request, address, "token_in_url",
                       "Send the token in the Authorization header, never in the URL.")
    if tokens.is_throttled(address):
        return _error(HTTPStatus.TOO_MANY_REQUESTS, "Too many failed tokens from this "
                      "address: wait 15 minutes.")
    credential = ""
    if not public:
        token, why = _bearer(request)
        found = tokens.authenticate(token) if token else None
        if found is None:
            return _refuse(request, address, why or "unknown_token",
                           "A valid SCIM bearer token is required.")
        credential = found.name
    config = sso_config()
    if not config.tenant_is_valid:
        return _error(HTTPStatus.SERVICE_UNAVAILABLE, "SCIM provisioning needs "
                      "ENTRA_TENANT_ID: the accounts it makes are linked to that tenant.")
    scim_request.body = request.read(MAX_BODY_BYTES + 1)
    if len(scim_request.body) > MAX_BODY_BYTES:
        raise PayloadTooLargeException(
            detail=f"The body is over {MAX_BODY_BYTES} bytes.")
    actor = Actor(request=request, via="scim", credential=credential)
    storage = DjangoStorage(actor, config.tenant_id.lower())
    return ScimHandler(service(), storage).handle(scim_request)


def _bearer(request: HttpRequest) -> tuple[str | None, str]:
    header = request.headers.get("Authorization", "")
    if not header:
        return None, "no_token"
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None, "not_bearer"
    token = token.strip()
    if not token or len(token) > 200 or not token.isascii():
        return None, "unknown_token"
    return token, ""


def _refuse(request: HttpRequest, address: str | None, reason: str, detail: str
            ) -> ScimResponse:
    failures = tokens.note_failure(address)
    if failures <= tokens.FAILURES_ALLOWED:  # past the limit, the throttle speaks alone
        record(Action.ACCESS_REFUSED, outcome=Outcome.REFUSED, request=request,
               subject=f"path:{request.path[:190]}", reason=f"scim_{reason}",
               detail={"method": request.method, "failures": failures,
                       "throttled": failures == tokens.FAILURES_ALLOWED})
    response = service().error_response(UnauthorizedException(detail=detail))
    response.headers["WWW-Authenticate"] = 'Bearer realm="SCIM"'
    return response


def _error(status: HTTPStatus, detail: str) -> ScimResponse:
    return ScimResponse(status, Error(status=status.value, detail=detail).model_dump())


def _http_response(response: ScimResponse) -> HttpResponse:
    body: Any = b"" if response.body is None else json.dumps(response.body)
    http = HttpResponse(body, status=response.status.value,
                        content_type="application/scim+json")
    for name, value in response.headers.items():
        if name.lower() != "content-type":
            http[name] = value
    http["Cache-Control"] = "no-store"
    return http
