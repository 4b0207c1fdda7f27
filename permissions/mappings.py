"""What a token's roles and groups mean in Keyfax, and the audited way mappings change.

Matching is exact: a role value counts only when it equals a mapping's value character for
character (no case folding, trimming or Unicode normalisation), and only when the token's
``roles`` claim is a list of strings. Groups are object ids (GUIDs), compared in canonical
lower-case form.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest

from accounts.sso_config import Element
from audit.models import Action
from audit.services import record
from permissions import catalogue
from permissions.models import RoleMapping, SourceKind


@dataclass(frozen=True)
class Grant:
    """One permission one mapping grants (site-wide, or on one Script Set)."""

    element: Element
    permission_id: int
    codename: str
    script_set_id: int | None
    source_kind: str
    source_value: str


@dataclass
class Entitlements:
    """Everything the matched mappings grant, with where each grant came from."""

    grants: list[Grant] = field(default_factory=list)
    staff: bool = False
    superuser: bool = False
    matched: list[str] = field(default_factory=list)  # "role:Keyfax.Admin", "group:<id>"
    unmapped_roles: list[str] = field(default_factory=list)

    def for_element(self, element: Element) -> list[Grant]:
        return [grant for grant in self.grants if grant.element is element]

    def admits(self, element: Element) -> bool:
        """Entra gives the person at least one permission in ``element``."""
        return any(grant.element is element for grant in self.grants)


def canonical_groups(groups: Iterable[object]) -> list[str]:
    """Group object ids in canonical form; anything that is not a GUID is dropped."""
    found: list[str] = []
    for value in groups:
        if not isinstance(value, str):
            continue
        try:
            found.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return list(dict.fromkeys(found))


def entitlements(roles: Iterable[str], groups: Iterable[str]) -> Entitlements:
    """Resolve roles and groups against the mappings in one query, whatever their number."""
    role_set = {r for r in roles if isinstance(r, str)}
    group_set = set(canonical_groups(groups))
    result = Entitlements()
    if not role_set and not group_set:
        return result
    rows = RoleMapping.objects.filter(
        Q(kind=SourceKind.ROLE, value__in=role_set) | Q(kind=SourceKind.GROUP, value__in=group_set)
    ).values_list(
        "kind", "value", "grants_staff", "grants_superuser",
        "permissions__id", "permissions__codename", "permissions__content_type__app_label",
        "script_set_grants__script_set_id", "script_set_grants__permission_id",
        "script_set_grants__permission__codename",
    )  # both relations are joined: one row per (permission, script-set grant) pair of a mapping
    grants: dict[Grant, None] = {}
    matched: set[tuple[str, str]] = set()
    for (kind, value, staff, superuser, perm_id, codename, app_label,
         set_id, set_perm_id, set_codename) in rows:
        wanted = role_set if kind == SourceKind.ROLE else group_set
        if value not in wanted:  # exact, whatever the database's collation did
            continue
        matched.add((kind, value))
        result.staff |= bool(staff)
        result.superuser |= bool(superuser)
        element = catalogue.element_of((app_label, codename)) if perm_id else None
        if element is not None:
            grants[Grant(element, perm_id, codename, None, kind, value)] = None
        set_element = (
            catalogue.element_of((catalogue.SCRIPT_SET_APP_LABEL, set_codename))
            if set_perm_id else None
        )
        if set_element is not None:
            grants[Grant(set_element, set_perm_id, set_codename, set_id, kind, value)] = None
    result.grants = list(grants)
    result.matched = sorted(f"{kind}:{value}" for kind, value in matched)
    mapped_roles = {value for kind, value in matched if kind == SourceKind.ROLE}
    result.unmapped_roles = sorted(role_set - mapped_roles)
    return result


# --- changing mappings -------------------------------------------------------------------


def snapshot(mapping: RoleMapping | None) -> dict[str, Any]:
    """A mapping as the audit log records it (before and after a change)."""
    if mapping is None or mapping.pk is None:
        return {}
    return {
        "kind": mapping.kind,
        "value": mapping.value,
        "display_name": mapping.display_name,
        "grants_staff": mapping.grants_staff,
        "grants_superuser": mapping.grants_superuser,
        "permissions": sorted(mapping.permissions.values_list("codename", flat=True)),
        "script_set_grants": sorted(
            f"{codename}@{slug}" for codename, slug in mapping.script_set_grants.values_list(
                "permission__codename", "script_set__slug"
            )
        ),
    }


def record_mapping_change(
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    actor: Any = None,
    request: HttpRequest | None = None,
    via: str,
) -> None:
    """Write ``role_mapping_changed`` when a mapping was created, changed or deleted."""
    if before == after:
        return
    label = after or before
    record(
        Action.ROLE_MAPPING_CHANGED,
        request=request,
        actor=actor,
        subject=f"role_mapping:{label.get('kind')}:{label.get('value')}"[:200],
        detail={"via": via, "before": before, "after": after},
    )


def save_mapping(
    *,
    kind: str,
    value: str,
    permissions: Iterable[str] = (),
    actor: Any = None,
    request: HttpRequest | None = None,
    via: str = "service",
    **fields: Any,
) -> RoleMapping:
    """Create or update a mapping (``permissions``: catalogue codenames), audited."""
    if kind == SourceKind.GROUP:
        value = str(uuid.UUID(value))
    codenames = set(permissions)
    rows = list(catalogue.global_permission_rows().filter(codename__in=codenames))
    if len(rows) != len(codenames):
        unknown = codenames - {row.codename for row in rows}
        raise ValueError(f"not Keyfax permissions: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        mapping = RoleMapping.objects.filter(kind=kind, value=value).first() or RoleMapping(
            kind=kind, value=value
        )
        before = snapshot(mapping)
        for name, setting in fields.items():
            setattr(mapping, name, setting)
        mapping.full_clean()
        mapping.save()
        mapping.permissions.set(rows)
        record_mapping_change(before, snapshot(mapping), actor=actor, request=request, via=via)
    return mapping
