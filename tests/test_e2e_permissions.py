"""Permission modes through the real sign-in: browser → site (live server) → emulator → site."""

from __future__ import annotations

import pytest

from accounts.entra import graph
from accounts.models import EntraIdentity, User
from accounts.sso_config import Element
from audit.models import AuditEvent
from entra_emulator.people import generated_group_ids
from permissions.services import change_permissions
from tests import people
from tests.factories import RoleMappingFactory
from tests.permission_helpers import ADMIN_TOOL_ALL, WEB_STAFF_ALL, default_mappings, held

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
__all__ = ["default_mappings"]

BOTH = people.person("Administrator and Web Staff")
NO_ROLE = people.person("Assigned to the app but holds no app role")
UNMAPPED = people.person("Holds only an app role Keyfax does not map")
MANY_GROUPS = people.person("Staff in 250 groups (groups overage)")
STAFF = people.person("Staff: Repairs and Enquiries diagnostics")
ADMIN = people.person("Administrator")
PERMS, AUTH = "authentication_and_permissions", "authentication"


@pytest.fixture(autouse=True)
def _fresh_graph_token(default_mappings):
    graph.forget_app_tokens()
    yield
    graph.forget_app_tokens()


def modes(settings, admin_tool: str, web_staff: str) -> None:
    settings.KEYFAX_SSO_ADMIN_TOOL = admin_tool
    settings.KEYFAX_SSO_WEB_STAFF = web_staff


def user_of(person: dict) -> User:
    return EntraIdentity.objects.select_related("user").get(object_id=person["oid"]).user


def with_roles(entra, roles) -> None:
    """Issue the next tokens with these ``roles`` (signed with the emulator's real key)."""
    def hook(header, claims):
        claims["roles"] = roles
    entra.id_token_hook = hook


def assert_refused(response, reason: str) -> AuditEvent:
    assert response.status_code in (403, 503), response.text[:300]
    assert f"Reason: {reason}" in response.text and "What to do" in response.text
    event = AuditEvent.objects.filter(action="sign_in").latest("id")
    assert (event.outcome, event.reason) == ("refused", reason)
    return event


@pytest.mark.parametrize(("admin_tool", "web_staff"),
                         [(PERMS, PERMS), (PERMS, AUTH), (AUTH, PERMS)])
def test_each_element_follows_its_own_mode(entra, browser, settings, admin_tool, web_staff):
    modes(settings, admin_tool, web_staff)
    browser.sign_in(BOTH["oid"])  # first sign-in creates the user
    user = user_of(BOTH)
    # Permissions a User Maintenance page gave (in an element in `authentication` mode).
    local = {"admin_tool": {"view_reports"}, "web_staff": {"run_enquiries_diagnostics"}}
    for element, mode in ((Element.ADMIN_TOOL, admin_tool), (Element.WEB_STAFF, web_staff)):
        if mode == AUTH:
            change_permissions(user, element, grant=local[element.value], via="test")
    expected = {"admin_tool": ADMIN_TOOL_ALL if admin_tool == PERMS else local["admin_tool"],
                "web_staff": WEB_STAFF_ALL if web_staff == PERMS else local["web_staff"]}

    browser.session.cookies.clear()
    assert browser.sign_in(BOTH["oid"]).status_code == 302
    assert held(user) == expected
    assert browser.get("/admin-tools/").status_code == 200
    assert browser.get("/staff/").status_code == 200

    browser.session.cookies.clear()
    with_roles(entra, ["Keyfax.ScriptAuthor", "Keyfax.Staff.Repairs"])
    assert browser.sign_in(BOTH["oid"]).status_code == 302
    assert held(user) == {
        "admin_tool": {"edit_scripts"} if admin_tool == PERMS else local["admin_tool"],
        "web_staff": {"run_repair_diagnostics"} if web_staff == PERMS else local["web_staff"],
    }
    event = AuditEvent.objects.filter(action="permissions_synced").latest("id")
    synced = {e for e, mode in (("admin_tool", admin_tool), ("web_staff", web_staff))
              if mode == PERMS}
    assert set(event.detail["elements"]) == synced


@pytest.mark.parametrize("mode", [PERMS, AUTH])
def test_no_roles_means_no_access(entra, browser, settings, mode):
    modes(settings, mode, mode)
    event = assert_refused(browser.sign_in(NO_ROLE["oid"], next_url="/admin-tools/"),
                           "no_permissions" if mode == PERMS else "no_access_role")
    assert event.detail["oid"] == NO_ROLE["oid"]
    assert browser.get("/admin-tools/").status_code == 302  # no session
    assert not EntraIdentity.objects.filter(object_id=NO_ROLE["oid"]).exists()


