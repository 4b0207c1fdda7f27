"""Shared helpers for the SCIM tests: Entra's request shapes and a client that sends them.

The ``scim_api`` fixture (tests/conftest.py) gives a :class:`ScimApi` over Django's test
client with a live bearer token; each call answers a :class:`Reply` whose body is parsed
from ``application/scim+json`` (Django's ``response.json()`` only reads application/json).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.test import Client

BASE = "/scim/v2"
SCIM_JSON = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

_UNSET: Any = object()


@dataclass
class Reply:
    status: int
    content_type: str
    headers: Any
    content: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.content) if self.content else None

    def __repr__(self) -> str:  # what an assertion message shows
        return f"<Reply {self.status} {self.content_type} {self.content[:600]!r}>"


@dataclass
class ScimApi:
    """Entra's provisioning service, as Django's test client: JSON bodies sent as
    ``application/scim+json`` with ``Authorization: Bearer <token>``."""

    client: Client
    token: str
    token_name: str

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                query: dict[str, Any] | None = None, token: str | None = _UNSET,
                authorization: str | None = None, content_type: str = SCIM_JSON,
                headers: dict[str, str] | None = None, environ: dict[str, str] | None = None
                ) -> Reply:
        """``token=None`` sends no Authorization header; ``authorization`` sends it as is;
        ``environ`` sets WSGI keys (``REMOTE_ADDR``)."""
        url = BASE + path + (f"?{urlencode(query)}" if query else "")
        sent = dict(headers or {})
        if authorization is not None:
            sent["Authorization"] = authorization
        elif token is not None:
            sent["Authorization"] = f"Bearer {self.token if token is _UNSET else token}"
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        response = self.client.generic(method, url, data=data, content_type=content_type,
                                       headers=sent, **(environ or {}))
        return Reply(response.status_code, response.get("Content-Type", ""), response.headers,
                     response.content)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("PUT", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)

    def search(self, resource: str, filter_: str, **query: Any) -> Reply:
        return self.get(f"/{resource}", query={"filter": filter_, **query})

    def create_user(self, oid: str, user_name: str, **fields: Any) -> dict[str, Any]:
        """POST a user (Entra's create shape); its resource, asserting the 201."""
        reply = self.post("/Users", user_body(oid, user_name, **fields))
        assert reply.status == 201, reply
        return reply.body

    def create_group(self, display_name: str, external_id: str,
                     members: list[str] = ()) -> dict[str, Any]:
        reply = self.post("/Groups", group_body(display_name, external_id, members))
        assert reply.status == 201, reply
        return reply.body


def user_body(oid: str, user_name: str, *, given: str = "Priya", family: str = "Shah",
              email: str | None = None, active: Any = True, **extra: Any) -> dict[str, Any]:
    """Entra's create shape (scim-requests-example.md, step 3), ``oid`` as ``externalId``;
    ``extra`` adds or overrides top-level attributes."""
    return {
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "externalId": oid,
        "userName": user_name,
        "active": active,
        "emails": [{"primary": True, "type": "work", "value": email or user_name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": f"{given} {family}", "familyName": family, "givenName": given},
        "roles": [],
        **extra,
    }


def group_body(display_name: str, external_id: str, members: list[str] = ()
               ) -> dict[str, Any]:
    return {"schemas": [GROUP_SCHEMA], "displayName": display_name, "externalId": external_id,
            "members": [{"value": member} for member in members]}


def op(name: str, path: str | None = None, value: Any = _UNSET) -> dict[str, Any]:
    found: dict[str, Any] = {"op": name}
    if path is not None:
        found["path"] = path
    if value is not _UNSET:
        found["value"] = value
    return found


def patch(*ops: dict[str, Any]) -> dict[str, Any]:
    """A PatchOp message of these operations (see :func:`op`)."""
    return {"schemas": [PATCH_SCHEMA], "Operations": list(ops)}


def assert_scim_error(reply: Reply, status: int, scim_type: str | None = None) -> dict:
    """A SCIM error body with this status (and ``scimType``), as application/scim+json."""
    assert reply.status == status, reply
    assert reply.content_type.startswith(SCIM_JSON), reply
    body = reply.body
    assert ERROR_SCHEMA in body["schemas"], reply
    assert str(body["status"]) == str(status), reply
    if scim_type is not None:
        assert body.get("scimType") == scim_type, reply
    return body
