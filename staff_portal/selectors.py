"""Reading what Web Staff shows: the published scripts to run and a person's results."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.shortcuts import get_object_or_404

from admin_tools.models import Script, ScriptVersion
from staff_portal.models import DiagnosticResult


def published(kind: str) -> list[tuple[str, list[tuple[str, list[ScriptVersion]]]]]:
    """The live version of every published script of ``kind``, by set then category."""
    scripts = (Script.objects.filter(published_version__kind=kind)
               .select_related("script_set", "published_version")
               .order_by("script_set__name", "published_version__category",
                         "published_version__topic"))
    grouped = []
    for set_name, in_set in groupby(scripts, key=lambda s: s.script_set.name):
        versions = [s.published_version for s in in_set]
        grouped.append((set_name, [(category, list(items)) for category, items in
                                   groupby(versions, key=lambda v: v.category)]))
    return grouped


def live_version(pk: int, kind: str) -> ScriptVersion:
    """A published version of ``kind`` (older versions too: a run keeps its version)."""
    return get_object_or_404(ScriptVersion.objects.only(
        "id", "kind", "category", "topic", "graph", "script_id"), pk=pk, kind=kind)


def recent_results(user: Any, limit: int = 20) -> list[DiagnosticResult]:
    return list(DiagnosticResult.objects.filter(user=user)[:limit])


def result(user: Any, pk: int) -> DiagnosticResult:
    """One of the user's own results (anyone else's is a 404)."""
    return get_object_or_404(DiagnosticResult.objects.select_related("version"), pk=pk,
                             user=user)
