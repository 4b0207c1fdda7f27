"""Keyfax Web Staff pages: thin; a run's logic lives in :mod:`staff_portal.diagnostics`.

Every view is guarded by ``element_required(Element.WEB_STAFF)`` (with
``KEYFAX_WEB_STAFF_PUBLIC`` that means an Entra sign-in, never an anonymous page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import element_required
from accounts.sso_config import Element
from scripts import selectors as scripts
from scripts.models import Kind, ScriptVersion
from staff_portal import diagnostics, selectors


@dataclass(frozen=True)
class Diagnostic:
    slug: str
    kind: str
    name: str
    perm: str


DIAGNOSTICS = {
    "repairs": Diagnostic("repairs", Kind.REPAIR, "Repair Diagnostics",
                          "permissions.run_repair_diagnostics"),
    "enquiries": Diagnostic("enquiries", Kind.ENQUIRY, "Enquiries Diagnostics",
                            "permissions.run_enquiries_diagnostics"),
}


def allowed(user: Any) -> list[Diagnostic]:
    return [d for d in DIAGNOSTICS.values() if user.has_perm(d.perm)]


def diagnostic_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Web Staff, plus the permission to run this diagnostic (the 403 page otherwise)."""

    @element_required(Element.WEB_STAFF)
    @wraps(view)
    def wrapped(request: HttpRequest, diagnostic: str, **kwargs: Any) -> HttpResponse:
        chosen = DIAGNOSTICS[diagnostic]
        if not request.user.has_perm(chosen.perm):
            raise PermissionDenied
        return view(request, chosen, **kwargs)

    return wrapped


@element_required(Element.WEB_STAFF)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "staff_portal/home.html", {
        "diagnostics": allowed(request.user),
        "results": selectors.recent_results(request.user, limit=5)})


@diagnostic_view
@require_GET
def choose(request: HttpRequest, diagnostic: Diagnostic) -> HttpResponse:
    return render(request, "staff_portal/choose.html", {
        "diagnostic": diagnostic, "sets": scripts.published(diagnostic.kind)})


@diagnostic_view
@require_http_methods(["GET", "POST"])
def run(request: HttpRequest, diagnostic: Diagnostic, version_pk: int) -> HttpResponse:
    """GET starts at the first step; POST answers the current step or goes back one."""
    version = scripts.live_version(version_pk, diagnostic.kind)
    if request.method == "GET":
        return _page(request, diagnostic, version, diagnostics.replay(version.graph, []))
    try:
        path = _path(request, version)
    except diagnostics.BadState:
        return _bad_state(request, diagnostic)
    if "back" in request.POST:
        return _page(request, diagnostic, version, diagnostics.back(version.graph, path))
    try:
        state = diagnostics.choose(version.graph, path, request.POST.get("answer"))
    except diagnostics.NotAnAnswer:
        error = "That answer does not belong to this step. Choose one of the answers below."
        return _page(request, diagnostic, version, diagnostics.replay(version.graph, path),
                     error=error)
    return _page(request, diagnostic, version, state)


@diagnostic_view
@require_POST
def submit(request: HttpRequest, diagnostic: Diagnostic, version_pk: int) -> HttpResponse:
    """Store a finished diagnostic as a result."""
    version = scripts.live_version(version_pk, diagnostic.kind)
    try:
        state = diagnostics.replay(version.graph, _path(request, version))
        result = diagnostics.record(request.user, version, state, timezone.localdate())
    except (diagnostics.BadState, diagnostics.NotAnAnswer):
        return _bad_state(request, diagnostic)
    messages.success(request, "Diagnostic result saved.")
    return redirect("staff_portal:result", pk=result.pk)


def _path(request: HttpRequest, version: ScriptVersion) -> list[int]:
    path = diagnostics.unsign(request.user, version, request.POST.get("state", ""))
    try:
        diagnostics.replay(version.graph, path)
    except (diagnostics.NotAnAnswer, KeyError):
        raise diagnostics.BadState from None
    return path


def _page(request: HttpRequest, diagnostic: Diagnostic, version: ScriptVersion,
          state: diagnostics.Run, error: str = "") -> HttpResponse:
    context = {"diagnostic": diagnostic, "version": version, "run": state, "error": error,
               "state": diagnostics.sign(request.user, version, state.path)}
    template = "staff_portal/ending.html" if state.finished else "staff_portal/step.html"
    return render(request, template, context, status=400 if error else 200)


def _bad_state(request: HttpRequest, diagnostic: Diagnostic) -> HttpResponse:
    return render(request, "staff_portal/bad_state.html", {"diagnostic": diagnostic},
                  status=400)


@element_required(Element.WEB_STAFF)
@require_GET
def results(request: HttpRequest) -> HttpResponse:
    return render(request, "staff_portal/results.html",
                  {"results": selectors.recent_results(request.user, limit=50)})


@element_required(Element.WEB_STAFF)
@require_GET
def result(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "staff_portal/result.html",
                  {"result": selectors.result(request.user, pk)})