def rows_of(user: User) -> dict:
    """Everything the database holds about this person, to compare before and after."""
    from permissions.models import EntraGrant

    user.refresh_from_db()
    identity = EntraIdentity.objects.get(user=user)
    return {
        "user": {f.name: getattr(user, f.name) for f in User._meta.concrete_fields},
        "identity": {f.name: getattr(identity, f.name)
                     for f in EntraIdentity._meta.concrete_fields},
        "permissions": held(user),
        "grants": sorted(EntraGrant.objects.filter(user=user).values_list(
            "element", "permission__codename", "sources")),
    }


def test_a_refused_known_person_leaves_every_row_as_it_was(entra, browser, settings):
    """Access is decided before anything is written: the refusal is the only trace."""
    modes(settings, PERMS, PERMS)
    browser.sign_in(BOTH["oid"])
    user = user_of(BOTH)
    before, last_event = rows_of(user), AuditEvent.objects.latest("id").pk
    browser.session.cookies.clear()
    with_roles(entra, [])

    assert_refused(browser.sign_in(BOTH["oid"]), "no_permissions")

    assert rows_of(user) == before
    assert before["permissions"] == {"admin_tool": ADMIN_TOOL_ALL, "web_staff": WEB_STAFF_ALL}
    assert list(AuditEvent.objects.filter(pk__gt=last_event).values_list(
        "action", "outcome")) == [("sign_in", "refused")]
    assert browser.get("/staff/").status_code == 302


def test_a_sign_in_for_an_element_the_person_cannot_use_is_refused(entra, browser, settings):
    modes(settings, PERMS, PERMS)
    assert_refused(browser.sign_in(STAFF["oid"], next_url="/admin-tools/"), "no_permissions")
    browser.session.cookies.clear()
    assert browser.sign_in(STAFF["oid"], next_url="/staff/").status_code == 302
    assert browser.get("/staff/").status_code == 200
    assert browser.get("/admin-tools/").status_code == 403


def test_access_roles_admit_only_their_holders(entra, browser, settings):
    modes(settings, AUTH, AUTH)
    settings.KEYFAX_SSO_ACCESS_ROLES = ["Keyfax.Staff"]
    assert_refused(browser.sign_in(ADMIN["oid"]), "no_access_role")
    assert browser.sign_in(STAFF["oid"]).status_code == 302


@pytest.mark.parametrize("roles", [
    "Keyfax.Admin", ["keyfax.admin"], ["Keyfax.Admin "], ["Keyfax.\u0410dmin"], [["Keyfax.Admin"]],
], ids=["string", "case", "trailing-space", "cyrillic", "nested"])
def test_forged_role_spellings_grant_nothing(entra, browser, settings, roles):
    modes(settings, PERMS, PERMS)
    with_roles(entra, roles)
    assert_refused(browser.sign_in(ADMIN["oid"]), "no_permissions")
    assert not User.objects.filter(user_permissions__isnull=False).exists()


def test_unmapped_roles_are_ignored_and_noted(entra, browser, settings):
    modes(settings, PERMS, PERMS)
    with_roles(entra, ["Keyfax.Staff", "Keyfax.Reporting"])
    assert browser.sign_in(BOTH["oid"]).status_code == 302
    event = AuditEvent.objects.filter(action="sign_in", outcome="success").latest("id")
    assert event.detail["unmapped_roles"] == ["Keyfax.Reporting"]
    assert event.detail["elements"] == {"admin_tool": "no_permissions", "web_staff": "admitted"}
    entra.id_token_hook = None
    browser.session.cookies.clear()
    assert_refused(browser.sign_in(UNMAPPED["oid"]), "no_permissions")


def test_syncing_one_element_keeps_a_shared_groups_permissions_of_the_other(
        entra, browser, settings):
    """Issue 10: a Django group carrying an Administration Tool and a Web Staff permission.
    A sign-in that syncs only the Administration Tool keeps the membership (Web Staff in
    `authentication` mode still runs Repair Diagnostics through it) and reports the
    conflict."""
    from django.contrib.auth.models import Group, Permission

    modes(settings, PERMS, AUTH)
    browser.sign_in(BOTH["oid"])
    user = user_of(BOTH)
    shared = Group.objects.create(name="Repairs team")  # from before SSO managed permissions
    shared.permissions.add(*Permission.objects.filter(
        content_type__app_label="permissions",
        codename__in=["maintain_users", "run_repair_diagnostics"]))
    user.groups.add(shared)
    browser.session.cookies.clear()
    with_roles(entra, ["Keyfax.ScriptAuthor"])

    assert browser.sign_in(BOTH["oid"]).status_code == 302

    assert browser.get("/staff/repairs/").status_code == 200
    assert list(user.groups.all()) == [shared]
    event = AuditEvent.objects.filter(action="permissions_synced").latest("id")
    assert event.detail["group_conflicts"] == [{
        "group": "Repairs team", "id": shared.pk, "keeps": ["maintain_users"],
        "because": ["run_repair_diagnostics"]}]
    assert held(user)["admin_tool"] == {"edit_scripts"}


# --- groups overage -----------------------------------------------------------------------


