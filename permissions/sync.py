"""Apply what Entra says: a user's permissions in an element become exactly the mapped ones.

One transaction, a constant number of queries whatever the number of roles and groups
(four reads, at most one write per table that changes, one audit event), and the
before/after difference in the ``permissions_synced`` event (``added``/``removed`` per
element). The user's own permission rows of elements not being synced are left alone; but
when a Django group grants a permission Entra no longer gives, the user leaves that group,
and so loses everything else it granted too, other elements' permissions included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest
from guardian.models import UserObjectPermission

from accounts.sso_config import Element
from audit.models import Action
from audit.services import record
from permissions import catalogue
from permissions.mappings import Entitlements, entitlements
from permissions.models import EntraGrant


@dataclass
class ElementChange:
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)

    @property
    def added(self) -> list[str]:
        return sorted(set(self.after) - set(self.before))

    @property
    def removed(self) -> list[str]:
        return sorted(set(self.before) - set(self.after))

    def as_detail(self) -> dict[str, list[str]]:
        return {"before": self.before, "after": self.after,
                "added": self.added, "removed": self.removed}


def sync_user(
    user: Any, roles: Iterable[str], groups: Iterable[str], elements: Iterable[Element],
    *, request: HttpRequest | None = None,
) -> dict[Element, ElementChange]:
    """Resolve ``roles``/``groups`` and apply them to ``user`` for ``elements``."""
    return apply_entitlements(user, entitlements(roles, groups), elements, request=request)


def apply_entitlements(
    user: Any, granted: Entitlements, elements: Iterable[Element],
    *, request: HttpRequest | None = None, tenant_id: str = "", object_id: str = "",
) -> dict[Element, ElementChange]:
    """Make ``user``'s permissions in ``elements`` exactly ``granted``'s; audit the change."""
    synced = [element for element in Element if element in set(elements)]
    if not synced:
        return {}
    wanted = [grant for grant in granted.grants if grant.element in synced]
    with transaction.atomic(savepoint=False):  # inside the sign-in's transaction, if any
        held = _held_permissions(user.pk, synced)
        held_objects = _held_script_set_permissions(user.pk) if Element.ADMIN_TOOL in synced else {}
        changes = _apply_site_wide(user.pk, synced, wanted, held)
        _apply_script_sets(user.pk, wanted, held_objects, changes)
        _apply_provenance(user.pk, synced, wanted)
        flags = _apply_flags(user, granted) if Element.ADMIN_TOOL in synced else None
        detail: dict[str, Any] = {
            "elements": {e.value: changes[e].as_detail() for e in synced},
            "sources": granted.matched,
        }
        if flags:
            detail["flags"] = flags
        record(
            Action.PERMISSIONS_SYNCED, request=request, actor=user,
            tenant_id=tenant_id, object_id=object_id, subject=f"user:{user.pk}",
            element=synced[0].value if len(synced) == 1 else "", detail=detail,
        )
    return changes


# --- reads -------------------------------------------------------------------------------


def _held_permissions(
    user_id: int, elements: list[Element]
) -> list[tuple[int, Element, str, bool, bool]]:
    """Catalogue permissions the user holds directly or through a Django group (one query)."""
    direct = get_user_model().user_permissions.through.objects.filter(
        user_id=user_id, permission_id=OuterRef("pk")
    )
    via_group = Group.permissions.through.objects.filter(
        permission_id=OuterRef("pk"), group__user=user_id
    )
    rows = (
        Permission.objects.filter(catalogue.permissions_q())
        .annotate(direct=Exists(direct), via_group=Exists(via_group))
        .filter(Q(direct=True) | Q(via_group=True))
        .values_list("pk", "content_type__app_label", "codename", "direct", "via_group")
    )
    held = []
    for pk, app_label, codename, is_direct, is_via_group in rows:
        element = catalogue.element_of((app_label, codename))
        if element in elements:
            held.append((pk, element, _label(app_label, codename), is_direct, is_via_group))
    return held


def _held_script_set_permissions(user_id: int) -> dict[tuple[int, int], tuple[int, str]]:
    """(permission id, script set id) → (row id, label) of the user's per-Script-Set grants."""
    content_type = ContentType.objects.get_by_natural_key(
        catalogue.SCRIPT_SET_APP_LABEL, catalogue.SCRIPT_SET_MODEL
    )
    rows = UserObjectPermission.objects.filter(
        user_id=user_id, content_type=content_type
    ).values_list("pk", "permission_id", "permission__codename", "object_pk")
    return {
        (perm_id, int(object_pk)): (pk, _object_label(codename, int(object_pk)))
        for pk, perm_id, codename, object_pk in rows if str(object_pk).isdigit()
    }


