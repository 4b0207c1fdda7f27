"""Trigram indexes for User Maintenance's search, on PostgreSQL only.

``admin_tools.users.selectors.matching`` searches ``UPPER(<username first last email
group>::text) LIKE '%…%'`` and the UPN the same way. A ``%…%`` pattern cannot use a B-tree;
``pg_trgm``'s GIN indexes answer it (tests/test_user_search_index.py checks that PostgreSQL
picks them, so the expression and the index cannot drift apart). ``pg_trgm`` is a trusted
extension: the database owner may create it (PostgreSQL 13+). SQLite has no such index and
scans, which suits its small installations.
"""

from django.db import migrations

SEARCH_EXPRESSION = (
    """UPPER(("username" || ' ' || "first_name" || ' ' || "last_name" || ' ' || "email" """
    """|| ' ' || "user_group")::text)"""
)
FORWARDS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS user_search_trgm_idx ON accounts_user "
    f"USING gin ({SEARCH_EXPRESSION} gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS entraidentity_upn_trgm_idx ON accounts_entraidentity "
    """USING gin (UPPER("upn"::text) gin_trgm_ops)""",
]
BACKWARDS = [  # the extension stays: other schemas may use it
    "DROP INDEX IF EXISTS user_search_trgm_idx",
    "DROP INDEX IF EXISTS entraidentity_upn_trgm_idx",
]


def _run(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):

    dependencies = [("accounts", "0003_entra_sessions")]

    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS), elidable=False)]
