"""Issue 4's figures: the User Maintenance list over 10,000 users on PostgreSQL.

    .venv/bin/python bench/user_maintenance.py [--users 10000] [--runs 9] [--record]
    .venv/bin/python bench/user_maintenance.py --smoke    # every path once, writes nothing

Drops and recreates its own PostgreSQL database (``keyfax_bench_users`` on 127.0.0.1,
``--database-url`` to change), migrates, bulk-creates the users (a realistic mix: Entra-linked
with identities, roles and groups; local; disabled; Django staff; User Groups; Administration
Tool and Web Staff permissions), VACUUM ANALYZEs, then measures ``/admin-tools/users/`` as a
signed-in maintainer (Django test Client, an admitted Entra session): SQL queries per page,
and the median server time (``time.perf_counter`` around ``client.get``) of ``--runs`` runs
after a warm-up, unfiltered, searched, filtered by type, sorted, page 1 and a deep page.

Baseline, same invocation: the searches again with the trigram indexes of ``accounts``
migration 0004 dropped (PostgreSQL then scans every user), and the ratio.

Every response is checked before it counts: 200, the list's heading and, at full size, rows
and the page asked for. ``--smoke`` uses a scratch SQLite file unless ``--database-url`` is
given (SQLite has no trigram indexes: its baseline runs the same searches, nothing dropped).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import time
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

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/keyfax_bench_users"
TENANT = "9b2c1d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
GROUPS = ["Repairs", "Enquiries", "Repairs Out of Hours", "Gas", "Voids", "Aids & Adaptations",
          "Call Centre North", "Call Centre South", "Scripts team", "Supervisors", "Trainees",
          "Contractors"]
FIRST = ["Ann", "Ben", "Chloe", "Dev", "Ellen", "Femi", "Grace", "Harry", "Isla", "Jamal",
         "Kate", "Liam", "Maya", "Noah", "Olu", "Priya", "Quinn", "Rosa", "Sam", "Tariq"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
        "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green",
        "Hall", "Wood", "Jackson", "Clarke", "Khan", "Hughes", "Edwards", "Shah"]


LIST_HEADING = "<h1>User Maintenance</h1>"
HOME_HEADING = "<h1>Keyfax Administration Tool</h1>"
TRIGRAM_INDEXES = ("user_search_trgm_idx", "entraidentity_upn_trgm_idx")


def setup(url: str) -> None:
    django_in_process(url)


def populate(count: int) -> None:
    """``count`` users: 60% Entra-linked, 5% disabled, 3% Django staff, 8% administrators,
    70% Web Staff, most in a User Group."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from accounts.models import EntraIdentity, User
    from accounts.sso_config import Element
    from permissions import catalogue

    rng = random.Random(4)
    now = timezone.now()
    unusable, usable = make_password(None), make_password("bench password")
    users = []
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        entra = rng.random() < 0.6
        users.append(User(
            username=f"{first}.{last}{n}@riverside-homes.example".lower() if entra
            else f"{first}{last[0]}{n}".lower(),
            first_name=first, last_name=last, email=f"{first}.{last}{n}@example.org".lower(),
            is_active=rng.random() > 0.05, is_staff=rng.random() < 0.03,
            user_group=rng.choice(GROUPS) if rng.random() < 0.85 else "",
            login_mode="sso" if entra else "password", password=unusable if entra else usable,
            date_joined=now - dt.timedelta(days=rng.randint(0, 2000)),
            notes="Bench user." if rng.random() < 0.1 else "",
        ))
    users = User.objects.bulk_create(users, batch_size=2000)
    identities = [
        EntraIdentity(user=u, tenant_id=uuid.UUID(TENANT), object_id=uuid.uuid4(),
                      upn=u.username, email=u.email, display_name=u.get_full_name(),
                      roles=["Keyfax.Staff"], groups=[str(uuid.uuid4()) for _ in range(3)],
                      last_sign_in_at=now - dt.timedelta(minutes=rng.randint(0, 200000)))
        for u in users if u.login_mode == "sso"
    ]
    EntraIdentity.objects.bulk_create(identities, batch_size=2000)
    admin_ids = [p.pk for p in catalogue.global_permission_rows(Element.ADMIN_TOOL)]
    staff_ids = [p.pk for p in catalogue.global_permission_rows(Element.WEB_STAFF)]
    through = User.user_permissions.through
    rows = []
    for u in users:
        if rng.random() < 0.08:
            rows += [through(user_id=u.pk, permission_id=p)
                     for p in rng.sample(admin_ids, rng.randint(1, len(admin_ids)))]
        if rng.random() < 0.7:
            rows += [through(user_id=u.pk, permission_id=p)
                     for p in rng.sample(staff_ids, rng.randint(1, len(staff_ids)))]
    through.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:  # what autovacuum does to a settled table
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    check(User.objects.count() == count, f"{User.objects.count()} users, expected {count}")


def maintainer_client():
    from django.test import Client

    from accounts.models import User
    from permissions import catalogue
    from tests.permission_helpers import entra_session

    user = User.objects.create(username="bench.maintainer", first_name="Bench",
                               last_name="Maintainer")
    user.user_permissions.add(*catalogue.global_permission_rows().filter(
        codename="maintain_users"))
    client = Client()
    entra_session(client, user)  # signed in through Entra, both elements admitted
    return client


