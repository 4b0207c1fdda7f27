"""The whole lifecycle against the Keyfax site: what an administrator changes in the emulator
(disable, unassign, app roles, sign out of Microsoft) reaches a signed-in Keyfax session,
through the silent re-check or front-channel logout. Over real HTTP; one real browser."""

from __future__ import annotations

import pytest
import requests

from accounts.models import EntraIdentity, SignedInSession
from tests import people
from tests.permission_helpers import ADMIN_TOOL_ALL, WEB_STAFF_ALL, default_mappings, held
from tests.playwright_support import sign_in_with_microsoft
from tests.revalidation_helpers import make_due, revalidate

__all__ = ["default_mappings"]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ADMIN = people.person("Administrator")
BOTH = people.person("Administrator and Web Staff")


@pytest.fixture
def emu(entra):
    """The shared emulator, its people put back as the people file has them afterwards."""
    entra.directory.reset()
    yield entra
    entra.directory.reset()


def control(emu, oid: str, **change) -> dict:
    answer = requests.post(f"{emu.base_url}/_emulator/people/{oid}", json=change, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("change", [{"enabled": False}, {"assigned": False}])
def test_a_person_disabled_or_unassigned_in_entra_loses_keyfax_at_the_next_recheck(
    emu, browser, change
):
    browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    assert browser.get("/admin-tools/").status_code == 200
    control(emu, ADMIN["oid"], **change)
    make_due(browser)

    hops, response = revalidate(browser, "/admin-tools/")

    assert any("prompt=none" in hop for hop in hops)
    assert response.status_code in (401, 403)
    assert browser.get("/admin-tools/").status_code == 302  # signed out of Keyfax


def test_a_role_changed_in_entra_changes_keyfax_at_the_next_recheck(emu, perms_site, browser):
    browser.sign_in(BOTH["oid"], next_url="/staff/")
    user = EntraIdentity.objects.get(object_id=BOTH["oid"]).user
    assert held(user)["admin_tool"] == ADMIN_TOOL_ALL
    control(emu, BOTH["oid"], roles=["Keyfax.Staff"])
    make_due(browser)

    revalidate(browser, "/staff/")

    assert browser.get("/staff/").status_code == 200
    assert held(user)["admin_tool"] == set()
    assert held(user)["web_staff"] == WEB_STAFF_ALL


def test_signing_out_of_microsoft_by_the_json_control_ends_the_keyfax_session(emu, browser):
    browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    sid = SignedInSession.objects.get(user__entra_identity__object_id=ADMIN["oid"]).sid

    state = control(emu, ADMIN["oid"], sign_out=True)

    assert sid in state["signed_out"]["sessions"]
    assert {call["status"] for call in state["signed_out"]["front_channel"]} == {200}
    assert browser.get("/admin-tools/").status_code == 302
    assert not SignedInSession.objects.filter(sid=sid).exists()


@pytest.mark.browser
def test_the_people_pages_sign_out_button_signs_the_browser_out_of_keyfax(
    emu, live_server, page
):
    sign_in_with_microsoft(page, live_server.url, ADMIN["oid"], next_path="/admin-tools/")
    sid = SignedInSession.objects.get(user__entra_identity__object_id=ADMIN["oid"]).sid

    page.goto(f"{emu.base_url}/_emulator/people")
    person = page.get_by_role("region", name=ADMIN["name"])
    with page.expect_response(lambda r: "/oidc/logout/front-channel/" in r.url) as loaded:
        person.get_by_role("button", name="Sign out of Microsoft").click()
    assert loaded.value.status == 200
    assert f"sid={sid}" in loaded.value.url

    assert page.get_by_role("status").inner_text().startswith(
        f"{ADMIN['name']}: signed out of Microsoft (1 session)")
    assert not SignedInSession.objects.filter(sid=sid).exists()
    page.goto(f"{live_server.url}/admin-tools/")
    assert "/accounts/login/" in page.url  # Keyfax asks for a sign-in again


@pytest.mark.browser
def test_signing_out_of_keyfax_passes_through_entra_and_comes_back(emu, live_server, page):
    sign_in_with_microsoft(page, live_server.url, ADMIN["oid"], next_path="/admin-tools/")
    with page.expect_response(lambda r: "/oidc/logout/front-channel/" in r.url) as loaded:
        page.get_by_role("button", name="Sign out").click()
    assert loaded.value.status == 200  # Entra's front-channel logout, as for any app

    page.wait_for_url(f"{live_server.url}/**")  # then back to Keyfax, without JavaScript
    assert not page.url.startswith(emu.base_url)
    page.goto(f"{live_server.url}/admin-tools/")
    assert "/accounts/login/" in page.url
