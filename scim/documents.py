"""Between SCIM resources and what Keyfax stores: the document as sent, the account fields
read from it, and the checks a value passes before it is stored."""

from __future__ import annotations

import uuid
from typing import Any

from scim2_models import InvalidValueException, Meta, Resource

NEVER_STORED = ("id", "meta", "password", "groups", "members")
"""Kept elsewhere (``id``, ``meta``, group memberships), or never written by SCIM at all."""


def document_of(resource: Resource[Any]) -> dict[str, Any]:
    """The resource as sent, minus what :data:`NEVER_STORED` names; refuses NUL characters
    (which PostgreSQL cannot store) anywhere in it."""
    document = resource.model_dump(mode="json", exclude_none=True, by_alias=True)
    for key in NEVER_STORED:
        document.pop(key, None)
    _refuse_nul(document)
    return document


def _refuse_nul(value: Any, where: str = "") -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidValueException(detail=f"{where or 'A value'} contains a NUL character.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, "An attribute name")
            _refuse_nul(item, key)
    elif isinstance(value, list):
        for item in value:
            _refuse_nul(item, where)


def object_id_or_none(external_id: str) -> str | None:
    """The Entra object id an ``externalId`` carries (lower case), when it is a GUID."""
    try:
        return str(uuid.UUID(external_id)) if external_id else None
    except ValueError:
        return None


def account_fields(document: dict[str, Any]) -> dict[str, Any]:
    """The Keyfax account's fields a User document sets: username, name, email, active (an
    absent ``active`` is an active account, as Django's and SCIM's default)."""
    username = document.get("userName")
    if not isinstance(username, str) or not username.strip():
        raise InvalidValueException(detail="userName is required.")
    if len(username) > 150:
        raise InvalidValueException(detail="userName is longer than 150 characters.")
    name = document.get("name") or {}
    first, last = name.get("givenName") or "", name.get("familyName") or ""
    if not (first or last) and name.get("formatted"):
        first, _, last = name["formatted"].partition(" ")
    return {
        "username": username,
        "first_name": first[:150],
        "last_name": last[:150],
        "email": _work_email(document.get("emails") or [])[:254],
        "is_active": document.get("active", True) is not False,
    }


def _work_email(emails: list[dict[str, Any]]) -> str:
    """The work email, else the primary one, else the first."""
    for test in (lambda e: e.get("type") == "work", lambda e: e.get("primary"), lambda e: True):
        for email in emails:
            if test(email) and isinstance(email.get("value"), str):
                return email["value"]
    return ""


def meta(resource_type: str, created: Any, modified: Any, version: int) -> Meta:
    return Meta(resource_type=resource_type, created=created, last_modified=modified,
                version=f'W/"{version}"')
