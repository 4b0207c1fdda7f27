"""The Administration Tool's script pages: who may see, edit and publish, and refusals."""

from __future__ import annotations

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from audit.models import Action, AuditEvent
from scripts import services
from scripts.models import Answer, Outcome, Script, ScriptSet, ScriptVersion, Step
from tests.conftest import point_site_at
from tests.factories import ScriptSetFactory, StepFactory, leaking_tap_script

pytestmark = pytest.mark.django_db


@pytest.fixture
def tap():
    script, steps, answers, outcomes = leaking_tap_script()
    return script, steps, answers, outcomes


def url(name, *args):
    return reverse(f"admin_tools:{name}", args=args)


def test_anonymous_visitors_are_sent_to_sign_in(client, settings, tap):
    point_site_at(settings, "https://login.microsoftonline.com")
    response = client.get(url("script", tap[0].pk))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_set_list_shows_every_set_to_a_site_wide_author(client, sign_in):
    ScriptSetFactory(name="Day-to-day repairs", slug="day-to-day")
    ScriptSetFactory(name="Out of hours", slug="out-of-hours")
    sign_in("edit_scripts")
    response = client.get(url("scripts"))
    assert response.status_code == 200
    assert "Day-to-day repairs" in response.text and "Out of hours" in response.text
    assert "New Script Set" in response.text


def test_without_script_permissions_every_page_is_the_403_page(client, sign_in, tap):
    script, steps, answers, outcomes = tap
    sign_in("maintain_users", "run_repair_diagnostics")
    version = services.publish(script)
    pages = [url("scripts"), url("script-set-create"), url("script-set", script.script_set.slug),
             url("script-create", script.script_set.slug), url("script", script.pk),
             url("script-edit", script.pk), url("step-create", script.pk),
             url("step-edit", steps["where"].pk), url("answer-create", steps["where"].pk),
             url("answer-edit", answers["yes"].pk), url("outcome-create", script.pk),
             url("outcome-edit", outcomes["washer"].pk), url("script-version", version.pk)]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 403, page
        assert "You do not have permission to see this page" in response.text
    posts = [url("script-publish", script.pk), url("step-delete", steps["drips"].pk),
             url("answer-delete", answers["yes"].pk), url("step-create", script.pk)]
    for page in posts:
        assert client.post(page, {"question": "Forged?"}).status_code == 403, page
    assert Step.objects.filter(script=script).count() == 2
    assert ScriptVersion.objects.count() == 1


def test_an_object_permission_opens_one_script_set_only(client, sign_in, tap):
    script = tap[0]
    other, *_ = leaking_tap_script(script_set=ScriptSetFactory(name="Out of hours",
                                                               slug="out-of-hours"))
    user = sign_in()
    assign_perm("scripts.edit_scripts", user, script.script_set)

    listing = client.get(url("scripts"))
    assert listing.status_code == 200
    assert script.script_set.name in listing.text and "Out of hours" not in listing.text
    assert "New Script Set" not in listing.text
    assert client.get(url("script", script.pk)).status_code == 200
    assert client.post(url("step-create", script.pk), {"question": "New?"}).status_code == 302
    assert client.get(url("script", other.pk)).status_code == 403
    assert client.post(url("step-create", other.pk), {"question": "New?"}).status_code == 403
    assert client.post(url("script-publish", script.pk)).status_code == 403  # edit only
    assert not Step.objects.filter(script=other, question="New?").exists()


def test_an_object_publish_permission_publishes_in_that_set_only(client, sign_in, tap):
    script = tap[0]
    other, *_ = leaking_tap_script(script_set=ScriptSetFactory(slug="elsewhere"))
    user = sign_in()
    assign_perm("scripts.publish_scripts", user, script.script_set)
    assert client.post(url("script-publish", script.pk)).status_code == 302
    assert client.post(url("script-publish", other.pk)).status_code == 403
    assert client.get(url("step-create", script.pk)).status_code == 403  # publish only
    assert list(ScriptVersion.objects.values_list("script", flat=True)) == [script.pk]


