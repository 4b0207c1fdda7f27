"""Every User request shape Microsoft documents for Entra's provisioning service, replayed
against /scim/v2/ with the answer Entra expects (/work/shared/entra/scim-requests-example.md).

The requests go through Django's test client (every middleware, the bearer-token view,
scim2-server's handler over the Django storage); the tests check the answer and what it did
to the Keyfax account and the audit log. Groups are in tests/test_scim_entra_groups.py.
"""

from __future__ import annotations

import uuid

import pytest
from django.test import RequestFactory

from accounts.models import User
from accounts.pipeline import SignInContext
from accounts.sso_config import sso_config
from accounts.steps import find_person, provision_or_update_user
from audit.models import AuditEvent
from tests.factories import grant
from tests.permission_helpers import held
from tests.scim_helpers import LIST_SCHEMA, SCIM_JSON, USER_SCHEMA, op, patch, user_body
from tests.tokens import TENANT_ID, entra_claims

pytestmark = pytest.mark.django_db

UPN = "priya.shah@riverside-homes.example"
OID = "3f5d8a2b-7c1e-4b9a-8d6f-2e4c6a8b0d1f"  # the create example's externalId


def account(oid: str = OID) -> User:
    return User.objects.select_related("entra_identity").get(entra_identity__object_id=oid)


def scim_events(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor_kind="scim", **filters).order_by("id"))


# --- test connection, look-up, create --------------------------------------------------------


def test_test_connection_answers_an_empty_list_response(scim_api):
    reply = scim_api.search("Users", f'userName eq "{uuid.uuid4()}"')

    assert reply.status == 200, reply
    assert reply.content_type.startswith(SCIM_JSON)
    assert reply.body == {"schemas": [LIST_SCHEMA], "totalResults": 0, "Resources": [],
                          "startIndex": 1, "itemsPerPage": 0}


def test_look_up_before_create_finds_nobody_then_the_created_user(scim_api):
    before = scim_api.search("Users", f'userName eq "{UPN}"')
    created = scim_api.create_user(OID, UPN)
    after = scim_api.search("Users", f'userName eq "{UPN}"')

    assert (before.status, before.body["totalResults"], before.body["Resources"]) == (200, 0, [])
    assert after.body["totalResults"] == 1
    assert after.body["Resources"][0]["id"] == created["id"]


def test_create_makes_a_linked_sso_account_and_ignores_privileges_in_the_body(scim_api):
    body = user_body(OID, UPN, isStaff=True, is_staff=True, is_superuser=True, password="x",
                     roles=[{"value": "Keyfax.Admin", "primary": True}])

    reply = scim_api.post("/Users", body)

    assert reply.status == 201, reply
    assert reply.content_type.startswith(SCIM_JSON)
    resource = reply.body
    assert USER_SCHEMA in resource["schemas"]
    assert resource["id"] == OID  # a linked User's id is its object id
    assert (resource["userName"], resource["externalId"], resource["active"]) == (UPN, OID, True)
    assert resource["meta"]["resourceType"] == "User"
    assert resource["meta"]["location"].endswith(f"/scim/v2/Users/{OID}")
    assert "password" not in resource
    user = account()
    assert user.username == UPN
    assert str(user.entra_identity.object_id) == OID
    assert str(user.entra_identity.tenant_id) == TENANT_ID
    assert (user.first_name, user.last_name, user.email) == ("Priya", "Shah", UPN)
    assert user.login_mode == "sso"
    assert not user.has_usable_password()
    assert (user.is_active, user.is_staff, user.is_superuser) == (True, False, False)
    assert held(user) == {"admin_tool": set(), "web_staff": set()}
    assert user.groups.count() == 0


def test_create_with_an_upper_case_object_id_links_the_lower_case_one(scim_api):
    resource = scim_api.create_user(OID.upper(), UPN)

    assert resource["id"] == OID
    assert account(OID).username == UPN


# --- updates as Entra sends them ---------------------------------------------------------------


@pytest.fixture
def priya(scim_api) -> str:
    """Priya, provisioned; her SCIM id."""
    return scim_api.create_user(OID, UPN)["id"]


def test_replace_capitalised_changes_the_family_name(scim_api, priya):
    reply = scim_api.patch(f"/Users/{priya}",
                           patch(op("Replace", "name.familyName", "Shah-Jones")))

    assert reply.status == 200, reply
    assert reply.body["name"]["familyName"] == "Shah-Jones"
    assert account().last_name == "Shah-Jones"
    assert scim_api.get(f"/Users/{priya}").body["name"]["familyName"] == "Shah-Jones"


@pytest.mark.parametrize(("sent", "active"), [("False", False), ("false", False),
                                              (False, False), ("True", True)])
