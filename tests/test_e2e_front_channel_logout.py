"""Entra's front-channel logout ends the Keyfax session its ``sid`` opened, server-side."""

from __future__ import annotations

import pytest
import requests

from accounts.models import SignedInSession
from audit.models import AuditEvent
from tests import people

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADMIN = people.person("Administrator")
STAFF = people.person("Staff: Repairs and Enquiries diagnostics")
URL = "/oidc/logout/front-channel/"


def entra_calls(browser, query: str) -> requests.Response:
    """Entra's hidden iframe: a GET with the sid only, and none of the browser's cookies."""
    return requests.get(f"{browser.base_url}{URL}{query}", timeout=10)


def test_the_sid_ends_that_session_on_the_server(entra, browser):
    browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    assert browser.get("/admin-tools/").status_code == 200
    sid = SignedInSession.objects.get(user__entra_identity__object_id=ADMIN["oid"]).sid

    response = entra_calls(browser, f"?sid={sid}")

    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers  # Entra frames it
    assert browser.get("/admin-tools/").status_code == 302  # signed out
    assert not SignedInSession.objects.filter(sid=sid).exists()
    event = AuditEvent.objects.filter(action="sign_out").latest("id")
    assert (event.actor_object_id, event.detail) == (
        ADMIN["oid"], {"method": "entra", "kind": "front_channel"},
    )


def test_another_persons_session_is_untouched(entra, browser, live_server):
    from tests.browser import Browser

    browser.sign_in(ADMIN["oid"])
    with requests.Session() as other_session:
        other = Browser(other_session, live_server.url)
        other.sign_in(STAFF["oid"], next_url="/staff/")
        staff_sid = SignedInSession.objects.get(user__entra_identity__object_id=STAFF["oid"]).sid
        admin_sid = SignedInSession.objects.get(user__entra_identity__object_id=ADMIN["oid"]).sid
        assert staff_sid != admin_sid

        entra_calls(browser, f"?sid={staff_sid}")

        assert other.get("/staff/").status_code == 302
    assert browser.get("/admin-tools/").status_code == 200


@pytest.mark.parametrize("query", ["", "?sid=", "?sid=unknown", "?sid=" + "x" * 500,
                                   "?sid=%00", "?sid=a%00b", "?sid=%ff%fe", "?sid[]=a"])
def test_unknown_or_malformed_sids_change_nothing_and_say_nothing(entra, browser, query):
    browser.sign_in(ADMIN["oid"])
    events = AuditEvent.objects.count()

    response = entra_calls(browser, query)

    assert response.status_code == 200
    assert browser.get("/admin-tools/").status_code == 200
    assert AuditEvent.objects.count() == events


def test_a_local_sign_out_forgets_the_sid(entra, browser):
    browser.sign_in(ADMIN["oid"])
    csrf = browser.session.cookies["csrftoken"]
    browser.post("/oidc/logout/", data={"csrfmiddlewaretoken": csrf},
                 headers={"Referer": browser.base_url + "/"})
    assert not SignedInSession.objects.exists()
