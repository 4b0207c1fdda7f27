"""The WSGI application: routing, tenant and method checks, request counting, error safety."""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .authorize import handle_authorize, handle_logout
from .discovery import handle_discovery, handle_jwks
from .graph import handle_member_objects, handle_userinfo
from .graph_search import handle_user, handle_users
from .lifecycle import handle_graph_control, handle_people, handle_person
from .pages import index_page
from .token_endpoint import handle_token
from .web import (
    BodyTooLarge,
    Request,
    Response,
    entra_error,
    graph_error,
    html_response,
    json_response,
)

if TYPE_CHECKING:
    from .server import EntraEmulator

Handler = Callable[..., Response]
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(frozen=True)
class Route:
    name: str  # the request_counts key
    pattern: re.Pattern[str]
    methods: frozenset[str]
    handler: Handler
    tenant: bool = False  # the first path segment is the tenant
    graph: bool = False  # errors in Microsoft Graph's shape


def _route(name: str, pattern: str, methods: str, handler: Handler, **flags: bool) -> Route:
    return Route(name, re.compile(pattern), frozenset(methods.split()), handler, **flags)


ROUTES = (
    _route(
        "discovery",
        r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration$",
        "GET",
        handle_discovery,
        tenant=True,
    ),
    _route("jwks", r"^/(?P<tenant>[^/]+)/discovery/v2\.0/keys$", "GET", handle_jwks, tenant=True),
    _route(
        "authorize",
        r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/authorize$",
        "GET POST",
        handle_authorize,
        tenant=True,
    ),
    _route("token", r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$", "POST", handle_token, tenant=True),
    _route(
        "logout", r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/logout$", "GET", handle_logout, tenant=True
    ),
    _route("userinfo", r"^/oidc/userinfo$", "GET POST", handle_userinfo, graph=True),
    _route(
        "graph",
        r"^/v1\.0/users/(?P<user>[^/]+)/getMemberObjects$",
        "POST",
        handle_member_objects,
        graph=True,
    ),
    _route("graph_users", r"^/v1\.0/users$", "GET", handle_users, graph=True),
    _route("graph_user", r"^/v1\.0/users/(?P<user>[^/]+)$", "GET", handle_user, graph=True),
    _route("emulator_people", r"^/_emulator/people/?$", "GET POST", handle_people),
    _route("emulator_person", r"^/_emulator/people/(?P<oid>[^/]+)$", "GET POST", handle_person),
    _route("emulator_graph", r"^/_emulator/graph$", "GET POST", handle_graph_control),
    _route("index", r"^/$", "GET", lambda emu, req: _index(emu)),
)


def make_app(emu: EntraEmulator) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The WSGI callable serving ``emu``."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        response = _respond(emu, environ)
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        headers.append(("X-Content-Type-Options", "nosniff"))
        start_response(response.status_line, headers)
        return [response.body]

    return app


def _respond(emu: EntraEmulator, environ: dict[str, Any]) -> Response:
    try:
        req = Request.from_environ(environ)
    except BodyTooLarge:
        emu.count("too_large")
        return json_response(
            413, {"error": "invalid_request", "error_description": "The request body is too large."}
        )
    route, match = _find(req.path)
    emu.count(route.name if route else "not_found")
    try:
        if route is None or match is None:
            return _not_found(emu, req)
        groups = match.groupdict()
        tenant = groups.pop("tenant", None)
        if tenant is not None and tenant.lower() != emu.tenant_id.lower():
            return _invalid_tenant(emu, req, tenant)
        if req.method not in route.methods:
            return _not_allowed(emu, req, route)
        return route.handler(emu, req, **groups)
    except Exception as exc:  # a bug: answer cleanly, log no request data
        if not emu.quiet:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            sys.stderr.write(
                f"[entra-emulator] internal error {type(exc).__name__} at "
                f"{frame.filename}:{frame.lineno}\n"
            )
        return json_response(
            500,
            {
                "error": "server_error",
                "error_description": "The development emulator failed to handle the request.",
            },
        )


def _find(path: str) -> tuple[Route | None, re.Match[str] | None]:
    for route in ROUTES:
        match = route.pattern.match(path)
        if match:
            return route, match
    return None, None


def _not_found(emu: EntraEmulator, req: Request) -> Response:
    if req.path.startswith("/v1.0/"):
        return graph_error(
            404,
            "Request_ResourceNotFound",
            "The development emulator implements no such Graph resource.",
        )
    return json_response(
        404,
        {
            "error": "not_found",
            "error_description": "The development Entra ID emulator has no endpoint at this path.",
        },
    )


def _not_allowed(emu: EntraEmulator, req: Request, route: Route) -> Response:
    allowed = " or ".join(sorted(route.methods))
    allow = [("Allow", ", ".join(sorted(route.methods)))]
    if route.graph:
        return graph_error(
            405, "Request_BadRequest", f"The endpoint only accepts {allowed} requests.", allow
        )
    return entra_error(
        405,
        "invalid_request",
        900561,
        f"The endpoint only accepts {allowed} requests. Received a {req.method} request.",
        base_url=emu.base_url,
        correlation_id=req.correlation_id,
        headers=allow,
    )


def _invalid_tenant(emu: EntraEmulator, req: Request, tenant: str) -> Response:
    shown = tenant if len(tenant) <= 100 else tenant[:100] + "..."
    return entra_error(
        400,
        "invalid_tenant",
        90002,
        f"Tenant '{shown}' not found. Check to make sure you have the correct tenant ID and are "
        "signing into the correct cloud. (The development emulator serves only tenant "
        f"'{emu.tenant_id}'.)",
        base_url=emu.base_url,
        correlation_id=req.correlation_id,
    )


def _index(emu: EntraEmulator) -> Response:
    discovery = f"{emu.issuer}/.well-known/openid-configuration"
    page = index_page(tenant_id=emu.tenant_id, discovery_url=discovery, base_url=emu.base_url)
    return html_response(200, page)
