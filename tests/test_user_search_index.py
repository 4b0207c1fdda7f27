"""User Maintenance search: what it finds, and on PostgreSQL the trigram indexes that
answer it (migration ``accounts.0004``): the query's expression and the index must match."""

from __future__ import annotations

import pytest
from django.db import connection

from admin_tools.users import selectors
from tests.conftest import postgresql_only, sqlite_only
from tests.factories import EntraUserFactory, LocalUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def found():
    LocalUserFactory(username="ann.a", first_name="Ann", last_name="Smith",
                     email="ann@example.org", user_group="Gas")
    LocalUserFactory(username="bob_b", first_name="Bob", last_name="Smithson",
                     email="bob@example.org", user_group="Voids")
    carl = EntraUserFactory(username="carl", first_name="Carl", last_name="Jones",
                            email="c.jones@example.org", user_group="Repairs")
    carl.entra_identity.upn = "cj100%@riverside.example"
    carl.entra_identity.save()
    return lambda q: sorted(u.username for u in selectors.user_list(q=q))


@pytest.mark.parametrize(("q", "expected"), [
    ("smith", ["ann.a", "bob_b"]),
    ("SMITHSON", ["bob_b"]),
    ("ann smith", ["ann.a"]),  # every word must match
    ("smith ann", ["ann.a"]),  # in any order
    ("smith gas", ["ann.a"]),  # across fields
    ("smith bob", ["bob_b"]),
    ("smith jones", []),
    ("example.org org", ["ann.a", "bob_b", "carl"]),
    ("  ", ["ann.a", "bob_b", "carl"]),  # blank: no filter
    ("bob@example", ["bob_b"]),  # email
    ("void", ["bob_b"]),  # User Group
    ("riverside", ["carl"]),  # UPN only
    ("100%", ["carl"]),  # LIKE wildcards are literal characters
    ("b_b", ["bob_b"]),
    ("a_a", []),
    ("%", ["carl"]),
])
def test_search_looks_in_every_searched_field(found, q, expected):
    assert found(q) == expected


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: force the choice
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@sqlite_only
def test_sqlite_scans_and_the_migration_adds_no_index(found):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE '%trgm%'")
        assert cursor.fetchall() == []
    assert found("smith") == ["ann.a", "bob_b"]


@postgresql_only
def test_postgresql_answers_the_search_from_trigram_indexes(found):
    plan = _plan(selectors.user_list(q="smith").values("pk"))
    assert "user_search_trgm_idx" in plan
    assert "entraidentity_upn_trgm_idx" in plan
