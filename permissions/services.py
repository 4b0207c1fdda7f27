"""The lock, and the one way to change a user's Keyfax permissions.

While an element is in ``authentication_and_permissions``, Entra ID owns that element's
permissions of every Entra-linked user: every writer (User Maintenance, Django admin,
management commands, a later SCIM endpoint) asks :func:`authorize_change` first, and a change
is refused with a clear message and a ``locked_edit_refused`` event. In such an element the
Administration Tool (User Maintenance) changes nobody's permissions, local accounts
included: those are IT's, in Django admin or a command, where local break-glass accounts
(no Entra identity) are not locked. Allowed changes write ``permission_changed`` with the
before/after. Nobody grants a permission they do not hold (:func:`authorize_grant`).

A refusal is recorded in the caller's transaction: call these before opening one that the
refusal would roll back (the views and commands here do).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.http import HttpRequest
from guardian.models import UserObjectPermission

from accounts.services import is_entra_linked
from accounts.sso_config import Element, Mode, sso_config
from audit.models import Action, Outcome
from audit.services import record
from permissions import catalogue
from permissions.models import EntraGrant


class LockedPermissionError(Exception):
    """A change to permissions that Microsoft Entra ID manages."""

    def __init__(self, element: Element, what: str = "permissions") -> None:
        self.element = element
        super().__init__(locked_message(element, what))


def locked_message(element: Element, what: str = "permissions") -> str:
    return (
        f"{element.label} {what} are managed by Microsoft Entra ID and cannot be changed "
        "here. Ask IT to change the user's app roles or groups in Entra ID (or, for a local "
        "account, its permissions in Django admin)."
    )


USER_MAINTENANCE = "user_maintenance"


def locked_elements(user: Any, *, via: str = "") -> set[Element]:
    """The elements whose permissions ``via`` may not change for ``user``: those Entra owns,
    for an Entra-linked user from anywhere, for anyone from User Maintenance."""
    config = sso_config()
    owned = {e for e in Element if config.mode_for(e) is Mode.AUTHENTICATION_AND_PERMISSIONS}
    if not owned or user.pk is None:
        return set()
    if via == USER_MAINTENANCE or is_entra_linked(user):
        return owned
    return set()


def is_locked(user: Any, element: Element, *, via: str = "") -> bool:
    return element in locked_elements(user, via=via)


def current_codenames(user: Any) -> dict[Element, set[str]]:
    """The user's own site-wide Keyfax permissions, per element (one query)."""
    held: dict[Element, set[str]] = {element: set() for element in Element}
    rows = Permission.objects.filter(catalogue.permissions_q(), user=user).values_list(
        "content_type__app_label", "codename"
    )
    for app_label, codename in rows:
        element = catalogue.element_of((app_label, codename))
        if element is not None:
            held[element].add(codename if app_label == catalogue.APP_LABEL
                              else f"{app_label}.{codename}")
    return held


def authorize_change(
    user: Any, element: Element, *, before: set[str], after: set[str],
    actor: Any = None, request: HttpRequest | None = None, via: str, what: str = "permissions",
    subject: str = "",
) -> None:
    """Refuse (audited) a change to ``element``'s permissions while Entra owns them."""
    if before == after or not is_locked(user, element, via=via):
        return
    record(
        Action.LOCKED_EDIT_REFUSED, outcome=Outcome.REFUSED, request=request, actor=actor,
        subject=subject or f"user:{user.pk}", element=element.value, reason="managed_by_entra",
        detail={"via": via, "what": what, "grant": sorted(after - before),
                "revoke": sorted(before - after)},
    )
    raise LockedPermissionError(element, what)


def authorize_grant(
    user: Any, element: Element, grant: Iterable[str], *, actor: Any = None,
    request: HttpRequest | None = None, via: str,
) -> None:
    """Nobody grants a permission they do not hold (a superuser holds them all; the system,
    ``actor`` ``None``, may grant any). Refused with a ``permission_changed`` event."""
    if actor is None or getattr(actor, "is_superuser", False):
        return
    missing = sorted(c for c in grant if not actor.has_perm(f"{catalogue.APP_LABEL}.{c}"))
    if not missing:
        return
    record(
        Action.PERMISSION_CHANGED, outcome=Outcome.REFUSED, request=request, actor=actor,
        subject=f"user:{user.pk}", element=element.value, reason="not_held",
        detail={"via": via, "grant": missing},
    )
    raise NotHeldError(missing)


class NotHeldError(Exception):
    """A grant of permissions the person granting does not hold themselves."""

    def __init__(self, codenames: list[str]) -> None:
        self.codenames = codenames
        names = ", ".join(e.name for c in codenames if (e := catalogue.entry(c)) is not None)
        super().__init__(f"You can only grant permissions you hold yourself: {names}.")