SCENARIOS = [
    ("unfiltered, page 1", {}),
    ("unfiltered, page 150 (deep)", {"page": "150"}),
    ("search ?q=smith", {"q": "smith"}),
    # The last of 9 pages (417 users) at 10,000 users: the page 15 asked for before the bench
    # checked the page it got was served as page 9 all along (Paginator.get_page clamps).
    ("search ?q=smith, deep page", {"q": "smith", "page": "9"}),
    ("search ?q=smith gas (two words)", {"q": "smith gas"}),
    ("full name ?name=priya shah", {"name": "priya shah"}),
    ("type=entra", {"type": "entra"}),
    ("type=administrative", {"type": "administrative"}),
    ("type=staff, sorted by name", {"type": "staff", "sort": "name"}),
    ("type=disabled", {"type": "disabled"}),
    ("sorted by -last_sign_in", {"sort": "-last_sign_in"}),
    ("sorted by name, page 150 (deep)", {"sort": "name", "page": "150"}),
    ("group=Repairs + type=local, sorted -joined", {"group": "Repairs", "type": "local",
                                                    "sort": "-joined"}),
]


def checked(response, params: dict[str, str], strict: bool, path: str):
    """``response`` if it is the page asked for: 200 and its heading; for the list, strictly
    (at full size) some rows and the very page asked for, else at most that page."""
    what = f"GET {path}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
    if path != "/admin-tools/users/":
        return expect(response, 200, HOME_HEADING, what=what)
    expect(response, 200, LIST_HEADING, what=what)
    if "page" in params:
        shown = re.search(rb'aria-current="page">Page (\d+) of', response.content)
        served = int(shown.group(1)) if shown else 1
        wanted = int(params["page"])
        check(served == wanted if strict else served <= wanted,
              f"{what}: served page {served}, asked for {wanted}")
    if strict:
        check(b'data-label="Username"' in response.content, f"{what}: no users listed")
    return response


def measure(client, params: dict[str, str], runs: int, strict: bool,
            path: str = "/admin-tools/users/") -> tuple[int, float, int]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    response = checked(client.get(path, params), params, strict, path)  # warm-up
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        checked(client.get(path, params), params, strict, path)
    queries = len(captured)  # read now: the next request clears the connection's log
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        timed = client.get(path, params)
        times.append((time.perf_counter() - start) * 1000)
        checked(timed, params, strict, path)
    return queries, statistics.median(times), response.content.count(
        b'data-label="Username"')


def drop_trigram_indexes() -> str:
    """The baseline's change: PostgreSQL's trigram indexes dropped; SQLite has none."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return f"{connection.vendor}: no trigram indexes to drop, the same searches again"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {', '.join(TRIGRAM_INDEXES)}")
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = ANY(%s)",
                       [list(TRIGRAM_INDEXES)])
        check(cursor.fetchone()[0] == 0, "the trigram indexes are still there")
    return "the trigram indexes dropped for this run"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="PostgreSQL: dropped and recreated; empty: a scratch SQLite file")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=9)
    options = arguments(parser, smoke={"users": 300, "runs": 1, "database_url": ""})
    with database(options.database_url) as url:
        setup(url)
        body = run(options)
        version = database_version()
    publish(options, "User Maintenance (issue 4)", body, database=version)


def run(options: argparse.Namespace) -> list[str]:
    strict = not options.smoke
    started = time.perf_counter()
    populate(options.users)
    loaded = time.perf_counter() - started
    client = maintainer_client()
    checked(client.get("/admin-tools/"), {}, strict, "/admin-tools/")  # start-up work
    body = [
        f"- Data: {options.users} users (+1 maintainer) loaded in {loaded:.1f} s",
        "- Server time of `client.get` (Django test Client, a signed-in maintainer), median "
        f"of {options.runs} runs after a warm-up; queries counted on one extra run",
        "",
        "| list page | rows | queries | median ms |",
        "|---|---|---|---|",
    ]
    queries, median, _rows = measure(client, {}, options.runs, strict, "/admin-tools/")
    body.append(f"| (for scale: the Administration Tool home) | - | {queries} | {median:.1f} |")
    indexed = {}
    for name, params in SCENARIOS:
        queries, median, rows = measure(client, params, options.runs, strict)
        indexed[name] = median
        body.append(f"| {name} | {rows} | {queries} | {median:.1f} |")
    dropped = drop_trigram_indexes()
    body += [
        "",
        f"Baseline, same invocation: the searches again, {dropped}.",
        "",
        "| search | median ms, no trigram index | median ms, indexed | speed-up |",
        "|---|---|---|---|",
    ]
    for name, params in SCENARIOS:
        if "q" in params:
            _queries, median, _rows = measure(client, params, options.runs, strict)
            body.append(f"| {name} | {median:.1f} | {indexed[name]:.1f} | "
                        f"{median / indexed[name]:.2f}x |")
    return body


if __name__ == "__main__":
    try:
        main()
    except BenchFailure as failure:
        raise SystemExit(f"bench/user_maintenance.py failed: {failure}") from failure
