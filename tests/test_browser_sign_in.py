"""A person signs in with a real browser (Debian's Chromium) through the emulator."""

from __future__ import annotations

import pytest

from tests import people
from tests.playwright_support import save_screenshot, sign_in_with_microsoft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF = people.person("Staff: Repairs and Enquiries diagnostics")


def test_a_person_signs_in_with_microsoft_in_a_real_browser(entra, live_server, page):
    page.goto(f"{live_server.url}/accounts/login/?next=/staff/")
    save_screenshot(page, "sign-in")

    sign_in_with_microsoft(page, live_server.url, STAFF["oid"], next_path="/staff/")

    assert page.get_by_role("heading", name="Keyfax Web Staff").is_visible()
    assert STAFF["name"] in page.content()


def test_a_forged_callback_shows_the_refusal_page(entra, live_server, page):
    page.goto(f"{live_server.url}/oidc/callback/?code=forged&state=forged")

    assert page.get_by_role("heading", name="This sign-in link has expired or was already used")
    assert "Reference:" in page.content()
    save_screenshot(page, "sign-in-refused")
