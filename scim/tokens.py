"""SCIM bearer tokens: made once, stored as a SHA-256 digest, revoked by name; and the
throttle on failed ones (per client address, in the cache)."""

from __future__ import annotations

import hashlib
import secrets

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import record
from scim.models import ScimToken

FAILURES_ALLOWED = 10
"""Failed tokens an address may present per window before it is refused outright (429)."""
FAILURE_WINDOW_SECONDS = 15 * 60
LAST_USED_PRECISION_SECONDS = 60  # last_used_at is written at most once a minute per token
TOKEN_PREFIX = "kfxscim_"  # noqa: S105  (a public prefix, not a secret)


class TokenError(Exception):
    pass


def digest(token: str) -> str:
    # 256 random bits: a fast hash is enough (nothing to brute-force), and lookups stay O(1).
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create(name: str) -> str:
    """A new token called ``name``; the token itself, which is never stored or shown again."""
    name = name.strip()
    if not name or len(name) > 100:
        raise TokenError("Give the token a name of 1 to 100 characters.")
    if ScimToken.objects.filter(name=name).exists():
        raise TokenError(f"A token called {name!r} exists: revoke it or choose another name.")
    # A fixed prefix lets secret scanners spot a leaked token (and it never starts with "-").
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        ScimToken.objects.create(name=name, digest=digest(token))
        record(Action.SCIM_CHANGE, actor_kind="system", subject=f"scim_token:{name}",
               detail={"token": name, "change": "token_created"})
    return token


def revoke(name: str) -> None:
    with transaction.atomic():
        found = ScimToken.objects.select_for_update().filter(name=name).first()
        if found is None:
            raise TokenError(f"No SCIM token is called {name!r}.")
        if found.revoked_at is not None:
            raise TokenError(f"The SCIM token {name!r} is already revoked.")
        found.revoked_at = timezone.now()
        found.save(update_fields=["revoked_at"])
        record(Action.SCIM_CHANGE, actor_kind="system", subject=f"scim_token:{name}",
               detail={"token": name, "change": "token_revoked"})


def authenticate(token: str) -> ScimToken | None:
    """The live token this is, or ``None`` (unknown or revoked)."""
    found = ScimToken.objects.filter(digest=digest(token), revoked_at__isnull=True).first()
    if found is not None:
        now = timezone.now()
        if found.last_used_at is None or \
                (now - found.last_used_at).total_seconds() > LAST_USED_PRECISION_SECONDS:
            ScimToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found


def _key(address: str | None) -> str:
    return "keyfax:scim:failed:" + hashlib.sha256((address or "unknown").encode()).hexdigest()[:32]


def is_throttled(address: str | None) -> bool:
    return cache.get(_key(address), 0) >= FAILURES_ALLOWED


def note_failure(address: str | None) -> int:
    """Count a failed token from ``address``; the count in this window."""
    key = _key(address)
    cache.add(key, 0, FAILURE_WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, FAILURE_WINDOW_SECONDS)
        return 1
