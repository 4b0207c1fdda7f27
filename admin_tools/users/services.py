"""User Maintenance writes: create, change, disable/enable, reset a password.

Every change writes one audit event (``user_created``, ``user_changed`` with the before/after
of the changed fields, ``user_disabled``, ``user_enabled``); permissions go through
:mod:`permissions.services`, so the lock is asked first and refuses (audited) while Entra ID
owns them. A refusal here raises :class:`Refused` after recording why.

Login mode: ``password`` signs in with a Keyfax password (local accounts only); ``sso``
signs in through Microsoft Entra ID. An Entra-linked user is always ``sso`` and never has a
password. Switching a local user to ``sso`` removes their password (it becomes unusable), so
they can no longer sign in with one until IT links their Entra identity; switching back to
``password`` needs a new password set with :func:`reset_password`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from accounts.models import LoginMode, User
from accounts.sso_config import Element
from admin_tools.users.selectors import identity_of
from audit.models import Action, Outcome
from audit.services import record
from permissions import services as permission_services

VIA = "user_maintenance"
DETAIL_FIELDS = ("username", "first_name", "last_name", "email", "user_group", "notes",
                 "login_mode")
ENTRA_OWNED_FIELDS = ("username", "first_name", "last_name", "email", "login_mode")


class Refused(Exception):
    """A User Maintenance action that is not allowed (already audited)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass
class Who:
    """Who is acting, and the request, for the audit events."""

    actor: Any
    request: HttpRequest | None = None

    def record(self, action: Action, user: User, **kwargs: Any) -> None:
        detail = {"via": VIA, **kwargs.pop("detail", {})}
        record(action, request=self.request, actor=self.actor, subject=f"user:{user.pk}",
               detail=detail, **kwargs)

    def refuse(self, action: Action, user: User, reason: str, message: str,
               **detail: Any) -> Refused:
        self.record(action, user, outcome=Outcome.REFUSED, reason=reason, detail=detail)
        return Refused(reason, message)


@dataclass
class Saved:
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    permissions: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def create_local_user(data: dict[str, Any], who: Who) -> User:
    """A local account (no Entra identity) with no usable password yet."""
    values = {name: data.get(name, "") for name in DETAIL_FIELDS}
    values["login_mode"] = values["login_mode"] or LoginMode.PASSWORD
    with transaction.atomic():
        user = User(**values)
        user.set_unusable_password()
        user.save()
        who.record(Action.USER_CREATED, user, detail={
            "fields": {k: v for k, v in values.items() if k != "notes"},
            "notes": bool(values["notes"]),
        })
    return user


def update_user(
    user: User, data: dict[str, Any], permissions: dict[Element, set[str]], who: Who,
) -> Saved:
    """Change the detail fields and per-element permissions: everything or nothing.

    The lock is asked before the transaction, so a refusal's audit event is kept.
    """
    linked = identity_of(user) is not None
    wanted = {name: data[name] for name in DETAIL_FIELDS if name in data}
    if linked:
        forged = {n for n in ENTRA_OWNED_FIELDS if n in wanted and wanted[n] != getattr(user, n)}
        if forged:
            raise who.refuse(Action.USER_CHANGED, user, "managed_by_entra",
                             "The name, email, username and login mode of an Entra-linked "
                             "user come from Microsoft Entra ID.", fields=sorted(forged))
    current = permission_services.current_codenames(user)
    for element, codenames in permissions.items():
        permission_services.authorize_change(
            user, element, before=current[element], after=codenames,
            actor=who.actor, request=who.request, via=VIA)
    saved = Saved()
    changes = {n: {"before": getattr(user, n), "after": v}
               for n, v in wanted.items() if getattr(user, n) != v}
    with transaction.atomic():
        for element, codenames in permissions.items():
            change = permission_services.set_element_permissions(
                user, element, codenames, actor=who.actor, request=who.request, via=VIA)
            if change:
                saved.permissions[element.value] = change
        if changes:
            for name, change in changes.items():
                setattr(user, name, change["after"])
            update = list(changes)
            detail: dict[str, Any] = {"changes": changes}
            if changes.get("login_mode", {}).get("after") == LoginMode.SSO:
                user.set_unusable_password()
                update.append("password")
                detail["password"] = "removed"  # noqa: S105  (what happened, no secret)
            user.save(update_fields=update)
            who.record(Action.USER_CHANGED, user, detail=detail)
        saved.changes = changes
    return saved


def disable_user(user: User, who: Who) -> bool:
    """Disable the account (no sign-in of any kind); ``False`` when it already was."""
    if user.pk == getattr(who.actor, "pk", None):
        raise who.refuse(Action.USER_DISABLED, user, "self",
                         "You cannot disable your own account.")
    return _set_active(user, False, Action.USER_DISABLED, who)


def enable_user(user: User, who: Who) -> bool:
    return _set_active(user, True, Action.USER_ENABLED, who)


def _set_active(user: User, active: bool, action: Action, who: Who) -> bool:
    if user.is_active == active:
        return False
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        who.record(action, user)
    return True


def password_refusal(user: User) -> tuple[str, str] | None:
    """Why ``user`` cannot be given a password, or ``None`` when they can."""
    if identity_of(user) is not None:
        return ("entra_linked", "This user signs in with Microsoft Entra ID and never has a "
                "Keyfax password.")
    if user.login_mode != LoginMode.PASSWORD:
        return ("login_mode_sso", "This user's login mode is Keyfax SSO: change it to Keyfax "
                "password first.")
    return None


def reset_password(user: User, password: str | None, who: Who) -> None:
    """Set a local user's new password (already checked by Django's validators).

    Refused (audited) for an Entra-linked user or one whose login mode is SSO.
    """
    refusal = password_refusal(user)
    if refusal is not None:
        raise who.refuse(Action.USER_CHANGED, user, refusal[0], refusal[1],
                         password="reset")  # noqa: S106  (what was asked, no secret)
    if not password:
        raise ValueError("a new password is required")
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        who.record(Action.USER_CHANGED, user, detail={"password": "reset"})
