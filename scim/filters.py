"""SCIM filters as database queries: the comparisons Entra's provisioning service sends, and
nothing else. An attribute or operator outside these is ``invalidFilter`` (400), never
"match everything": a filter Keyfax cannot evaluate must not widen a search.

Users: ``userName``, ``externalId``, ``id``, ``emails.value`` / ``emails[type eq "work"].value``,
``active``. Groups: ``displayName``, ``externalId``, ``id``,
``members[value eq "…"]`` / ``members.value``. Comparisons are ``eq`` (and ``ne``), joined by
``and``, ``or`` and ``not``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db.models import Q
from scim2_models import InvalidFilterException
from scim2_models.path.expressions import (
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    ValuePath,
)

from accounts.models import EntraIdentity
from scim.models import ScimUserRecord

NOTHING = Q(pk__in=[])

SUPPORTED = (
    "Keyfax answers filters on userName, externalId, id, emails (work) and active "
    "(Users) or displayName, externalId, id and members.value (Groups), compared with eq or "
    "ne and joined by and, or, not."
)


def guid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(_string(value))
    except ValueError:
        return None  # not a GUID: no Entra object (nor SCIM id) has it


def user_pks(value: object) -> list[int]:
    """The account a User's SCIM ``id`` names: its record's ``scim_id``, or the object id of
    an account provisioning has not touched yet (made at a first sign-in). Two indexed
    look-ups: an OR across the two joins would make the database read every user."""
    found = guid(value)
    if found is None:
        return []
    by_record = list(ScimUserRecord.objects.filter(scim_id=found).values_list("user_id",
                                                                               flat=True))
    if by_record:
        return by_record
    return list(EntraIdentity.objects.filter(object_id=found, user__scim_record__isnull=True)
                .values_list("user_id", flat=True))


def user_id(value: object, prefix: str = "") -> Q:
    pks = user_pks(value)
    return Q(**{f"{prefix}pk__in": pks}) if pks else NOTHING


def _user_external_id(value: object) -> Q:
    """As sent (case-exact); and an object id always finds the account linked to it, even
    one provisioning has not touched or whose ``externalId`` was removed."""
    text = _string(value)
    pks = list(ScimUserRecord.objects.filter(external_id=text).values_list("user_id",
                                                                             flat=True))
    found = guid(text)
    if found is not None:
        pks += EntraIdentity.objects.filter(object_id=found).values_list("user_id", flat=True)
    return Q(pk__in=pks) if pks else NOTHING


def _text(field: str, *, exact: bool = False) -> Callable[[object], Q]:
    lookup = field if exact else f"{field}__iexact"
    return lambda value: Q(**{lookup: _string(value)})


def _boolean(field: str) -> Callable[[object], Q]:
    def build(value: object) -> Q:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            raise InvalidFilterException(detail=f"{field} is compared with true or false.")
        return Q(**{field: value})
    return build


def _group_id(value: object) -> Q:
    found = guid(value)
    return NOTHING if found is None else Q(pk=found)


USER_ATTRIBUTES: dict[str, Callable[[object], Q]] = {
    "username": _text("username"),
    "externalid": _user_external_id,
    "id": user_id,
    "emails.value": _text("email"),
    "emails": _text("email"),
    "active": _boolean("is_active"),
}

GROUP_ATTRIBUTES: dict[str, Callable[[object], Q]] = {
    "displayname": _text("display_name"),
    "externalid": _text("external_id", exact=True),
    "id": _group_id,
    "members.value": lambda value: user_id(value, prefix="scimgroupmember__user__"),
    "members": lambda value: user_id(value, prefix="scimgroupmember__user__"),
}


MAX_TERMS = 20
"""Comparisons one filter may hold: Entra sends one or two; thousands would only load the
database."""


def to_q(node: FilterNode | None, attributes: dict[str, Callable[[object], Q]]) -> Q:
    """The query of a parsed filter (``None``: everything)."""
    if node is None:
        return Q()
    if _terms(node) > MAX_TERMS:
        raise InvalidFilterException(
            detail=f"The filter has more than {MAX_TERMS} comparisons.")
    return _visit(node, attributes, prefix="")


def _terms(node: FilterNode) -> int:
    if isinstance(node, LogicalExpr):
        return sum(_terms(term) for term in node.terms)
    if isinstance(node, Not):
        return _terms(node.expr)
    if isinstance(node, ValuePath):
        return _terms(node.val_filter)
    return 1


def _visit(node: FilterNode, attributes: dict, prefix: str) -> Q:
    if isinstance(node, LogicalExpr):
        parts = [_visit(term, attributes, prefix) for term in node.terms]
        combined = parts[0]
        for part in parts[1:]:
            combined = (combined & part) if node.op == LogicalOperator.and_ else (combined | part)
        return combined
    if isinstance(node, Not):
        return ~_visit(node.expr, attributes, prefix)
    if isinstance(node, ValuePath):
        return _value_path(node, attributes)
    if isinstance(node, Comparison):
        return _comparison(node, attributes, prefix)
    raise InvalidFilterException(detail=f"Unsupported filter {str(node)[:100]!r}. {SUPPORTED}")


def _value_path(node: ValuePath, attributes: dict) -> Q:
    """``emails[type eq "work" and value eq "…"]``: the type must be work (or absent), the value
    compared; ``members[value eq "…"]`` likewise."""
    outer = node.attr_path.attr.lower()
    terms = (node.val_filter.terms if isinstance(node.val_filter, LogicalExpr)
             and node.val_filter.op == LogicalOperator.and_ else (node.val_filter,))
    query = Q()
    for term in terms:
        if not isinstance(term, Comparison) or term.op != CompareOperator.eq:
            raise InvalidFilterException(
                detail=f"Unsupported filter {str(node)[:100]!r}. {SUPPORTED}")
        sub = term.attr_path.attr.lower()
        if outer == "emails" and sub == "type":
            if _string(term.value).lower() != "work":
                return NOTHING  # Keyfax keeps one email: the work one
            continue
        query &= _comparison(term, attributes, prefix=f"{outer}.")
    if outer == "emails" and not query:
        raise InvalidFilterException(detail="Compare emails[…].value, not only its type.")
    return query


def _comparison(node: Comparison, attributes: dict, prefix: str) -> Q:
    path = node.attr_path
    if path.uri and not path.uri.startswith("urn:ietf:params:scim:schemas:core:2.0:"):
        raise InvalidFilterException(detail=f"Unsupported attribute {str(path)!r}. {SUPPORTED}")
    name = f"{prefix}{path.attr}{'.' + path.sub_attr if path.sub_attr else ''}".lower()
    build = attributes.get(name)
    if build is None:
        raise InvalidFilterException(detail=f"Unsupported attribute {str(path)!r}. {SUPPORTED}")
    if node.op == CompareOperator.eq:
        return build(node.value)
    if node.op == CompareOperator.ne:
        return ~build(node.value)
    raise InvalidFilterException(
        detail=f"Unsupported operator {node.op.value!r} on {str(path)!r}. {SUPPORTED}")


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidFilterException(detail="Compare this attribute with a string.")
    if "\x00" in value:
        raise InvalidFilterException(detail="A filter value cannot contain a NUL character.")
    return value
