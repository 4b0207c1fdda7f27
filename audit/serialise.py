"""The stable shapes of an event outside the database: a JSON line and a CSV row.

The JSON line goes to the SIEM (logger ``keyfax.audit``) and into prune exports; both are
documented in docs/audit.md. Add keys only at the end of a version; never rename one.
"""

from __future__ import annotations

import json
from typing import Any

from audit.chain import utc_timestamp
from audit.models import AuditEvent

SCHEMA = "keyfax.audit/1"

CSV_COLUMNS = (
    "id", "time", "action", "outcome", "reason", "element", "actor_kind", "actor_user_id",
    "actor_username", "actor_tenant_id", "actor_object_id", "subject", "source_ip",
    "user_agent", "request_id", "detail", "prev_hash", "hash",
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_json_record(event: AuditEvent) -> dict[str, Any]:
    """One event as the documented JSON object (``schema`` ``keyfax.audit/1``)."""
    return {
        "schema": SCHEMA,
        "id": event.pk,
        "time": utc_timestamp(event.created_at),
        "action": event.action,
        "outcome": event.outcome,
        "reason": event.reason,
        "element": event.element,
        "actor": {
            "kind": event.actor_kind,
            "user_id": event.actor_user_id,
            "username": event.actor_username,
            "tenant_id": event.actor_tenant_id,
            "object_id": event.actor_object_id,
        },
        "subject": event.subject,
        "source_ip": event.source_ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def as_json_line(event: AuditEvent) -> str:
    return json.dumps(as_json_record(event), sort_keys=True, ensure_ascii=False)


def as_csv_row(event: AuditEvent) -> list[str]:
    """One event as CSV cells, each safe to open in a spreadsheet."""
    record = as_json_record(event)
    actor = record.pop("actor")
    cells = {**record, **{f"actor_{key}": value for key, value in actor.items()}}
    cells["detail"] = json.dumps(event.detail, sort_keys=True, ensure_ascii=False)
    return [spreadsheet_safe(cells[column]) for column in CSV_COLUMNS]


def spreadsheet_safe(value: object) -> str:
    """Text a spreadsheet shows as text: a leading ``= + - @`` (or tab/CR) gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