def change_permissions(
    user: Any, element: Element, *, grant: Iterable[str] = (), revoke: Iterable[str] = (),
    actor: Any = None, request: HttpRequest | None = None, via: str,
) -> dict[str, list[str]] | None:
    """Grant and revoke site-wide permissions (catalogue codenames) of one element.

    Raises ``ValueError`` for a codename that is not one of ``element``'s permissions and
    :class:`LockedPermissionError` while Entra owns them. Returns the before/after, or
    ``None`` when nothing changed.
    """
    grant, revoke = set(grant), set(revoke)
    valid = {entry.codename for entry in catalogue.entries(element)}
    unknown = (grant | revoke) - valid
    if unknown:
        raise ValueError(f"not {element.label} permissions: {', '.join(sorted(unknown))}")
    if grant & revoke:
        raise ValueError(f"both granted and revoked: {', '.join(sorted(grant & revoke))}")
    before = current_codenames(user)[element]
    after = (before | grant) - revoke
    authorize_change(user, element, before=before, after=after, actor=actor, request=request,
                     via=via)
    authorize_grant(user, element, after - before, actor=actor, request=request, via=via)
    if before == after:
        return None
    rows = {p.codename: p for p in catalogue.global_permission_rows(element)}
    with transaction.atomic():
        user.user_permissions.add(*(rows[c] for c in sorted(after - before)))
        user.user_permissions.remove(*(rows[c] for c in sorted(before - after)))
        change = {"before": sorted(before), "after": sorted(after)}
        record_permission_change(user, element, change, actor=actor, request=request, via=via)
    _forget_cached_permissions(user)
    return change


def set_element_permissions(
    user: Any, element: Element, wanted: Iterable[str], **kwargs: Any
) -> dict[str, list[str]] | None:
    """Make ``element``'s site-wide permissions exactly ``wanted`` (through the lock)."""
    wanted = set(wanted)
    before = current_codenames(user)[element]
    return change_permissions(user, element, grant=wanted - before, revoke=before - wanted,
                              **kwargs)


def record_permission_change(
    user: Any, element: Element, change: dict[str, list[str]], *,
    actor: Any = None, request: HttpRequest | None = None, via: str,
) -> None:
    record(
        Action.PERMISSION_CHANGED, request=request, actor=actor, subject=f"user:{user.pk}",
        element=element.value, detail={"via": via, **change},
    )


def authorize_flags_change(
    user: Any, *, before: tuple[bool, bool], after: tuple[bool, bool], **kwargs: Any
) -> None:
    """``is_staff``/``is_superuser`` follow the Administration Tool's mappings while locked."""
    names = ("is_staff", "is_superuser")
    authorize_change(
        user, Element.ADMIN_TOOL, what="admin flags",
        before={n for n, on in zip(names, before, strict=True) if on},
        after={n for n, on in zip(names, after, strict=True) if on}, **kwargs,
    )


def authorize_groups_change(
    user: Any, *, before: Iterable[Group], after: Iterable[Group], **kwargs: Any
) -> None:
    """Joining or leaving a Django group that carries a locked element's permissions."""
    before_ids, after_ids = {g.pk for g in before}, {g.pk for g in after}
    changed = before_ids ^ after_ids
    if not changed:
        return
    carried = Permission.objects.filter(catalogue.permissions_q(), group__in=changed)
    joined = {f"group:{pk}" for pk in after_ids - before_ids}
    left = {f"group:{pk}" for pk in before_ids - after_ids}
    for element in _labels_by_element(carried.select_related("content_type")):
        authorize_change(user, element, before=left, after=joined, what="groups", **kwargs)


def authorize_group_permissions_change(
    group: Group, *, before: Iterable[Permission], after: Iterable[Permission],
    actor: Any = None, request: HttpRequest | None = None, via: str,
) -> None:
    """A Django group's permissions, when Entra-linked users in it are locked."""
    before_labels = _labels_by_element(before)
    after_labels = _labels_by_element(after)
    members = list(group.user_set.filter(entra_identity__isnull=False)[:1])
    for element in Element:
        old, new = before_labels.get(element, set()), after_labels.get(element, set())
        if old != new and members:
            authorize_change(members[0], element, before=old, after=new, actor=actor,
                             request=request, via=via, what="group permissions",
                             subject=f"group:{group.pk}")


def _labels_by_element(permissions: Iterable[Permission]) -> dict[Element, set[str]]:
    found: dict[Element, set[str]] = {}
    for permission in permissions:
        element = catalogue.element_of(permission)
        if element is not None:
            found.setdefault(element, set()).add(catalogue.label(permission))
    return found


def _forget_cached_permissions(user: Any) -> None:
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


def revoke_everything(user: Any) -> dict[str, int]:
    """Take every permission ``user`` holds, however it came (direct, Django groups, per Script
    Set, Entra's provenance); how many of each. Not audited here: the caller's account event
    (a retired account) names what went, in the same transaction."""
    with transaction.atomic(savepoint=False):
        removed = {
            "permissions": user.user_permissions.count(),
            "groups": user.groups.count(),
            "script_set_permissions": UserObjectPermission.objects.filter(user=user).delete()[0],
        }
        user.user_permissions.clear()
        user.groups.clear()
        EntraGrant.objects.filter(user=user).delete()
    _forget_cached_permissions(user)
    return {key: count for key, count in removed.items() if count}
