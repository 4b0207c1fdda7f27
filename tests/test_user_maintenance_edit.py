"""User Maintenance edit page: details, login mode, permissions and their sources, the lock,
the Entra account panel, and the audit events of every change."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.sso_config import Element
from admin_tools.users import services
from audit.models import AuditEvent
from permissions.catalogue import global_permission_rows
from permissions.sync import sync_user
from tests.conftest import point_site_at
from tests.factories import (
    EntraIdentityFactory,
    EntraUserFactory,
    LocalUserFactory,
    MaintainerFactory,
    UserFactory,
    grant,
)
from tests.permission_helpers import held

pytestmark = pytest.mark.django_db
LOCKED_NOTICE = "Managed by Microsoft Entra ID"




@pytest.fixture
def locked_maintainer(client, settings):
    """Both elements in authentication_and_permissions; a break-glass maintainer signed in."""
    point_site_at(settings, "https://login.microsoftonline.com",
                  mode="authentication_and_permissions")
    settings.KEYFAX_LOCAL_LOGIN = True
    user = MaintainerFactory(username="breakglass")
    client.force_login(user)
    return user


@pytest.fixture
def local():
    return LocalUserFactory(username="lou", first_name="Lou", last_name="Reed",
                            email="lou@example.org", user_group="Repairs")


def form_data(user: User, **changes) -> dict:
    data = {"username": user.username, "first_name": user.first_name,
            "last_name": user.last_name, "email": user.email, "login_mode": user.login_mode,
            "user_group": user.user_group, "notes": user.notes}
    data.update(changes)
    return data


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_the_page_shows_details_and_permissions_with_their_sources(client, maintainer, local):
    grant(local, "view_reports")
    group = Group.objects.create(name="Authors")
    group.permissions.add(*global_permission_rows().filter(codename="edit_scripts"))
    local.groups.add(group)

    page = client.get(f"/admin-tools/users/{local.pk}/")

    assert page.status_code == 200
    assert 'value="lou@example.org"' in page.text
    assert "View reports</label>\n                <span class=\"muted\">— from granted directly" \
        in page.text
    assert "from Django group Authors" in page.text
    assert LOCKED_NOTICE not in page.text
    assert "Reset password" in page.text
    assert "Microsoft Entra ID account" not in page.text  # no panel for a local account


def test_saving_changed_fields_audits_their_before_and_after(client, maintainer, local):
    response = client.post(f"/admin-tools/users/{local.pk}/", form_data(
        local, first_name="Louis", user_group="Enquiries", notes="Works nights."))

    assert response.status_code == 302
    local.refresh_from_db()
    assert (local.first_name, local.user_group, local.notes) == (
        "Louis", "Enquiries", "Works nights.")
    [event] = events("user_changed")
    assert event.detail["changes"] == {
        "first_name": {"before": "Lou", "after": "Louis"},
        "user_group": {"before": "Repairs", "after": "Enquiries"},
        "notes": {"before": "", "after": "Works nights."},
    }
    assert (event.actor_user_id, event.subject, event.detail["via"]) == (
        maintainer.pk, f"user:{local.pk}", "user_maintenance")


def test_saving_without_changes_writes_no_event(client, maintainer, local):
    assert client.post(f"/admin-tools/users/{local.pk}/", form_data(local)).status_code == 302
    assert not AuditEvent.objects.filter(action__in=["user_changed",
                                                     "permission_changed"]).exists()


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"first_name": ""}, "first_name", "This field is required"),
    ({"last_name": ""}, "last_name", "This field is required"),
    ({"email": "not-an-email"}, "email", "Enter a valid email address"),
    ({"username": "has space"}, "username", "Enter a valid username"),
    ({"username": "MAINT"}, "username", "already exists"),
    ({"login_mode": "magic"}, "login_mode", "Select a valid choice"),
    ({"user_group": "x" * 101}, "user_group", "at most 100 characters"),
    ({"notes": "\x00"}, "notes", "Null characters are not allowed"),
    ({"permissions_admin_tool": ["add_user"]}, "permissions_admin_tool", "valid choice"),
])
def test_bad_input_shows_field_errors_and_saves_nothing(client, maintainer, local, changes,
                                                        field, message):
    response = client.post(f"/admin-tools/users/{local.pk}/",
                           form_data(local, **{"last_name": "Changed", **changes}))

    assert response.status_code == 400
    assert message in response.text
    assert 'aria-invalid="true"' in response.text or field.startswith("permissions")
    local.refresh_from_db()
    assert (local.last_name, local.user_group) == ("Reed", "Repairs")
    assert not AuditEvent.objects.exists()


def test_permission_edits_go_through_the_permission_service(client, maintainer, local):
    grant(maintainer, "view_reports", "run_repair_diagnostics")  # nobody grants what they lack
    response = client.post(f"/admin-tools/users/{local.pk}/", form_data(
        local, permissions_admin_tool=["view_reports", "maintain_users"],
        permissions_web_staff=["run_repair_diagnostics"]))

    assert response.status_code == 302
    assert held(local) == {"admin_tool": {"view_reports", "maintain_users"},
                           "web_staff": {"run_repair_diagnostics"}}
    changed = events("permission_changed")
    assert [(e.element, e.detail["via"]) for e in changed] == [
        ("admin_tool", "user_maintenance"), ("web_staff", "user_maintenance")]
    assert changed[0].detail["after"] == ["maintain_users", "view_reports"]


def test_nobody_grants_a_permission_they_do_not_hold(client, maintainer, local):
    page = client.get(f"/admin-tools/users/{local.pk}/").text
    assert page.count("you cannot grant this: you do not hold it yourself") == 6  # all but one
    response = client.post(f"/admin-tools/users/{local.pk}/", form_data(
        local, permissions_admin_tool=["publish_scripts"]))

    assert response.status_code == 403
    assert "only grant permissions you hold yourself: Publish scripts" in response.text
    assert held(local)["admin_tool"] == set()
    [event] = events("permission_changed")
    assert (event.outcome, event.reason, event.detail["grant"]) == (
        "refused", "not_held", ["publish_scripts"])


def test_switching_a_local_user_to_sso_removes_the_password(client, maintainer, local):
    assert local.has_usable_password()

    response = client.post(f"/admin-tools/users/{local.pk}/", form_data(local, login_mode="sso"))

    assert response.status_code == 302
    local.refresh_from_db()
    assert local.login_mode == "sso" and not local.has_usable_password()
    [event] = events("user_changed")
    assert event.detail["changes"] == {"login_mode": {"before": "password", "after": "sso"}}
    assert event.detail["password"] == "removed"
    assert "change it to Keyfax password first" in client.get(
        f"/admin-tools/users/{local.pk}/").text


def test_an_unknown_user_is_a_404(client, maintainer):
    assert client.get("/admin-tools/users/999999/").status_code == 404


def test_the_edit_page_needs_maintain_users(client, settings, local):
    settings.KEYFAX_SSO_ADMIN_TOOL = "off"
    client.force_login(LocalUserFactory())
    assert client.get(f"/admin-tools/users/{local.pk}/").status_code == 403
    assert client.post(f"/admin-tools/users/{local.pk}/",
                       form_data(local, user_group="Hacked")).status_code == 403
    local.refresh_from_db()
    assert local.user_group == "Repairs"


# --- Entra-linked users and the lock ----------------------------------------------------------


@pytest.fixture
def synced():
    identity = EntraIdentityFactory(roles=["Keyfax.ScriptAuthor", "Keyfax.Staff"],
                                    groups=["6a1f0000-0000-4000-8000-000000000001"],
                                    upn="sam@riverside.example",
                                    user=UserFactory(username="sam", first_name="Sam"))
    sync_user(identity.user, identity.roles, identity.groups, list(Element))
    return identity.user


def test_the_lock_is_shown_plainly(client, locked_maintainer, synced):
    page = client.get(f"/admin-tools/users/{synced.pk}/")

    assert page.status_code == 200
    assert page.text.count(LOCKED_NOTICE) == 2  # one per element
    assert 'name="permissions_admin_tool"' not in page.text
    assert 'name="permissions_web_staff"' not in page.text
    assert "Edit scripts</span>: <strong>granted</strong>" in page.text
    assert "from app role Keyfax.ScriptAuthor" in page.text
    assert 'name="first_name"' in page.text and "disabled" in page.text


def test_the_entra_account_panel(client, locked_maintainer, synced):
    identity = synced.entra_identity
    page = client.get(f"/admin-tools/users/{synced.pk}/")

    assert "Microsoft Entra ID account" in page.text
    for shown in (str(identity.tenant_id), str(identity.object_id), "sam@riverside.example",
                  "Keyfax.ScriptAuthor", "Keyfax.Staff", "6a1f0000-0000-4000-8000-000000000001",
                  "1 group"):
        assert shown in page.text
    assert "Last permission sync</dt><dd>never" not in page.text  # sync_user audited it
    assert "Password: This user signs in with Microsoft Entra ID" in page.text


def test_a_forged_post_of_locked_permissions_is_refused_and_audited(client, locked_maintainer,
                                                                    synced):
    response = client.post(f"/admin-tools/users/{synced.pk}/", {
        "user_group": "Forged", "permissions_admin_tool": ["maintain_users"]})

    assert response.status_code == 403
    assert "managed by Microsoft Entra ID" in response.text
    synced.refresh_from_db()
    assert synced.user_group == ""
    assert held(synced)["admin_tool"] == {"edit_scripts"}
    [refusal] = events("locked_edit_refused")
    assert refusal.detail["via"] == "user_maintenance"
    assert refusal.detail["grant"] == ["maintain_users"]


def test_entra_owned_details_cannot_be_changed_by_a_forged_post(client, locked_maintainer,
                                                                synced):
    response = client.post(f"/admin-tools/users/{synced.pk}/", {
        "first_name": "Mallory", "login_mode": "password", "username": "mallory",
        "user_group": "Kept"})

    assert response.status_code == 302  # read-only fields keep their values
    synced.refresh_from_db()
    assert (synced.first_name, synced.username, synced.login_mode, synced.user_group) == (
        "Sam", "sam", "sso", "Kept")


def test_the_service_refuses_entra_owned_fields_and_audits_it(locked_maintainer, synced):
    who = services.Who(actor=locked_maintainer)
    with pytest.raises(services.Refused, match="come from Microsoft Entra ID"):
        services.update_user(synced, {"login_mode": "password", "user_group": "x"}, {}, who)

    synced.refresh_from_db()
    assert (synced.login_mode, synced.user_group) == ("sso", "")
    [event] = events("user_changed")
    assert (event.outcome, event.reason, event.detail["fields"]) == (
        "refused", "managed_by_entra", ["login_mode"])


def test_an_entra_linked_user_is_sso(synced):
    assert synced.login_mode == "sso"
    assert EntraUserFactory().login_mode == "sso"
    linked_later = LocalUserFactory()
    EntraIdentityFactory(user=linked_later)
    linked_later.refresh_from_db()
    assert linked_later.login_mode == "sso"


def test_the_page_shows_a_django_group_that_keeps_what_entra_did_not_grant(
        client, locked_maintainer, settings):
    from django.contrib.auth.models import Group, Permission

    from accounts.sso_config import Element
    from permissions.sync import sync_user

    settings.KEYFAX_SSO_WEB_STAFF = "authentication"  # Entra manages only the Admin Tool
    gwen = EntraUserFactory(username="gwen")
    shared = Group.objects.create(name="Helpdesk")
    shared.permissions.add(*Permission.objects.filter(
        content_type__app_label="permissions",
        codename__in=["maintain_users", "run_repair_diagnostics"]))
    gwen.groups.add(shared)
    sync_user(gwen, ["Keyfax.ScriptAuthor"], [], [Element.ADMIN_TOOL])

    page = client.get(f"/admin-tools/users/{gwen.pk}/")

    assert "Django groups still grant permissions Entra ID did not." in page.text
    assert "Helpdesk grants maintain_users, because it also grants run_repair_diagnostics" \
        in page.text
