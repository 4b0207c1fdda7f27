"""Site-level views: the landing page and the liveness probe."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.sso_config import Element, sso_config


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: answers without touching the database (DESIGN.md, URLs)."""
    return JsonResponse({"status": "ok"})


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    config = sso_config()
    elements = [(element, config.mode_for(element)) for element in Element]
    return render(request, "home.html", {"elements": elements})
