"""How a refused sign-in is shown and recorded: one page, one audit event."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.refusals import SignInRefused
from audit.models import Action, Outcome
from audit.services import record


def refusal_response(request: HttpRequest, refusal: SignInRefused) -> HttpResponse:
    """Render the sign-in error page and write the ``sign_in`` / ``refused`` event."""
    record(
        Action.SIGN_IN,
        outcome=Outcome.REFUSED,
        request=request,
        reason=refusal.reason.value,
        detail={"method": "entra", **refusal.detail},
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
