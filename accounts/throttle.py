"""A small failed-password throttle, per username and per client address, in the cache."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _keys(username: str, address: str | None) -> list[str]:
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    keys = [f"keyfax:login-fail:user:{name}"]
    if address:
        keys.append(f"keyfax:login-fail:ip:{address}")
    return keys


def is_locked(username: str, address: str | None) -> bool:
    limit = settings.KEYFAX_LOGIN_ATTEMPTS
    counts = cache.get_many(_keys(username, address))
    return any(count >= limit for count in counts.values())


def note_failure(username: str, address: str | None) -> None:
    for key in _keys(username, address):
        if cache.add(key, 1, timeout=settings.KEYFAX_LOGIN_LOCKOUT_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.KEYFAX_LOGIN_LOCKOUT_SECONDS)


def clear(username: str, address: str | None) -> None:
    cache.delete(_keys(username, address)[0])
