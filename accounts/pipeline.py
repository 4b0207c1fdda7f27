"""The sign-in pipeline: small steps that run after the ID token has been verified.

The steps are named by dotted path in ``settings.KEYFAX_SIGN_IN_PIPELINE`` (as social-core's
``SOCIAL_AUTH_PIPELINE``), so other apps add steps without ``accounts`` importing them. Each
step takes the :class:`SignInContext`, may fill it in, and refuses by raising
:class:`SignInRefused`. The whole pipeline runs in one transaction: a refusal part-way leaves
nothing behind.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import EntraIdentity, User
from accounts.refusals import Reason, SignInRefused
from accounts.sso_config import SsoConfig

Step = Callable[["SignInContext"], None]


@dataclass
class SignInContext:
    request: HttpRequest
    claims: dict[str, Any]
    config: SsoConfig
    identity: EntraIdentity | None = None
    user: User | None = None
    created: bool = False
    notes: dict[str, Any] = field(default_factory=dict)  # added to the sign-in audit event
    # Groups read from Microsoft Graph on a groups overage (None: the token's own claim).
    graph_groups: list[str] | None = None
    # The elements this sign-in admits (stored in the session) and a refusal decided by a
    # step that must not roll the pipeline back (e.g. permissions removed by a sync stay
    # removed when the person is then refused).
    admitted: set[str] = field(default_factory=set)
    refusal: SignInRefused | None = None
    state: dict[str, Any] = field(default_factory=dict)  # working data of other apps' steps

    @property
    def tenant_id(self) -> str:
        return str(self.claims["tid"]).lower()

    @property
    def object_id(self) -> str:
        return str(self.claims["oid"]).lower()

    @property
    def roles(self) -> list[str]:
        """App-role values; anything but a list of strings counts as no roles."""
        roles = self.claims.get("roles")
        if not isinstance(roles, list):
            return []
        return [role for role in roles if isinstance(role, str)]

    @property
    def has_groups_overage(self) -> bool:
        """Entra left ``groups`` out (too many) and pointed at Graph instead."""
        names = self.claims.get("_claim_names")
        return isinstance(names, dict) and "groups" in names

    @property
    def groups(self) -> list[str]:
        if self.graph_groups is not None:
            return list(self.graph_groups)
        groups = self.claims.get("groups")
        if not isinstance(groups, list):
            return []
        return [group for group in groups if isinstance(group, str)]


@cache
def _load_step(path: str) -> Step:
    return import_string(path)


def run_pipeline(context: SignInContext) -> User:
    with transaction.atomic():
        for path in settings.KEYFAX_SIGN_IN_PIPELINE:
            _load_step(path)(context)
    if context.user is None:
        raise SignInRefused(Reason.ENTRA_ERROR, {"pipeline": "no user"})
    return context.user


# --- the steps ---------------------------------------------------------------------------


def require_sso_enabled(context: SignInContext) -> None:
    """SSO may have been switched off between the redirect to Entra and the callback."""
    if not context.config.ready:
        raise SignInRefused(Reason.SSO_NOT_CONFIGURED)


def find_person(context: SignInContext) -> None:
    """Find the person by (tid, oid) and nothing else: never by email, UPN or username."""
    try:
        context.identity = EntraIdentity.objects.select_related("user").get(
            tenant_id=context.tenant_id, object_id=context.object_id
        )
    except EntraIdentity.DoesNotExist:
        return
    context.user = context.identity.user


def provision_or_update_user(context: SignInContext) -> None:
    """Create the user on a first sign-in; refresh the display fields on every sign-in."""
    claims = context.claims
    if context.identity is None:
        try:
            with transaction.atomic():
                _provision(context)
        except IntegrityError:
            # Another request provisioned the same person a moment ago: use that one.
            find_person(context)
            if context.identity is None:
                raise SignInRefused(Reason.ENTRA_ERROR, {"provision": "conflict"}) from None
    _refresh_display_fields(context.user, claims)
    identity = context.identity
    identity.upn = _text(claims.get("preferred_username") or claims.get("upn"), 255)
    identity.email = context.user.email
    identity.display_name = _text(claims.get("name"), 255)
    identity.roles = context.roles
    identity.groups = context.groups
    identity.last_sign_in_at = timezone.now()
    identity.save()


def require_active_user(context: SignInContext) -> None:
    if not context.user.is_active:
        raise SignInRefused(Reason.ACCOUNT_DISABLED, {"user_id": context.user.pk})


# --- helpers -----------------------------------------------------------------------------

_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _refresh_display_fields(user: User, claims: dict[str, Any]) -> None:
    """Name and email follow Entra; saved only when they changed (last_login is Django's)."""
    first, last = _text(claims.get("given_name"), 150), _text(claims.get("family_name"), 150)
    if not (first or last):
        first, _, last = _text(claims.get("name"), 300).partition(" ")
    fields = {"first_name": first[:150], "last_name": last[:150],
              "email": _text(claims.get("email"), 254)}
    changed = [name for name, value in fields.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, fields[name])
    if changed:
        user.save(update_fields=changed)


def _provision(context: SignInContext) -> None:
    user = User(username=_free_username(context))
    user.set_unusable_password()
    user.save()
    context.identity = EntraIdentity.objects.create(
        user=user,
        tenant_id=uuid.UUID(context.tenant_id),
        object_id=uuid.UUID(context.object_id),
    )
    context.user = user
    context.created = True


def _free_username(context: SignInContext) -> str:
    """A readable, unique username. It is display data: nothing is ever matched on it."""
    claims = context.claims
    base = _text(claims.get("preferred_username") or claims.get("upn"), 120)
    base = _USERNAME_UNSAFE.sub("", base) or context.object_id
    candidates = [base, f"{base}.{context.object_id[:8]}", context.object_id]
    clash = Q()
    for candidate in candidates:
        clash |= Q(username__iexact=candidate)
    taken = {name.lower() for name in User.objects.filter(clash).values_list("username", flat=True)}
    for candidate in candidates:
        if candidate.lower() not in taken:  # usernames are unique whatever the case
            return candidate
    raise SignInRefused(Reason.ENTRA_ERROR, {"provision": "no free username"})
