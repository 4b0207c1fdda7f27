"""Call-centre staff run a repair diagnostic in a real browser (Debian's Chromium): sign in
with Microsoft, choose the script, answer, go back, reach the outcome and submit it."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from staff_portal.models import DiagnosticResult
from tests import people
from tests.permission_helpers import default_mappings
from tests.playwright_support import save_screenshot, sign_in_with_microsoft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["default_mappings"]

STAFF = people.with_role("Keyfax.Staff")


def test_staff_run_a_repair_diagnostic_to_its_outcome(entra, live_server, page, settings,
                                                      default_mappings):
    call_command("loaddata", "demo_scripts", verbosity=0)
    settings.KEYFAX_SSO_WEB_STAFF = "authentication_and_permissions"  # Keyfax.Staff → both
    sign_in_with_microsoft(page, live_server.url, STAFF["oid"], next_path="/staff/")

    assert page.get_by_role("heading", name="Keyfax Web Staff").is_visible()
    save_screenshot(page, "web-staff-home")
    page.get_by_role("link", name="Repair Diagnostics").click()
    page.get_by_role("link", name="Leaking tap").click()
    assert page.get_by_role("heading", name="Where is the leaking tap?").is_visible()
    page.get_by_label("Kitchen").check()
    page.get_by_role("button", name="Next").click()

    assert page.get_by_role("heading", name="Where is the water coming from?").is_visible()
    page.get_by_role("button", name="Back").click()
    assert page.get_by_role("heading", name="Where is the leaking tap?").is_visible()
    page.get_by_label("Bathroom").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("The spout drips when the tap is off").check()
    save_screenshot(page, "repair-diagnostic-step")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Yes, it only drips").check()
    page.get_by_role("button", name="Next").click()

    assert page.get_by_role("heading", name="Outcome").is_visible()
    assert page.get_by_text("Rewasher tap and reseat").is_visible()
    save_screenshot(page, "repair-diagnostic-outcome")
    page.get_by_role("button", name="Submit result").click()

    page.wait_for_url(f"{live_server.url}/staff/results/*/")
    assert page.get_by_text("Diagnostic result saved.").is_visible()
    assert page.get_by_role("heading", name="Diagnostic result").is_visible()
    result = DiagnosticResult.objects.get()
    assert (result.code, result.priority, result.response_days) == ("601011", "R", 20)
    assert [step["answer"] for step in result.path] == [
        "Bathroom", "The spout drips when the tap is off", "Yes, it only drips"]
    assert result.user.entra_identity.object_id.hex == STAFF["oid"].replace("-", "")
    save_screenshot(page, "repair-diagnostic-result")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{live_server.url}/staff/")
    assert page.get_by_role("heading", name="My recent results").is_visible()
    assert page.get_by_text("601011 Rewasher tap and reseat").is_visible()
    save_screenshot(page, "web-staff-home-phone")
