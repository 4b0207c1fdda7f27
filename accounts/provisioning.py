"""Finding and creating the Keyfax account of an Entra person (by tid and oid only)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import EntraIdentity, User
from accounts.refusals import Reason, SignInRefused

_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


def find_identity(tenant_id: str, object_id: str) -> EntraIdentity | None:
    """The person (tid, oid) and their user; never looked up by email, UPN or username."""
    return EntraIdentity.objects.select_related("user").filter(
        tenant_id=tenant_id, object_id=object_id).first()


def provision(claims: dict[str, Any]) -> tuple[EntraIdentity, bool]:
    """The person's identity, created with a new user on a first sign-in; ``True`` when
    this call created it. Two first sign-ins at once make one account: the loser of the
    race uses the winner's."""
    tenant_id, object_id = str(claims["tid"]).lower(), str(claims["oid"]).lower()
    try:
        with transaction.atomic():  # a savepoint: the race's IntegrityError stays inside
            user = User(username=_free_username(claims, object_id))
            user.set_unusable_password()
            user.save()
            identity = EntraIdentity.objects.create(
                user=user, tenant_id=uuid.UUID(tenant_id), object_id=uuid.UUID(object_id))
    except IntegrityError:
        identity = find_identity(tenant_id, object_id)
        if identity is None:
            raise SignInRefused(Reason.ENTRA_ERROR, {"provision": "conflict"}) from None
        return identity, False
    return identity, True


def refresh_from_claims(identity: EntraIdentity, claims: dict[str, Any], *,
                        roles: list[str], groups: list[str]) -> None:
    """Name and email follow Entra (display data only); the identity notes what this
    sign-in said and when."""
    user = identity.user
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
    identity.upn = _text(claims.get("preferred_username") or claims.get("upn"), 255)
    identity.email = user.email
    identity.display_name = _text(claims.get("name"), 255)
    identity.roles = roles
    identity.groups = groups
    identity.last_sign_in_at = timezone.now()
    identity.save()


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _free_username(claims: dict[str, Any], object_id: str) -> str:
    """A readable, unique username. It is display data: nothing is ever matched on it."""
    base = _text(claims.get("preferred_username") or claims.get("upn"), 120)
    base = _USERNAME_UNSAFE.sub("", base) or object_id
    candidates = [base, f"{base}.{object_id[:8]}", object_id]
    clash = Q()
    for candidate in candidates:
        clash |= Q(username__iexact=candidate)
    taken = {name.lower() for name in User.objects.filter(clash).values_list("username", flat=True)}
    for candidate in candidates:
        if candidate.lower() not in taken:  # usernames are unique whatever the case
            return candidate
    raise SignInRefused(Reason.ENTRA_ERROR, {"provision": "no free username"})
