"""The hash chain: how an event is sealed, and how appends are serialised.

Each event's ``hash`` is SHA-256 over a canonical JSON serialisation of its content and the
previous event's hash (``prev_hash``); the first event follows :data:`GENESIS`. The id is
not hashed: order is carried by the links themselves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.db import connection

GENESIS = "0" * 64
CHAIN_VERSION = 1

# The fields a hash covers, in the order docs/audit.md lists them.
HASHED_FIELDS = (
    "created_at", "action", "outcome", "reason", "element", "actor_kind", "actor_user_id",
    "actor_username", "actor_tenant_id", "actor_object_id", "subject", "source_ip",
    "user_agent", "request_id", "detail", "prev_hash",
)


def utc_timestamp(moment: datetime) -> str:
    """The one text form of a time: UTC, microseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(values: Mapping[str, Any]) -> bytes:
    """Sorted keys, no whitespace, ASCII only: the same bytes on every machine."""
    payload: dict[str, Any] = {name: values[name] for name in HASHED_FIELDS}
    payload["created_at"] = utc_timestamp(payload["created_at"])
    payload["v"] = CHAIN_VERSION
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return text.encode("ascii")


def seal(values: Mapping[str, Any]) -> str:
    """The hash of an event whose field values (including ``prev_hash``) are ``values``."""
    return hashlib.sha256(canonical_bytes(values)).hexdigest()


def lock_chain_head() -> str:
    """Take the chain for this transaction and return the current head hash.

    PostgreSQL: ``keyfax_audit_chain_head()`` (migration 0004) takes a transaction-level
    advisory lock, then reads the head with a fresh snapshot, in one round trip. SQLite
    serialises writers itself (``BEGIN IMMEDIATE``). Call inside ``transaction.atomic``.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT keyfax_audit_chain_head()")
        else:
            cursor.execute("SELECT hash FROM audit_auditevent ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
    return row[0] if row and row[0] else GENESIS
