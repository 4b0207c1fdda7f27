"""Apply what Entra says: a user's permissions in the synced elements become the mapped ones.

:func:`apply_entitlements` runs inside the caller's transaction (the sign-in's). For the
elements being synced (those in ``authentication_and_permissions``):

- The user's own permission rows become exactly the mapped ones: site-wide, and per Script
  Set (django-guardian). Their own rows of other elements, and their other permissions,
  are left alone. The roles and groups each grant came from are recorded (``EntraGrant``),
  and with the Administration Tool ``is_staff``/``is_superuser`` follow the mappings.
- A Django group the user is in that grants a permission of a synced element which Entra
  does not grant (site-wide, or on one Script Set) is **left** only when *every* permission
  the group carries, site-wide and per object, is a catalogue permission of a synced
  element. Leaving it then takes away nothing Entra grants (the user now holds those
  directly) and nothing of another element or app.
- Otherwise (the group also carries a permission of an element not being synced, or any
  permission outside the catalogue, such as ``auth.view_group``) the membership is
  **kept**, with everything it grants, including the permissions Entra did not grant: the
  event reports it as a conflict, so IT can see why the person holds them.

One ``permissions_synced`` event records the sync (docs/audit.md): per element
``before``/``after``/``added``/``removed``, the labels of what the user held before and holds
after, directly or through a Django group (a kept group's permissions stay in ``after``);
``sources``, the roles and groups that matched; ``groups_left``, each group left with the
permissions Entra did not grant that it was giving (``removed``); ``group_conflicts``, each
group kept with those it still grants (``keeps``) and the other permissions it carries
(``because``); ``flags`` when they changed. The last three keys appear only when not empty.

Queries are constant whatever the number of roles, groups and Django groups: three reads
(everything the user holds directly and through their Django groups is one of them), at
most one statement per table that changes, and the audit event.

:func:`group_conflicts` gives a page the same conflicts, from the last sync's grants.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, IntegerField, Value
from django.http import HttpRequest
from guardian.models import GroupObjectPermission, UserObjectPermission

from accounts.sso_config import Element
from audit.models import Action
from audit.services import record
from permissions import catalogue
from permissions.mappings import Entitlements, entitlements
from permissions.models import EntraGrant
from permissions.services import locked_elements


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


@dataclass(frozen=True)
class Holding:
    """One permission the user holds: directly (``group_id`` ``None``) or through a group."""

    group_id: int | None
    group_name: str
    permission_id: int
    element: Element | None  # of a catalogue permission; None for any other permission
    label: str  # as audit events name it
    script_set_id: int | None = None  # a catalogue permission granted on one Script Set


@dataclass
class GroupSettlement:
    """A Django group of the user that grants permissions of synced elements Entra does not."""

    group_id: int
    name: str
    unwanted: list[tuple[Element, str]]  # (element, label) Entra does not grant
    others: list[str]  # labels of what it carries outside the synced elements' catalogue

    @property
    def leave(self) -> bool:
        """Leaving takes away nothing but synced elements' catalogue permissions."""
        return not self.others

    def left_detail(self) -> dict[str, Any]:
        return {"group": self.name, "id": self.group_id,
                "removed": sorted({label for _e, label in self.unwanted})}

    def conflict_detail(self, elements: Iterable[Element] | None = None) -> dict[str, Any]:
        shown = set(Element if elements is None else elements)
        return {"group": self.name, "id": self.group_id,
                "keeps": sorted({label for e, label in self.unwanted if e in shown}),
                "because": sorted(set(self.others))}


def sync_user(
    user: Any, roles: Iterable[str], groups: Iterable[str], elements: Iterable[Element],
    *, request: HttpRequest | None = None,
) -> dict[Element, ElementChange]:
    """Resolve ``roles``/``groups`` and apply them to ``user`` for ``elements``."""
    return apply_entitlements(user, entitlements(roles, groups), elements, request=request)


