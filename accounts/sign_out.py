"""The one way a sign-out is written to the audit log (local, RP-initiated, front-channel)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from audit.models import Action
from audit.services import record


def record_sign_out(request: HttpRequest, user: Any, *, method: str, kind: str) -> None:
    """Write the ``sign_out`` event for ``user``; ``kind`` is local, rp_initiated or
    front_channel. Call it in the transaction that ends the session."""
    identity = getattr(user, "entra_identity", None)
    record(
        Action.SIGN_OUT,
        request=request,
        actor=user,
        tenant_id=identity.tenant_id if identity else "",
        object_id=identity.object_id if identity else "",
        subject=f"user:{user.pk}",
        detail={"method": method, "kind": kind},
    )
