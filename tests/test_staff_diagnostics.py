"""Keyfax Web Staff: running a published script to its outcome, back, results, refusals."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from scripts import services
from staff_portal import diagnostics
from staff_portal.models import DiagnosticResult
from tests.conftest import point_site_at
from tests.factories import LocalUserFactory, UserFactory, grant, leaking_tap_script

pytestmark = pytest.mark.django_db


@pytest.fixture
def tap():
    script, steps, answers, outcomes = leaking_tap_script()
    return services.publish(script), steps, answers, outcomes


def run_url(version, name="run", diagnostic="repairs"):
    return reverse(f"staff_portal:{name}", args=[diagnostic, version.pk])


def state_of(response) -> str:
    return re.search(r'name="state" value="([^"]+)"', response.text).group(1)


def answer(client, version, response, answer_obj, **extra):
    data = {"state": state_of(response), "answer": str(answer_obj.pk), **extra}
    return client.post(run_url(version), data)


def test_a_repair_diagnostic_runs_to_its_outcome_with_back_and_is_recorded(
        client, sign_in, tap):
    version, _steps, answers, _ = tap
    user = sign_in("run_repair_diagnostics")

    choose = client.get(reverse("staff_portal:choose", args=["repairs"]))
    assert choose.status_code == 200 and version.topic in choose.text
    first = client.get(run_url(version))
    assert "Where is the leaking tap?" in first.text and 'name="back"' not in first.text
    second = answer(client, version, first, answers["kitchen"])
    assert "Does it drip when turned off?" in second.text
    back = client.post(run_url(version), {"state": state_of(second), "back": ""})
    assert "Where is the leaking tap?" in back.text
    second = answer(client, version, back, answers["kitchen"])
    outcome = answer(client, version, second, answers["yes"])
    assert outcome.status_code == 200
    assert "601011" in outcome.text and "Rewasher tap" in outcome.text
    assert DiagnosticResult.objects.count() == 0  # nothing until submitted

    submitted = client.post(run_url(version, "submit"), {"state": state_of(outcome)})

    result = DiagnosticResult.objects.get()
    assert submitted["Location"] == reverse("staff_portal:result", args=[result.pk])
    assert (result.user, result.version, result.kind) == (user, version, "repair")
    assert result.path == [
        {"question": "Where is the leaking tap?", "answer": "Kitchen"},
        {"question": "Does it drip when turned off?", "answer": "Yes"}]
    assert (result.code, result.description, result.priority, result.response_days) == (
        "601011", "Rewasher tap", "R", 5)
    assert result.complete_by == diagnostics.complete_by(result.created_at.date(), 5)
    page = client.get(submitted["Location"])
    assert "601011" in page.text and "Where is the leaking tap?" in page.text
    home = client.get(reverse("staff_portal:home"))
    assert "My recent results" in home.text and "Rewasher tap" in home.text


@pytest.mark.parametrize(("start", "days", "expected"), [
    (dt.date(2026, 11, 23), 0, dt.date(2026, 11, 23)),  # Monday, emergency: same day
    (dt.date(2026, 11, 23), 3, dt.date(2026, 11, 26)),
    (dt.date(2026, 11, 27), 1, dt.date(2026, 11, 30)),  # Friday + 1 → Monday
    (dt.date(2026, 11, 28), 1, dt.date(2026, 11, 30)),  # Saturday + 1 → Monday
    (dt.date(2026, 11, 23), 20, dt.date(2026, 12, 21)),
])
def test_complete_by_counts_working_days(start, days, expected):
    assert diagnostics.complete_by(start, days) == expected


def test_an_end_answer_records_a_result_without_a_repair(client, sign_in, tap):
    version, _, answers, _ = tap
    sign_in("run_repair_diagnostics")
    page = answer(client, version, client.get(run_url(version)), answers["kitchen"])
    ended = answer(client, version, page, answers["unsure"])
    assert "no repair is needed" in ended.text
    client.post(run_url(version, "submit"), {"state": state_of(ended)})
    result = DiagnosticResult.objects.get()
    assert (result.ending, result.code, result.complete_by) == ("end", "", None)


def test_a_cancel_answer_records_nothing(client, sign_in, tap):
    version, _, answers, _ = tap
    sign_in("run_repair_diagnostics")
    cancelled = answer(client, version, client.get(run_url(version)), answers["cancel"])
    assert "Diagnostic cancelled" in cancelled.text and "Submit result" not in cancelled.text
    response = client.post(run_url(version, "submit"), {"state": state_of(cancelled)})
    assert response.status_code == 400
    assert not DiagnosticResult.objects.exists()


def test_a_forged_answer_is_refused_with_a_clear_message(client, sign_in, tap):
    version, _, answers, _ = tap
    sign_in("run_repair_diagnostics")
    first = client.get(run_url(version))
    for forged in (answers["yes"].pk, 999999, "abc", ""):  # another step's answer, none, junk
        response = client.post(run_url(version), {"state": state_of(first), "answer": forged})
        assert response.status_code == 400
        assert "That answer does not belong to this step" in response.text
        assert "Where is the leaking tap?" in response.text


@pytest.mark.parametrize("state", ["", "garbage", "W10:1abc:forged"])
def test_a_forged_state_is_refused(client, sign_in, tap, state):
    version, _, answers, _ = tap
    sign_in("run_repair_diagnostics")
    for name in ("run", "submit"):
        response = client.post(run_url(version, name),
                               {"state": state, "answer": answers["kitchen"].pk})
        assert response.status_code == 400
        assert "This diagnostic cannot continue" in response.text
    assert not DiagnosticResult.objects.exists()


def test_a_state_is_bound_to_its_user_and_version(client, sign_in, tap):
    version, _, answers, _ = tap
    other_user = UserFactory()
    finished = [answers["kitchen"].pk, answers["yes"].pk]
    sign_in("run_repair_diagnostics")
    someone_elses = diagnostics.sign(other_user, version, finished)
    response = client.post(run_url(version, "submit"), {"state": someone_elses})
    assert response.status_code == 400
    assert not DiagnosticResult.objects.exists()


def test_a_signed_but_impossible_path_is_refused(client, sign_in, tap):
    version, _, answers, _ = tap
    user = sign_in("run_repair_diagnostics")
    impossible = diagnostics.sign(user, version, [answers["yes"].pk])
    response = client.post(run_url(version, "submit"), {"state": impossible})
    assert response.status_code == 400


def test_each_diagnostic_needs_its_own_permission(client, sign_in, tap):
    version, *_ = tap
    sign_in("run_enquiries_diagnostics")
    for response in (client.get(reverse("staff_portal:choose", args=["repairs"])),
                     client.get(run_url(version)),
                     client.post(run_url(version), {"state": "x"}),
                     client.post(run_url(version, "submit"), {"state": "x"})):
        assert response.status_code == 403
        assert "You do not have permission to see this page" in response.text
    assert client.get(reverse("staff_portal:choose", args=["enquiries"])).status_code == 200
    # A repair version is not an enquiry script.
    assert client.get(run_url(version, diagnostic="enquiries")).status_code == 404


def test_the_home_lists_only_what_the_person_may_run(client, sign_in):
    sign_in("run_enquiries_diagnostics")
    page = client.get(reverse("staff_portal:home")).text
    assert "Enquiries Diagnostics" in page and "Repair Diagnostics" not in page
    assert "No results yet." in page


def test_a_person_without_web_staff_permissions_is_told_so(client, sign_in):
    sign_in()
    assert "cannot run any diagnostics yet" in client.get(reverse("staff_portal:home")).text


def test_only_your_own_results_are_shown(client, sign_in, tap):
    version, *_ = tap
    other = DiagnosticResult.objects.create(
        user=UserFactory(), version=version, kind="repair", script_set="x", category="c",
        topic="t", path=[], ending="end", description="Someone else's")
    sign_in("run_repair_diagnostics")
    assert client.get(reverse("staff_portal:result", args=[other.pk])).status_code == 404
    assert "Someone else" not in client.get(reverse("staff_portal:results")).text


def test_a_run_keeps_its_version_after_a_republish(client, sign_in, tap):
    version, steps, answers, _ = tap
    sign_in("run_repair_diagnostics")
    page = answer(client, version, client.get(run_url(version)), answers["kitchen"])
    steps["drips"].question = "Changed?"
    steps["drips"].save()
    services.publish(version.script)
    outcome = answer(client, version, page, answers["yes"])
    client.post(run_url(version, "submit"), {"state": state_of(outcome)})
    result = DiagnosticResult.objects.get()
    assert result.version == version
    assert result.path[1]["question"] == "Does it drip when turned off?"


@pytest.mark.parametrize("path", ["/staff/", "/staff/repairs/", "/staff/results/",
                                  "/staff/repairs/1/", "/staff/results/1/"])
def test_public_web_staff_serves_nothing_anonymously_or_to_a_password(client, settings, path):
    point_site_at(settings, "https://login.microsoftonline.com")
    settings.KEYFAX_WEB_STAFF_PUBLIC = True
    settings.KEYFAX_LOCAL_LOGIN = True
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    user = LocalUserFactory()
    grant(user, "run_repair_diagnostics")
    client.force_login(user)
    assert client.get(path).status_code == 403
    assert client.post(path, {}).status_code == 403


def test_a_step_submit_makes_at_most_six_queries(client, sign_in, tap,
                                                 django_assert_max_num_queries):
    version, _, answers, _ = tap
    sign_in("run_repair_diagnostics")
    first = client.get(run_url(version))
    with django_assert_max_num_queries(6):
        response = answer(client, version, first, answers["kitchen"])
    assert "Does it drip when turned off?" in response.text
