"""Microsoft Graph: the groups of a user whose token carried a groups overage.

Entra leaves ``groups`` out of a token above 200 groups and names an endpoint in
``_claim_sources`` instead. That URL is never called (it may point at the retired Azure AD
Graph, and fetching a URL taken from a token is an SSRF risk): the call is built here from
``ENTRA_GRAPH_URL`` — ``POST /v1.0/users/{oid}/getMemberObjects`` with an application token
from the client-credentials grant. Any failure refuses the sign-in (fail closed).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from accounts.entra.discovery import ProviderMetadata
from accounts.entra.http import json_object, post_form, post_json
from accounts.refusals import Reason, SignInRefused
from accounts.sso_config import SsoConfig, is_acceptable_endpoint_url

EARLY_REFRESH_SECONDS = 300  # an app token is replaced this long before it expires

_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_lock = threading.Lock()


def member_groups(config: SsoConfig, metadata: ProviderMetadata, object_id: str) -> list[str]:
    """The security groups (transitive) of user ``object_id``, as lower-case GUIDs."""
    if not is_acceptable_endpoint_url(config.graph_url):
        raise _unavailable({"graph_url": "not https"})
    try:
        oid = str(uuid.UUID(object_id))
    except ValueError:
        raise _unavailable({"oid": "not a GUID"}) from None
    url = f"{config.graph_url}/v1.0/users/{oid}/getMemberObjects"
    response = _post_member_objects(url, app_token(config, metadata), config)
    if response.status_code == 401:  # the cached token was revoked or expired early
        forget_app_tokens()
        response = _post_member_objects(url, app_token(config, metadata), config)
    if response.status_code != 200:
        raise _unavailable({"fetching": "groups", "status": response.status_code})
    try:
        body = json_object(response, "groups")
    except SignInRefused:
        raise _unavailable({"fetching": "groups", "error": "not JSON"}) from None
    values = body.get("value")
    if not isinstance(values, list):
        raise _unavailable({"fetching": "groups", "error": "no value list"})
    groups: list[str] = []
    for value in values:
        try:
            groups.append(str(uuid.UUID(value)))
        except (TypeError, ValueError, AttributeError):
            continue  # not a group object id: never matched
    return list(dict.fromkeys(groups))


def app_token(config: SsoConfig, metadata: ProviderMetadata) -> str:
    """An application token for Graph (client credentials), cached until shortly before expiry."""
    scope = f"{config.graph_url}/.default"
    key = (metadata.token_endpoint, config.client_id, scope)
    with _lock:
        cached = _tokens.get(key)
    if cached and time.monotonic() < cached[1]:
        return cached[0]
    form = {
        "grant_type": "client_credentials",
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "scope": scope,
    }
    try:
        response = post_form(
            metadata.token_endpoint, form, timeout=config.http_timeout, what="graph token"
        )
        body = json_object(response, "graph token")
    except SignInRefused as refusal:
        raise _unavailable(refusal.detail) from None
    token, expires_in = body.get("access_token"), body.get("expires_in")
    if response.status_code != 200 or not isinstance(token, str) or not token:
        raise _unavailable({
            "fetching": "graph token", "status": response.status_code,
            "error": str(body.get("error", ""))[:60],
        })
    lifetime = float(expires_in) if isinstance(expires_in, int | float) else 0.0
    valid_for = max(0.0, lifetime - min(EARLY_REFRESH_SECONDS, lifetime / 2))
    with _lock:
        _tokens[key] = (token, time.monotonic() + valid_for)
    return token


def forget_app_tokens() -> None:
    with _lock:
        _tokens.clear()


def _post_member_objects(url: str, token: str, config: SsoConfig) -> Any:
    return post_json(
        url, {"securityEnabledOnly": True}, bearer=token, timeout=config.http_timeout,
        what="groups", refusal=Reason.GRAPH_UNAVAILABLE,
    )


def _unavailable(detail: dict[str, Any]) -> SignInRefused:
    return SignInRefused(Reason.GRAPH_UNAVAILABLE, {"graph": True, **detail})
