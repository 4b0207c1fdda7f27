"""User Maintenance writes: create, change, disable/enable, reset a password, register or
(un)link an Entra person.

Account writes go through :mod:`accounts.services` (the one door every surface uses: the
privilege ladder, the identity rules and their audit events); permissions go through
:mod:`permissions.services`, so the lock and "nobody grants what they do not hold" are
asked first. A refusal is recorded there and raised here as :class:`Refused`.

Login mode: ``password`` signs in with a Keyfax password (local accounts only); ``sso``
signs in through Microsoft Entra ID. An Entra-linked user is always ``sso`` and never has a
password. Switching a local user to ``sso`` removes their password (it becomes unusable), so
they can no longer sign in with one until IT links their Entra identity; switching back to
``password`` needs a new password set with :func:`reset_password`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from accounts import services as accounts
from accounts.entra.directory import DirectoryPerson
from accounts.models import User
from accounts.provisioning import find_identity
from accounts.sso_config import Element
from admin_tools.users import selectors
from audit.models import Action
from permissions import services as permission_services

VIA = permission_services.USER_MAINTENANCE
DETAIL_FIELDS = ("username", "first_name", "last_name", "email", "user_group", "notes",
                 "login_mode")
Refused = accounts.AccountRefused
USERNAME_LENGTH = User._meta.get_field("username").max_length


@dataclass
class Who:
    """Who is acting, and the request, for the audit events."""

    actor: Any
    request: HttpRequest | None = None

    @property
    def door(self) -> accounts.Actor:
        return accounts.Actor(user=self.actor, request=self.request, via=VIA)


@dataclass
class Saved:
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    permissions: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def create_local_user(data: dict[str, Any], who: Who) -> User:
    """A local account (no Entra identity) with no usable password yet."""
    return accounts.create_user({name: data.get(name, "") for name in DETAIL_FIELDS}, who.door)


def update_user(
    user: User, data: dict[str, Any], permissions: dict[Element, set[str]], who: Who,
) -> Saved:
    """Change the detail fields and per-element permissions: everything or nothing.

    The ladder and the lock are asked before the transaction, so a refusal's audit event
    is kept.
    """
    wanted = {name: data[name] for name in DETAIL_FIELDS if name in data}
    accounts.authorize(who.door, user, Action.USER_CHANGED)
    accounts.authorize_change(user, wanted, who.door)
    current = permission_services.current_codenames(user)
    for element, codenames in permissions.items():
        permission_services.authorize_change(
            user, element, before=current[element], after=codenames,
            actor=who.actor, request=who.request, via=VIA)
        permission_services.authorize_grant(
            user, element, codenames - current[element], actor=who.actor,
            request=who.request, via=VIA)
    saved = Saved()
    with transaction.atomic():
        for element, codenames in permissions.items():
            change = permission_services.set_element_permissions(
                user, element, codenames, actor=who.actor, request=who.request, via=VIA)
            if change:
                saved.permissions[element.value] = change
        saved.changes = accounts.change_user(user, wanted, who.door)
    return saved


def disable_user(user: User, who: Who) -> bool:
    """Disable the account (no sign-in of any kind); ``False`` when it already was."""
    return accounts.set_active(user, False, who.door)


def enable_user(user: User, who: Who) -> bool:
    return accounts.set_active(user, True, who.door)


def account_refusal(user: User, who: Who) -> tuple[str, str] | None:
    """Why this maintainer can change nothing of ``user`` (shown before they try)."""
    return accounts.refusal(who.door, user)


def password_refusal(user: User) -> tuple[str, str] | None:
    """Why ``user`` cannot be given a password, or ``None`` when they can."""
    return accounts.password_refusal(user)


def reset_password(user: User, password: str | None, who: Who) -> None:
    """Set a local user's new password (already checked by Django's validators).

    Refused (audited) for an IT account, an Entra-linked user or one whose login mode is SSO.
    """
    if password is None:  # a forged POST where no password may be set: refused, audited
        accounts.authorize_password(who.door, user)
        raise ValueError("a new password is required")
    accounts.set_password(user, password, who.door)


def end_sessions(user: User, who: Who, only: list[int] | None = None) -> int:
    """End ``user``'s open sessions (``only`` these); how many ended."""
    return accounts.end_sessions(user, who.door, only=only)


# --- Entra people from the directory (issue 12) --------------------------------------------


class CannotRegister(Exception):
    """The person cannot be registered: no usable UPN, or it is another account's username
    (never merged)."""


def authorize_link(user: User, object_id: str, who: Who) -> None:
    """Refuse (audited) before the directory is asked, when the maintainer may not change
    ``user`` at all (an IT account)."""
    accounts.authorize(who.door, user, Action.USER_CHANGED, linked_object_id=object_id)


def register_entra_person(person: DirectoryPerson, tenant_id: str, who: Who) -> User:
    """An account for the person picked from the directory, linked by object id; username
    their UPN. A username already taken is an error, never a merge; a person already linked
    is refused by the door (``linked_elsewhere``)."""
    username = person.upn
    if not username or len(username) > USERNAME_LENGTH:
        raise CannotRegister(f"{person.display_name or person.object_id} has no user principal "
                            "name Keyfax can use as a username.")
    clash = CannotRegister(f"The username {username} already belongs to another Keyfax "
                          "account. Nothing was registered: rename or retire that account "
                          "first, or link it to this Entra person instead.")
    if selectors.username_taken(username) and not find_identity(tenant_id, person.object_id):
        raise clash  # (an already linked person is the door's refusal, audited)
    values = {"username": username, "first_name": person.given_name[:150],
              "last_name": person.surname[:150], "email": person.mail[:254]}
    try:
        return accounts.register_entra_user(values, tenant_id, person.object_id, who.door,
                                            upn=person.upn, display_name=person.display_name)
    except IntegrityError:  # taken meanwhile (the door's transaction rolled back)
        raise clash from None


def link_entra_person(user: User, person: DirectoryPerson, tenant_id: str, who: Who) -> None:
    """Link a local account to the person picked from the directory (its password goes)."""
    accounts.link_entra_identity(user, tenant_id, person.object_id, who.door,
                                 upn=person.upn, display_name=person.display_name)


def unlink_entra_person(user: User, who: Who) -> None:
    """The account stops belonging to its Entra person; their sessions end."""
    accounts.unlink_entra_identity(user, who.door)
