"""Entra's Group requests against /scim/v2/Groups, with the answers Entra expects, and what a
membership change does at once when the group has a role mapping.

The request shapes are scim-requests-example.md's step 7 and Microsoft's two PATCH dialects:
aadOptscim062020 on (``members[value eq "…"]`` paths) and off (a ``value`` list).
"""

from __future__ import annotations

import uuid

import pytest

from accounts.models import User
from audit.models import AuditEvent
from scim.models import ScimGroup, ScimGroupMember
from tests.factories import RoleMappingFactory
from tests.permission_helpers import held
from tests.scim_helpers import SCIM_JSON, op, patch

pytestmark = pytest.mark.django_db

GROUP_OID = "5e8c2a1f-9b3d-4f6e-a7c0-1d2e3f4a5b6c"  # the Entra group's object id
PERMS = "authentication_and_permissions"


@pytest.fixture
def people(scim_api) -> dict[str, str]:
    """Two provisioned people: their SCIM ids by first name."""
    return {
        "priya": scim_api.create_user(str(uuid.uuid4()), "priya.shah@riverside-homes.example",
                                      given="Priya", family="Shah")["id"],
        "tomasz": scim_api.create_user(str(uuid.uuid4()), "tomasz.nowak@riverside-homes.example",
                                       given="Tomasz", family="Nowak")["id"],
    }


def member_ids(scim_api, group_id: str) -> list[str]:
    reply = scim_api.get(f"/Groups/{group_id}")
    assert reply.status == 200, reply
    return sorted(member["value"] for member in reply.body.get("members", []))


def user_of(scim_id: str) -> User:
    return User.objects.get(scim_record__scim_id=scim_id)


def add(*ids: str) -> dict:
    return patch(op("Add", "members", [{"$ref": None, "value": i} for i in ids]))


# --- the requests -------------------------------------------------------------------------


