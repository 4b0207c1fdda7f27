"""The one way to write an audit event."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest

from audit.models import Action, AuditEvent, Outcome

logger = logging.getLogger("keyfax.audit")


def record(
    action: Action,
    *,
    outcome: Outcome = Outcome.SUCCESS,
    request: HttpRequest | None = None,
    actor: Any = None,
    tenant_id: str = "",
    object_id: str = "",
    subject: str = "",
    element: str = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one event and emit it as one JSON line on the ``keyfax.audit`` logger.

    ``actor`` is the user who acted (or ``None`` for the system / an anonymous visitor);
    ``tenant_id``/``object_id`` name the Entra person where known.
    """
    event = AuditEvent(
        action=action,
        outcome=outcome,
        reason=str(reason),
        element=str(element),
        actor_user_id=getattr(actor, "pk", None),
        actor_username=getattr(actor, "username", "") or "",
        actor_tenant_id=str(tenant_id or ""),
        actor_object_id=str(object_id or ""),
        subject=subject,
        detail=detail or {},
        **_request_fields(request),
    )
    event.save()
    logger.info(json.dumps(_as_log_record(event), sort_keys=True, default=str))
    return event


def _request_fields(request: HttpRequest | None) -> dict[str, Any]:
    if request is None:
        return {}
    return {
        "source_ip": request.META.get("REMOTE_ADDR") or None,
        "user_agent": request.headers.get("User-Agent", "")[:400],
        "request_id": getattr(request, "request_id", ""),
    }


def _as_log_record(event: AuditEvent) -> dict[str, Any]:
    return {
        "event": "audit",
        "id": event.pk,
        "time": event.created_at.isoformat(),
        "action": event.action,
        "outcome": event.outcome,
        "reason": event.reason,
        "element": event.element,
        "actor_user_id": event.actor_user_id,
        "actor_username": event.actor_username,
        "actor_tenant_id": event.actor_tenant_id,
        "actor_object_id": event.actor_object_id,
        "subject": event.subject,
        "source_ip": event.source_ip,
        "request_id": event.request_id,
        "detail": event.detail,
    }
