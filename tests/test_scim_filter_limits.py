"""SCIM filters stay cheap (a bounded number of comparisons) and an object id always finds the
account linked to it."""

from __future__ import annotations

import uuid

import pytest

from scim.filters import MAX_TERMS
from tests.scim_helpers import assert_scim_error, op, patch

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("terms", [MAX_TERMS + 1, 1000])
def test_a_filter_with_too_many_comparisons_is_refused_not_run(scim_api, terms):
    expression = " or ".join(f'userName eq "u{index}"' for index in range(terms))

    reply = scim_api.search("Users", expression)

    assert_scim_error(reply, 400, "invalidFilter")


def test_a_filter_at_the_limit_is_answered(scim_api):
    scim_api.create_user(str(uuid.uuid4()), "u3@example.org")
    expression = " or ".join(f'userName eq "u{index}@example.org"' for index in range(MAX_TERMS))

    reply = scim_api.search("Users", expression)

    assert reply.status == 200 and reply.body["totalResults"] == 1


def test_an_object_id_finds_its_account_even_after_externalid_was_removed(scim_api):
    oid = str(uuid.uuid4())
    created = scim_api.create_user(oid, "priya@example.org")
    assert scim_api.patch(f"/Users/{created['id']}", patch(op("remove", "externalId"))
                          ).status == 200

    reply = scim_api.search("Users", f'externalId eq "{oid}"')

    assert reply.body["totalResults"] == 1
    assert reply.body["Resources"][0]["id"] == created["id"]
