"""The discovery document and the JWKS, shaped like a real tenant's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .web import Request, Response, json_response

if TYPE_CHECKING:
    from .server import EntraEmulator

DAY = [("Cache-Control", "max-age=86400")]


def discovery_document(emu: EntraEmulator) -> dict[str, Any]:
    """Fields and order as in Entra's v2 document; no ``code_challenge_methods_supported``."""
    tenant = f"{emu.base_url}/{emu.tenant_id}"
    return {
        "token_endpoint": f"{tenant}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{tenant}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": emu.issuer,
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{emu.base_url}/oidc/userinfo",
        "authorization_endpoint": f"{tenant}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{tenant}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{tenant}/oauth2/v2.0/logout",
        "claims_supported": [
            "sub",
            "iss",
            "cloud_instance_name",
            "cloud_instance_host_name",
            "cloud_graph_host_name",
            "msgraph_host",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "at_hash",
            "c_hash",
            "email",
        ],
        "kerberos_endpoint": f"{tenant}/kerberos",
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": urlsplit(emu.base_url).netloc,
        "rbac_url": "https://pas.windows.net",
    }


def handle_discovery(emu: EntraEmulator, req: Request) -> Response:
    return json_response(200, discovery_document(emu), DAY)


def handle_jwks(emu: EntraEmulator, req: Request) -> Response:
    return json_response(
        200, emu.keys.jwks(emu.issuer), [("Cache-Control", "max-age=86400, private")]
    )
