"""The one way to write an audit event."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit import chain
from audit.cleaning import clean_detail, ip_or_none, text
from audit.models import Action, ActorKind, AuditEvent, Outcome
from audit.serialise import as_json_line

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
    actor_kind: ActorKind | str | None = None,
) -> AuditEvent:
    """Write one event, sealed into the chain, inside the caller's transaction.

    ``actor`` is the user who acted (or ``None``); ``tenant_id``/``object_id`` name the Entra
    person where known; ``actor_kind`` defaults to ``user`` when someone is named, else
    ``anonymous`` for a request and ``system`` without one. A failed write raises and dooms
    the caller's transaction: the action cannot commit without its event. Once committed,
    the event is logged as one JSON line on ``keyfax.audit``.
    """
    values = {
        "action": str(Action(action)),
        "outcome": str(Outcome(outcome)),
        "reason": text(reason, 60),
        "element": text(element, 20),
        "subject": text(subject, 200),
        "detail": clean_detail(detail or {}),
        **_actor_fields(actor, tenant_id, object_id, actor_kind, request),
        **_request_fields(request),
    }
    # No savepoint: joining the caller's transaction keeps this at two queries, and an
    # error marks the whole transaction for rollback instead of being swallowed.
    with transaction.atomic(savepoint=False):
        values["prev_hash"] = chain.lock_chain_head()
        values["created_at"] = timezone.now()  # taken under the lock: time follows the chain
        event = AuditEvent(**values, hash=chain.seal(values))
        event.save(force_insert=True)
        line = as_json_line(event)
        transaction.on_commit(lambda: logger.info(line))
    return event


def _actor_fields(
    actor: Any, tenant_id: Any, object_id: Any, kind: Any, request: HttpRequest | None
) -> dict[str, Any]:
    """Who acted; an anonymous ``request.user`` counts as nobody."""
    user_id = getattr(actor, "pk", None)
    if kind is None:
        if user_id is not None or tenant_id or object_id:
            kind = ActorKind.USER
        else:
            kind = ActorKind.ANONYMOUS if request is not None else ActorKind.SYSTEM
    return {
        "actor_kind": str(ActorKind(kind)),
        "actor_user_id": int(user_id) if user_id is not None else None,
        "actor_username": text(getattr(actor, "username", "") or "", 150),
        "actor_tenant_id": text(tenant_id or "", 36),
        "actor_object_id": text(object_id or "", 36),
    }


def _request_fields(request: HttpRequest | None) -> dict[str, Any]:
    if request is None:
        return {"source_ip": None, "user_agent": "", "request_id": ""}
    return {
        "source_ip": ip_or_none(request.META.get("REMOTE_ADDR")),
        "user_agent": text(request.headers.get("User-Agent", ""), 400),
        "request_id": text(getattr(request, "request_id", ""), 64),
    }
