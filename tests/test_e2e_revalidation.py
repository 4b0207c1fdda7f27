"""Sessions that follow Entra: the silent re-check (prompt=none) over real HTTP against the
emulator — success, Entra saying no, a different person, Entra down, and the request shapes
(POST, fetch, parallel tabs) at the boundary."""

from __future__ import annotations

import time

import pytest

from accounts.models import EntraIdentity
from audit.models import AuditEvent
from tests import people
from tests.browser import query
from tests.factories import LocalUserFactory
from tests.permission_helpers import ADMIN_TOOL_ALL, WEB_STAFF_ALL, default_mappings, held
from tests.revalidation_helpers import make_due, revalidate

__all__ = ["default_mappings"]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ADMIN = people.person("Administrator")


def events(outcome: str | None = None):
    found = AuditEvent.objects.filter(action="session_revalidated").order_by("id")
    return list(found.filter(outcome=outcome) if outcome else found)


def test_a_due_session_is_rechecked_silently_and_comes_back_where_it_was(entra, browser):
    browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    session_before = browser.session_id
    entra.reset_counts()
    make_due(browser)

    hops, response = revalidate(browser, "/admin-tools/users/?q=a")

    assert hops[0] == "/oidc/revalidate/?next=%2Fadmin-tools%2Fusers%2F%3Fq%3Da"
    authorize = query(hops[1])
    assert (authorize["prompt"], authorize["login_hint"]) == ("none", ADMIN["upn"])
    assert hops[-1] == "/admin-tools/users/?q=a"
    assert response.status_code == 302
    assert browser.get("/admin-tools/").status_code == 200
    assert browser.session_id == session_before  # the same session, not a new sign-in
    assert entra.request_counts["token"] == 1  # one IdP call besides the browser's hop
    [event] = events("success")
    assert event.actor_object_id == ADMIN["oid"]


def test_entra_no_longer_signed_in_ends_the_session_clearly(entra, browser):
    browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    for cookie in list(browser.session.cookies):
        if cookie.name == "entra_emulator_session":
            browser.session.cookies.clear(cookie.domain, cookie.path, cookie.name)
    make_due(browser)

    _hops, response = revalidate(browser, "/admin-tools/")

    assert response.status_code == 403
    assert "Your Keyfax session has ended" in response.text
    assert "Reason: entra_sign_in_required" in response.text
    assert browser.get("/admin-tools/").status_code == 302  # signed out
    [event] = events("refused")
    assert event.reason == "entra_sign_in_required" and event.detail["session_ended"] is True


def test_a_different_person_in_the_answer_ends_the_session(entra, browser):
    browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    other = people.with_role("Keyfax.Staff")
    entra.id_token_hook = lambda header, claims: claims.update(oid=other["oid"])
    make_due(browser)

    _hops, response = revalidate(browser, "/admin-tools/")

    assert "Reason: not_the_same_person" in response.text
    assert browser.get("/admin-tools/").status_code == 302
    assert not EntraIdentity.objects.filter(object_id=other["oid"]).exists()


BOTH = people.person("Administrator and Web Staff")


def test_a_role_removed_in_entra_is_gone_after_the_next_recheck(perms_site, browser, settings):
    browser.sign_in(BOTH["oid"], next_url="/staff/")
    user = EntraIdentity.objects.get(object_id=BOTH["oid"]).user
    assert held(user)["admin_tool"] == ADMIN_TOOL_ALL
    perms_site.id_token_hook = lambda header, claims: claims.update(roles=["Keyfax.Staff"])
    make_due(browser)

    _hops, response = revalidate(browser, "/staff/")

    assert response.status_code == 302 and browser.get("/staff/").status_code == 200
    assert held(user)["admin_tool"] == set()  # Keyfax.Admin went in Entra: so did its grants
    assert held(user)["web_staff"] == WEB_STAFF_ALL
    assert browser.get("/admin-tools/").status_code in (302, 403)