def test_create_with_external_id_and_no_members(scim_api):
    reply = scim_api.post("/Groups", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Repairs team", "externalId": GROUP_OID, "members": []})

    assert reply.status == 201, reply
    assert reply.content_type.startswith(SCIM_JSON)
    assert (reply.body["displayName"], reply.body["externalId"]) == ("Repairs team", GROUP_OID)
    assert "members" not in reply.body
    stored = ScimGroup.objects.get(pk=reply.body["id"])
    assert (stored.display_name, stored.external_id) == ("Repairs team", GROUP_OID)
    assert not ScimGroupMember.objects.exists()


def test_add_members_answers_204_and_the_group_shows_them(scim_api, people):
    group = scim_api.create_group("Repairs team", GROUP_OID)

    reply = scim_api.patch(f"/Groups/{group['id']}", add(people["priya"], people["tomasz"]))

    assert reply.status == 204, reply
    assert reply.content == b""
    assert member_ids(scim_api, group["id"]) == sorted(people.values())
    found = scim_api.get(f"/Users/{people['priya']}").body
    assert [g["value"] for g in found["groups"]] == [group["id"]]


def test_remove_by_a_member_filter_path_aad_opt_scim_062020(scim_api, people):
    group = scim_api.create_group("Repairs team", GROUP_OID, list(people.values()))

    reply = scim_api.patch(f"/Groups/{group['id']}", patch(
        op("Remove", f'members[value eq "{people["priya"]}"]')))

    assert reply.status == 204, reply
    assert member_ids(scim_api, group["id"]) == [people["tomasz"]]


def test_remove_by_a_value_list_legacy(scim_api, people):
    group = scim_api.create_group("Repairs team", GROUP_OID, list(people.values()))

    reply = scim_api.patch(f"/Groups/{group['id']}", patch(
        op("Remove", "members", [{"value": people["tomasz"]}])))

    assert reply.status == 204, reply
    assert member_ids(scim_api, group["id"]) == [people["priya"]]


def test_replace_members_sets_exactly_those(scim_api, people):
    group = scim_api.create_group("Repairs team", GROUP_OID, [people["priya"]])

    reply = scim_api.patch(f"/Groups/{group['id']}", patch(
        op("Replace", "members", [{"value": people["tomasz"]}])))

    assert reply.status == 204, reply
    assert member_ids(scim_api, group["id"]) == [people["tomasz"]]


def test_filter_by_display_name_without_members(scim_api, people):
    wanted = scim_api.create_group("Repairs team", GROUP_OID, [people["priya"]])
    scim_api.create_group("Enquiries team", str(uuid.uuid4()), [people["tomasz"]])

    full = scim_api.search("Groups", 'displayName eq "Repairs team"')
    lean = scim_api.search("Groups", 'displayName eq "Repairs team"',
                           excludedAttributes="members")

    assert full.status == lean.status == 200
    assert [g["id"] for g in full.body["Resources"]] == [wanted["id"]]
    assert [m["value"] for m in full.body["Resources"][0]["members"]] == [people["priya"]]
    assert [g["id"] for g in lean.body["Resources"]] == [wanted["id"]]
    assert lean.body["totalResults"] == 1
    assert "members" not in lean.body["Resources"][0]
    assert lean.body["Resources"][0]["displayName"] == "Repairs team"


def test_delete_a_group_answers_204_and_keeps_its_members_accounts(scim_api, people):
    group = scim_api.create_group("Repairs team", GROUP_OID, list(people.values()))

    reply = scim_api.delete(f"/Groups/{group['id']}")

    assert reply.status == 204, reply
    assert scim_api.get(f"/Groups/{group['id']}").status == 404
    assert not ScimGroupMember.objects.exists()
    assert User.objects.filter(is_active=True).count() == 2


# --- a group with a role mapping -------------------------------------------------------------


@pytest.fixture
def mapped_group(settings):
    """Both elements take permissions from Entra; the group maps to view_reports and (in
    vain, for SCIM) to is_staff."""
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = PERMS
    RoleMappingFactory(kind="group", value=GROUP_OID, permissions=["view_reports"],
                       grants_staff=True, grants_superuser=True)


def test_adding_a_member_grants_the_mapping_at_once_and_removing_takes_it(
        scim_api, people, mapped_group):
    group = scim_api.create_group("Report readers", GROUP_OID)
    priya = user_of(people["priya"])
    assert "view_reports" not in held(priya)["admin_tool"]

    assert scim_api.patch(f"/Groups/{group['id']}", add(people["priya"])).status == 204

    priya.refresh_from_db()
    assert "view_reports" in held(priya)["admin_tool"]
    assert (priya.is_staff, priya.is_superuser) == (False, False)  # never from SCIM
    assert "view_reports" not in held(user_of(people["tomasz"]))["admin_tool"]

    removed = scim_api.patch(f"/Groups/{group['id']}", patch(
        op("Remove", f'members[value eq "{people["priya"]}"]')))

    assert removed.status == 204
    priya.refresh_from_db()
    assert "view_reports" not in held(priya)["admin_tool"]
    assert not priya.is_staff


def test_creating_a_mapped_group_with_members_grants_at_once(scim_api, people, mapped_group):
    scim_api.create_group("Report readers", GROUP_OID, [people["tomasz"]])

    tomasz = user_of(people["tomasz"])
    assert "view_reports" in held(tomasz)["admin_tool"]
    assert not tomasz.is_staff
    assert "view_reports" not in held(user_of(people["priya"]))["admin_tool"]


def test_without_permissions_mode_a_mapped_group_grants_nothing(scim_api, people, settings):
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = "authentication"
    RoleMappingFactory(kind="group", value=GROUP_OID, permissions=["view_reports"])

    scim_api.create_group("Report readers", GROUP_OID, [people["priya"]])

    assert held(user_of(people["priya"])) == {"admin_tool": set(), "web_staff": set()}
    assert not AuditEvent.objects.filter(action="permissions_synced").exists()


# --- the audit log ---------------------------------------------------------------------------


def new_events(before: int) -> list[tuple[str, str]]:
    return [(e.action, e.actor_kind) for e in AuditEvent.objects.order_by("id")[before:]]


def test_a_group_create_or_change_is_one_scim_event(scim_api, people):
    before = AuditEvent.objects.count()
    group = scim_api.create_group("Repairs team", GROUP_OID)

    assert new_events(before) == [("scim_change", "scim")]
    created = AuditEvent.objects.latest("id")
    assert created.detail["resource"] == "Group" and created.detail["change"] == "created"
    assert created.detail["credential"] == scim_api.token_name

    before = AuditEvent.objects.count()
    scim_api.patch(f"/Groups/{group['id']}", add(people["priya"]))

    assert new_events(before) == [("scim_change", "scim")]
    assert AuditEvent.objects.latest("id").detail["added"] == 1


def test_a_mapped_group_change_adds_one_permissions_synced_event_per_person(
        scim_api, people, mapped_group):
    group = scim_api.create_group("Report readers", GROUP_OID)
    before = AuditEvent.objects.count()

    scim_api.patch(f"/Groups/{group['id']}", add(people["priya"], people["tomasz"]))

    events = new_events(before)
    assert events.count(("scim_change", "scim")) == 1
    assert events.count(("permissions_synced", "scim")) == 2
    assert len(events) == 3
    synced = AuditEvent.objects.filter(action="permissions_synced")
    assert {e.detail["credential"] for e in synced} == {scim_api.token_name}
    assert {e.subject for e in synced} == {f"user:{user_of(i).pk}" for i in people.values()}
