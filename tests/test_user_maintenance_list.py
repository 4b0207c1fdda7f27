"""User Maintenance list: who may see it, filters, search, sorting, pagination, queries."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from permissions.catalogue import global_permission_rows
from tests.factories import (
    EntraIdentityFactory,
    EntraUserFactory,
    LocalUserFactory,
    MaintainerFactory,
    UserFactory,
    grant,
)

pytestmark = pytest.mark.django_db
URL = "/admin-tools/users/"




@pytest.fixture
def people(maintainer):
    """A mix: Entra-linked, local, disabled, Django staff, Web Staff, User Groups."""
    ann = EntraUserFactory(username="ann.entra", first_name="Ann", last_name="Archer",
                           user_group="Repairs")
    ann.entra_identity.upn = "ann.archer@riverside.example"
    ann.entra_identity.last_sign_in_at = timezone.now()
    ann.entra_identity.save()
    ben = LocalUserFactory(username="ben.local", first_name="Ben", last_name="Baker",
                           user_group="Enquiries")
    grant(ben, "run_repair_diagnostics")
    cat = LocalUserFactory(username="cat.off", first_name="Cat", last_name="Cole",
                           is_active=False)
    dan = LocalUserFactory(username="dan.staff", first_name="Dan", last_name="Dale",
                           is_staff=True, user_group="Repairs")
    eve = LocalUserFactory(username="eve.group", first_name="Eve", last_name="Evans")
    authors = Group.objects.create(name="Authors")
    authors.permissions.add(*global_permission_rows().filter(codename="edit_scripts"))
    eve.groups.add(authors)
    return {u.username: u for u in (maintainer, ann, ben, cat, dan, eve)}


def usernames(response) -> list[str]:
    return re.findall(r'<td data-label="Username"><a href="[^"]+">([^<]+)</a>', response.text)


def test_the_list_shows_every_user_with_their_type(client, people):
    response = client.get(URL)

    assert response.status_code == 200
    assert usernames(response) == ["ann.entra", "ben.local", "cat.off", "dan.staff",
                                   "eve.group", "maint"]
    assert "Entra-linked" in response.text and "Disabled" in response.text
    assert "6 users" in response.text


def test_people_without_maintain_users_get_the_403_page(client, settings):
    settings.KEYFAX_SSO_ADMIN_TOOL = "off"
    client.force_login(MaintainerFactory(keyfax_permissions=["edit_scripts"]))

    response = client.get(URL)

    assert response.status_code == 403
    assert "You do not have permission to see this page" in response.text


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("kind", "expected"), [
    ("administrative", ["dan.staff", "eve.group", "maint"]),
    ("staff", ["ben.local"]),
    ("disabled", ["cat.off"]),
    ("entra", ["ann.entra"]),
    ("local", ["ben.local", "cat.off", "dan.staff", "eve.group", "maint"]),
])
def test_filter_by_type(client, people, kind, expected):
    assert usernames(client.get(URL, {"type": kind})) == expected


@pytest.mark.parametrize(("params", "expected"), [
    ({"name": "ann archer"}, ["ann.entra"]),
    ({"name": "BAKER"}, ["ben.local"]),
    ({"username": "STAFF"}, ["dan.staff"]),
    ({"group": "Repairs"}, ["ann.entra", "dan.staff"]),
    ({"q": "riverside.example"}, ["ann.entra"]),  # the UPN
    ({"q": "enquir"}, ["ben.local"]),  # the User Group
    ({"q": "cole"}, ["cat.off"]),
    ({"group": "Repairs", "type": "local"}, ["dan.staff"]),
    ({"q": "nobody-like-this"}, []),
])
def test_filters_and_search(client, people, params, expected):
    response = client.get(URL, params)
    assert response.status_code == 200
    assert usernames(response) == expected


def test_the_user_group_filter_offers_the_groups_in_use(client, people):
    text = client.get(URL).text
    assert '<option value="Enquiries">Enquiries</option>' in text
    assert '<option value="Repairs">Repairs</option>' in text


@pytest.mark.parametrize(("sort", "expected"), [
    ("username", ["ann.entra", "ben.local", "cat.off", "dan.staff", "eve.group", "maint"]),
    ("-username", ["maint", "eve.group", "dan.staff", "cat.off", "ben.local", "ann.entra"]),
    ("name", ["ann.entra", "ben.local", "cat.off", "dan.staff", "eve.group", "maint"]),
    ("-name", ["maint", "eve.group", "dan.staff", "cat.off", "ben.local", "ann.entra"]),
    ("group", ["cat.off", "eve.group", "maint", "ben.local", "ann.entra", "dan.staff"]),
    ("last_sign_in", ["ann.entra", "maint", "ben.local", "cat.off", "dan.staff", "eve.group"]),
    ("-joined", ["eve.group", "dan.staff", "cat.off", "ben.local", "ann.entra", "maint"]),
])
def test_sorting(client, people, sort, expected):
    for offset, name in enumerate(["maint", "ann.entra", "ben.local", "cat.off", "dan.staff",
                                   "eve.group"]):
        people[name].date_joined = timezone.now() + datetime.timedelta(minutes=offset)
        people[name].save(update_fields=["date_joined"])
    assert usernames(client.get(URL, {"sort": sort})) == expected


def test_sorting_ignores_case(client, maintainer):
    UserFactory(username="Zed")
    UserFactory(username="adam")
    assert usernames(client.get(URL, {"sort": "username"})) == ["adam", "maint", "Zed"]


def test_column_headers_toggle_the_sort_and_say_which_is_active(client, people):
    text = client.get(URL, {"sort": "name"}).text
    assert 'aria-sort="ascending"><a href="?sort=-name">Name</a>' in text
    text = client.get(URL, {"sort": "-name", "type": "local"}).text
    assert 'aria-sort="descending"><a href="?sort=name&amp;type=local">Name</a>' in text
    assert 'aria-sort="none"><a href="?sort=username&amp;type=local">Username</a>' in text


@pytest.mark.parametrize("params", [
    {"sort": "password"}, {"sort": "-"}, {"sort": "username\x00"}, {"page": "abc"},
    {"page": "-1"}, {"page": "\x00"}, {"q": "ann\x00"}, {"name": "\x00"},
    {"username": "x" * 5000}, {"type": "robots"}, {"group": "No such group"},
    {"group": "\x00"},
])
def test_bad_query_strings_get_a_sensible_page(client, people, params):
    response = client.get(URL, params)
    assert response.status_code == 200
    assert len(usernames(response)) == 6  # the bad value is ignored: everyone, page 1


@pytest.fixture
def crowd(maintainer):
    UserFactory.create_batch(119, user_group="Crowd")
    return maintainer


def test_pagination(client, crowd):
    first = client.get(URL)
    assert len(usernames(first)) == 50
    assert "page 1 of 3" in first.text
    third = client.get(URL, {"page": "3"})
    assert len(usernames(third)) == 20
    assert set(usernames(first)).isdisjoint(usernames(third))
    assert usernames(client.get(URL, {"page": "99999"})) == usernames(third)  # the last page
    assert usernames(client.get(URL, {"page": "abc"})) == usernames(first)


def test_pages_keep_the_filters(client, crowd):
    text = client.get(URL, {"group": "Crowd", "sort": "-username"}).text
    assert 'href="?group=Crowd&amp;sort=-username&amp;page=2"' in text
    assert "119 users" in text


def test_the_list_stays_within_eight_queries(client, crowd, django_assert_max_num_queries):
    for index in range(20):
        EntraIdentityFactory(user=UserFactory(user_group="Crowd"), roles=[f"Role{index}"])
    params = {"type": "entra", "group": "Crowd", "q": "user", "sort": "-last_sign_in",
              "page": "1"}
    client.get(URL)  # the session's "last seen" note is written at most once a minute: not here
    with django_assert_max_num_queries(8):
        response = client.get(URL, params)
    assert len(usernames(response)) == 20
    with django_assert_max_num_queries(8):
        assert client.get(URL, {"type": "administrative", "sort": "name"}).status_code == 200
