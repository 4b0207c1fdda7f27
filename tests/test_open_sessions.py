"""Who is signed in: every sign-in's session is noted, an administrator (User Maintenance) or
the person (Your sessions) ends them, and the ended browser is told why at its next request."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import SignedInSession
from accounts.open_sessions import SEEN_KEY
from audit.models import AuditEvent
from tests.factories import LocalUserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def passwords_only(settings):
    settings.KEYFAX_SSO_ADMIN_TOOL = "off"
    settings.KEYFAX_SSO_WEB_STAFF = "off"


def signed_in_browser(user, agent: str = "Firefox", address: str = "203.0.113.7") -> Client:
    browser = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = browser.post("/accounts/login/", {"username": user.username,
                                                 "password": PASSWORD, "next": "/staff/"})
    assert response.status_code == 302
    return browser


def test_a_sign_in_notes_its_session_how_for_what_and_from_where(passwords_only):
    person = LocalUserFactory(username="pat")
    browser = signed_in_browser(person)

    [note] = SignedInSession.objects.filter(user=person)
    assert note.session_key == browser.session.session_key
    assert (note.method, note.element, note.address, note.user_agent) == (
        "password", "web_staff", "203.0.113.7", "Firefox")
    assert note.expires_at > note.created_at and note.ended_at is None


def test_last_seen_is_written_at_most_once_a_minute(passwords_only):
    person = LocalUserFactory(username="pat")
    browser = signed_in_browser(person)
    first = SignedInSession.objects.get().last_seen_at

    browser.get("/staff/")
    assert SignedInSession.objects.get().last_seen_at == first  # within the minute

    session = browser.session
    session[SEEN_KEY] = session[SEEN_KEY] - 61
    session.save()
    browser.get("/staff/")
    assert SignedInSession.objects.get().last_seen_at > first


def test_user_maintenance_lists_and_ends_all_of_a_persons_sessions(client, maintainer,
                                                                   passwords_only):
    person = LocalUserFactory(username="pat")
    laptop, phone = signed_in_browser(person, "Firefox"), signed_in_browser(person, "Safari")

    page = client.get(f"/admin-tools/users/{person.pk}/").text
    confirm = client.get(f"/admin-tools/users/{person.pk}/sessions/end/")
    assert "Signed in now" in page and "Firefox" in page and "Safari" in page
    assert confirm.status_code == 200 and "End 2 sessions" in confirm.text

    client.post(f"/admin-tools/users/{person.pk}/sessions/end/")

    for browser in (laptop, phone):
        refused = browser.get("/staff/")
        assert refused.status_code == 401
        assert "An administrator ended this session." in refused.text
        assert browser.get("/staff/").status_code == 302  # then an ordinary signed-out visit
    [event] = AuditEvent.objects.filter(action="session_ended")
    assert (event.actor_user_id, event.subject, event.detail["sessions"]) == (
        maintainer.pk, f"user:{person.pk}", 2)


def test_ending_one_session_leaves_the_others(client, maintainer, passwords_only):
    person = LocalUserFactory(username="pat")
    laptop, phone = signed_in_browser(person, "Firefox"), signed_in_browser(person, "Safari")
    chosen = SignedInSession.objects.get(session_key=laptop.session.session_key)

    client.post(f"/admin-tools/users/{person.pk}/sessions/end/", {"session": chosen.pk})

    assert laptop.get("/staff/").status_code == 401
    assert phone.get("/staff/").status_code == 200


def test_a_maintainer_cannot_end_an_it_accounts_sessions(client, maintainer, passwords_only):
    it_person = LocalUserFactory(username="it.person", is_staff=True)
    browser = signed_in_browser(it_person)

    client.post(f"/admin-tools/users/{it_person.pk}/sessions/end/")

    assert browser.get("/staff/").status_code == 200
    [event] = AuditEvent.objects.filter(action="session_ended")
    assert (event.outcome, event.reason) == ("refused", "it_account")


def test_a_person_ends_their_other_sessions_but_never_this_one(passwords_only):
    person = LocalUserFactory(username="pat")
    here, elsewhere = signed_in_browser(person, "Firefox"), signed_in_browser(person, "Safari")

    page = here.get("/accounts/sessions/").text
    here.post("/accounts/sessions/", {"session": "not-a-number"})  # ends nothing
    assert elsewhere.get("/staff/").status_code == 200
    here.post("/accounts/sessions/")

    assert "this browser" in page and "Safari" in page
    assert here.get("/staff/").status_code == 200
    refused = elsewhere.get("/staff/")
    assert refused.status_code == 401 and "You ended this session" in refused.text
    [event] = AuditEvent.objects.filter(action="session_ended")
    assert event.detail == {"via": "own_sessions", "username": "pat", "sessions": 1,
                            "which": "all", "own": True}


def test_a_fetch_from_an_ended_session_gets_json(client, maintainer, passwords_only):
    person = LocalUserFactory(username="pat")
    browser = signed_in_browser(person)
    client.post(f"/admin-tools/users/{person.pk}/sessions/end/")

    response = browser.get("/staff/", HTTP_ACCEPT="application/json")

    assert response.status_code == 401
    assert response.json()["error"] == "session_ended"


def test_the_person_page_stays_within_its_query_budget_with_many_sessions(
        client, maintainer, passwords_only, django_assert_max_num_queries):
    person = LocalUserFactory(username="pat")
    for agent in range(30):
        signed_in_browser(person, f"Browser {agent}")

    with django_assert_max_num_queries(12):  # the page before the panel: 11
        page = client.get(f"/admin-tools/users/{person.pk}/")
    assert page.text.count("Browser ") == 30
