"""Microsoft Graph: looking people up in the tenant's directory, for User Maintenance.

An administrator registers (or links) an Entra person by picking them from a search; the
account is then made from what Graph says of that object id, never from a typed UPN or email.
Calls are built from ``ENTRA_GRAPH_URL`` with the application token of
:func:`accounts.entra.graph.app_token` (Graph application permission ``User.Read.All``); no
URL taken from a response is ever followed. Every failure becomes a :class:`DirectoryError`
whose message tells the administrator what happened and what to do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import requests

from accounts.entra.discovery import provider_metadata
from accounts.entra.graph import app_token, forget_app_tokens
from accounts.entra.http import USER_AGENT, json_object
from accounts.refusals import SignInRefused
from accounts.sso_config import SsoConfig, is_acceptable_endpoint_url

MIN_QUERY, MAX_QUERY, TOP = 2, 100, 25
FIELDS = "id,displayName,userPrincipalName,mail,givenName,surname,accountEnabled"
NOT_ANSWERING = "Microsoft Graph is not answering; try again in a minute."
NO_PERMISSION = ("Keyfax's app registration lacks the Microsoft Graph application permission "
                 "User.Read.All (admin consent required): ask IT.")


class DirectoryError(Exception):
    """Graph could not answer; the message is for the administrator. ``status`` is the HTTP
    status a page showing it should answer with."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


class NotInDirectory(DirectoryError):
    """No person with that object id in the tenant."""


@dataclass(frozen=True)
class DirectoryPerson:
    """One user object as Graph describes it (display data, except ``object_id``)."""

    object_id: str
    display_name: str
    upn: str
    mail: str
    given_name: str
    surname: str
    enabled: bool | None


def is_configured(config: SsoConfig) -> bool:
    """Whether the directory can be asked at all: a tenant GUID and an app registration."""
    return (config.tenant_is_valid and bool(config.client_id) and bool(config.client_secret)
            and is_acceptable_endpoint_url(config.authority))


def object_id(value: Any) -> str | None:
    """``value`` as a lower-case object id (GUID), or ``None``."""
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError, AttributeError):
        return None


def clean_query(query: str) -> str:
    """The query without ``"`` and ``\\`` (they would end Graph's quoted search term)."""
    return " ".join(query.replace('"', " ").replace("\\", " ").split())


def search_people(config: SsoConfig, query: str) -> list[DirectoryPerson]:
    """Up to 25 people whose display name, UPN or mail matches ``query`` (Graph ``$search``)."""
    text = clean_query(query)
    if not MIN_QUERY <= len(text) <= MAX_QUERY:
        raise DirectoryError(f"Type between {MIN_QUERY} and {MAX_QUERY} characters to search "
                             "the directory.", status=400)
    terms = " OR ".join(f'"{name}:{text}"' for name in ("displayName", "userPrincipalName",
                                                        "mail"))
    body = _get(config, "/v1.0/users",
                {"$search": terms, "$select": FIELDS, "$top": str(TOP)})
    values = body.get("value")
    if not isinstance(values, list):
        raise DirectoryError("Microsoft Graph's answer was not understood (no list of people).")
    people = [_person(value) for value in values[:TOP]]
    return [person for person in people if person is not None]


def get_person(config: SsoConfig, value: str) -> DirectoryPerson:
    """The person with this object id, as the directory says now."""
    oid = object_id(value)
    if oid is None:
        raise NotInDirectory("That is not a directory object id.", status=400)
    person = _person(_get(config, f"/v1.0/users/{oid}", {"$select": FIELDS}))
    if person is None or person.object_id != oid:
        raise DirectoryError("Microsoft Graph's answer was not understood (no such person).")
    return person


def _get(config: SsoConfig, path: str, params: dict[str, str]) -> dict[str, Any]:
    if not is_configured(config):
        raise DirectoryError("Single sign-on with Microsoft Entra ID is not configured, so the "
                             "directory cannot be searched.", status=503)
    if not is_acceptable_endpoint_url(config.graph_url):
        raise DirectoryError("ENTRA_GRAPH_URL must be an https URL (plain http only for a "
                             "loopback host): ask IT.", status=503)
    url = f"{config.graph_url}{path}"
    response = _call(url, params, _token(config), config.http_timeout)
    if response.status_code == 401:  # the cached token was revoked or expired early
        forget_app_tokens()
        response = _call(url, params, _token(config), config.http_timeout)
    if response.status_code != 200:
        raise _error_for(response)
    try:
        return json_object(response, "directory")
    except SignInRefused:
        raise DirectoryError("Microsoft Graph's answer was not understood (not JSON).") from None


def _token(config: SsoConfig) -> str:
    try:
        return app_token(config, provider_metadata(config))
    except SignInRefused as refusal:
        if refusal.detail.get("status") in (400, 401):
            raise DirectoryError(
                "Microsoft Entra ID refused Keyfax's app credentials (ENTRA_CLIENT_ID and "
                "ENTRA_CLIENT_SECRET), so the directory cannot be searched: ask IT.") from None
        raise DirectoryError(NOT_ANSWERING, status=503) from None


def _call(url: str, params: dict[str, str], token: str, timeout: float) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
               "ConsistencyLevel": "eventual", "User-Agent": USER_AGENT}
    try:
        return requests.get(url, params=params, headers=headers, allow_redirects=False,
                            timeout=(min(timeout, 3.05), timeout))
    except requests.RequestException:
        raise DirectoryError(NOT_ANSWERING, status=503) from None


def _error_for(response: requests.Response) -> DirectoryError:
    status = response.status_code
    if status == 429:
        seconds = response.headers.get("Retry-After", "").strip()
        wait = f"{int(seconds)} seconds" if seconds.isdigit() else "a minute"
        return DirectoryError(f"Microsoft Graph is throttling Keyfax: try again in {wait}.",
                              status=503)
    if status >= 500:
        return DirectoryError(NOT_ANSWERING, status=503)
    code = _error_code(response)
    if status == 403 and code == "Authorization_RequestDenied":
        return DirectoryError(NO_PERMISSION)
    if status == 404:
        return NotInDirectory("That person is not in your organisation's directory.",
                              status=400)
    if status == 401:
        return DirectoryError("Microsoft Graph refused Keyfax's app token twice: ask IT to "
                              "check the app registration.")
    return DirectoryError(f"Microsoft Graph refused the request (HTTP {status}"
                          f"{': ' + code if code else ''}).")


def _error_code(response: requests.Response) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    code = error.get("code") if isinstance(error, dict) else None
    return code[:80] if isinstance(code, str) else ""


def _person(value: Any) -> DirectoryPerson | None:
    if not isinstance(value, dict):
        return None
    oid = object_id(value.get("id"))
    if oid is None:
        return None
    enabled = value.get("accountEnabled")
    return DirectoryPerson(
        object_id=oid, display_name=_text(value, "displayName"),
        upn=_text(value, "userPrincipalName"), mail=_text(value, "mail"),
        given_name=_text(value, "givenName"), surname=_text(value, "surname"),
        enabled=enabled if isinstance(enabled, bool) else None)


def _text(value: dict[str, Any], name: str) -> str:
    found = value.get(name)
    return found.strip()[:255] if isinstance(found, str) else ""