def test_no_role_left_ends_the_session(perms_site, browser):
    browser.sign_in(BOTH["oid"], next_url="/staff/")
    perms_site.id_token_hook = lambda header, claims: claims.update(roles=[])
    make_due(browser)

    _hops, response = revalidate(browser, "/staff/")

    assert "Reason: no_permissions" in response.text
    assert "Your Keyfax session has ended" in response.text
    assert browser.get("/staff/").status_code == 302


def test_a_post_at_the_boundary_is_served_and_the_next_get_is_rechecked(entra, browser):
    browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    make_due(browser)
    csrf = browser.session.cookies.get("csrftoken")
    posted = browser.post("/accounts/sessions/", data={"csrfmiddlewaretoken": csrf},
                          headers={"Referer": browser.base_url + "/accounts/sessions/"})

    assert posted.status_code == 302 and posted.headers["Location"] == "/accounts/sessions/"
    assert AuditEvent.objects.filter(action="session_ended").exists() is False  # nothing to end
    assert browser.get("/accounts/sessions/").headers["Location"].startswith(
        "/oidc/revalidate/")


def test_fetch_gets_a_json_401_it_can_act_on(entra, browser):
    browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    make_due(browser)

    response = browser.get("/admin-tools/", headers={"Accept": "application/json"})

    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "revalidation_required"
    assert body["sign_in_url"].startswith("/oidc/revalidate/?next=")


def test_two_tabs_at_once_send_only_one_to_entra(entra, browser):
    browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    make_due(browser)

    first = browser.get("/admin-tools/")
    to_entra = browser.get(first.headers["Location"])  # tab one is on its way to Entra
    second = browser.get("/staff/")  # tab two, meanwhile

    assert "prompt=none" in to_entra.headers["Location"]
    assert second.status_code == 200  # served, not sent to Entra a second time
    callback = browser.get(to_entra.headers["Location"]).headers["Location"]
    assert browser.get(callback).headers["Location"] == "/admin-tools/"  # tab one's own next


def test_a_foreign_error_on_the_callback_never_signs_anyone_out(entra, browser):
    browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")

    response = browser.get("/oidc/callback/?error=login_required&state=made-up")

    assert "Reason: unknown_state" in response.text
    assert browser.get("/admin-tools/").status_code == 200
    assert not events()


def test_entra_down_keeps_the_session_until_the_grace_period_ends(entra, browser, settings):
    browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    entra.id_token_hook = lambda header, claims: time.sleep(3)  # past ENTRA_HTTP_TIMEOUT
    make_due(browser)

    hops, _response = revalidate(browser, "/admin-tools/")

    assert hops[-1] == "/admin-tools/" and browser.get("/admin-tools/").status_code == 200
    [failure] = events("failure")
    assert failure.reason == "entra_unreachable" and failure.detail["session_kept"] is True
    entra.id_token_hook = None
    make_due(browser, seconds_ago=settings.KEYFAX_REVALIDATE_SECONDS
             + settings.KEYFAX_REVALIDATE_GRACE_SECONDS + 1)
    ended = browser.get("/admin-tools/")
    assert ended.status_code == 401 and "Reason: revalidation_overdue" in ended.text
    assert browser.get("/admin-tools/").status_code == 302


def test_a_break_glass_password_session_is_not_rechecked(entra, browser, settings):
    settings.KEYFAX_LOCAL_LOGIN = True
    LocalUserFactory(username="it.breakglass", is_staff=True, is_superuser=True)
    page = browser.get("/accounts/login/")
    assert page.status_code == 200
    signed_in = browser.post("/accounts/login/", data={
        "username": "it.breakglass", "password": "correct horse battery staple",
        "next": "/django-admin/", "csrfmiddlewaretoken": browser.session.cookies["csrftoken"]},
        headers={"Referer": browser.base_url + "/accounts/login/"})
    assert signed_in.status_code == 302
    make_due(browser, seconds_ago=10**6)

    assert browser.get("/django-admin/").status_code == 200
    assert not events()