@pytest.fixture
def token_endpoint_trap(trap_server):
    """Stands in for the URL a token names in ``_claim_sources``: it must not be hit."""
    base, hits = trap_server
    return f"{base}/users/{MANY_GROUPS['oid']}/getMemberObjects", hits


@pytest.fixture
def overage_mapping():
    group = generated_group_ids(250)[217]
    RoleMappingFactory(kind="group", value=group, permissions=["view_reports"])
    return group


def test_groups_overage_is_read_from_graph(entra, browser, settings, overage_mapping,
                                           token_endpoint_trap):
    modes(settings, PERMS, PERMS)
    trap_url, hits = token_endpoint_trap
    entra.id_token_hook = lambda header, claims: claims["_claim_sources"]["src1"].update(
        endpoint=trap_url)

    assert browser.sign_in(MANY_GROUPS["oid"]).status_code == 302

    user = user_of(MANY_GROUPS)
    assert held(user) == {"admin_tool": {"view_reports"}, "web_staff": WEB_STAFF_ALL}
    assert len(user.entra_identity.groups) == 250
    assert entra.request_counts["graph"] == 1
    assert hits == []  # the token's own endpoint is never contacted
    event = AuditEvent.objects.filter(action="sign_in", outcome="success").latest("id")
    assert event.detail["groups_overage"] == "read from Microsoft Graph"


@pytest.mark.parametrize("failure", ["error", "slow"])
def test_graph_failing_refuses_and_changes_nothing(entra, browser, settings, overage_mapping,
                                                   failure):
    modes(settings, PERMS, PERMS)
    browser.sign_in(MANY_GROUPS["oid"])
    user = user_of(MANY_GROUPS)
    before = held(user)
    browser.session.cookies.clear()
    with_roles(entra, ["Keyfax.Staff.Repairs"])
    entra.graph_mode = failure
    entra.graph_delay = 1.0
    settings.ENTRA_HTTP_TIMEOUT = 0.4

    try:
        response = browser.sign_in(MANY_GROUPS["oid"])
    finally:
        entra.graph_delay = 5.0
    assert response.status_code == 503
    assert_refused(response, "graph_unavailable")
    assert held(user) == before
    assert browser.get("/staff/").status_code == 302


def test_a_failure_in_the_middle_of_the_sync_keeps_the_previous_permissions(
        entra, browser, settings, monkeypatch):
    modes(settings, PERMS, PERMS)
    browser.sign_in(BOTH["oid"])
    user = user_of(BOTH)
    browser.session.cookies.clear()
    with_roles(entra, ["Keyfax.ScriptAuthor"])
    from django.db import DatabaseError

    from permissions.models import EntraGrant

    def fail(*args, **kwargs):
        raise DatabaseError("the disk is full")

    monkeypatch.setattr(EntraGrant.objects, "bulk_create", fail)
    assert_refused(browser.sign_in(BOTH["oid"]), "permissions_sync_failed")
    assert held(user) == {"admin_tool": ADMIN_TOOL_ALL, "web_staff": WEB_STAFF_ALL}


# --- step-up ------------------------------------------------------------------------------


def test_an_element_requiring_mfa_asks_for_it_and_admits_a_token_carrying_it(
        entra, browser, settings):
    modes(settings, AUTH, AUTH)
    settings.KEYFAX_REQUIRE_MFA = ["admin_tool"]

    authorize = browser.start_sign_in("/admin-tools/")
    assert "claims=" in authorize and "c1" in authorize
    assert browser.get(browser.pick_account(authorize, ADMIN["oid"])).status_code == 302
    assert browser.get("/admin-tools/").status_code == 200


def test_a_token_without_the_authentication_context_is_refused_for_that_element(
        entra, browser, settings):
    modes(settings, AUTH, AUTH)
    settings.KEYFAX_REQUIRE_MFA = ["admin_tool"]
    entra.id_token_hook = lambda header, claims: claims.pop("acrs", None) and None

    assert_refused(browser.sign_in(BOTH["oid"], next_url="/admin-tools/"), "step_up_required")

    browser.session.cookies.clear()
    assert "claims=" not in browser.start_sign_in("/staff/")
    assert browser.sign_in(BOTH["oid"], next_url="/staff/").status_code == 302
    assert browser.get("/staff/").status_code == 200
    assert browser.get("/admin-tools/").status_code == 403  # needs the stronger sign-in


def test_the_graph_app_token_is_reused_until_it_nears_expiry(entra, browser, settings,
                                                             overage_mapping):
    modes(settings, PERMS, PERMS)
    browser.sign_in(MANY_GROUPS["oid"])
    browser.session.cookies.clear()
    entra.reset_counts()

    assert browser.sign_in(MANY_GROUPS["oid"]).status_code == 302

    assert entra.request_counts["graph"] == 1
    assert entra.request_counts["token"] == 1  # the code exchange only: no new app token