def test_creating_a_set_and_a_script(client, sign_in):
    sign_in("edit_scripts")
    response = client.post(url("script-set-create"),
                           {"name": "Out of hours", "slug": "out-of-hours"})
    assert response.status_code == 302
    script_set = ScriptSet.objects.get(slug="out-of-hours")
    response = client.post(url("script-create", "out-of-hours"), {
        "kind": "repair", "category": "Heating", "topic": "No heating"})
    script = Script.objects.get(script_set=script_set)
    assert response["Location"] == url("script", script.pk)
    page = client.get(url("script", script.pk)).text
    assert "Heating: No heating" in page and "The script has no steps." in page


def test_bad_input_shows_field_errors_and_saves_nothing(client, sign_in, tap):
    script = tap[0]
    sign_in("edit_scripts")
    bad = [
        (url("script-set-create"), {"name": "", "slug": "not a slug"}, ["name", "slug"]),
        (url("script-create", script.script_set.slug),
         {"kind": "repair", "category": script.category, "topic": script.topic}, ["topic"]),
        (url("script-create", script.script_set.slug),
         {"kind": "boiler", "category": "", "topic": "x"}, ["kind", "category"]),
        (url("step-create", script.pk), {"question": ""}, ["question"]),
        (url("outcome-create", script.pk),
         {"code": "1", "description": "x", "priority": "R", "response_days": "-1"},
         ["response_days"]),
    ]
    counts = (ScriptSet.objects.count(), Script.objects.count(), Step.objects.count(),
              Outcome.objects.count())
    for page, data, fields in bad:
        response = client.post(page, data)
        assert response.status_code == 200, page
        assert "Nothing was saved" in response.text
        assert set(response.context["form"].errors) == set(fields), page
    assert counts == (ScriptSet.objects.count(), Script.objects.count(), Step.objects.count(),
                      Outcome.objects.count())


@pytest.mark.parametrize(("data", "field"), [
    ({"text": "Yes", "action": "goto"}, "next_step"),
    ({"text": "Yes", "action": "outcome"}, "outcome"),
    ({"text": "", "action": "end"}, "text"),
    ({"text": "Yes", "action": "explode"}, "action"),
])
def test_an_answer_must_say_where_it_leads(client, sign_in, tap, data, field):
    _script, steps, *_ = tap
    sign_in("edit_scripts")
    before = Answer.objects.count()
    response = client.post(url("answer-create", steps["drips"].pk), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Answer.objects.count() == before


def test_an_answer_cannot_lead_into_another_script(client, sign_in, tap):
    _script, steps, *_ = tap
    _foreign_script, foreign_steps, _, foreign_outcomes = leaking_tap_script()
    sign_in("edit_scripts")
    for data, field in (
        ({"text": "x", "action": "goto", "next_step": foreign_steps["where"].pk}, "next_step"),
        ({"text": "x", "action": "outcome", "outcome": foreign_outcomes["washer"].pk},
         "outcome"),
    ):
        response = client.post(url("answer-create", steps["drips"].pk), data)
        assert field in response.context["form"].errors
    assert not Answer.objects.filter(text="x").exists()


def test_authoring_a_script_step_by_step_then_publishing(client, sign_in, tap):
    script, _steps, answers, outcomes = tap
    sign_in("edit_scripts", "publish_scripts")
    response = client.post(url("step-create", script.pk), {"question": "Is it hot or cold?"})
    assert response.status_code == 302
    hot_cold = Step.objects.get(question="Is it hot or cold?")
    client.post(url("answer-edit", answers["unsure"].pk),
                {"text": "Not sure", "action": "goto", "next_step": hot_cold.pk,
                 "outcome": outcomes["washer"].pk})
    answers["unsure"].refresh_from_db()
    assert (answers["unsure"].next_step, answers["unsure"].outcome) == (hot_cold, None)

    refused = client.post(url("script-publish", script.pk))
    assert refused.status_code == 400
    assert "Not published: the script has problems" in refused.text
    assert "has no answers: it is a dead end" in refused.text
    assert not ScriptVersion.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.SCRIPT_PUBLISHED).exists()

    client.post(url("answer-create", hot_cold.pk),
                {"text": "Cold", "action": "outcome", "outcome": outcomes["washer"].pk})
    published = client.post(url("script-publish", script.pk), follow=True)
    assert "Published version 1" in published.text
    version = ScriptVersion.objects.get()
    event = AuditEvent.objects.get(action=Action.SCRIPT_PUBLISHED)
    assert event.actor_user_id == version.published_by_id and event.request_id
    assert event.subject == f"script:{script.pk}" and event.detail["version"] == 1
    page = client.get(url("script-version", version.pk))
    assert page.status_code == 200 and "Is it hot or cold?" in page.text


