"""Reading scripts: drafts and versions for authoring, published versions for running."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.shortcuts import get_object_or_404

from scripts.graph import build_graph, problems, steps_by_id
from scripts.models import Answer, Outcome, Script, ScriptSet, ScriptVersion, Step


def script_set(slug: str) -> ScriptSet:
    return get_object_or_404(ScriptSet, slug=slug)


def scripts_by_category(script_set: ScriptSet) -> list[tuple[str, list[Script]]]:
    scripts = script_set.scripts.select_related("published_version").order_by("category",
                                                                                "topic")
    return [(category, list(group)) for category, group in
            groupby(scripts, key=lambda s: s.category)]


def script(pk: int) -> Script:
    return get_object_or_404(Script.objects.select_related("script_set", "published_version"),
                             pk=pk)


def step(pk: int) -> Step:
    return get_object_or_404(Step.objects.select_related("script__script_set"), pk=pk)


def answer(pk: int) -> Answer:
    return get_object_or_404(Answer.objects.select_related("step__script__script_set"), pk=pk)


def outcome(pk: int) -> Outcome:
    return get_object_or_404(Outcome.objects.select_related("script__script_set"), pk=pk)


def version(pk: int) -> ScriptVersion:
    return get_object_or_404(
        ScriptVersion.objects.select_related("script__script_set", "published_by"), pk=pk)


def draft(script: Script) -> dict[str, Any]:
    """The draft for the script page: steps with their answers, outcomes, problems, and
    whether it differs from the published version."""
    graph = build_graph(script)
    steps = list(script.steps.all())
    answers = {a.pk: a for a in Answer.objects.filter(step__script=script).select_related(
        "next_step", "outcome")}
    numbers = {str(s.pk): n for n, s in enumerate(steps, start=1)}
    by_id = steps_by_id(graph)
    for number, item in enumerate(steps, start=1):
        item.number = number
        item.answer_list = [answers[a["id"]] for a in by_id[str(item.pk)]["answers"]]
        for entry in item.answer_list:
            entry.next_number = numbers.get(str(entry.next_step_id))
    published = script.published_version
    return {"steps": steps, "outcomes": list(script.outcomes.all()),
            "problems": problems(graph),
            "changed": published is None or published.graph != graph,
            "versions": list(script.versions.select_related("published_by"))}


def version_steps(graph: dict[str, Any]) -> list[dict[str, Any]]:
    """A published graph as numbered steps, for reading."""
    numbers = {step["id"]: n for n, step in enumerate(graph["steps"], start=1)}
    outcomes = graph["outcomes"]
    return [{"number": numbers[step["id"]], "question": step["question"], "help": step["help"],
             "answers": [{**a, "next_number": numbers.get(a.get("next")),
                          "outcome_detail": outcomes.get(a.get("outcome"))}
                         for a in step["answers"]]}
            for step in graph["steps"]]


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
