"""Read-only queries over the audit log, shared by the admin, the commands and retention."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Max, Min, Q, QuerySet

from audit.chain import HASHED_FIELDS
from audit.cleaning import text
from audit.models import Action, AuditEvent

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def chain_values(chunk_size: int = 2000) -> Iterator[dict[str, Any]]:
    """Every event's hashed fields, oldest first, streamed in chunks (bounded memory)."""
    fields = ("id", *HASHED_FIELDS, "hash")
    return AuditEvent.objects.order_by("id").values(*fields).iterator(chunk_size=chunk_size)


def prune_checkpoints(from_id: int) -> list[dict[str, Any]]:
    """The ``audit_pruned`` events from ``from_id`` on: each anchors a pruned chain start."""
    rows = AuditEvent.objects.filter(action=Action.AUDIT_PRUNED, id__gte=from_id)
    return [{"id": pk, **detail} for pk, detail in rows.order_by("id").values_list("id", "detail")]


@dataclass(frozen=True)
class PruneRange:
    """The oldest events, up to (not including) the first one at or after ``cutoff``."""

    cutoff: datetime
    first_id: int
    last_id: int
    count: int


def prune_range(cutoff: datetime) -> PruneRange | None:
    """Pruning removes a prefix of the chain, so a clock step back never splits it."""
    keep_from = AuditEvent.objects.filter(created_at__gte=cutoff).aggregate(first=Min("id"))
    older = AuditEvent.objects.all()
    if keep_from["first"] is not None:
        older = older.filter(id__lt=keep_from["first"])
    span = older.aggregate(first=Min("id"), last=Max("id"))
    if span["first"] is None:
        return None
    count = older.count()
    return PruneRange(cutoff=cutoff, first_id=span["first"], last_id=span["last"], count=count)


def events_between(first_id: int, last_id: int, chunk_size: int = 2000) -> Iterator[AuditEvent]:
    rows = AuditEvent.objects.filter(id__gte=first_id, id__lte=last_id).order_by("id")
    return rows.iterator(chunk_size=chunk_size)


def oldest_event_id() -> int | None:
    return AuditEvent.objects.order_by("id").values_list("id", flat=True).first()


def search(queryset: QuerySet[AuditEvent], term: str) -> QuerySet[AuditEvent]:
    """Exact, indexed search: an IP address, an Entra object id, or a username/reference."""
    term = text(term, 200).strip()
    if not term:
        return queryset
    try:
        return queryset.filter(source_ip=str(ipaddress.ip_address(term)))
    except ValueError:
        pass
    if _GUID.match(term):
        return queryset.filter(actor_object_id__in={term, term.lower()})
    return queryset.filter(
        Q(actor_username=term) | Q(subject=f"username:{term}") | Q(request_id=term)
    )


def estimated_total() -> int | None:
    """PostgreSQL's planner estimate of the table's rows (no scan); ``None`` elsewhere."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [AuditEvent._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None
