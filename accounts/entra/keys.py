"""The tenant's signing keys, cached per ``kid``.

Entra rolls keys without notice. We follow Microsoft's guidance: look a ``kid`` up in the
cache; on an unknown ``kid`` refetch the JWKS, but at most once per interval (five minutes by
default) so a stream of made-up ``kid``s cannot hammer Entra; keep the last good set when a
fetch fails; and refresh the whole set daily.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import jwt
from django.conf import settings

from accounts.entra.http import get_json
from accounts.refusals import SignInRefused

FULL_REFRESH_SECONDS = 24 * 60 * 60


class KeySet:
    """The RSA signature keys published at one JWKS URI."""

    def __init__(self, jwks_uri: str, timeout: float) -> None:
        self.jwks_uri = jwks_uri
        self.timeout = timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._unknown_kid_refetch_at: float | None = None
        self._lock = threading.Lock()

    def key_for(self, kid: str) -> jwt.PyJWK | None:
        """The key with this ``kid``, refetching the set once if it is unknown and allowed."""
        with self._lock:
            if _older_than(self._fetched_at, FULL_REFRESH_SECONDS):
                self._refresh()
            elif kid not in self._keys and _older_than(
                self._unknown_kid_refetch_at, _min_refresh_seconds()
            ):
                self._unknown_kid_refetch_at = time.monotonic()
                self._refresh()
            return self._keys.get(kid)

    def _refresh(self) -> None:
        try:
            document = get_json(self.jwks_uri, timeout=self.timeout, what="keys")
        except SignInRefused:
            if not self._keys:
                raise
            return  # keep the last good set
        keys = _usable_keys(document)
        if keys or not self._keys:  # an empty or garbled set never replaces a good one
            self._keys = keys
        self._fetched_at = time.monotonic()


def _usable_keys(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    """RSA signature keys with a ``kid``; anything else in the set is ignored."""
    keys: dict[str, jwt.PyJWK] = {}
    entries = document.get("keys")
    if not isinstance(entries, list):
        return keys
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") != "RS256":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            keys[kid] = jwt.PyJWK(entry, algorithm="RS256")
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
    return keys


def _older_than(moment: float | None, seconds: float) -> bool:
    return moment is None or time.monotonic() - moment >= seconds


def _min_refresh_seconds() -> float:
    return float(getattr(settings, "ENTRA_KEYS_MIN_REFRESH_SECONDS", 300))


_key_sets: dict[str, KeySet] = {}
_registry_lock = threading.Lock()


def key_set(jwks_uri: str, timeout: float) -> KeySet:
    with _registry_lock:
        if jwks_uri not in _key_sets:
            _key_sets[jwks_uri] = KeySet(jwks_uri, timeout)
        return _key_sets[jwks_uri]


def clear_cache() -> None:
    with _registry_lock:
        _key_sets.clear()
