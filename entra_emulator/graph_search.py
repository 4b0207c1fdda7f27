"""Graph's user list and search: ``GET /v1.0/users?$search="displayName:pri" OR "mail:pri"``.

As in Graph, ``$search`` needs the ``ConsistencyLevel: eventual`` header and the call an
application token (client credentials; the app holds User.Read.All). A term matches when
each word of its value starts a word of the property (case-insensitive), or the value
starts the property. The simulation modes of ``EntraEmulator.graph_mode`` apply.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .graph import app_grant_error, simulated_failure
from .people import Person
from .web import Request, Response, graph_error, json_response, single_values

if TYPE_CHECKING:
    from .server import EntraEmulator

PROPERTIES = (
    "id",
    "displayName",
    "userPrincipalName",
    "mail",
    "givenName",
    "surname",
    "accountEnabled",
)
SEARCHABLE = ("displayName", "userPrincipalName", "mail", "givenName", "surname")
ORDERABLE = ("displayName", "userPrincipalName")
SUPPORTED_OPTIONS = ("$search", "$select", "$top", "$count", "$orderby")
DEFAULT_TOP = 100
MAX_TOP = 999
TOKEN = re.compile(r'\s*(?:"(?P<term>[^"]*)"|(?P<op>AND|OR)(?=[\s"]|$))')
WORD_BREAK = re.compile(r"[\s.@_-]+")
NEEDS_CONSISTENCY = (
    "Request with $search query parameter only works through MSGraph with a special request "
    "header: 'ConsistencyLevel: eventual'"
)


class QueryError(ValueError):
    """A request Graph refuses (``status``, 400 unless said, ``code`` and message)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def user_document(person: Person) -> dict[str, Any]:
    """The person as a Graph ``user`` (the properties the emulator serves)."""
    return {
        "id": person.oid,
        "displayName": person.name,
        "userPrincipalName": person.upn,
        "mail": person.email,
        "givenName": person.given_name,
        "surname": person.family_name,
        "accountEnabled": person.enabled,
    }


def parse_search(raw: str) -> list[list[tuple[str, str]]]:
    """``"prop:value"`` terms joined by OR / AND: a list (OR) of lists (AND) of terms."""
    groups: list[list[tuple[str, str]]] = [[]]
    pos, want_term = 0, True
    text = raw.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if match is None or (match["term"] is None) == want_term:
            raise QueryError("Request_UnsupportedQuery", f"Syntax error in $search at {pos}.")
        pos, want_term = match.end(), not want_term
        if match["op"] == "OR":
            groups.append([])
        elif match["term"] is not None:
            prop, colon, value = match["term"].partition(":")
            if not colon or prop not in SEARCHABLE or not value.strip():
                raise QueryError(
                    "Request_UnsupportedQuery",
                    f"Invalid $search term '{match['term']}': use \"property:value\" with one "
                    f"of {', '.join(SEARCHABLE)}.",
                )
            groups[-1].append((prop, value))
    if want_term:  # empty, or ends with an operator
        raise QueryError("Request_UnsupportedQuery", "Syntax error: the $search is incomplete.")
    return groups


def matches(text: str, value: str) -> bool:
    """Each word of ``value`` starts a word of ``text``, or ``value`` starts ``text``."""
    text, value = text.casefold(), value.casefold().strip()
    if text.startswith(value):
        return True
    words = [w for w in WORD_BREAK.split(text) if w]
    wanted = [w for w in WORD_BREAK.split(value) if w]
    return bool(wanted) and all(any(w.startswith(q) for w in words) for q in wanted)


