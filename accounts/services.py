"""The one door for every write to an account, whichever surface asks.

User Maintenance, Django admin, management commands and SCIM provisioning call these;
sign-in provisioning is :mod:`accounts.provisioning`. Each function asks the privilege ladder
(:func:`refusal`) first, writes, and records one audit event naming the actor and the
subject in the same transaction. A refusal is recorded (outcome ``refused``) and raised as
:class:`AccountRefused`, whose message the surface shows.

The ladder (DESIGN.md, "Who may change whom"):

- the system (``actor.user`` is ``None``: sign-in, SCIM, a command run on the host) may
  change any account;
- an account holding ``is_superuser`` is changed only by a superuser, one holding
  ``is_staff`` only by IT (staff or superuser): holding ``maintain_users`` never reaches
  IT's accounts, such as the break-glass superuser;
- nobody grants ``is_staff`` or ``is_superuser`` unless they hold it themselves;
- nobody disables or deletes their own account;
- an Entra-linked account never has a usable password, and its name, email, username and
  login mode come from Entra ID.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts import open_sessions
from accounts.models import EntraIdentity, LoginMode, User
from audit.models import Action, Outcome
from audit.services import record

ENTRA_OWNED_FIELDS = ("username", "first_name", "last_name", "email", "login_mode")
FLAGS = ("is_staff", "is_superuser")
IT_ACCOUNT = (
    "This is an IT account (it can open Django admin), so it is managed by IT in Django "
    "admin, not in User Maintenance."
)
SUPERUSER_ACCOUNT = "This is a superuser account: only a superuser can change it."


@dataclass(frozen=True)
class Actor:
    """Who is acting (``user`` ``None``: the system), from which request and surface;
    ``credential`` names what a system actor authenticated with (a SCIM token's name)."""

    user: Any = None
    request: HttpRequest | None = None
    via: str = "system"
    credential: str = ""

    @property
    def is_system(self) -> bool:
        return self.user is None


class AccountRefused(Exception):
    """A write the ladder or the identity rules refuse; already audited."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def is_entra_linked(user: User) -> bool:
    if user.pk is None:
        return False
    try:
        return user.entra_identity is not None
    except EntraIdentity.DoesNotExist:
        return False


def refusal(actor: Actor, target: User) -> tuple[str, str] | None:
    """Why ``actor`` may not change ``target``'s account at all, or ``None``."""
    if actor.is_system:
        return None
    if target.is_superuser and not actor.user.is_superuser:
        return ("it_account", SUPERUSER_ACCOUNT)
    if target.is_staff and not (actor.user.is_staff or actor.user.is_superuser):
        return ("it_account", IT_ACCOUNT)
    return None


def flags_refusal(actor: Actor, before: dict[str, bool], after: dict[str, bool]
                  ) -> tuple[str, str] | None:
    """Why ``actor`` may not give these flags (nobody grants what they do not hold)."""
    if actor.is_system:
        return None
    for flag in FLAGS:
        if after.get(flag) and not before.get(flag) and not getattr(actor.user, flag):
            return ("not_held", f"Only someone who holds {flag} can grant it.")
    return None


def password_refusal(user: User) -> tuple[str, str] | None:
    """Why ``user`` can never be given a password, or ``None``."""
    if is_entra_linked(user):
        return ("entra_linked", "This user signs in with Microsoft Entra ID and never has a "
                "Keyfax password.")
    if user.login_mode != LoginMode.PASSWORD:
        return ("login_mode_sso", "This user's login mode is Keyfax SSO: change it to Keyfax "
                "password first.")
    return None


# --- writes ------------------------------------------------------------------------------


def create_user(values: dict[str, Any], actor: Actor, *, password: str | None = None) -> User:
    """A local account (no Entra identity), with ``password`` or no usable one."""
    user = User(**{**values, "login_mode": values.get("login_mode") or LoginMode.PASSWORD})
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    return save_new_user(user, actor)


def save_new_user(user: User, actor: Actor) -> User:
    """Save an account a surface has prepared (e.g. Django admin's add form)."""
    values = {f.name: getattr(user, f.name) for f in User._meta.concrete_fields
              if f.name not in ("id", "password", "last_login", "date_joined")}
    flags = {flag: bool(values.get(flag)) for flag in FLAGS}
    _refuse_if(actor, None, flags_refusal(actor, {}, flags), Action.USER_CREATED,
               detail={"fields": _shown(values)})
    with transaction.atomic():
        user.save()
        _record(Action.USER_CREATED, user, actor, detail={
            "fields": _shown(values), "notes": bool(values.get("notes")),
            "password": "set" if user.has_usable_password() else "none"})
    return user


def change_user(user: User, changes: dict[str, Any], actor: Actor) -> dict[str, dict]:
    """Change an account's own fields (details, flags, ``is_active``); returns what changed as
    ``{field: {"before", "after"}}``. One audit event: ``user_disabled``/``user_enabled`` when
    ``is_active`` changes (naming the other changes too), else ``user_changed``. Disabling
    ends every open session of the account at once."""
    changed = authorize_change(user, changes, actor)
    if not changed:
        return {}
    with transaction.atomic():
        for name, change in changed.items():
            setattr(user, name, change["after"])
        update = list(changed)
        detail: dict[str, Any] = {"changes": {n: c for n, c in changed.items()
                                              if n != "is_active"}}
        if changed.get("login_mode", {}).get("after") == LoginMode.SSO and \
                user.has_usable_password():
            user.set_unusable_password()
            update.append("password")
            detail["password"] = "removed"  # noqa: S105  (what happened, no secret)
        user.save(update_fields=update)
        active = changed.get("is_active")
        if active is not None and not active["after"]:
            detail["sessions_ended"] = open_sessions.end_all(user, "account_disabled")
        if not detail["changes"]:
            del detail["changes"]
        if active is None:
            _record(Action.USER_CHANGED, user, actor, detail=detail)
        elif active["after"]:
            _record(Action.USER_ENABLED, user, actor, detail=detail)
        else:
            _record(Action.USER_DISABLED, user, actor, detail=detail)
    return changed


def authorize_change(user: User, changes: dict[str, Any], actor: Actor) -> dict[str, dict]:
    """Refuse (audited) a change :func:`change_user` would refuse; else what would change.

    Call it before opening a transaction the refusal's event must outlive."""
    changed = {n: {"before": getattr(user, n), "after": v}
               for n, v in changes.items() if getattr(user, n) != v}
    if not changed:
        return {}
    what = {"changes": changed}
    _refuse_if(actor, user, refusal(actor, user), Action.USER_CHANGED, detail=what)
    owned = sorted(n for n in changed if n in ENTRA_OWNED_FIELDS)
    if owned and is_entra_linked(user) and not actor.is_system:
        _refuse_if(actor, user, ("managed_by_entra", (
            "The name, email, username and login mode of an Entra-linked user come from "
            "Microsoft Entra ID.")), Action.USER_CHANGED, detail={"fields": owned})
    _refuse_if(actor, user, flags_refusal(
        actor, {f: getattr(user, f) for f in FLAGS},
        {f: changes.get(f, getattr(user, f)) for f in FLAGS}), Action.USER_CHANGED, detail=what)
    if changed.get("is_active", {}).get("after") is False:
        _refuse_if(actor, user, _self_refusal(actor, user, "disable"), Action.USER_DISABLED)
    if changed.get("is_active", {}).get("after") is True and user.retired_at and \
            not actor.is_system:
        _refuse_if(actor, user, ("retired", (
            "This person was removed in Microsoft Entra ID: assign them to Keyfax in Entra ID "
            "again to restore the account.")), Action.USER_ENABLED)
    return changed


def set_active(user: User, active: bool, actor: Actor) -> bool:
    """Enable or disable (no sign-in of any kind); ``False`` when it already was so."""
    return bool(change_user(user, {"is_active": active}, actor))


def authorize(actor: Actor, user: User, action: Action, **detail: Any) -> None:
    """Refuse (audited, as ``action``) unless ``actor`` may change ``user``'s account.

    For surfaces that check before they show or validate anything."""
    _refuse_if(actor, user, refusal(actor, user), action, detail=detail)


def authorize_password(actor: Actor, user: User) -> None:
    """Refuse (audited) unless ``actor`` may give ``user`` a password at all."""
    found = refusal(actor, user) or password_refusal(user)
    _refuse_if(actor, user, found, Action.USER_CHANGED,
               detail={"password": "reset"})


def set_password(user: User, password: str, actor: Actor) -> None:
    """Give a local account a new password (already checked by Django's validators).
    Never for an Entra-linked account, or one whose login mode is SSO."""
    authorize_password(actor, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        _record(Action.USER_CHANGED, user, actor, detail={"password": "reset"})


def remove_password(user: User, actor: Actor) -> None:
    """Make the account's password unusable (it can no longer sign in with one)."""
    authorize(actor, user, Action.USER_CHANGED, password="removed")  # noqa: S106
    with transaction.atomic():
        user.set_unusable_password()
        user.save(update_fields=["password"])
        _record(Action.USER_CHANGED, user, actor, detail={"password": "removed"})


def delete_user(user: User, actor: Actor) -> None:
    """Delete a local account. An Entra-linked one is refused: disable it instead, so the
    audit log keeps naming a person who exists."""
    _refuse_if(actor, user, refusal(actor, user), Action.USER_DELETED)
    _refuse_if(actor, user, _self_refusal(actor, user, "delete"), Action.USER_DELETED)
    if is_entra_linked(user):
        _refuse_if(actor, user, ("entra_linked", (
            "This user signs in with Microsoft Entra ID: disable the account instead of "
            "deleting it, so its history stays attributable.")), Action.USER_DELETED)
    with transaction.atomic():
        _record(Action.USER_DELETED, user, actor, detail={
            "username": user.username, "name": user.get_full_name(), "email": user.email,
            "flags": {flag: getattr(user, flag) for flag in FLAGS}})
        user.delete()


def create_provisioned_user(values: dict[str, Any], actor: Actor, *,
                            link: tuple[str, str] | None = None) -> User:
    """An account Entra ID's provisioning (SCIM) made for a person who has not signed in yet:
    no password, login mode SSO, never an IT account. ``link`` is (tenant id, object id): the
    person's first sign-in then finds the account. Without it the account waits unlinked."""
    now = timezone.now()
    return _create_sso_user(values, actor, link, provisioned_at=now, scim_changed_at=now)


def register_entra_user(values: dict[str, Any], tenant_id: str, object_id: str,
                        actor: Actor, *, upn: str = "", display_name: str = "") -> User:
    """An account an administrator registered for an Entra person they picked from the
    directory, linked by object id (never by a typed UPN or email); ``upn`` and
    ``display_name`` are what the directory said, for display until their first sign-in."""
    _refuse_if(actor, None, _linked_elsewhere(tenant_id, object_id), Action.USER_CREATED,
               detail={"linked_object_id": object_id})
    if User.objects.filter(username__iexact=values.get("username", "")).exists():
        _refuse_if(actor, None, ("username_taken", (
            f"The username {values.get('username')} belongs to another Keyfax account: "
            "nothing was registered, and nothing is ever merged.")), Action.USER_CREATED,
            detail={"linked_object_id": object_id})
    return _create_sso_user(values, actor, (tenant_id, object_id),
                            directory={"upn": upn, "display_name": display_name})


def _create_sso_user(values: dict[str, Any], actor: Actor, link: tuple[str, str] | None,
                     directory: dict[str, str] | None = None, **provenance: Any) -> User:
    values = {k: v for k, v in values.items() if k not in FLAGS}
    user = User(**values, login_mode=LoginMode.SSO, **provenance)
    user.set_unusable_password()
    with transaction.atomic():
        user.save()
        if link is not None:
            _link(user, *link, **(directory or {}))
        _record(Action.USER_CREATED, user, actor, detail={
            "fields": _shown(values), "password": "none",
            "linked_object_id": link[1] if link else None})
    return user


def link_entra_identity(user: User, tenant_id: str, object_id: str, actor: Actor, *,
                        upn: str = "", display_name: str = "") -> None:
    """Link an account to the Entra person (tenant id, object id) an administrator picked from
    the directory, or SCIM named: their sign-in then finds it. The account stops having a
    password (an Entra-linked account never has one), so nobody links their own."""
    authorize(actor, user, Action.USER_CHANGED, linked_object_id=object_id)
    _refuse_if(actor, user, _self_refusal(actor, user, "link"), Action.USER_CHANGED,
               detail={"linked_object_id": object_id})
    if is_entra_linked(user):
        _refuse_if(actor, user, ("already_linked", "This account is already linked to an Entra "
                                 "person: unlink it first."), Action.USER_CHANGED)
    _refuse_if(actor, user, _linked_elsewhere(tenant_id, object_id), Action.USER_CHANGED,
               detail={"linked_object_id": object_id})
    with transaction.atomic():
        _link(user, tenant_id, object_id, upn=upn, display_name=display_name)
        detail: dict[str, Any] = {"linked_object_id": object_id}
        if user.has_usable_password():
            user.set_unusable_password()
            detail["password"] = "removed"  # noqa: S105  (what happened, no secret)
        user.login_mode = LoginMode.SSO
        user.save(update_fields=["password", "login_mode"])
        _record(Action.USER_CHANGED, user, actor, detail=detail)


def unlink_entra_identity(user: User, actor: Actor) -> None:
    """Undo a link: the account no longer belongs to that Entra person (their sign-in will not
    find it) and its open sessions end. It keeps login mode SSO, with no password."""
    authorize(actor, user, Action.USER_CHANGED, unlinked=True)
    _refuse_if(actor, user, _self_refusal(actor, user, "unlink"), Action.USER_CHANGED)
    identity = user.entra_identity if is_entra_linked(user) else None
    if identity is None:
        return
    with transaction.atomic():
        object_id = str(identity.object_id)
        identity.delete()
        user._state.fields_cache.pop("entra_identity", None)
        ended = open_sessions.end_all(user, "account_unlinked")
        _record(Action.USER_CHANGED, user, actor, detail={
            "unlinked_object_id": object_id, "sessions_ended": ended})


def _linked_elsewhere(tenant_id: str, object_id: str) -> tuple[str, str] | None:
    found = EntraIdentity.objects.filter(tenant_id=tenant_id, object_id=object_id).first()
    if found is None:
        return None
    return ("linked_elsewhere", "That Entra person is already linked to another Keyfax account.")


def _link(user: User, tenant_id: str, object_id: str, *, upn: str = "",
          display_name: str = "") -> None:
    EntraIdentity.objects.create(user=user, tenant_id=uuid.UUID(tenant_id),
                                 object_id=uuid.UUID(object_id), email=user.email,
                                 upn=upn[:255], display_name=display_name[:255])


def retire_user(user: User, actor: Actor, removed: dict[str, Any]) -> None:
    """The person was deleted in Entra ID's provisioning: disable the account, end its
    sessions, take its IT flags and mark it retired. The account stays (the audit log keeps
    naming a person who exists) with its username, which nobody else can then take by
    accident. ``removed`` says what the caller (``permissions``) took away, in the same
    transaction."""
    with transaction.atomic():
        flags = sorted(flag for flag in FLAGS if getattr(user, flag))
        user.is_active = user.is_staff = user.is_superuser = False
        user.retired_at = user.scim_changed_at = timezone.now()
        user.save(update_fields=["is_active", "is_staff", "is_superuser", "retired_at",
                                 "scim_changed_at"])
        _record(Action.USER_DISABLED, user, actor, detail={
            "retired": True, "removed": {**removed, **({"flags": flags} if flags else {})},
            "sessions_ended": open_sessions.end_all(user, "account_retired")})


def restore_user(user: User, changes: dict[str, Any], actor: Actor) -> None:
    """A retired person provisioned again (same object id): the account is theirs again,
    with ``changes`` (what provisioning now says of them) and no permissions until Entra or
    an administrator grants them."""
    changes = {k: v for k, v in changes.items() if k not in FLAGS}
    with transaction.atomic():
        for name, value in changes.items():
            setattr(user, name, value)
        user.retired_at = None
        user.scim_changed_at = timezone.now()
        user.save(update_fields=[*changes, "retired_at", "scim_changed_at"])
        detail = {"restored": True, "fields": _shown(changes)}
        if user.is_active:
            _record(Action.USER_ENABLED, user, actor, detail=detail)
        else:
            _record(Action.USER_CHANGED, user, actor, detail=detail)


def end_sessions(user: User, actor: Actor, *, only: list[int] | None = None) -> int:
    """End ``user``'s open sessions now (``only`` these), on every worker and host; how many
    ended. An administrator may end the sessions of anyone the ladder lets them change; a
    person may end their own other sessions (never the one asking)."""
    own = not actor.is_system and actor.user.pk == user.pk
    if not own:
        _refuse_if(actor, user, refusal(actor, user), Action.SESSION_ENDED)
    keep = actor.request.session.session_key if own and actor.request is not None else None
    with transaction.atomic():
        ended = open_sessions.end_all(
            user, "ended_by_you" if own else "ended_by_administrator", only=only, keep=keep)
        if ended:
            _record(Action.SESSION_ENDED, user, actor, detail={
                "sessions": ended, "which": "chosen" if only is not None else "all",
                "own": own})
    return ended


def record_change(user: User, actor: Actor, detail: dict[str, Any]) -> None:
    """Audit a change made by a surface's own machinery (e.g. Django admin's group or
    permission lists), in the caller's transaction."""
    _record(Action.USER_CHANGED, user, actor, detail=detail)


# --- helpers -----------------------------------------------------------------------------


def _self_refusal(actor: Actor, user: User, what: str) -> tuple[str, str] | None:
    if not actor.is_system and actor.user.pk == user.pk:
        return ("self", f"You cannot {what} your own account.")
    return None


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in ("notes", "password")}


def _refuse_if(actor: Actor, user: User | None, found: tuple[str, str] | None, action: Action,
               detail: dict[str, Any] | None = None) -> None:
    if found is None:
        return
    reason, message = found
    _record(action, user, actor, outcome=Outcome.REFUSED, reason=reason, detail=detail or {})
    raise AccountRefused(reason, message)


def _record(action: Action, user: User | None, actor: Actor, *,
            outcome: Outcome = Outcome.SUCCESS, reason: str = "",
            detail: dict[str, Any] | None = None) -> None:
    identity = user.entra_identity if user is not None and is_entra_linked(user) else None
    subject = f"user:{user.pk}" if user is not None and user.pk else ""
    record(
        action, outcome=outcome, reason=reason, request=actor.request, actor=actor.user,
        subject=subject,
        actor_kind=None if actor.user is not None else ("scim" if actor.via == "scim"
                                                         else "system"),
        detail={"via": actor.via,
                **({"credential": actor.credential} if actor.credential else {}),
                **({"username": user.username} if user is not None else {}),
                **({"subject_object_id": str(identity.object_id)} if identity else {}),
                **(detail or {})},
    )
