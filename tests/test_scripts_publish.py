"""Publish validation, immutable versions and the demo scripts fixture."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from audit.models import Action, AuditEvent
from scripts import services
from scripts.graph import build_graph, problems, reachable_steps
from scripts.models import Answer, ImmutableError, Script, ScriptVersion
from tests.factories import (
    AnswerFactory,
    ScriptFactory,
    StepFactory,
    UserFactory,
    leaking_tap_script,
)

pytestmark = pytest.mark.django_db


def graph(steps, start="1", outcomes=None):
    return {"script": {}, "start": start, "outcomes": outcomes or {}, "steps": [
        {"id": key, "question": f"Q{key}", "help": "", "answers": answers}
        for key, answers in steps.items()]}


def goto(target, answer_id=1):
    return {"id": answer_id, "text": f"to {target}", "action": "goto", "next": target,
            "outcome": None}


END = {"id": 9, "text": "Done", "action": "end", "next": None, "outcome": None}


def test_a_complete_script_has_no_problems():
    script, *_ = leaking_tap_script()
    assert problems(build_graph(script)) == []


@pytest.mark.parametrize(("steps", "expected"), [
    ({"1": []}, "Step 1 \u201cQ1\u201d has no answers: it is a dead end."),
    ({"1": [goto(None)]}, "leads nowhere: choose the step it goes to."),
    ({"1": [goto("7")]}, "goes to a step that does not exist."),
    ({"1": [{**END, "action": "outcome", "outcome": "5"}]},
     "refers to an outcome that does not exist."),
    ({"1": [{**END, "action": "outcome"}]}, "leads nowhere: choose its outcome."),
    ({"1": [END], "2": [END]}, "Step 2 \u201cQ2\u201d cannot be reached from the first step."),
], ids=["no-answers", "goto-nowhere", "missing-step", "missing-outcome", "no-outcome",
        "unreachable"])
def test_each_problem_is_named(steps, expected):
    found = problems(graph(steps))
    assert len(found) == 1
    assert expected in found[0]


def test_no_steps_and_no_first_step():
    assert problems(graph({})) == ["The script has no steps."]
    assert problems(graph({"1": [END]}, start=None)) == ["The script has no first step."]
    assert problems(graph({"1": [END]}, start="3")) == ["The first step is missing."]


def test_loops_are_allowed_and_reachability_follows_them():
    steps = {"1": [goto("2"), END], "2": [goto("1")], "3": [END]}
    assert reachable_steps(graph(steps)) == {"1", "2"}


def test_publishing_stores_numbered_snapshots():
    script, _steps, *_ = leaking_tap_script()
    author = UserFactory()
    first = services.publish(script, by=author)
    second = services.publish(script)
    assert (first.number, second.number) == (1, 2)
    assert first.published_by == author and first.kind == "repair"
    assert first.graph == build_graph(script)
    script.refresh_from_db()
    assert script.published_version == second


def test_each_publish_is_audited_with_what_went_live():
    script, steps, *_ = leaking_tap_script()
    author = UserFactory(username="gareth")
    services.publish(script, by=author)
    services.publish(script, by=author)

    events = AuditEvent.objects.filter(action=Action.SCRIPT_PUBLISHED).order_by("id")
    assert [e.detail["version"] for e in events] == [1, 2]
    assert [e.detail["previous_version"] for e in events] == [None, 1]
    second = events.last()
    assert (second.actor_username, second.element, second.subject) == (
        "gareth", "admin_tool", f"script:{script.pk}")
    assert second.detail["script_set"] == script.script_set.slug
    assert second.detail["topic"] == script.topic and second.detail["steps"] == len(steps)


def test_a_refused_publish_lists_every_problem_and_writes_nothing():
    script, _steps, answers, _ = leaking_tap_script()
    version = services.publish(script)
    Answer.objects.filter(pk=answers["kitchen"].pk).update(next_step=None)  # dead end
    orphan = StepFactory(script=script, question="Orphan?")
    AnswerFactory(step=orphan)
    StepFactory(script=script, question="Empty?")

    with pytest.raises(services.PublishRefused) as refused:
        services.publish(script)

    assert len(refused.value.problems) == 5  # nowhere, empty, 3 unreachable
    assert any("\u201cKitchen\u201d leads nowhere" in p for p in refused.value.problems)
    assert ScriptVersion.objects.filter(script=script).count() == 1
    assert AuditEvent.objects.filter(action=Action.SCRIPT_PUBLISHED).count() == 1
    script.refresh_from_db()
    assert script.published_version == version


def test_deleting_a_step_leaves_answers_that_led_there_leading_nowhere():
    script, steps, *_ = leaking_tap_script()
    services.delete_step(steps["drips"])
    assert any("leads nowhere" in p for p in problems(build_graph(script)))


def test_a_published_version_cannot_be_changed_or_deleted():
    script, *_ = leaking_tap_script()
    version = services.publish(script)
    version.topic = "Changed"
    with pytest.raises(ImmutableError):
        version.save()
    with pytest.raises(ImmutableError):
        version.delete()
    version.refresh_from_db()
    assert version.topic == script.topic


def test_draft_edits_never_change_a_published_version():
    script, steps, answers, outcomes = leaking_tap_script()
    first = services.publish(script)
    snapshot = ScriptVersion.objects.get(pk=first.pk).graph
    steps["where"].question = "Which room?"
    steps["where"].save()
    outcomes["washer"].response_days = 30
    outcomes["washer"].save()
    answers["unsure"].delete()
    second = services.publish(script)

    assert ScriptVersion.objects.get(pk=first.pk).graph == snapshot  # still readable, same
    assert snapshot["steps"][0]["question"] == "Where is the leaking tap?"
    assert second.graph["steps"][0]["question"] == "Which room?"
    assert second.graph["outcomes"][str(outcomes["washer"].pk)]["response_days"] == 30


def test_a_new_step_becomes_the_first_step_only_of_an_empty_script():
    script = ScriptFactory()
    first = services.add_step(script, StepFactory.build(question="First?"))
    second = services.add_step(script, StepFactory.build(question="Second?"))
    script.refresh_from_db()
    assert script.start_step == first
    assert (first.position, second.position) == (0, 1)


def test_the_demo_scripts_load_and_every_one_is_published_and_valid():
    call_command("loaddata", "demo_scripts", verbosity=0)
    scripts = Script.objects.select_related("script_set", "published_version")
    assert {s.script_set.name for s in scripts} == {
        "Day-to-day repairs", "Out of hours", "General enquiries"}
    assert {(s.topic, s.kind) for s in scripts} >= {
        ("Leaking tap", "repair"), ("Broken window", "repair"),
        ("No heating or hot water", "repair"), ("Blocked drain", "repair"),
        ("Noisy neighbour", "enquiry"), ("Rent account enquiry", "enquiry")}
    for script in scripts:
        assert script.published_version is not None, script
        assert problems(script.published_version.graph) == [], script
        assert problems(build_graph(script)) == [], script
        assert script.published_version.graph == build_graph(script), script
    call_command("loaddata", "demo_scripts", verbosity=0)  # loading again changes nothing
    assert Script.objects.count() == len(scripts)