# --- writes ------------------------------------------------------------------------------


def _apply_site_wide(user_id, synced, wanted, held) -> dict[Element, ElementChange]:
    through = get_user_model().user_permissions.through
    desired = {g.permission_id for g in wanted if g.script_set_id is None}
    direct = {pk for pk, _e, _l, is_direct, _g in held if is_direct}
    via_groups_unwanted = {pk for pk, _e, _l, _d, via in held if via and pk not in desired}
    changes = {element: ElementChange() for element in synced}
    for _pk, element, label, _d, _g in held:
        changes[element].before.append(label)
    for grant in wanted:
        changes[grant.element].after.append(
            _label(catalogue.APP_LABEL, grant.codename) if grant.script_set_id is None
            else _object_label(grant.codename, grant.script_set_id)
        )
    if direct - desired:
        through.objects.filter(user_id=user_id, permission_id__in=direct - desired).delete()
    if desired - direct:
        through.objects.bulk_create(
            [through(user_id=user_id, permission_id=pk) for pk in sorted(desired - direct)],
            ignore_conflicts=True,
        )
    if via_groups_unwanted:  # a Django group would keep granting it: leave that group
        get_user_model().groups.through.objects.filter(
            user_id=user_id, group__permissions__in=via_groups_unwanted
        ).delete()
    return changes


def _apply_script_sets(user_id, wanted, held_objects, changes) -> None:
    desired = {(g.permission_id, g.script_set_id) for g in wanted if g.script_set_id is not None}
    for _key, (_pk, label) in held_objects.items():
        changes[Element.ADMIN_TOOL].before.append(label)
    stale = [pk for key, (pk, _label_) in held_objects.items() if key not in desired]
    missing = sorted(desired - set(held_objects))
    if stale:
        UserObjectPermission.objects.filter(pk__in=stale).delete()
    if missing:
        content_type = ContentType.objects.get_by_natural_key(
            catalogue.SCRIPT_SET_APP_LABEL, catalogue.SCRIPT_SET_MODEL
        )
        UserObjectPermission.objects.bulk_create([
            UserObjectPermission(
                user_id=user_id, permission_id=perm_id, content_type=content_type,
                object_pk=str(set_id),
            )
            for perm_id, set_id in missing
        ])


def _apply_provenance(user_id: int, synced: list[Element], wanted) -> None:
    """Replace the record of which roles and groups each permission came from."""
    values = [e.value for e in synced]
    held = {
        (element, perm_id, set_id): sorted(sources)
        for element, perm_id, set_id, sources in EntraGrant.objects.filter(
            user_id=user_id, element__in=values
        ).values_list("element", "permission_id", "script_set_id", "sources")
    }
    desired: dict[tuple[str, int, int | None], list[str]] = {}
    for g in wanted:
        key = (g.element.value, g.permission_id, g.script_set_id)
        desired.setdefault(key, []).append(f"{g.source_kind}:{g.source_value}")
    desired = {key: sorted(sources) for key, sources in desired.items()}
    if held == desired:
        return
    if held:
        EntraGrant.objects.filter(user_id=user_id, element__in=values).delete()
    EntraGrant.objects.bulk_create([
        EntraGrant(user_id=user_id, element=element, permission_id=perm_id,
                   script_set_id=set_id, sources=sources)
        for (element, perm_id, set_id), sources in sorted(desired.items(), key=str)
    ])


def _apply_flags(user: Any, granted: Entitlements) -> dict[str, list[bool]] | None:
    """``is_staff``/``is_superuser`` exactly as an explicit mapping says (Administration Tool)."""
    before = [user.is_staff, user.is_superuser]
    after = [granted.staff, granted.superuser]
    if before == after:
        return None
    get_user_model().objects.filter(pk=user.pk).update(is_staff=after[0], is_superuser=after[1])
    user.is_staff, user.is_superuser = after
    return {"before": before, "after": after}


def _label(app_label: str, codename: str) -> str:
    return codename if app_label == catalogue.APP_LABEL else f"{app_label}.{codename}"


def _object_label(codename: str, script_set_id: int) -> str:
    return f"{codename}@script_set:{script_set_id}"
