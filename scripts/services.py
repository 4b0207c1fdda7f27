"""Writing scripts: drafts (steps, answers, outcomes) and publishing immutable versions.

Every page that changes a script calls one of these; forms only validate.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from accounts.sso_config import Element
from audit.models import Action
from audit.services import record
from scripts.graph import build_graph, problems
from scripts.models import Answer, Outcome, Script, ScriptSet, ScriptVersion, Step


class PublishRefused(Exception):
    """The draft is not a valid script; ``problems`` lists why."""

    def __init__(self, found: list[str]) -> None:
        self.problems = found
        super().__init__("; ".join(found))


def save_script_set(script_set: ScriptSet) -> ScriptSet:
    script_set.save()
    return script_set


def save_script(script: Script) -> Script:
    """Create a script, or save its own fields (kind, topic, first step...)."""
    script.save()
    return script


def save_part(part: Step | Answer | Outcome, script: Script) -> None:
    """Save an edited step, answer or outcome of ``script``'s draft."""
    with transaction.atomic():
        part.save()
        touch(script)


def add_step(script: Script, step: Step) -> Step:
    """Save a new step at the end; the first step becomes the script's first step."""
    with transaction.atomic():
        last = script.steps.aggregate(last=Max("position"))["last"]
        step.script = script
        step.position = 0 if last is None else last + 1
        step.save()
        if script.start_step_id is None:
            script.start_step = step
            script.save(update_fields=["start_step", "updated_at"])
    return step


def add_answer(step: Step, answer: Answer) -> Answer:
    last = step.answers.aggregate(last=Max("position"))["last"]
    answer.step = step
    answer.position = 0 if last is None else last + 1
    answer.save()
    touch(step.script)
    return answer


def add_outcome(script: Script, outcome: Outcome) -> Outcome:
    outcome.script = script
    outcome.save()
    touch(script)
    return outcome


def touch(script: Script) -> None:
    """Note that the draft changed."""
    Script.objects.filter(pk=script.pk).update(updated_at=timezone.now())


def delete_step(step: Step) -> None:
    """Delete a step and its answers; answers that went to it now lead nowhere."""
    script = step.script
    with transaction.atomic():
        step.delete()
        touch(script)


def delete_answer(answer: Answer) -> None:
    script = answer.step.script
    answer.delete()
    touch(script)


def publish(
    script: Script, *, by: Any = None, request: HttpRequest | None = None
) -> ScriptVersion:
    """Validate the draft and store it as the next immutable version, now live in Web Staff.

    Raises :class:`PublishRefused` with the problems; then nothing is written. The
    ``script_published`` audit event commits with the version, or neither does.
    """
    with transaction.atomic():
        script = Script.objects.select_for_update().select_related("script_set").get(
            pk=script.pk)
        graph = build_graph(script)
        found = problems(graph)
        if found:
            raise PublishRefused(found)
        last = script.versions.aggregate(last=Max("number"))["last"] or 0
        version = ScriptVersion.objects.create(
            script=script, number=last + 1, kind=script.kind, category=script.category,
            topic=script.topic, graph=graph, published_at=timezone.now(), published_by=by)
        script.published_version = version
        script.save(update_fields=["published_version"])
        record(
            Action.SCRIPT_PUBLISHED, actor=by, subject=f"script:{script.pk}",
            element=Element.ADMIN_TOOL.value, request=request,
            detail={"script_set": script.script_set.slug, "kind": script.kind,
                    "category": script.category, "topic": script.topic,
                    "version": version.number, "previous_version": last or None,
                    "steps": len(graph["steps"])},
        )
    return version
