"""The permission catalogue, the role mappings and what a token's roles resolve to."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from accounts.sso_config import Element
from audit.models import AuditEvent
from permissions import catalogue
from permissions.management.commands.entra_app_roles import app_role_id
from permissions.mappings import entitlements, save_mapping
from permissions.models import RoleMapping
from tests.factories import LocalUserFactory, RoleMappingFactory, ScriptSetFactory
from tests.permission_helpers import ADMIN_TOOL_ALL, WEB_STAFF_ALL

pytestmark = pytest.mark.django_db


def test_every_permission_belongs_to_one_element():
    assert {e.codename for e in catalogue.entries(Element.ADMIN_TOOL)} == ADMIN_TOOL_ALL
    assert {e.codename for e in catalogue.entries(Element.WEB_STAFF)} == WEB_STAFF_ALL
    for entry in catalogue.CATALOGUE:
        permission = Permission.objects.get(content_type__app_label="permissions",
                                            codename=entry.codename)
        assert permission.name == entry.name
        assert entry.description
        assert catalogue.element_of(permission) is entry.element
        assert catalogue.element_of(entry.perm) is entry.element
    assert catalogue.element_of("scripts.edit_scripts") is Element.ADMIN_TOOL
    assert catalogue.element_of("auth.change_user") is None
    assert catalogue.element_of("permissions.add_rolemapping") is None


def test_catalogue_permissions_work_with_has_perm():
    user = LocalUserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_reports",
                                                     content_type__app_label="permissions"))
    user = type(user).objects.get(pk=user.pk)
    assert user.has_perm("permissions.view_reports")
    assert not user.has_perm("permissions.maintain_users")


def test_the_migration_seeds_the_default_mappings():
    seeded = {m.value: set(m.permissions.values_list("codename", flat=True))
              for m in RoleMapping.objects.filter(kind="role")}
    assert seeded["Keyfax.Admin"] == ADMIN_TOOL_ALL
    assert seeded["Keyfax.Staff"] == WEB_STAFF_ALL
    assert seeded["Keyfax.Staff.Repairs"] == {"run_repair_diagnostics"}
    assert seeded["Keyfax.Staff.Enquiries"] == {"run_enquiries_diagnostics"}
    assert seeded["Keyfax.ScriptAuthor"] == {"edit_scripts"}
    assert seeded["Keyfax.ScriptPublisher"] == {"publish_scripts"}
    assert seeded["Keyfax.IT"] == set()
    assert list(RoleMapping.objects.filter(grants_staff=True).values_list("value", flat=True)) \
        == ["Keyfax.IT"]  # IT's Django admin access, and nothing else grants it
    assert not RoleMapping.objects.filter(grants_superuser=True).exists()


@pytest.mark.parametrize("roles", [
    ["keyfax.admin"],             # wrong case
    ["KEYFAX.ADMIN"],
    ["Keyfax.Admin "],            # trailing space
    [" Keyfax.Admin"],
    ["Keyfax.\u0410dmin"],        # Cyrillic capital A
    ["Keyfax.Admin\n"],
    ["Keyfax.Admin\u200b"],       # zero-width space
])
def test_role_matching_is_exact(roles):
    granted = entitlements(roles, [])
    assert granted.grants == []
    assert granted.unmapped_roles == roles


def test_roles_and_groups_resolve_with_their_sources():
    group = str(uuid.uuid4())
    RoleMappingFactory(kind="group", value=group, permissions=["view_reports"])
    repairs = ScriptSetFactory(slug="repairs", name="Repairs")
    author = RoleMappingFactory(value="Keyfax.Author.Repairs", permissions=[])
    author.script_set_grants.create(
        script_set=repairs, permission=Permission.objects.get(
            content_type__app_label="scripts", codename="edit_scripts"))

    granted = entitlements(["Keyfax.Staff", "Keyfax.Author.Repairs", "Nope"], [group.upper()])

    by_source = {(g.source_kind, g.source_value, g.codename, g.script_set_id)
                 for g in granted.grants}
    assert ("role", "Keyfax.Staff", "run_repair_diagnostics", None) in by_source
    assert ("group", group, "view_reports", None) in by_source
    assert ("role", "Keyfax.Author.Repairs", "edit_scripts", repairs.pk) in by_source
    assert granted.unmapped_roles == ["Nope"]
    assert granted.admits(Element.ADMIN_TOOL) and granted.admits(Element.WEB_STAFF)
    assert not granted.staff and not granted.superuser


def test_staff_and_superuser_come_only_from_an_explicit_mapping():
    RoleMappingFactory(value="Keyfax.IT", permissions=[], grants_staff=True)
    assert entitlements(["Keyfax.Admin"], []).staff is False
    granted = entitlements(["Keyfax.IT"], [])
    assert (granted.staff, granted.superuser) == (True, False)


def test_a_mapping_changed_through_the_service_is_audited():
    admin = LocalUserFactory()
    save_mapping(kind="role", value="Keyfax.Reporting", permissions=["view_reports"],
                 actor=admin, display_name="Reporting")

    event = AuditEvent.objects.filter(action="role_mapping_changed").latest("id")
    assert event.actor_user_id == admin.pk
    assert event.detail["before"] == {}
    assert event.detail["after"]["permissions"] == ["view_reports"]
    with pytest.raises(ValueError, match="not Keyfax permissions"):
        save_mapping(kind="role", value="Keyfax.Reporting", permissions=["add_user"])
    assert AuditEvent.objects.filter(action="role_mapping_changed").count() == 1


def test_a_group_mapping_needs_a_guid():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        RoleMapping(kind="group", value="Keyfax Authors").full_clean()
    with pytest.raises(ValidationError):
        RoleMapping(kind="role", value="Keyfax Admin").full_clean()  # spaces are not allowed


def test_entra_app_roles_prints_the_manifest_with_stable_ids(capsys):
    call_command("entra_app_roles")
    first = json.loads(capsys.readouterr().out)
    call_command("entra_app_roles")
    assert json.loads(capsys.readouterr().out) == first

    roles = {role["value"]: role for role in first["appRoles"]}
    # Pinned: these ids are already in tenants' app manifests, so a change to
    # APP_ROLE_NAMESPACE or to how an id is derived must fail here.
    pinned = {
        "Keyfax.Admin": "62342476-d4c2-526a-b639-f603aceae0c2",
        "Keyfax.Staff": "dd89e834-9940-5034-9669-8ef182ce5a52",
        "Keyfax.ScriptAuthor": "94cf469d-ccdf-507d-b147-0a57de8fb951",
    }
    for value, role_id in pinned.items():
        assert roles[value]["id"] == role_id
        assert app_role_id(value) == role_id
    assert str(uuid.UUID(roles["Keyfax.Admin"]["id"])) == roles["Keyfax.Admin"]["id"]
    assert len({role["id"] for role in first["appRoles"]}) == len(first["appRoles"])
    for role in first["appRoles"]:
        assert set(role) == {"allowedMemberTypes", "description", "displayName", "id",
                             "isEnabled", "value"}
        assert role["allowedMemberTypes"] == ["User"] and role["isEnabled"] is True


def test_the_per_script_set_entries_are_the_script_set_permissions():
    from scripts.models import ScriptSet

    per_set = {e.codename for e in catalogue.CATALOGUE if e.per_script_set}
    assert {codename for codename, _ in ScriptSet._meta.permissions} == per_set
    assert ScriptSet._meta.app_label == catalogue.SCRIPT_SET_APP_LABEL
    assert catalogue.element_of(f"{catalogue.SCRIPT_SET_APP_LABEL}.edit_scripts") is (
        Element.ADMIN_TOOL)