def test_editing_details_steps_and_outcomes(client, sign_in, tap):
    script, steps, _answers, outcomes = tap
    sign_in("edit_scripts")
    client.post(url("script-edit", script.pk), {
        "kind": "repair", "category": "Plumbing", "topic": "Dripping tap",
        "start_step": steps["drips"].pk})
    client.post(url("step-edit", steps["where"].pk), {"question": "Which room?"})
    client.post(url("outcome-edit", outcomes["washer"].pk), {
        "code": "601012", "description": "Rewasher", "priority": "R", "response_days": 7})
    script.refresh_from_db()
    steps["where"].refresh_from_db()
    outcomes["washer"].refresh_from_db()
    assert (script.topic, script.start_step) == ("Dripping tap", steps["drips"])
    assert steps["where"].question == "Which room?"
    assert (outcomes["washer"].code, outcomes["washer"].response_days) == ("601012", 7)


def test_the_first_step_must_belong_to_the_script(client, sign_in, tap):
    script = tap[0]
    stranger = StepFactory()
    sign_in("edit_scripts")
    response = client.post(url("script-edit", script.pk), {
        "kind": "repair", "category": "Plumbing", "topic": "x", "start_step": stranger.pk})
    assert "start_step" in response.context["form"].errors


def test_deleting_answers_and_steps(client, sign_in, tap):
    script, steps, answers, _ = tap
    sign_in("edit_scripts")
    assert client.get(url("answer-delete", answers["yes"].pk)).status_code == 405
    assert client.post(url("answer-delete", answers["yes"].pk)).status_code == 302
    assert client.post(url("step-delete", steps["drips"].pk)).status_code == 302
    assert not Answer.objects.filter(pk=answers["yes"].pk).exists()
    assert list(script.steps.all()) == [steps["where"]]
    page = client.get(url("script", script.pk)).text
    assert "leads nowhere" in page


def test_the_script_page_shows_an_unpublished_draft(client, sign_in, tap):
    script, steps, *_ = tap
    sign_in("publish_scripts")
    services.publish(script)
    page = client.get(url("script", script.pk)).text
    assert "Published: version 1" in page and "unpublished changes" not in page
    assert "Add a step" not in page  # a publisher does not edit
    steps["where"].question = "Which room?"
    steps["where"].save()
    assert "Draft has unpublished changes" in client.get(url("script", script.pk)).text


def test_missing_objects_are_404(client, sign_in):
    sign_in("edit_scripts")
    for page in (url("script", 999), url("step-edit", 999), url("answer-edit", 999),
                 url("script-set", "nope"), url("script-version", 999)):
        assert client.get(page).status_code == 404, page


def test_the_set_page_lists_scripts_by_category_with_their_state(client, sign_in, tap):
    script = tap[0]
    services.publish(script)
    leaking_tap_script(script_set=script.script_set, category="Windows", topic="Broken window")
    sign_in("publish_scripts")
    page = client.get(url("script-set", script.script_set.slug))
    assert page.status_code == 200
    assert [c for c, _ in page.context["categories"]] == ["Plumbing", "Windows"]
    assert "Published v1" in page.text and "Draft only" in page.text
    assert "New script" not in page.text  # publishers do not author