def apply_entitlements(
    user: Any, granted: Entitlements, elements: Iterable[Element],
    *, request: HttpRequest | None = None, tenant_id: str = "", object_id: str = "",
    scim_token: str = "",
) -> dict[Element, ElementChange]:
    """Make ``user``'s permissions in ``elements`` ``granted``'s (Django groups as the module
    says); audit the change. A sign-in's sync is the person's own act; SCIM provisioning's
    (``scim_token`` names the token) is SCIM's, and never gives or takes IT's flags."""
    synced = [element for element in Element if element in set(elements)]
    if not synced:
        return {}
    wanted = [grant for grant in granted.grants if grant.element in synced]
    desired = {g.permission_id for g in wanted if g.script_set_id is None}
    desired_objects = {(g.permission_id, g.script_set_id) for g in wanted
                       if g.script_set_id is not None}
    with transaction.atomic(savepoint=False):  # inside the sign-in's transaction, if any
        holdings = _holdings(user.pk)
        held_objects = _held_script_set_permissions(user.pk) if Element.ADMIN_TOOL in synced else {}
        groups = settle_groups(holdings, synced, desired, desired_objects)
        changes = _changes(synced, wanted, holdings, held_objects, groups)
        _apply_site_wide(user.pk, synced, desired, holdings)
        _apply_groups(user.pk, groups)
        _apply_script_sets(user.pk, desired_objects, held_objects)
        _apply_provenance(user.pk, synced, wanted)
        flags = (_apply_flags(user, granted)
                 if Element.ADMIN_TOOL in synced and not scim_token else None)
        detail: dict[str, Any] = {
            "elements": {e.value: changes[e].as_detail() for e in synced},
            "sources": granted.matched,
        }
        left = [group.left_detail() for group in groups if group.leave]
        if left:
            detail["groups_left"] = left
        conflicts = [group.conflict_detail() for group in groups if not group.leave]
        if conflicts:
            detail["group_conflicts"] = conflicts
        if flags:
            detail["flags"] = flags
        if scim_token:
            detail.update(via="scim", credential=scim_token)
        record(
            Action.PERMISSIONS_SYNCED, request=request, actor=None if scim_token else user,
            actor_kind="scim" if scim_token else None,
            tenant_id="" if scim_token else tenant_id, object_id="" if scim_token else object_id,
            subject=f"user:{user.pk}",
            element=synced[0].value if len(synced) == 1 else "", detail=detail,
        )
    return changes


def group_conflicts(user: Any, elements: Iterable[Element]) -> list[dict[str, Any]]:
    """The Django groups through which ``user`` holds permissions of ``elements`` that Entra
    did not grant: ``[{"group", "id", "keeps", "because"}]``, ``keeps`` limited to
    ``elements``, by group id.

    After a sync these are exactly its ``group_conflicts``. ``because`` empty means the
    group carries nothing but synced elements' permissions (it was joined, or changed, after
    the last sync): the next sign-in leaves it. Only elements whose permissions Entra owns
    for this user count (:func:`permissions.services.locked_elements`); Entra's grants are
    those of the last sync (``EntraGrant``). Empty for a local account or an element Keyfax
    manages. At most three queries, whatever the number of groups.
    """
    owned = locked_elements(user)
    shown = set(elements) & owned
    if not shown:
        return []
    synced = [element for element in Element if element in owned]
    grants = EntraGrant.objects.filter(
        user_id=user.pk, element__in=[e.value for e in synced]
    ).values_list("permission_id", "script_set_id")
    desired: set[int] = set()
    desired_objects: set[tuple[int, int]] = set()
    for permission_id, script_set_id in grants:
        if script_set_id is None:
            desired.add(permission_id)
        else:
            desired_objects.add((permission_id, script_set_id))
    return [
        group.conflict_detail(shown)
        for group in settle_groups(_holdings(user.pk), synced, desired, desired_objects)
        if any(element in shown for element, _label in group.unwanted)
    ]


def settle_groups(
    holdings: Iterable[Holding], synced: Iterable[Element],
    desired: set[int], desired_objects: set[tuple[int, int]],
) -> list[GroupSettlement]:
    """The user's Django groups that grant a permission of ``synced`` elements outside
    ``desired`` (site-wide permission ids) and ``desired_objects`` (permission id, Script
    Set id), each with what it carries besides (by group id)."""
    synced = set(synced)
    by_group: dict[int, list[Holding]] = {}
    for holding in holdings:
        if holding.group_id is not None:
            by_group.setdefault(holding.group_id, []).append(holding)
    settled = []
    for group_id, carried in sorted(by_group.items()):
        unwanted = sorted({
            (h.element, h.label) for h in carried
            if h.element in synced and not _is_wanted(h, desired, desired_objects)
        }, key=lambda pair: (pair[0].value, pair[1]))
        if unwanted:
            others = sorted({h.label for h in carried if h.element not in synced})
            settled.append(GroupSettlement(group_id, carried[0].group_name, unwanted, others))
    return settled