def test_booleans_as_strings_are_read_as_booleans(scim_api, priya, sent, active):
    if active:
        scim_api.patch(f"/Users/{priya}", patch(op("Replace", "active", False)))

    reply = scim_api.patch(f"/Users/{priya}", patch(op("Replace", "active", sent)))

    assert reply.status == 200, reply
    assert reply.body["active"] is active
    assert account().is_active is active


def test_path_less_replace_of_dotted_attributes_changes_them_all(scim_api, priya):
    reply = scim_api.patch(f"/Users/{priya}", patch(op(
        "Replace", value={"name.familyName": "Jones", "name.givenName": "Pri", "active": False})))

    assert reply.status == 200, reply
    user = account()
    assert (user.first_name, user.last_name, user.is_active) == ("Pri", "Jones", False)
    assert reply.body["name"]["familyName"] == "Jones" and reply.body["active"] is False


def test_path_less_replace_of_a_nested_name_changes_it(scim_api, priya):
    reply = scim_api.patch(f"/Users/{priya}", patch(op(
        "replace", value={"name": {"givenName": "Priyanka", "familyName": "Shah-Jones"},
                          "active": "False"})))

    assert reply.status == 200, reply
    user = account()
    assert (user.first_name, user.last_name, user.is_active) == ("Priyanka", "Shah-Jones", False)


def test_replace_the_work_email_by_its_filter_path(scim_api, priya):
    reply = scim_api.patch(f"/Users/{priya}", patch(
        op("Replace", 'emails[type eq "work"].value', "priya.jones@riverside-homes.example")))

    assert reply.status == 200, reply
    assert reply.body["emails"] == [{"value": "priya.jones@riverside-homes.example",
                                     "type": "work", "primary": True}]
    user = account()
    assert user.email == "priya.jones@riverside-homes.example"
    assert user.entra_identity.email == "priya.jones@riverside-homes.example"


def test_an_add_of_the_work_email_for_a_user_without_one_creates_it(scim_api):
    body = user_body(OID, UPN)
    del body["emails"]
    uid = scim_api.post("/Users", body).body["id"]
    assert account().email == ""

    reply = scim_api.patch(f"/Users/{uid}", patch(
        op("Add", 'emails[type eq "work"].value', "priya@riverside-homes.example")))

    assert reply.status == 200, reply
    assert account().email == "priya@riverside-homes.example"


# --- filters --------------------------------------------------------------------------------


FILTERS = {
    "userName, other case": lambda r: f'userName eq "{r["userName"].upper()}"',
    "userName, exact": lambda r: f'userName eq "{r["userName"]}"',
    "externalId": lambda r: f'externalId eq "{r["externalId"]}"',
    "id": lambda r: f'id eq "{r["id"]}"',
    "work email": lambda r: f'emails[type eq "work"].value eq "{r["emails"][0]["value"]}"',
    "and of two": lambda r: (f'userName eq "{r["userName"]}" and '
                             f'externalId eq "{r["externalId"]}"'),
}


@pytest.mark.parametrize("build", FILTERS.values(), ids=FILTERS.keys())
def test_each_filter_entra_sends_finds_exactly_that_user(scim_api, build):
    scim_api.create_user(str(uuid.uuid4()), "tomasz.nowak@riverside-homes.example",
                         given="Tomasz", family="Nowak")
    wanted = scim_api.create_user(OID, UPN)

    reply = scim_api.search("Users", build(wanted))

    assert reply.status == 200, reply
    assert reply.body["totalResults"] == 1, reply
    assert [r["id"] for r in reply.body["Resources"]] == [wanted["id"]]


def test_an_and_whose_halves_name_two_people_finds_nobody(scim_api):
    other = scim_api.create_user(str(uuid.uuid4()), "tomasz.nowak@riverside-homes.example")
    scim_api.create_user(OID, UPN)

    reply = scim_api.search("Users", f'userName eq "{UPN}" and '
                                     f'externalId eq "{other["externalId"]}"')

    assert (reply.status, reply.body["totalResults"]) == (200, 0)


# --- the whole cycle ------------------------------------------------------------------------


