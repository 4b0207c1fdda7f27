"""Reading a person's diagnostic results (the scripts to run come from ``scripts.selectors``)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404

from staff_portal.models import DiagnosticResult


def recent_results(user: Any, limit: int = 20) -> list[DiagnosticResult]:
    return list(DiagnosticResult.objects.filter(user=user)[:limit])


def result(user: Any, pk: int) -> DiagnosticResult:
    """One of the user's own results (anyone else's is a 404)."""
    return get_object_or_404(DiagnosticResult.objects.select_related("version"), pk=pk,
                             user=user)
