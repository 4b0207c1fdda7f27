"""The pages that say "no" after sign-in, each recorded as an ``access_refused`` event, so
the reference a person reads out to the service desk finds what happened."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.destinations import element_for_path
from audit.models import Action, Outcome
from audit.services import record


def refused_page(request: HttpRequest, template: str, context: dict | None = None, *,
                 reason: str, element: str = "") -> HttpResponse:
    """Render ``template`` with 403 and record who was refused what, and why."""
    user = request.user if request.user.is_authenticated else None
    found = element_for_path(request.path)
    record(
        Action.ACCESS_REFUSED, outcome=Outcome.REFUSED, request=request, actor=user,
        subject=f"path:{request.path[:190]}", reason=reason,
        element=element or (found.value if found else ""),
        detail={"method": request.method},
    )
    response = render(request, template, context or {}, status=403)
    response["Cache-Control"] = "no-store"
    return response
