"""Issue 3's figures: SQL queries of the permission sync and of a signed-in portal page.

    .venv/bin/python bench/permission_queries.py [--database-url URL] [--record]
    .venv/bin/python bench/permission_queries.py --smoke    # tiny counts, writes nothing

For 1, 50 and 200 mapped roles/groups (half app roles, half group object ids):
1. the sync at sign-in (both elements in authentication_and_permissions), counted inside a
   transaction as the sign-in runs it: a first sync (everything added), a steady re-sync
   (nothing changes) and a change (every mapping the user held replaced by another);
2. a signed-in portal page (/admin-tools/ and /staff/) for a user holding those roles.
Runs on a fresh SQLite file (or --database-url, used as it is), migrated first. Each sync
is checked (the user then holds exactly the mapped permissions) and each page must answer 200
with its heading.
"""

from __future__ import annotations

import argparse
import uuid

from harness import (
    BenchFailure,
    arguments,
    check,
    database,
    database_version,
    django_in_process,
    expect,
    publish,
)

COUNTS = (1, 50, 200)
PAGES = {"/admin-tools/": "<h1>Keyfax Administration Tool</h1>",
         "/staff/": "<h1>Keyfax Web Staff</h1>"}


def setup(database_url: str) -> None:
    django_in_process(database_url, KEYFAX_SSO_ADMIN_TOOL="authentication_and_permissions",
                      KEYFAX_SSO_WEB_STAFF="authentication_and_permissions")


def mappings(count: int, tag: str, offset: int = 0) -> tuple[list[str], list[str], set[str]]:
    """``count`` mappings (half app roles, half group ids): their values, and the codenames
    they grant."""
    from permissions import catalogue
    from permissions.models import RoleMapping

    rows = list(catalogue.global_permission_rows())
    roles, groups, granted = [], [], set()
    for index in range(count):
        kind = "role" if index % 2 == 0 else "group"
        value = f"Keyfax.Bench.{tag}.{index}" if kind == "role" else str(uuid.uuid4())
        (roles if kind == "role" else groups).append(value)
        mapping = RoleMapping.objects.create(kind=kind, value=value)
        permission = rows[(index + offset) % len(rows)]
        mapping.permissions.add(permission)
        granted.add(permission.codename)
    return roles, groups, granted


def holds(user, codenames: set[str], what: str) -> None:
    from permissions.services import current_codenames

    held = set().union(*current_codenames(user).values())
    check(held == codenames, f"{what}: the user holds {sorted(held)}, not {sorted(codenames)}")


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

    roles, groups, granted = mappings(count, f"a{count}")
    other_roles, other_groups, other_granted = mappings(count, f"b{count}", offset=3)
    user = User.objects.create(username=f"bench-{count}")
    EntraIdentity.objects.create(user=user, tenant_id=uuid.uuid4(), object_id=uuid.uuid4(),
                                 roles=roles, groups=groups)
    ContentType.objects.get_by_natural_key("scripts", "scriptset")  # warm the cache
    both = list(Element)
    figures = {"sync: first": queries(lambda: sync_user(user, roles, groups, both), True)}
    holds(user, granted, f"{count}: first sync")
    figures["sync: unchanged"] = queries(lambda: sync_user(user, roles, groups, both), True)
    holds(user, granted, f"{count}: unchanged sync")
    figures["sync: all replaced"] = queries(
        lambda: sync_user(user, other_roles, other_groups, both), True)
    holds(user, other_granted, f"{count}: all replaced")
    client = Client()
    entra_session(client, user)  # signed in through Entra, both elements admitted
    for path, heading in PAGES.items():
        # once-per-process work (start-up event, content-type cache)
        expect(client.get(path), 200, heading, what=f"GET {path}")
    for path, heading in PAGES.items():
        answers: list = []
        figures[f"page {path}"] = queries(
            lambda p=path, seen=answers: seen.append(client.get(p)))
        check(len(answers) == 1, f"GET {path}: {len(answers)} responses")
        expect(answers[0], 200, heading, what=f"GET {path}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="",
                        help="used as it is (not recreated); empty: a scratch SQLite file")
    parser.add_argument("--counts", type=lambda text: [int(n) for n in text.split(",")],
                        default=list(COUNTS), help="mapped roles/groups, e.g. 1,50,200")
    options = arguments(parser, smoke={"counts": [1, 4]})
    with database(options.database_url, recreate=False) as url:
        setup(url)
        counts = options.counts
        results = {count: measure(count) for count in counts}
        version = database_version()
    rows = list(results[counts[0]])
    body = [
        "- What: SQL statements of the permission sync (inside a transaction, as at sign-in) "
        "and of a signed-in portal page, for a user holding this many mapped roles/groups",
        "",
        "| queries | " + " | ".join(f"{c} roles/groups" for c in counts) + " |",
        "|---|" + "---|" * len(counts),
    ]
    body += [f"| {row} | " + " | ".join(str(results[c][row]) for c in counts) + " |"
             for row in rows]
    publish(options, "Permission sync and portal page queries (issue 3)", body,
            database=version)


if __name__ == "__main__":
    try:
        main()
    except BenchFailure as failure:
        raise SystemExit(f"bench/permission_queries.py failed: {failure}") from failure
