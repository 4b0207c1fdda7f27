"""How a refused sign-in is shown and recorded: one page, one audit event."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.pipeline import SignInContext
from accounts.refusals import SignInRefused
from audit.models import Action, Outcome
from audit.services import record


def refusal_response(
    request: HttpRequest, refusal: SignInRefused, context: SignInContext | None = None
) -> HttpResponse:
    """Render the sign-in error page and write the ``sign_in`` / ``refused`` event, naming
    the person when the refusal came after their ID token was verified."""
    record(
        Action.SIGN_IN,
        outcome=Outcome.REFUSED,
        request=request,
        reason=refusal.reason.value,
        detail={"method": "entra", **refusal.detail},
        **_who_was_refused(context),
    )
    context = {
        "reason": refusal.reason,
        "reference": getattr(request, "request_id", ""),
    }
    response = render(
        request, "accounts/sign_in_refused.html", context, status=refusal.reason.http_status
    )
    response["Cache-Control"] = "no-store"
    return response


def _who_was_refused(context: SignInContext | None) -> dict[str, Any]:
    """Actor, subject and element of a refusal: the verified person (their Keyfax account
    when they have one, their Entra ids and UPN either way) and the element signed in to.
    Before the token is verified nobody is named: its claims are not to be believed."""
    if context is None:
        return {}
    who: dict[str, Any] = {"element": context.target.value if context.target else ""}
    if not context.claims:
        return who
    upn = context.claims.get("preferred_username") or context.claims.get("upn")
    user = context.identity.user if context.identity else None
    return {
        **who,
        "actor": user,
        "tenant_id": context.tenant_id,
        "object_id": context.object_id,
        "subject": f"username:{str(upn)[:150]}" if isinstance(upn, str) and upn else (
            f"user:{user.pk}" if user else ""),
    }
