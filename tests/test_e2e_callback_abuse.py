"""Abuse of the callback and of Entra's answers, over real HTTP: refused, audited, no 5xx."""

from __future__ import annotations

import socket
import time

import pytest

from audit.models import AuditEvent
from tests import people
from tests.browser import query

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADMIN = people.person("Administrator")
NOT_ASSIGNED = people.person("Not assigned to the app (Entra refuses him)")


def last_sign_in_event() -> AuditEvent:
    return AuditEvent.objects.filter(action="sign_in").latest("id")


def assert_refused_page(response, reason: str, status: int = 403) -> None:
    assert response.status_code == status, response.text[:300]
    assert f"Reason: {reason}" in response.text
    assert "Reference:" in response.text


def test_a_state_the_site_never_issued_is_refused(entra, browser):
    browser.start_sign_in()  # the browser has a session with a real state in it

    response = browser.get("/oidc/callback/?code=made-up&state=never-issued")

    assert_refused_page(response, "unknown_state")
    assert last_sign_in_event().reason == "unknown_state"
    assert entra.request_counts["token"] == 0


def test_a_callback_without_any_session_is_refused(entra, browser):
    response = browser.get("/oidc/callback/?code=abc&state=def")
    assert_refused_page(response, "unknown_state")


@pytest.mark.parametrize(
    "query_string", ["", "?state=", "?code=", "?state[]=x&code[]=y", "?state=%00&code=%ff"]
)
def test_malformed_callbacks_are_refused(entra, browser, query_string):
    response = browser.get("/oidc/callback/" + query_string)
    assert_refused_page(response, "unknown_state")


def test_a_callback_with_state_but_no_code_is_refused(entra, browser):
    state = query(browser.start_sign_in())["state"]
    response = browser.get(f"/oidc/callback/?state={state}")
    assert_refused_page(response, "missing_code")


def test_a_replayed_callback_is_refused(entra, browser):
    callback = browser.pick_account(browser.start_sign_in(), ADMIN["oid"])
    assert browser.get(callback).status_code == 302

    replay = browser.get(callback)

    assert_refused_page(replay, "unknown_state")
    assert last_sign_in_event().reason == "unknown_state"


def test_a_replayed_code_is_refused_by_entra(entra, browser):
    first = browser.pick_account(browser.start_sign_in(), ADMIN["oid"])
    assert browser.get(first).status_code == 302
    fresh_state = query(browser.start_sign_in())["state"]

    response = browser.get(f"/oidc/callback/?code={query(first)['code']}&state={fresh_state}")

    assert_refused_page(response, "code_rejected")
    event = last_sign_in_event()
    assert event.detail["aadsts"] in {"AADSTS54005", "AADSTS501481"}


def test_a_code_from_another_browsers_sign_in_fails_pkce(entra, browser, live_server):
    import requests

    from tests.browser import Browser

    victim_callback = browser.pick_account(browser.start_sign_in(), ADMIN["oid"])
    with requests.Session() as other_session:
        attacker = Browser(other_session, live_server.url)
        attacker_state = query(attacker.start_sign_in())["state"]
        response = attacker.get(
            f"/oidc/callback/?code={query(victim_callback)['code']}&state={attacker_state}"
        )

    assert_refused_page(response, "code_rejected")
    assert last_sign_in_event().detail["aadsts"] == "AADSTS501481"


def test_entra_refusing_an_unassigned_user_shows_a_clear_page(entra, browser):
    callback = browser.pick_account(browser.start_sign_in(), NOT_ASSIGNED["oid"])
    assert query(callback)["error"] == "access_denied"

    response = browser.get(callback)

    assert_refused_page(response, "not_assigned")
    assert "assign you a Keyfax role" in response.text
    assert last_sign_in_event().detail["aadsts"] == "AADSTS50105"


def test_cancelling_at_entra_is_refused_as_access_denied(entra, browser):
    callback = browser.pick_account(browser.start_sign_in(), "cancel")
    assert_refused_page(browser.get(callback), "access_denied")


def test_a_forged_error_callback_does_not_sign_out_someone_signed_in(entra, browser):
    assert browser.sign_in(ADMIN["oid"]).status_code == 302
    forged = "/oidc/callback/?error=access_denied&error_description=AADSTS50105&state=forged"

    response = browser.get(forged)

    assert_refused_page(response, "unknown_state")
    assert browser.get("/admin-tools/").status_code == 200


def test_token_endpoint_errors_are_refused_with_the_aadsts_code(entra, browser):
    entra.token_error = (400, "invalid_grant", "AADSTS50173: The provided grant has expired.")
    assert_refused_page(browser.sign_in(ADMIN["oid"]), "code_rejected")
    assert last_sign_in_event().detail["aadsts"] == "AADSTS50173"


@pytest.fixture
def silent_server():
    """A server that accepts connections and never answers: Entra hanging."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_entra_not_answering_gives_the_clear_page_not_a_hang(entra, browser, settings,
                                                              silent_server):
    settings.ENTRA_AUTHORITY = silent_server
    settings.ENTRA_HTTP_TIMEOUT = 0.5

    response = browser.get("/oidc/authenticate/")

    assert_refused_page(response, "entra_unreachable", status=503)
    assert last_sign_in_event().detail["fetching"] == "discovery"


def test_entra_down_gives_the_clear_page(entra, browser, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.ENTRA_AUTHORITY = f"http://127.0.0.1:{closed_port}"

    assert_refused_page(browser.get("/oidc/authenticate/"), "entra_unreachable", status=503)


def test_sign_in_is_refused_when_sso_is_off(entra, browser, settings):
    settings.KEYFAX_SSO_ADMIN_TOOL = "off"
    settings.KEYFAX_SSO_WEB_STAFF = "off"
    assert_refused_page(browser.get("/oidc/authenticate/"), "sso_not_configured", status=404)


def test_a_token_endpoint_that_hangs_gives_the_clear_page(entra, browser, settings):
    browser.start_sign_in()  # discovery is now cached
    settings.ENTRA_HTTP_TIMEOUT = 0.5
    entra.id_token_hook = lambda header, claims: time.sleep(2)  # Entra stalls mid-answer

    response = browser.sign_in(ADMIN["oid"])

    assert_refused_page(response, "entra_unreachable", status=503)
    assert last_sign_in_event().detail == {
        "method": "entra", "fetching": "token", "error": "ReadTimeout",
    }