def _select(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return PROPERTIES
    chosen = tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    for prop in chosen:
        if prop not in PROPERTIES:
            raise QueryError(
                "Request_BadRequest",
                f"Could not find a property named '{prop}' on type 'microsoft.graph.user'.",
            )
    return chosen or PROPERTIES


def _top(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_TOP
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_TOP:
        raise QueryError(
            "Request_BadRequest",
            f"Invalid page size specified: '{raw}'. Must be between 1 and {MAX_TOP} inclusive.",
        )
    return int(raw)


def _order(raw: str | None) -> str:
    prop, _, direction = (raw or "displayName").strip().partition(" ")
    if prop not in ORDERABLE or direction.strip() not in ("", "asc"):
        raise QueryError("Request_UnsupportedQuery", f"Unsupported $orderby '{raw}'.")
    return prop


def search_users(emu: EntraEmulator, req: Request) -> dict[str, Any]:
    """The answer body for the query of ``req``; QueryError if Graph would refuse it."""
    params, duplicate = single_values(req.query)
    if duplicate:
        raise QueryError("BadRequest", f"Query option '{duplicate}' was specified more than once.")
    for name in params:
        if name.startswith("$") and name not in SUPPORTED_OPTIONS:
            raise QueryError(
                "Request_UnsupportedQuery",
                f"The development emulator does not support the query option '{name}'.",
            )
    search = params.get("$search")
    if search is not None and req.headers.get("consistencylevel", "").lower() != "eventual":
        raise QueryError("Request_UnsupportedQuery", NEEDS_CONSISTENCY)
    groups = parse_search(search) if search is not None else [[]]
    select, top = _select(params.get("$select")), _top(params.get("$top"))
    order = _order(params.get("$orderby"))
    users = [user_document(person) for person in emu.people]
    found = [
        user
        for user in users
        if any(all(matches(user[prop], value) for prop, value in group) for group in groups)
    ]
    found.sort(key=lambda user: str(user[order]).casefold())
    context = f"{emu.base_url}/v1.0/$metadata#users"
    if params.get("$select") is not None:
        context += f"({','.join(select)})"
    body: dict[str, Any] = {"@odata.context": context}
    if params.get("$count", "").lower() == "true":
        body["@odata.count"] = len(found)
    body["value"] = [{prop: user[prop] for prop in select} for user in found[:top]]
    return body


def get_user(emu: EntraEmulator, req: Request, user: str) -> dict[str, Any]:
    """The answer body for ``GET /v1.0/users/{oid or upn}``; QueryError (404) if unknown."""
    params, duplicate = single_values(req.query)
    if duplicate:
        raise QueryError("BadRequest", f"Query option '{duplicate}' was specified more than once.")
    unsupported = [name for name in params if name.startswith("$") and name != "$select"]
    if unsupported:
        raise QueryError(
            "Request_UnsupportedQuery",
            f"The development emulator does not support the query option '{unsupported[0]}'.",
        )
    select = _select(params.get("$select"))
    person = emu.person(user)
    if person is None:
        raise QueryError(
            "Request_ResourceNotFound",
            f"Resource '{user}' does not exist "
            "or one of its queried reference-property objects are not present.",
            404,
        )
    document = user_document(person)
    context = f"{emu.base_url}/v1.0/$metadata#users"
    if params.get("$select") is not None:
        context += f"({','.join(select)})"
    return {"@odata.context": f"{context}/$entity", **{p: document[p] for p in select}}


def handle_users(emu: EntraEmulator, req: Request) -> Response:
    """``GET /v1.0/users`` (with ``$search``, ``$select``, ``$top``, ``$count``, ``$orderby``)."""
    return _answer(emu, req, lambda: search_users(emu, req))


def handle_user(emu: EntraEmulator, req: Request, user: str) -> Response:
    """``GET /v1.0/users/{oid or upn}`` (with ``$select``); 404 in Graph's shape if unknown."""
    return _answer(emu, req, lambda: get_user(emu, req, user))


def _answer(emu: EntraEmulator, req: Request, body: Callable[[], Any]) -> Response:
    """Token and simulated failures first, as Graph checks them, then the query."""
    refused = app_grant_error(emu, req)
    if refused is not None:
        return refused
    mode = emu.graph_mode
    failure = simulated_failure(mode)
    if failure is not None:
        return failure
    if mode == "slow":
        time.sleep(max(0.0, float(emu.graph_delay)))
    try:
        return json_response(200, body())
    except QueryError as exc:
        return graph_error(exc.status, exc.code, exc.message)