def _is_wanted(holding: Holding, desired: set[int], desired_objects: set[tuple[int, int]]) -> bool:
    if holding.script_set_id is None:
        return holding.permission_id in desired
    return (holding.permission_id, holding.script_set_id) in desired_objects


# --- reads -------------------------------------------------------------------------------


def _holdings(user_id: int) -> list[Holding]:
    """The user's own catalogue permissions, and every permission (site-wide and per object,
    catalogue or not) of every Django group they are in: one query."""
    user_model = get_user_model()
    no_group = Value(None, output_field=IntegerField())
    blank = Value("", output_field=CharField())
    direct = user_model.user_permissions.through.objects.filter(
        catalogue.permissions_q(prefix="permission__"), user_id=user_id,
    ).values_list(no_group, blank, "permission_id", "permission__content_type__app_label",
                  "permission__codename", blank, blank)
    via_group = user_model.groups.through.objects.filter(
        user_id=user_id, group__permissions__isnull=False,
    ).values_list("group_id", "group__name", "group__permissions__id",
                  "group__permissions__content_type__app_label",
                  "group__permissions__codename", blank, blank)
    via_group_objects = GroupObjectPermission.objects.filter(
        group__user=user_id,
    ).values_list("group_id", "group__name", "permission_id",
                  "permission__content_type__app_label", "permission__codename",
                  "content_type__model", "object_pk")
    holdings = []
    for group_id, group_name, permission_id, app_label, codename, model, object_pk in (
        direct.union(via_group, via_group_objects, all=True)
    ):
        element = catalogue.element_of((app_label, codename))
        if not model:  # site-wide
            holdings.append(Holding(group_id, group_name, permission_id, element,
                                    _label(app_label, codename)))
        elif (element is not None and (app_label, model) == (catalogue.SCRIPT_SET_APP_LABEL,
                                                             catalogue.SCRIPT_SET_MODEL)
              and str(object_pk).isdigit()):
            holdings.append(Holding(group_id, group_name, permission_id, element,
                                    _object_label(codename, int(object_pk)), int(object_pk)))
        else:  # a permission on some other object: never a Keyfax one
            holdings.append(Holding(group_id, group_name, permission_id, None,
                                    f"{_label(app_label, codename)}@{model}:{object_pk}"))
    return holdings


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


def _changes(synced, wanted, holdings, held_objects, groups) -> dict[Element, ElementChange]:
    """Per element, the labels held before (directly or through a group) and after."""
    before: dict[Element, set[str]] = {element: set() for element in synced}
    after: dict[Element, set[str]] = {element: set() for element in synced}
    for holding in holdings:
        if holding.element in before:
            before[holding.element].add(holding.label)
    for _key, (_pk, label) in held_objects.items():
        before[Element.ADMIN_TOOL].add(label)
    for grant in wanted:
        after[grant.element].add(
            _label(catalogue.APP_LABEL, grant.codename) if grant.script_set_id is None
            else _object_label(grant.codename, grant.script_set_id)
        )
    for group in groups:
        if not group.leave:  # a kept group goes on granting these
            for element, label in group.unwanted:
                after[element].add(label)
    return {element: ElementChange(sorted(before[element]), sorted(after[element]))
            for element in synced}


# --- writes ------------------------------------------------------------------------------


def _apply_site_wide(user_id, synced, desired, holdings) -> None:
    through = get_user_model().user_permissions.through
    direct = {h.permission_id for h in holdings if h.group_id is None and h.element in synced}
    if direct - desired:
        through.objects.filter(user_id=user_id, permission_id__in=direct - desired).delete()
    if desired - direct:
        through.objects.bulk_create(
            [through(user_id=user_id, permission_id=pk) for pk in sorted(desired - direct)],
            ignore_conflicts=True,
        )


def _apply_groups(user_id: int, groups: list[GroupSettlement]) -> None:
    """Leave the groups that grant nothing but synced elements' catalogue permissions."""
    leave = [group.group_id for group in groups if group.leave]
    if leave:
        get_user_model().groups.through.objects.filter(
            user_id=user_id, group_id__in=leave
        ).delete()


def _apply_script_sets(user_id, desired, held_objects) -> None:
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
