"""An administrator uses User Maintenance in a real browser (Debian's Chromium) and sees the
lock on an Entra-linked user whose permissions Microsoft Entra ID manages."""

from __future__ import annotations

import pytest

from accounts.sso_config import Element
from permissions.sync import sync_user
from tests import people
from tests.factories import EntraIdentityFactory, LocalUserFactory, UserFactory
from tests.permission_helpers import default_mappings
from tests.playwright_support import save_screenshot, sign_in_with_microsoft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["default_mappings"]

ADMIN = people.person("Administrator")


@pytest.fixture
def population(default_mappings):
    """An Entra-linked script author (synced) and a few local users."""
    identity = EntraIdentityFactory(
        user=UserFactory(username="priya.author", first_name="Priya", last_name="Author",
                         user_group="Scripts team"),
        roles=["Keyfax.ScriptAuthor"], upn="priya.author@riverside-homes.example")
    sync_user(identity.user, identity.roles, [], list(Element))
    LocalUserFactory(username="breakglass", first_name="Bree", last_name="Glass")
    LocalUserFactory(username="old.account", first_name="Olive", last_name="Old",
                     is_active=False)
    return identity.user


def test_an_administrator_sees_the_lock_on_an_entra_user(entra, live_server, page, settings,
                                                         population):
    settings.KEYFAX_SSO_ADMIN_TOOL = "authentication_and_permissions"
    sign_in_with_microsoft(page, live_server.url, ADMIN["oid"], next_path="/admin-tools/")

    assert page.get_by_role("heading", name="Keyfax Administration Tool").is_visible()
    save_screenshot(page, "admin-tools-home")
    page.get_by_role("link", name="User Maintenance").click()
    page.wait_for_url(f"{live_server.url}/admin-tools/users/")
    assert page.get_by_role("heading", name="User Maintenance").is_visible()
    page.get_by_label("Search").fill("priya")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/admin-tools/users/?*q=priya*")
    assert page.get_by_role("link", name="priya.author").is_visible()
    page.goto(f"{live_server.url}/admin-tools/users/")
    save_screenshot(page, "user-maintenance-list")

    page.get_by_role("link", name="priya.author").click()
    page.wait_for_url(f"{live_server.url}/admin-tools/users/{population.pk}/")

    notices = page.get_by_text("Managed by Microsoft Entra ID.")
    # Only the Administration Tool is in authentication_and_permissions: Web Staff stays editable.
    assert notices.count() == 1 and notices.first.is_visible()
    assert page.locator('input[name="permissions_admin_tool"]').count() == 0  # read-only
    assert page.locator('input[name="permissions_web_staff"]').count() == 2
    assert page.get_by_text("from app role Keyfax.ScriptAuthor").is_visible()
    assert page.get_by_label("Forename").is_disabled()
    assert page.get_by_label("User Group").is_editable()
    assert page.get_by_role("heading", name="Microsoft Entra ID account").is_visible()
    assert page.get_by_text("priya.author@riverside-homes.example").is_visible()
    save_screenshot(page, "user-maintenance-locked")

    page.get_by_label("User Group").fill("Repairs scripts")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("Saved Priya Author.").is_visible()
    population.refresh_from_db()
    assert population.user_group == "Repairs scripts"


def test_user_maintenance_fits_a_phone(entra, live_server, page, settings, population):
    settings.KEYFAX_SSO_ADMIN_TOOL = "authentication_and_permissions"
    sign_in_with_microsoft(page, live_server.url, ADMIN["oid"], next_path="/admin-tools/users/")
    page.set_viewport_size({"width": 375, "height": 740})
    page.reload()

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px)"
    assert page.get_by_role("link", name="priya.author").is_visible()
    page.keyboard.press("Tab")
    focused = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert focused != "none"
