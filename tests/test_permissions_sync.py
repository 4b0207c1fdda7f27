"""The sync service: exactly what Entra maps, per element, in one transaction, in few queries."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from guardian.models import GroupObjectPermission, UserObjectPermission

from accounts.sso_config import Element
from audit.models import AuditEvent
from permissions import sync
from permissions.models import EntraGrant
from permissions.services import change_permissions
from permissions.sync import sync_user
from tests.conftest import point_site_at
from tests.factories import (
    EntraIdentityFactory,
    LocalUserFactory,
    RoleMappingFactory,
    ScriptSetFactory,
)
from tests.permission_helpers import ADMIN_TOOL_ALL, WEB_STAFF_ALL, entra_session, held

pytestmark = pytest.mark.django_db
BOTH = [Element.ADMIN_TOOL, Element.WEB_STAFF]


@pytest.fixture
def person():
    return EntraIdentityFactory().user


def test_sync_grants_exactly_the_mapped_permissions_and_audits_the_difference(person):
    sync_user(person, ["Keyfax.Admin", "Keyfax.Staff.Repairs"], [], BOTH)

    assert held(person) == {"admin_tool": ADMIN_TOOL_ALL, "web_staff": {"run_repair_diagnostics"}}
    event = AuditEvent.objects.filter(action="permissions_synced").latest("id")
    assert event.subject == f"user:{person.pk}"
    assert set(event.detail["elements"]["admin_tool"]["added"]) == ADMIN_TOOL_ALL
    assert event.detail["elements"]["web_staff"]["before"] == []
    assert "role:Keyfax.Admin" in event.detail["sources"]


def test_a_role_taken_away_is_removed_at_the_next_sync(person):
    sync_user(person, ["Keyfax.Admin", "Keyfax.Staff"], [], BOTH)
    sync_user(person, ["Keyfax.ScriptAuthor", "Keyfax.Staff.Enquiries"], [], BOTH)

    assert held(person) == {"admin_tool": {"edit_scripts"},
                            "web_staff": {"run_enquiries_diagnostics"}}
    detail = AuditEvent.objects.filter(action="permissions_synced").latest("id").detail
    assert "maintain_users" in detail["elements"]["admin_tool"]["removed"]
    assert detail["elements"]["web_staff"]["removed"] == ["run_repair_diagnostics"]


def test_the_other_element_is_untouched(person):
    change_permissions(person, Element.WEB_STAFF, grant=["run_repair_diagnostics"], via="test")
    change_permissions(person, Element.ADMIN_TOOL, grant=["view_reports"], via="test")

    sync_user(person, ["Keyfax.ScriptAuthor"], [], [Element.ADMIN_TOOL])

    assert held(person) == {"admin_tool": {"edit_scripts"}, "web_staff": {"run_repair_diagnostics"}}


def test_no_roles_means_no_permissions(person):
    sync_user(person, ["Keyfax.Admin", "Keyfax.Staff"], [], BOTH)
    sync_user(person, [], [], BOTH)
    assert held(person) == {"admin_tool": set(), "web_staff": set()}
    assert not EntraGrant.objects.filter(user=person).exists()


def test_provenance_records_each_role_and_group(person):
    group = str(uuid.uuid4())
    RoleMappingFactory(kind="group", value=group, permissions=["view_reports"])

    sync_user(person, ["Keyfax.Admin"], [group], [Element.ADMIN_TOOL])

    grant = EntraGrant.objects.get(user=person, permission__codename="view_reports")
    assert grant.sources == sorted([f"group:{group}", "role:Keyfax.Admin"])


def test_script_set_permissions_are_granted_and_removed_through_guardian(person):
    repairs = ScriptSetFactory(slug="repairs", name="Repairs")
    enquiries = ScriptSetFactory(slug="enquiries", name="Enquiries")
    edit = Permission.objects.get(content_type__app_label="scripts", codename="edit_scripts")
    mapping = RoleMappingFactory(value="Keyfax.Author.Repairs", permissions=[])
    mapping.script_set_grants.create(script_set=repairs, permission=edit)

    sync_user(person, ["Keyfax.Author.Repairs"], [], [Element.ADMIN_TOOL])
    person = type(person).objects.get(pk=person.pk)
    assert person.has_perm("scripts.edit_scripts", repairs)
    assert not person.has_perm("scripts.edit_scripts", enquiries)
    assert not person.has_perm("permissions.edit_scripts")

    sync_user(person, [], [], [Element.ADMIN_TOOL])
    assert not UserObjectPermission.objects.filter(user=person).exists()


def test_staff_flags_follow_an_explicit_mapping_only(person):
    RoleMappingFactory(value="Keyfax.IT", permissions=["view_system_settings"], grants_staff=True)
    sync_user(person, ["Keyfax.IT"], [], [Element.ADMIN_TOOL])
    person.refresh_from_db()
    assert (person.is_staff, person.is_superuser) == (True, False)

    sync_user(person, ["Keyfax.Admin"], [], [Element.ADMIN_TOOL])
    person.refresh_from_db()
    assert (person.is_staff, person.is_superuser) == (False, False)


def test_a_django_group_granting_a_locked_permission_is_left(person):
    group = Group.objects.create(name="Old admins")
    group.permissions.add(Permission.objects.get(content_type__app_label="permissions",
                                                 codename="maintain_users"))
    person.groups.add(group)

    sync_user(person, ["Keyfax.ScriptAuthor"], [], [Element.ADMIN_TOOL])

    person = type(person).objects.get(pk=person.pk)
    assert not person.has_perm("permissions.maintain_users")
    assert not person.groups.exists()


def test_a_failure_in_the_middle_leaves_the_previous_permissions(person, monkeypatch):
    sync_user(person, ["Keyfax.Admin"], [], BOTH)
    events = AuditEvent.objects.count()

    def fail(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(EntraGrant.objects, "bulk_create", fail)
    with pytest.raises(DatabaseError), transaction.atomic():  # the sign-in's transaction
        sync_user(person, ["Keyfax.Staff"], [], BOTH)

    assert held(person) == {"admin_tool": ADMIN_TOOL_ALL, "web_staff": set()}
    assert AuditEvent.objects.count() == events


def _mappings(count: int) -> tuple[list[str], list[str]]:
    """``count`` mappings, half roles and half groups, each granting catalogue permissions."""
    codes = sorted(ADMIN_TOOL_ALL | WEB_STAFF_ALL)
    roles, groups = [], []
    for index in range(count):
        if index % 2 == 0:
            value = f"Keyfax.Bench{index}"
            roles.append(value)
            RoleMappingFactory(value=value, permissions=[codes[index % len(codes)]])
        else:
            value = str(uuid.uuid4())
            groups.append(value)
            RoleMappingFactory(kind="group", value=value, permissions=[codes[index % len(codes)]])
    return roles, groups


def _warm_caches() -> None:
    ContentType.objects.clear_cache()
    ContentType.objects.get_by_natural_key("scripts", "scriptset")
    ContentType.objects.get_for_model(AuditEvent)


def sync_queries(count: int) -> int:
    """Queries of a first sync (everything added) of both elements for ``count`` mappings."""
    roles, groups = _mappings(count)
    repairs = ScriptSetFactory(slug="repairs", name="Repairs")
    extra = RoleMappingFactory(value=f"Keyfax.Extra{count}", permissions=["run_repair_diagnostics"],
                               grants_staff=True)
    extra.script_set_grants.create(script_set=repairs, permission=Permission.objects.get(
        content_type__app_label="scripts", codename="edit_scripts"))
    user = EntraIdentityFactory().user
    _warm_caches()
    with CaptureQueriesContext(connection) as queries:
        sync_user(user, [*roles, extra.value], groups, BOTH)
    assert held(user)["admin_tool"] and held(user)["web_staff"]
    return len(queries)


def test_sync_queries_are_few_and_constant_in_the_number_of_roles():
    one, many = sync_queries(1), sync_queries(200)
    assert one == many
    assert many <= 10


def portal_queries(client, count: int, path: str) -> int:
    roles, groups = _mappings(count)
    identity = EntraIdentityFactory(roles=roles, groups=groups)
    sync_user(identity.user, roles, groups, BOTH)
    entra_session(client, identity.user)
    client.get("/")  # once-per-process start-up work is not the page's
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ["/admin-tools/", "/staff/"])
def test_portal_page_queries_are_constant_in_the_number_of_roles(client, settings, path):
    point_site_at(settings, "https://login.microsoftonline.com",
                  mode="authentication_and_permissions")
    one = portal_queries(client, 1, path)
    many = portal_queries(client, 200, path)
    assert one == many
    assert many <= 6


# --- Django groups shared with what is not being synced (issue 10) -----------------------


def catalogue_permission(codename: str, app_label: str = "permissions") -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def group_carrying(name: str, *permissions: Permission) -> Group:
    group = Group.objects.create(name=name)
    group.permissions.add(*permissions)
    return group


def last_sync() -> dict:
    return AuditEvent.objects.filter(action="permissions_synced").latest("id").detail


def fresh(user):
    return type(user).objects.get(pk=user.pk)  # no cached permissions


def test_a_group_shared_with_another_element_is_kept_and_the_conflict_reported(person):
    """Syncing only the Administration Tool (Web Staff in `authentication` mode) never takes
    away a Web Staff permission: the shared group stays, and the event says why the person
    still holds an Administration Tool permission Entra did not grant."""
    shared = group_carrying("Shared", catalogue_permission("maintain_users"),
                            catalogue_permission("run_repair_diagnostics"))
    person.groups.add(shared)

    sync_user(person, ["Keyfax.ScriptAuthor"], [], [Element.ADMIN_TOOL])

    person = fresh(person)
    assert list(person.groups.all()) == [shared]
    assert person.has_perm("permissions.run_repair_diagnostics")
    assert person.has_perm("permissions.edit_scripts")
    detail = last_sync()
    assert detail["group_conflicts"] == [{"group": "Shared", "id": shared.pk,
                                          "keeps": ["maintain_users"],
                                          "because": ["run_repair_diagnostics"]}]
    assert "groups_left" not in detail
    admin_tool = detail["elements"]["admin_tool"]
    assert admin_tool["before"] == ["maintain_users"]
    assert admin_tool["after"] == ["edit_scripts", "maintain_users"]  # what they now hold
    assert admin_tool["removed"] == []
    assert set(detail["elements"]) == {"admin_tool"}


def test_a_group_carrying_only_synced_elements_permissions_is_left_and_the_event_says_so(
        person):
    only_synced = group_carrying(
        "Old admins", catalogue_permission("maintain_users"), catalogue_permission("edit_scripts"),
        catalogue_permission("run_enquiries_diagnostics"))
    unrelated = group_carrying("Authors", catalogue_permission("edit_scripts"))  # all wanted
    person.groups.add(only_synced, unrelated)

    sync_user(person, ["Keyfax.ScriptAuthor", "Keyfax.Staff.Repairs"], [], BOTH)

    person = fresh(person)
    assert list(person.groups.all()) == [unrelated]
    assert not person.has_perm("permissions.maintain_users")
    assert not person.has_perm("permissions.run_enquiries_diagnostics")
    assert held(person) == {"admin_tool": {"edit_scripts"}, "web_staff": {"run_repair_diagnostics"}}
    detail = last_sync()
    assert detail["groups_left"] == [{"group": "Old admins", "id": only_synced.pk,
                                      "removed": ["maintain_users",
                                                  "run_enquiries_diagnostics"]}]
    assert "group_conflicts" not in detail
    assert detail["elements"]["admin_tool"]["removed"] == ["maintain_users"]
    assert detail["elements"]["web_staff"]["removed"] == ["run_enquiries_diagnostics"]


def test_a_group_carrying_a_non_catalogue_permission_is_kept_and_reported(person):
    mixed = group_carrying("Helpdesk", catalogue_permission("maintain_users"),
                           catalogue_permission("view_group", "auth"))
    person.groups.add(mixed)

    sync_user(person, ["Keyfax.ScriptAuthor", "Keyfax.Staff"], [], BOTH)

    person = fresh(person)
    assert list(person.groups.all()) == [mixed]
    assert person.has_perm("auth.view_group")
    assert last_sync()["group_conflicts"] == [{"group": "Helpdesk", "id": mixed.pk,
                                               "keeps": ["maintain_users"],
                                               "because": ["auth.view_group"]}]


def test_a_groups_per_script_set_permissions_count_as_its_permissions(person):
    """Per-Script-Set grants (django-guardian) are a group's permissions too: one Entra does
    not give makes the person leave a group carrying only that, and a permission on any other
    object keeps the group (it would be lost with the membership)."""
    repairs = ScriptSetFactory(slug="repairs", name="Repairs")
    edit_on_set = catalogue_permission("edit_scripts", "scripts")
    only_set = Group.objects.create(name="Repairs authors")
    GroupObjectPermission.objects.assign_perm(edit_on_set, only_set, repairs)
    with_object = group_carrying("Owners", catalogue_permission("view_reports"))
    GroupObjectPermission.objects.assign_perm(catalogue_permission("change_group", "auth"),
                                              with_object, only_set)
    person.groups.add(only_set, with_object)

    sync_user(person, ["Keyfax.ScriptAuthor"], [], [Element.ADMIN_TOOL])

    assert list(fresh(person).groups.all()) == [with_object]
    assert not fresh(person).has_perm("scripts.edit_scripts", repairs)
    detail = last_sync()
    assert detail["groups_left"] == [{"group": "Repairs authors", "id": only_set.pk,
                                      "removed": [f"edit_scripts@script_set:{repairs.pk}"]}]
    assert detail["group_conflicts"] == [{
        "group": "Owners", "id": with_object.pk, "keeps": ["view_reports"],
        "because": [f"auth.change_group@group:{only_set.pk}"]}]
    assert f"edit_scripts@script_set:{repairs.pk}" in detail["elements"]["admin_tool"]["removed"]


def test_group_conflicts_lists_what_a_kept_group_still_grants(person, settings):
    """The read the User Maintenance page can use: the same conflicts as the last sync, for
    the elements Entra owns for this person, in a constant number of queries."""
    point_site_at(settings, "https://login.microsoftonline.com",
                  mode="authentication_and_permissions")
    settings.KEYFAX_SSO_WEB_STAFF = "authentication"
    shared = group_carrying("Shared", catalogue_permission("maintain_users"),
                            catalogue_permission("view_reports"),
                            catalogue_permission("run_repair_diagnostics"))
    person.groups.add(shared)
    local = LocalUserFactory()
    local.groups.add(shared)
    sync_user(person, ["Keyfax.ScriptAuthor"], [], [Element.ADMIN_TOOL])

    with CaptureQueriesContext(connection) as queries:
        found = sync.group_conflicts(person, [Element.ADMIN_TOOL])
    assert found == [{"group": "Shared", "id": shared.pk,
                      "keeps": ["maintain_users", "view_reports"],
                      "because": ["run_repair_diagnostics"]}]
    assert found == last_sync()["group_conflicts"]
    assert len(queries) <= 3
    assert sync.group_conflicts(person, [Element.WEB_STAFF]) == []  # Keyfax manages it
    assert sync.group_conflicts(local, list(Element)) == []  # a break-glass account
    settings.KEYFAX_SSO_ADMIN_TOOL = "authentication"
    assert sync.group_conflicts(person, [Element.ADMIN_TOOL]) == []


def test_group_conflicts_counts_every_element_entra_owns(person, settings):
    """Both elements locked: a permission of the other element that Entra grants is no reason
    to keep a group, so a group joined behind the sync's back is shown with nothing in
    ``because`` (the next sign-in leaves it), and only for the element it leaks into."""
    point_site_at(settings, "https://login.microsoftonline.com",
                  mode="authentication_and_permissions")
    sync_user(person, ["Keyfax.ScriptAuthor", "Keyfax.Staff.Repairs"], [], BOTH)
    joined_later = group_carrying("Joined later", catalogue_permission("maintain_users"),
                                  catalogue_permission("run_repair_diagnostics"))
    person.groups.add(joined_later)

    assert sync.group_conflicts(person, [Element.ADMIN_TOOL]) == [{
        "group": "Joined later", "id": joined_later.pk, "keeps": ["maintain_users"],
        "because": []}]
    assert sync.group_conflicts(person, [Element.WEB_STAFF]) == []

    sync_user(person, ["Keyfax.ScriptAuthor", "Keyfax.Staff.Repairs"], [], BOTH)
    assert not person.groups.exists()
    assert sync.group_conflicts(person, list(Element)) == []


def test_sync_queries_stay_constant_in_the_number_of_django_groups():
    """Groups left and groups kept cost the same queries for 1 or 40 of each."""
    def queries(count: int) -> tuple[int, dict]:
        user = EntraIdentityFactory().user
        for index in range(count):
            left = group_carrying(f"left-{count}-{index}", catalogue_permission("maintain_users"))
            kept = group_carrying(f"kept-{count}-{index}", catalogue_permission("view_reports"),
                                  catalogue_permission("run_repair_diagnostics"))
            user.groups.add(left, kept)
        _warm_caches()
        with CaptureQueriesContext(connection) as captured:
            sync_user(user, ["Keyfax.ScriptAuthor"], [], [Element.ADMIN_TOOL])
        return len(captured), last_sync()

    (one, few), (many, lots) = queries(1), queries(40)
    assert one == many
    assert (len(few["groups_left"]), len(few["group_conflicts"])) == (1, 1)
    assert (len(lots["groups_left"]), len(lots["group_conflicts"])) == (40, 40)
