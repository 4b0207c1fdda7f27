"""The lock: while Entra owns an element's permissions, every writer is refused (and audited)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command

from accounts.sso_config import Element
from audit.models import AuditEvent
from permissions import services
from permissions.models import RoleMapping
from permissions.sync import sync_user
from tests.conftest import point_site_at
from tests.factories import EntraIdentityFactory, LocalUserFactory
from tests.permission_helpers import ADMIN_TOOL_ALL, entra_session, held

pytestmark = pytest.mark.django_db
LOCKED = "managed by Microsoft Entra ID"


def permission(codename: str, app_label: str = "permissions") -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def permissions_mode(settings):
    point_site_at(settings, "https://login.microsoftonline.com",
                  mode="authentication_and_permissions")


@pytest.fixture
def authentication_mode(settings):
    point_site_at(settings, "https://login.microsoftonline.com", mode="authentication")


@pytest.fixture
def synced():
    """An Entra user whose permissions came from Keyfax.ScriptAuthor and Keyfax.Staff."""
    identity = EntraIdentityFactory(roles=["Keyfax.ScriptAuthor", "Keyfax.Staff"])
    sync_user(identity.user, identity.roles, [], list(Element))
    return identity.user


@pytest.fixture
def maintainer(client, settings):
    """A local break-glass administrator signed in with a password, allowed User Maintenance."""
    settings.KEYFAX_LOCAL_LOGIN = True
    user = LocalUserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def last_refusal() -> AuditEvent:
    return AuditEvent.objects.filter(action="locked_edit_refused").latest("id")


# --- the service --------------------------------------------------------------------------


def test_the_service_refuses_a_locked_change_and_audits_it(permissions_mode, synced):
    with pytest.raises(services.LockedPermissionError, match=LOCKED):
        services.change_permissions(synced, Element.ADMIN_TOOL, grant=["maintain_users"],
                                    via="test")

    assert held(synced)["admin_tool"] == {"edit_scripts"}
    event = last_refusal()
    assert (event.outcome, event.element, event.subject) == (
        "refused", "admin_tool", f"user:{synced.pk}")
    assert event.detail["grant"] == ["maintain_users"]


def test_the_service_allows_changes_in_authentication_mode(authentication_mode, synced):
    services.change_permissions(synced, Element.ADMIN_TOOL, grant=["maintain_users"],
                                revoke=["edit_scripts"], via="test")

    assert held(synced)["admin_tool"] == {"maintain_users"}
    event = AuditEvent.objects.filter(action="permission_changed").latest("id")
    assert event.detail["before"] == ["edit_scripts"]
    assert event.detail["after"] == ["maintain_users"]


def test_a_local_account_is_never_locked(permissions_mode):
    local = LocalUserFactory()
    services.change_permissions(local, Element.ADMIN_TOOL, grant=["maintain_users"], via="test")
    assert held(local)["admin_tool"] == {"maintain_users"}
    assert not AuditEvent.objects.filter(action="locked_edit_refused").exists()


def test_the_service_refuses_permissions_of_another_element(authentication_mode, synced):
    with pytest.raises(ValueError, match="not Keyfax Web Staff permissions"):
        services.change_permissions(synced, Element.WEB_STAFF, grant=["maintain_users"],
                                    via="test")


# --- the management command ---------------------------------------------------------------


def test_the_command_is_refused_for_locked_permissions(permissions_mode, synced):
    with pytest.raises(CommandError, match=LOCKED):
        call_command("set_permissions", synced.username, "--element", "web_staff",
                     "--revoke", "run_repair_diagnostics")
    assert held(synced)["web_staff"] == {"run_repair_diagnostics", "run_enquiries_diagnostics"}
    assert last_refusal().detail["via"] == "management_command"


def test_the_command_changes_unlocked_permissions(authentication_mode, synced, capsys):
    call_command("set_permissions", synced.username, "--element", "admin_tool",
                 "--grant", "view_reports")
    assert held(synced)["admin_tool"] == {"edit_scripts", "view_reports"}
    assert "view_reports" in capsys.readouterr().out
    with pytest.raises(CommandError, match="not Keyfax Administration Tool permissions"):
        call_command("set_permissions", synced.username, "--element", "admin_tool",
                     "--grant", "nonsense")


# --- User Maintenance ---------------------------------------------------------------------


def test_user_maintenance_shows_locked_permissions_read_only(permissions_mode, client, synced):
    admin = EntraIdentityFactory().user
    sync_user(admin, ["Keyfax.Admin"], [], list(Element))
    entra_session(client, admin)

    page = client.get(f"/admin-tools/users/{synced.pk}/")

    assert page.status_code == 200
    assert "Managed by Microsoft Entra ID" in page.text
    assert "app role Keyfax.ScriptAuthor" in page.text
    assert 'name="permissions_admin_tool"' not in page.text  # no checkboxes to tick
    assert 'name="user_group"' in page.text
    assert client.get("/admin-tools/users/").status_code == 200


def test_a_forged_post_to_user_maintenance_is_refused(permissions_mode, client, maintainer,
                                                      synced):
    response = client.post(f"/admin-tools/users/{synced.pk}/", {
        "user_group": "Forged", "permissions_admin_tool": sorted(ADMIN_TOOL_ALL),
    })

    assert response.status_code == 403
    assert LOCKED in response.text
    synced.refresh_from_db()
    assert synced.user_group == ""  # nothing saved
    assert held(synced)["admin_tool"] == {"edit_scripts"}
    assert last_refusal().detail["via"] == "user_maintenance"


def test_user_maintenance_saves_local_fields_of_a_locked_user(permissions_mode, client,
                                                              maintainer, synced):
    response = client.post(f"/admin-tools/users/{synced.pk}/", {"user_group": "Repairs team"})

    assert response.status_code == 302
    synced.refresh_from_db()
    assert synced.user_group == "Repairs team"
    assert held(synced)["admin_tool"] == {"edit_scripts"}  # untouched, not "all unticked"


def test_user_maintenance_edits_in_authentication_mode(authentication_mode, client, maintainer,
                                                       synced):
    response = client.post(f"/admin-tools/users/{synced.pk}/", {
        "user_group": "", "permissions_admin_tool": ["view_reports"],
        "permissions_web_staff": ["run_repair_diagnostics"],
    })

    assert response.status_code == 302
    assert held(synced) == {"admin_tool": {"view_reports"},
                            "web_staff": {"run_repair_diagnostics"}}
    assert AuditEvent.objects.filter(action="permission_changed").count() == 2


def test_bad_input_shows_field_errors_and_saves_nothing(authentication_mode, client,
                                                        maintainer, synced):
    response = client.post(f"/admin-tools/users/{synced.pk}/", {
        "user_group": "x" * 101, "permissions_admin_tool": ["view_reports", "add_user"],
    })

    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    assert held(synced)["admin_tool"] == {"edit_scripts"}


def test_user_maintenance_needs_the_maintain_users_permission(permissions_mode, client, synced):
    entra_session(client, synced)  # a script author, not a user maintainer
    assert client.get("/admin-tools/users/").status_code == 403
    assert client.get(f"/admin-tools/users/{synced.pk}/").status_code == 403


# --- Django admin -------------------------------------------------------------------------


def admin_form(user, **changes) -> dict:
    identity = getattr(user, "entra_identity", None)
    data = {
        "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
        "email": user.email, "is_active": "on", "user_group": user.user_group,
        "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00",
        "last_login_0": "", "last_login_1": "",
        "user_permissions": [p.pk for p in user.user_permissions.all()],
        "groups": [g.pk for g in user.groups.all()],
        "entra_identity-TOTAL_FORMS": "1" if identity else "0",
        "entra_identity-INITIAL_FORMS": "1" if identity else "0",
        "entra_identity-MIN_NUM_FORMS": "0", "entra_identity-MAX_NUM_FORMS": "1",
        "_save": "Save",
    }
    if identity:
        data.update({"entra_identity-0-id": identity.pk, "entra_identity-0-user": user.pk})
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_admin_refuses_locked_user_permissions(permissions_mode, client, maintainer, synced):
    wanted = [p.pk for p in synced.user_permissions.all()] + [permission("maintain_users").pk]
    response = client.post(f"/django-admin/accounts/user/{synced.pk}/change/",
                           admin_form(synced, user_permissions=wanted))

    assert response.status_code == 200  # the form again, with the error
    assert LOCKED in response.text
    assert "maintain_users" not in held(synced)["admin_tool"]
    assert last_refusal().detail["via"] == "django_admin"


def test_the_admin_refuses_a_group_carrying_locked_permissions(permissions_mode, client,
                                                               maintainer, synced):
    group = Group.objects.create(name="Admins")
    group.permissions.add(permission("maintain_users"))

    response = client.post(f"/django-admin/accounts/user/{synced.pk}/change/",
                           admin_form(synced, groups=[group.pk]))

    assert LOCKED in response.text
    assert not synced.groups.exists()
    assert last_refusal().detail["what"] == "groups"


def test_the_admin_refuses_staff_flags_of_a_locked_user(permissions_mode, client, maintainer,
                                                        synced):
    response = client.post(f"/django-admin/accounts/user/{synced.pk}/change/",
                           admin_form(synced, is_staff="on", is_superuser="on"))
    assert LOCKED in response.text
    synced.refresh_from_db()
    assert not synced.is_staff and not synced.is_superuser


def test_the_admin_refuses_a_group_permission_change_reaching_locked_users(
        permissions_mode, client, maintainer, synced):
    group = Group.objects.create(name="Everyone")
    synced.groups.add(group)

    response = client.post(f"/django-admin/auth/group/{group.pk}/change/", {
        "name": "Everyone", "permissions": [permission("maintain_users").pk], "_save": "Save",
    })

    assert LOCKED in response.text
    assert not group.permissions.exists()


def test_the_admin_edits_allowed_permissions_and_audits_them(authentication_mode, client,
                                                              maintainer, synced):
    wanted = [p.pk for p in synced.user_permissions.all()] + [permission("maintain_users").pk]
    response = client.post(f"/django-admin/accounts/user/{synced.pk}/change/",
                           admin_form(synced, user_permissions=wanted))

    assert response.status_code == 302, response.text[:2000]
    assert "maintain_users" in held(synced)["admin_tool"]
    event = AuditEvent.objects.filter(action="permission_changed").latest("id")
    assert (event.element, event.detail["via"]) == ("admin_tool", "django_admin")


def test_the_admin_leaves_local_accounts_editable(permissions_mode, client, maintainer):
    local = LocalUserFactory()
    response = client.post(f"/django-admin/accounts/user/{local.pk}/change/",
                           admin_form(local, user_permissions=[permission("maintain_users").pk]))
    assert response.status_code == 302
    assert held(local)["admin_tool"] == {"maintain_users"}


def test_a_mapping_changed_in_the_admin_is_audited(client, maintainer):
    mapping = RoleMapping.objects.get(value="Keyfax.ScriptAuthor")
    response = client.post(f"/django-admin/permissions/rolemapping/{mapping.pk}/change/", {
        "kind": "role", "value": "Keyfax.ScriptAuthor", "display_name": "Author",
        "description": "", "permissions": [permission("edit_scripts").pk,
                                           permission("view_reports").pk],
        "script_set_grants-TOTAL_FORMS": "0", "script_set_grants-INITIAL_FORMS": "0",
        "script_set_grants-MIN_NUM_FORMS": "0", "script_set_grants-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    })

    assert response.status_code == 302, response.text[:2000]
    event = AuditEvent.objects.filter(action="role_mapping_changed").latest("id")
    assert event.detail["before"]["permissions"] == ["edit_scripts"]
    assert event.detail["after"]["permissions"] == ["edit_scripts", "view_reports"]
    assert event.actor_user_id == maintainer.pk


# --- a local account in an element Entra manages ------------------------------------------


def test_user_maintenance_changes_no_local_accounts_permissions_where_entra_manages_them(
        client, permissions_mode, maintainer):
    local = LocalUserFactory(username="lou", first_name="Lou", last_name="L",
                             email="lou@example.org")
    page = client.get(f"/admin-tools/users/{local.pk}/")
    assert "Set by IT in Django admin." in page.text
    assert 'name="permissions_admin_tool"' not in page.text

    response = client.post(f"/admin-tools/users/{local.pk}/", {
        "username": "lou", "first_name": "Lou", "last_name": "L", "email": "lou@example.org",
        "login_mode": "password", "user_group": "", "notes": "",
        "permissions_admin_tool": ["view_reports"]})

    assert response.status_code == 403
    assert held(local)["admin_tool"] == set()
    assert (last_refusal().detail["via"], last_refusal().element) == (
        "user_maintenance", "admin_tool")


def test_it_sets_a_local_accounts_permissions_there_in_django_admin(permissions_mode,
                                                                     maintainer):
    local = LocalUserFactory()
    change = services.change_permissions(local, Element.ADMIN_TOOL, grant={"view_reports"},
                                         actor=maintainer, via="django_admin")
    assert change == {"before": [], "after": ["view_reports"]}
    with pytest.raises(services.LockedPermissionError):
        services.change_permissions(local, Element.ADMIN_TOOL, revoke={"view_reports"},
                                    actor=maintainer, via="user_maintenance")
