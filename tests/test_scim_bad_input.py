"""Bad requests to /scim/v2/: each answered with a SCIM error (the right status and
``scimType``, ``application/scim+json``, never a 5xx), and nothing changed by it.

``snapshot()`` is every row SCIM could touch (accounts, links, SCIM documents, groups and
members, tokens, audit events other than the refusals themselves); each refused request must
leave it equal.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import EntraIdentity, User
from audit.models import AuditEvent
from scim import tokens
from scim.models import ScimGroup, ScimGroupMember, ScimToken, ScimUserRecord
from tests.factories import LocalUserFactory
from tests.scim_helpers import (
    GROUP_SCHEMA,
    PATCH_SCHEMA,
    USER_SCHEMA,
    Reply,
    ScimApi,
    assert_scim_error,
    group_body,
    op,
    patch,
    user_body,
)

pytestmark = pytest.mark.django_db

PRIYA = "priya.shah@riverside-homes.example"
TOMASZ = "tomasz.nowak@riverside-homes.example"
MEBIBYTE = 1024 * 1024


@dataclass
class World:
    api: ScimApi
    client: Client
    priya: str  # SCIM id (= object id) of a linked, provisioned person in ``group``
    tomasz: str  # another one, in no group
    group: str
    local: User  # a local password account, ``bob.local``
    superuser: User
    revoked: str  # a revoked token

    def user(self, path: str, body) -> Reply:
        return self.api.patch(f"/Users/{path}", body)


@pytest.fixture
def world(scim_api, client) -> World:
    priya = scim_api.create_user(str(uuid.uuid4()), PRIYA)["id"]
    tomasz = scim_api.create_user(str(uuid.uuid4()), TOMASZ, given="Tomasz", family="Nowak")["id"]
    group = scim_api.create_group("Repairs team", str(uuid.uuid4()), [priya])["id"]
    revoked = tokens.create("retired-token")
    tokens.revoke("retired-token")
    return World(scim_api, client, priya, tomasz, group,
                 LocalUserFactory(username="bob.local"),
                 LocalUserFactory(username="it.boss", is_staff=True, is_superuser=True),
                 revoked)


def snapshot() -> dict:
    return {
        "users": sorted(User.objects.values_list(
            "pk", "username", "first_name", "last_name", "email", "is_active", "is_staff",
            "is_superuser", "password", "login_mode", "retired_at")),
        "identities": sorted(EntraIdentity.objects.values_list("user_id", "object_id", "email")),
        "records": sorted(ScimUserRecord.objects.values_list(
            "user_id", "scim_id", "external_id", "document", "version")),
        "groups": sorted(ScimGroup.objects.values_list(
            "id", "display_name", "external_id", "document", "version")),
        "members": sorted(ScimGroupMember.objects.values_list("group_id", "user_id")),
        "tokens": sorted(ScimToken.objects.values_list("name", "revoked_at")),
        "events": AuditEvent.objects.exclude(action="access_refused").count(),
    }


def ten_thousand_members(w: World) -> Reply:
    return w.api.patch(f"/Groups/{w.group}", patch(
        op("Add", "members", [{"value": str(uuid.uuid4())} for _ in range(10_000)])))


def session_cookie_alone(w: World) -> Reply:
    w.client.force_login(w.superuser)
    return w.api.get("/Users", token=None)


NEW = "new.person@riverside-homes.example"
Send = Callable[[World], Reply]
CASES: list[tuple[str, Send, int, str | None]] = [
    # --- authentication
    ("no token", lambda w: w.api.post("/Users", user_body(str(uuid.uuid4()), NEW), token=None),
     401, None),
    ("basic auth", lambda w: w.api.get("/Users", authorization="Basic ZW50cmE6c2VjcmV0"),
     401, None),
    ("wrong token", lambda w: w.api.delete(f"/Users/{w.priya}", token="kfxscim_not-a-token"),
     401, None),
    ("revoked token", lambda w: w.api.delete(f"/Users/{w.priya}", token=w.revoked), 401, None),
    ("empty bearer", lambda w: w.api.get("/Users", authorization="Bearer "), 401, None),
    ("token in the query string as well as the header", lambda w: w.api.delete(
        f"/Users/{w.priya}", query={"access_token": w.api.token}), 401, None),
    ("token in the query string alone", lambda w: w.api.get(
        "/Users", query={"token": w.api.token}, token=None), 401, None),
    ("session cookie alone", session_cookie_alone, 401, None),
    # --- the body
    ("bad JSON", lambda w: w.api.post("/Users", raw=b'{"userName": '), 400, "invalidSyntax"),
    ("empty body", lambda w: w.api.post("/Users", raw=b""), 400, "invalidSyntax"),
    ("a JSON array", lambda w: w.api.post("/Users", raw=b"[]"), 400, "invalidSyntax"),
    ("invalid UTF-8", lambda w: w.api.post("/Users", raw=(
        b'{"schemas": ["' + USER_SCHEMA.encode() + b'"], "userName": "\xff\xfe@x"}')),
     400, "invalidSyntax"),
    ("deeply nested JSON", lambda w: w.api.post("/Users", raw=(
        b'{"userName": "x", "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")),
     400, "invalidSyntax"),
    ("text/plain POST", lambda w: w.api.post("/Users", user_body(str(uuid.uuid4()), NEW),
                                             content_type="text/plain"), 415, None),
    ("text/plain PATCH", lambda w: w.api.patch(f"/Users/{w.priya}", patch(
        op("replace", "active", False)), content_type="text/plain"), 415, None),
    ("body over 1 MiB", lambda w: w.api.post("/Users", user_body(
        str(uuid.uuid4()), NEW, title="x" * MEBIBYTE)), 413, None),
    # --- filters: refused, never "everything"
    ("filter syntax", lambda w: w.api.search("Users", 'userName eq'), 400, "invalidFilter"),
    ("empty filter", lambda w: w.api.search("Users", ""), 400, "invalidFilter"),
    ("unknown attribute", lambda w: w.api.search("Users", 'title eq "x"'),
     400, "invalidFilter"),
    ("unknown operator", lambda w: w.api.search("Users", 'userName sw "a"'),
     400, "invalidFilter"),
    ("gt on userName", lambda w: w.api.search("Users", 'userName gt "a"'),
     400, "invalidFilter"),
    ("pr on userName", lambda w: w.api.search("Users", "userName pr"), 400, "invalidFilter"),
    ("extension attribute", lambda w: w.api.search("Users", (
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"')),
     400, "invalidFilter"),
    ("number for userName", lambda w: w.api.search("Users", "userName eq 42"),
     400, "invalidFilter"),
    ("NUL in a filter", lambda w: w.api.search("Users", 'userName eq "a\u0000b"'),
     400, "invalidFilter"),
    ("filter nested too deep", lambda w: w.api.search(
        "Users", "not (" * 100 + 'userName eq "a"' + ")" * 100), 400, "invalidFilter"),
    ("unknown group attribute", lambda w: w.api.search("Groups", 'owner eq "x"'),
     400, "invalidFilter"),
    ("bad count", lambda w: w.api.get("/Users", query={"count": "many"}), 400, "invalidValue"),
    ("bad startIndex", lambda w: w.api.get("/Users", query={"startIndex": "1.5"}),
     400, "invalidValue"),
    # --- uniqueness
    ("userName taken, other case", lambda w: w.api.post(
        "/Users", user_body(str(uuid.uuid4()), PRIYA.upper())), 409, "uniqueness"),
    ("userName of a local account", lambda w: w.api.post(
        "/Users", user_body(str(uuid.uuid4()), "Bob.Local")), 409, "uniqueness"),
    ("externalId of a linked person", lambda w: w.api.post(
        "/Users", user_body(w.priya, NEW)), 409, "uniqueness"),
    ("externalId of a linked person, upper case", lambda w: w.api.post(
        "/Users", user_body(w.priya.upper(), NEW)), 409, "uniqueness"),
    ("PATCH userName to another's", lambda w: w.user(w.priya, patch(
        op("Replace", "userName", TOMASZ.upper()))), 409, "uniqueness"),
    ("PUT userName of a local account", lambda w: w.api.put(
        f"/Users/{w.priya}", user_body(w.priya, "bob.local")), 409, "uniqueness"),
    # --- mutability
    ("externalId of a linked user", lambda w: w.user(w.priya, patch(
        op("Replace", "externalId", str(uuid.uuid4())))), 400, "mutability"),
    ("externalId to another linked person", lambda w: w.user(w.priya, patch(
        op("Replace", "externalId", w.tomasz))), 400, "mutability"),
    ("id by path", lambda w: w.user(w.priya, patch(op("Replace", "id", str(uuid.uuid4())))),
     400, "mutability"),
    ("id path-less", lambda w: w.user(w.priya, patch(op("Replace", value={
        "id": str(uuid.uuid4())}))), 400, "mutability"),
    ("meta by path", lambda w: w.user(w.priya, patch(op(
        "Replace", "meta.created", "2000-01-01T00:00:00Z"))), 400, "mutability"),
    ("meta path-less", lambda w: w.user(w.priya, patch(op("Replace", value={
        "meta": {"created": "2000-01-01T00:00:00Z"}}))), 400, "mutability"),
    ("remove userName", lambda w: w.user(w.priya, patch(op("Remove", "userName"))),
     400, "mutability"),
    # --- unknown ids
    ("GET unknown id", lambda w: w.api.get(f"/Users/{uuid.uuid4()}"), 404, None),
    ("PATCH unknown id", lambda w: w.user(str(uuid.uuid4()), patch(
        op("Replace", "active", False))), 404, None),
    ("PUT unknown id", lambda w: w.api.put(f"/Users/{uuid.uuid4()}", user_body(
        str(uuid.uuid4()), NEW)), 404, None),
    ("DELETE unknown id", lambda w: w.api.delete(f"/Users/{uuid.uuid4()}"), 404, None),
    ("DELETE id that is no GUID", lambda w: w.api.delete("/Users/1%20or%201=1"), 404, None),
    ("PATCH unknown group", lambda w: w.api.patch(f"/Groups/{uuid.uuid4()}", patch(
        op("Add", "members", [{"value": w.priya}]))), 404, None),
    ("unknown resource type", lambda w: w.api.get("/Widgets"), 404, None),
    ("PATCH the collection", lambda w: w.api.patch("/Users", patch(
        op("Replace", "active", False))), 405, None),
    # --- PATCH operations
    ("unknown op", lambda w: w.user(w.priya, patch(op("frobnicate", "active", False))),
     400, "invalidValue"),
    ("remove without a path", lambda w: w.user(w.priya, patch(op("Remove"))), 400, "noTarget"),
    ("no operations", lambda w: w.user(w.priya, patch()), 400, "invalidValue"),
    ("Operations not a list", lambda w: w.user(w.priya, {
        "schemas": [PATCH_SCHEMA], "Operations": {"op": "Replace"}}), 400, "invalidValue"),
    ("bad path syntax", lambda w: w.user(w.priya, patch(op("Replace", "emails[type eq", "x"))),
     400, "invalidPath"),
    # --- wrong value types and values
    ("active maybe (PATCH)", lambda w: w.user(w.priya, patch(op("Replace", "active", "maybe"))),
     400, "invalidValue"),
    ("active maybe (POST)", lambda w: w.api.post("/Users", user_body(
        str(uuid.uuid4()), NEW, active="maybe")), 400, "invalidValue"),
    ("userName 42 (PATCH)", lambda w: w.user(w.priya, patch(op("Replace", "userName", 42))),
     400, "invalidValue"),
    ("userName 42 (POST)", lambda w: w.api.post("/Users", user_body(str(uuid.uuid4()), 42)),
     400, "invalidValue"),
    ("name as a string", lambda w: w.api.post("/Users", user_body(
        str(uuid.uuid4()), NEW, name="Priya Shah")), 400, "invalidValue"),
    ("externalId as a number", lambda w: w.api.post("/Users", user_body(12345, NEW)),
     400, "invalidValue"),
    ("emails as a string", lambda w: w.user(w.priya, patch(op("Replace", "emails", "a@b"))),
     400, "invalidValue"),
    ("blank userName", lambda w: w.api.post("/Users", user_body(str(uuid.uuid4()), "   ")),
     400, "invalidValue"),
    ("NUL in userName", lambda w: w.api.post("/Users", user_body(str(uuid.uuid4()), "a\u0000b")),
     400, "invalidValue"),
    ("NUL in a name (PATCH)", lambda w: w.user(w.priya, patch(
        op("Replace", "name.familyName", "Sh\u0000ah"))), 400, "invalidValue"),
    ("userName over 150 characters", lambda w: w.api.post("/Users", user_body(
        str(uuid.uuid4()), "a" * 140 + "@example.org")), 400, "invalidValue"),
    # --- one bad operation among good ones: nothing applied
    ("good op then taken userName", lambda w: w.user(w.priya, patch(
        op("Replace", "name.familyName", "Changed"), op("Replace", "active", False),
        op("Replace", "userName", TOMASZ))), 409, "uniqueness"),
    ("good op then bad active", lambda w: w.user(w.priya, patch(
        op("Replace", "name.familyName", "Changed"), op("Replace", "active", "maybe"))),
     400, "invalidValue"),
    ("disable then change externalId", lambda w: w.user(w.priya, patch(
        op("Replace", "active", False), op("Replace", "externalId", str(uuid.uuid4())))),
     400, "mutability"),
    ("disable then remove without path", lambda w: w.user(w.priya, patch(
        op("Replace", "active", False), op("Remove"))), 400, "noTarget"),
    ("good member then unknown member", lambda w: w.api.patch(f"/Groups/{w.group}", patch(
        op("Add", "members", [{"value": w.tomasz}]),
        op("Add", "members", [{"value": str(uuid.uuid4())}]))), 400, "invalidValue"),
    # --- groups
    ("unknown member id", lambda w: w.api.patch(f"/Groups/{w.group}", patch(
        op("Add", "members", [{"value": str(uuid.uuid4())}]))), 400, "invalidValue"),
    ("member id that is no GUID", lambda w: w.api.patch(f"/Groups/{w.group}", patch(
        op("Add", "members", [{"value": "bob.local"}]))), 400, "invalidValue"),
    ("create with an unknown member", lambda w: w.api.post("/Groups", group_body(
        "Enquiries", str(uuid.uuid4()), [w.tomasz, str(uuid.uuid4())])), 400, "invalidValue"),
    ("group without displayName", lambda w: w.api.post("/Groups", {
        "schemas": [GROUP_SCHEMA], "externalId": str(uuid.uuid4())}), 400, "invalidValue"),
    ("displayName over 256 characters", lambda w: w.api.post("/Groups", group_body(
        "x" * 257, str(uuid.uuid4()))), 400, "invalidValue"),
    ("10,000 members in one PATCH", ten_thousand_members, 400, "invalidValue"),
]


@pytest.mark.parametrize(("send", "status", "scim_type"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_a_scim_error_and_changes_nothing(world, send, status, scim_type):
    before = snapshot()

    reply = send(world)

    assert_scim_error(reply, status, scim_type)
    assert snapshot() == before


def test_there_are_at_least_thirty_kinds():
    assert len(CASES) >= 30
    assert len({name for name, *_ in CASES}) == len(CASES)


def test_ten_thousand_members_are_refused_quickly(world):
    started = time.monotonic()

    reply = ten_thousand_members(world)

    assert time.monotonic() - started < 5
    body = assert_scim_error(reply, 400, "invalidValue")
    assert "at most 1000" in body["detail"]


def test_unknown_member_leaves_the_group_as_it_was(world):
    reply = world.api.patch(f"/Groups/{world.group}", patch(
        op("Add", "members", [{"value": world.tomasz}, {"value": str(uuid.uuid4())}])))

    assert_scim_error(reply, 400, "invalidValue")
    got = world.api.get(f"/Groups/{world.group}").body
    assert [m["value"] for m in got["members"]] == [world.priya]


def test_a_refused_username_leaves_the_local_account_untouched(world):
    before = User.objects.filter(pk=world.local.pk).values().get()

    reply = world.api.post("/Users", user_body(str(uuid.uuid4()), "BOB.LOCAL"))

    assert_scim_error(reply, 409, "uniqueness")
    assert User.objects.filter(pk=world.local.pk).values().get() == before
    assert world.local.check_password("correct horse battery staple")
    assert not EntraIdentity.objects.filter(user=world.local).exists()
    assert not ScimUserRecord.objects.filter(user=world.local).exists()


# --- refused tokens: audited, then throttled ------------------------------------------------


REFUSALS = {
    "no token": ({"token": None}, "scim_no_token"),
    "basic": ({"authorization": "Basic ZW50cmE6c2VjcmV0"}, "scim_not_bearer"),
    "wrong": ({"token": "kfxscim_not-a-token"}, "scim_unknown_token"),
    "revoked": (None, "scim_unknown_token"),
    "query string": ({"query": {"access_token": "x"}}, "scim_token_in_url"),
}


@pytest.mark.parametrize(("how", "reason"), REFUSALS.values(), ids=REFUSALS.keys())
def test_each_refused_token_is_audited(world, how, reason):
    reply = world.api.get("/Users", **(how if how is not None else {"token": world.revoked}))

    assert_scim_error(reply, 401)
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="SCIM"'
    [event] = AuditEvent.objects.filter(action="access_refused")
    assert (event.reason, event.outcome) == (reason, "refused")
    assert event.subject == "path:/scim/v2/Users"
    assert world.api.token not in str(event.detail)


def test_after_ten_failures_the_address_is_refused_even_with_a_valid_token(world):
    for attempt in range(10):
        assert world.api.get("/Users", token=f"kfxscim_guess-{attempt}").status == 401

    throttled = world.api.get("/Users")
    spoofed = world.api.get("/Users", headers={"X-Forwarded-For": "203.0.113.7"})
    elsewhere = world.api.get("/Users", environ={"REMOTE_ADDR": "10.20.30.40"})

    assert_scim_error(throttled, 429)
    assert_scim_error(spoofed, 429)  # no trusted proxy: the header is not believed
    assert elsewhere.status == 200  # the throttle is per address
    refused = AuditEvent.objects.filter(action="access_refused")
    assert refused.count() == 10
    assert refused.order_by("id").last().detail["throttled"] is True


# --- accepted but ignored ------------------------------------------------------------------


PRIVILEGED = {
    "isStaff by path": patch(op("Replace", "isStaff", True)),
    "is_superuser by path": patch(op("Add", "is_superuser", True)),
    "password by path": patch(op("Replace", "password", "Pa55word!Pa55word!")),
    "path-less": patch(op("Replace", value={
        "isStaff": True, "is_staff": True, "is_superuser": True, "password": "x",
        "urn:keyfax:params:isStaff": True})),
}


@pytest.mark.parametrize("body", PRIVILEGED.values(), ids=PRIVILEGED.keys())
def test_privileged_attributes_in_a_patch_are_ignored(world, body):
    before = snapshot()

    reply = world.user(world.priya, body)

    assert reply.status == 200, reply
    assert snapshot() == before
    user = User.objects.get(scim_record__scim_id=world.priya)
    assert (user.is_staff, user.is_superuser, user.has_usable_password()) == (
        False, False, False)


def test_privileged_attributes_in_a_create_or_put_are_ignored(world):
    created = world.api.post("/Users", user_body(
        str(uuid.uuid4()), NEW, isStaff=True, is_staff=True, is_superuser=True,
        password="Pa55word!Pa55word!", groups=[{"value": world.group}]))
    replaced = world.api.put(f"/Users/{world.priya}", user_body(
        world.priya, PRIYA, isStaff=True, is_superuser=True, password="x"))

    assert (created.status, replaced.status) == (201, 200), (created, replaced)
    for user in User.objects.filter(username__in=[NEW, PRIYA]):
        assert (user.is_staff, user.is_superuser, user.has_usable_password()) == (
            False, False, False)
    new = User.objects.get(username=NEW)
    assert not ScimGroupMember.objects.filter(user=new).exists()  # groups is read-only


# --- paging --------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "start", "items"), [
    ({"startIndex": 0}, 1, 2), ({"startIndex": -5}, 1, 2), ({"startIndex": 2}, 2, 1),
    ({"startIndex": 50}, 50, 0), ({"count": -1}, 1, 0), ({"count": 0}, 1, 0),
    ({"count": 1}, 1, 1), ({"count": 100_000}, 1, 2), ({"count": "9" * 40}, 1, 2),
])
def test_paging_parameters_are_answered_sensibly(world, query, start, items):
    reply = world.api.get("/Users", query=query)

    assert reply.status == 200, reply
    body = reply.body
    assert (body["totalResults"], body["startIndex"], body["itemsPerPage"]) == (2, start, items)
    assert len(body["Resources"]) == items


def test_a_search_answers_at_most_200_resources(world):
    from tests.factories import EntraUserFactory

    EntraUserFactory.create_batch(201)

    reply = world.api.get("/Users", query={"count": 100_000})

    assert reply.status == 200, reply
    assert (reply.body["totalResults"], reply.body["itemsPerPage"]) == (203, 200)
    assert len(reply.body["Resources"]) == 200
