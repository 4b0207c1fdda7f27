"""Issue 3's figures: SQL queries of the permission sync and of a signed-in portal page.

    .venv/bin/python bench/permission_queries.py [--database-url URL]

For 1, 50 and 200 mapped roles/groups (half app roles, half group object ids):
1. the sync at sign-in (both elements in authentication_and_permissions), counted inside a
   transaction as the sign-in runs it: a first sync (everything added), a steady re-sync
   (nothing changes) and a change (every mapping the user held replaced by another);
2. a signed-in portal page (/admin-tools/ and /staff/) for a user holding those roles.
Runs on a fresh SQLite file (or --database-url), migrated first.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COUNTS = (1, 50, 200)


def setup(database_url: str | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keyfax_site.settings")
    if database_url is None:
        database_url = f"sqlite:///{tempfile.mkdtemp(prefix='keyfax-bench-')}/bench.sqlite3"
    os.environ["DATABASE_URL"] = database_url
    os.environ.update({
        "ENTRA_TENANT_ID": "9b2c1d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
        "ENTRA_CLIENT_ID": "6731de76-14a6-49ae-97bc-6eba6914391e",
        "ENTRA_CLIENT_SECRET": "bench-secret",
        "KEYFAX_SSO_ADMIN_TOOL": "authentication_and_permissions",
        "KEYFAX_SSO_WEB_STAFF": "authentication_and_permissions",
        "LOG_LEVEL": "ERROR",
        "ALLOWED_HOSTS": "testserver",
    })
    import django
    from django.core.management import call_command

    django.setup()
    logging.getLogger("keyfax.audit").setLevel(logging.WARNING)  # events, not figures
    call_command("migrate", verbosity=0)


def mappings(count: int, tag: str, offset: int = 0) -> tuple[list[str], list[str]]:
    from permissions import catalogue
    from permissions.models import RoleMapping

    rows = list(catalogue.global_permission_rows())
    roles, groups = [], []
    for index in range(count):
        kind = "role" if index % 2 == 0 else "group"
        value = f"Keyfax.Bench.{tag}.{index}" if kind == "role" else str(uuid.uuid4())
        (roles if kind == "role" else groups).append(value)
        mapping = RoleMapping.objects.create(kind=kind, value=value)
        mapping.permissions.add(rows[(index + offset) % len(rows)])
    return roles, groups


def queries(action, in_transaction: bool = False) -> int:
    """SQL statements ``action`` runs; inside a transaction as at sign-in when asked, so
    BEGIN/COMMIT (the sign-in pipeline's, not the sync's) are not counted."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    if in_transaction:
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            action()
    else:
        with CaptureQueriesContext(connection) as captured:
            action()
    return len(captured)


def measure(count: int) -> dict[str, int]:
    from django.contrib.contenttypes.models import ContentType
    from django.test import Client

    from accounts.models import EntraIdentity, User
    from accounts.sso_config import Element
    from permissions.sync import sync_user
    from tests.permission_helpers import entra_session

    roles, groups = mappings(count, f"a{count}")
    other_roles, other_groups = mappings(count, f"b{count}", offset=3)
    user = User.objects.create(username=f"bench-{count}")
    EntraIdentity.objects.create(user=user, tenant_id=uuid.uuid4(), object_id=uuid.uuid4(),
                                 roles=roles, groups=groups)
    ContentType.objects.get_by_natural_key("scripts", "scriptset")  # warm the cache
    both = list(Element)
    figures = {
        "sync: first": queries(lambda: sync_user(user, roles, groups, both), True),
        "sync: unchanged": queries(lambda: sync_user(user, roles, groups, both), True),
        "sync: all replaced": queries(
            lambda: sync_user(user, other_roles, other_groups, both), True),
    }
    client = Client()
    entra_session(client, user)  # signed in through Entra, both elements admitted
    for path in ("/admin-tools/", "/staff/"):
        client.get(path)  # once-per-process work (start-up event, content-type cache)
    for path in ("/admin-tools/", "/staff/"):
        answers: list[int] = []
        figures[f"page {path}"] = queries(
            lambda p=path, seen=answers: seen.append(client.get(p).status_code))
        assert answers == [200], answers
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()
    setup(options.database_url)
    from django.db import connection

    results = {count: measure(count) for count in COUNTS}
    print(f"date: {datetime.date.today().isoformat()}")
    print(f"machine: {platform.node()}: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {connection.vendor}")
    rows = list(results[COUNTS[0]])
    print("| queries | " + " | ".join(f"{c} roles/groups" for c in COUNTS) + " |")
    print("|---|" + "---|" * len(COUNTS))
    for row in rows:
        print(f"| {row} | " + " | ".join(str(results[c][row]) for c in COUNTS) + " |")


if __name__ == "__main__":
    main()