def test_create_update_disable_enable_delete_and_restore(scim_api):
    uid = scim_api.create_user(OID, UPN)["id"]
    user = account()
    assert scim_api.patch(f"/Users/{uid}", patch(
        op("Replace", "name.familyName", "Shah-Jones"))).status == 200

    disabled = scim_api.patch(f"/Users/{uid}", patch(op("Replace", "active", False)))

    assert disabled.status == 200 and disabled.body["active"] is False
    user.refresh_from_db()
    assert not user.is_active and user.last_name == "Shah-Jones"
    [event] = AuditEvent.objects.filter(action="user_disabled", subject=f"user:{user.pk}")
    assert event.actor_kind == "scim"
    assert event.detail["credential"] == scim_api.token_name
    # Entra requires a disabled user to stay readable
    got = scim_api.get(f"/Users/{uid}")
    assert (got.status, got.body["active"], got.body["userName"]) == (200, False, UPN)
    assert scim_api.search("Users", f'externalId eq "{OID}"').body["totalResults"] == 1

    enabled = scim_api.patch(f"/Users/{uid}", patch(op("Replace", "active", "True")))

    assert enabled.status == 200 and enabled.body["active"] is True
    user.refresh_from_db()
    assert user.is_active
    assert AuditEvent.objects.filter(action="user_enabled", actor_kind="scim").count() == 1

    grant(user, "view_reports", "run_repair_diagnostics")
    assert held(user)["admin_tool"] == {"view_reports"}

    deleted = scim_api.delete(f"/Users/{uid}")

    assert deleted.status == 204 and deleted.content == b""
    assert scim_api.get(f"/Users/{uid}").status == 404
    assert scim_api.search("Users", f'externalId eq "{OID}"').body["totalResults"] == 0
    user.refresh_from_db()
    assert user.retired_at is not None and not user.is_active
    assert user.username == UPN  # kept for the audit log
    assert held(user) == {"admin_tool": set(), "web_staff": set()}
    retired = AuditEvent.objects.filter(action="user_disabled", detail__retired=True).get()
    assert retired.actor_kind == "scim"

    taken = scim_api.post("/Users", user_body(str(uuid.uuid4()), UPN))

    assert taken.status == 409, taken
    assert taken.body["scimType"] == "uniqueness"
    assert User.objects.filter(username__iexact=UPN).count() == 1

    restored = scim_api.post("/Users", user_body(OID, UPN))

    assert restored.status == 201, restored
    assert restored.body["id"] == uid and restored.body["active"] is True
    user.refresh_from_db()
    assert user.is_active and user.retired_at is None
    assert User.objects.count() == 1
    assert scim_api.get(f"/Users/{uid}").status == 200


# --- the audit log: one event per write --------------------------------------------------------


def test_every_user_write_is_exactly_one_scim_event(scim_api):
    writes = [
        ("user_created", lambda: scim_api.post("/Users", user_body(OID, UPN)), 201),
        ("user_changed", lambda: scim_api.patch(f"/Users/{OID}", patch(
            op("Replace", "name.familyName", "Shah-Jones"))), 200),
        ("scim_change", lambda: scim_api.patch(f"/Users/{OID}", patch(
            op("Replace", "title", "Repairs lead"))), 200),  # stored in the document only
        ("user_disabled", lambda: scim_api.patch(f"/Users/{OID}", patch(
            op("Replace", "active", False))), 200),
        ("user_enabled", lambda: scim_api.patch(f"/Users/{OID}", patch(
            op("Replace", "active", True))), 200),
        ("user_disabled", lambda: scim_api.delete(f"/Users/{OID}"), 204),
    ]
    for action, write, status in writes:
        before = AuditEvent.objects.count()
        reply = write()
        assert reply.status == status, (action, reply)
        new = list(AuditEvent.objects.order_by("id")[before:])
        assert [(e.action, e.actor_kind) for e in new] == [(action, "scim")], action
        assert new[0].detail["credential"] == scim_api.token_name


def test_a_patch_that_changes_nothing_writes_no_event(scim_api, priya):
    before = AuditEvent.objects.count()

    reply = scim_api.patch(f"/Users/{priya}", patch(op("Replace", "name.familyName", "Shah")))

    assert reply.status == 200
    assert AuditEvent.objects.count() == before


# --- the person's sign-in finds the provisioned account -------------------------------------


def signed_in(oid: str) -> SignInContext:
    """The sign-in pipeline's person steps, run with an ID token's claims for ``oid``."""
    claims = entra_claims(f"https://login.microsoftonline.com/{TENANT_ID}/v2.0", oid=oid,
                          preferred_username=UPN, email=UPN, roles=[])
    context = SignInContext(request=RequestFactory().get("/"), config=sso_config(),
                            backend=None, claims=claims)
    find_person(context)
    provision_or_update_user(context)
    return context


def test_the_persons_sign_in_finds_the_provisioned_account(scim_api):
    scim_api.create_user(OID.upper(), UPN)
    provisioned = account()

    context = signed_in(OID)

    assert context.created is False
    assert context.user.pk == provisioned.pk
    assert User.objects.count() == 1
    assert not AuditEvent.objects.filter(action="user_created", actor_kind="user").exists()


def test_a_sign_in_by_someone_else_does_not_find_it(scim_api):
    scim_api.create_user(OID, UPN)

    context = signed_in(str(uuid.uuid4()))  # same UPN and email, another person

    assert context.created is True
    assert context.user.pk != account().pk
    assert context.user.username != UPN  # never merged by name
