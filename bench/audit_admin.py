"""Issue 5's figures: the audit changelist in Django admin over 1,000,000 events.

    .venv/bin/python bench/audit_admin.py [--events 1000000] [--runs 9] [--record]
    .venv/bin/python bench/audit_admin.py --smoke    # every path once, tiny, writes nothing

Drops and recreates its own PostgreSQL database (``keyfax_bench_audit`` on 127.0.0.1,
``--database-url`` to change), migrates, and bulk-loads the events with COPY. The hash chain
is real: each event is sealed in Python with ``audit.chain.seal`` as it is streamed to COPY,
so ``verify_audit`` walks a genuine 1,000,000-link chain (its time is reported too). Then
it measures the server time of the admin changelist (Django test Client, signed in as a
superuser, ``time.perf_counter`` around ``client.get``; median of ``--runs`` after a warm-up)
and of the CSV export as its button runs it (a CSRF-checked POST, the changelist's filters in
the query string). Every response is checked (status and content) before it counts.
``--record`` appends the figures to ``--results`` (bench/RESULTS.md) under "Audit admin
(issue 5)". ``--smoke`` uses a scratch SQLite file (bulk INSERT instead of COPY) unless
``--database-url`` is given.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import html
import io
import json
import os
import random
import re
import statistics
import time

from harness import BenchFailure, arguments, check, database, database_version, expect, publish

ACTIONS = [  # (action, weight): mostly sign-ins, as a real log is
    ("sign_in", 60), ("sign_out", 20), ("permissions_synced", 10), ("permission_changed", 4),
    ("locked_edit_refused", 1), ("user_created", 2), ("user_changed", 2), ("user_disabled", 1),
]
USERS = 5000  # --users
COLUMNS = (
    "created_at", "action", "outcome", "reason", "element", "actor_kind", "actor_user_id",
    "actor_username", "actor_tenant_id", "actor_object_id", "subject", "source_ip",
    "user_agent", "request_id", "detail", "prev_hash", "hash",
)


CHANGELIST = "/django-admin/audit/auditevent/"
CHANGELIST_MARKER = b'id="changelist"'


def probe_user(users: int) -> str:
    """The user the filtered scenarios and the export ask for (user0042 at full size)."""
    return f"user{42 % users:04d}"


def event_rows(count: int, now: dt.datetime, users: int = USERS):
    """Synthetic events over the last year, oldest first, each sealed onto the previous."""
    from audit.chain import GENESIS, seal

    rng = random.Random(5)
    actions, weights = zip(*ACTIONS, strict=True)
    start, step = now - dt.timedelta(days=365), dt.timedelta(days=365) / count
    previous = GENESIS
    for n in range(count):
        user = rng.randrange(users)
        action = rng.choices(actions, weights)[0]
        refused = action == "sign_in" and rng.random() < 0.05
        values = {
            "created_at": start + step * n,
            "action": action,
            "outcome": "refused" if refused else "success",
            "reason": "token_expired" if refused else "",
            "element": rng.choice(("admin_tool", "web_staff")),
            "actor_kind": "anonymous" if refused else "user",
            "actor_user_id": None if refused else user + 10,
            "actor_username": "" if refused else f"user{user:04d}",
            "actor_tenant_id": "" if refused else "9188040d-6c67-4c5b-b112-36a304b66dad",
            "actor_object_id": "" if refused else f"00000000-0000-4000-8000-{user:012d}",
            "subject": f"username:user{user:04d}" if refused else f"user:{user + 10}",
            "source_ip": f"10.{user % 200}.{n % 250}.{(n // 250) % 250 + 1}",
            "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edge/131.0",
            "request_id": f"{n:032x}",
            "detail": {"method": "entra", "roles": ["Keyfax.Staff"]},
            "prev_hash": previous,
        }
        previous = values["hash"] = seal(values)
        values["detail"] = json.dumps(values["detail"])
        yield tuple(values[column] for column in COLUMNS)


def load(count: int, users: int) -> float:
    """COPY on PostgreSQL, then VACUUM ANALYZE; elsewhere (the smoke run's SQLite) bulk
    INSERTs of the same sealed rows, then ANALYZE."""
    from django.db import connection

    started = time.perf_counter()
    connection.ensure_connection()
    rows = event_rows(count, dt.datetime.now(dt.UTC), users)
    if connection.vendor == "postgresql":
        raw = connection.connection
        with raw.cursor() as cursor:
            sql = f"COPY audit_auditevent ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
        raw.autocommit = True
        raw.execute("VACUUM ANALYZE audit_auditevent")
    else:
        from django.db import transaction

        at = COLUMNS.index("created_at")
        adapt = connection.ops.adapt_datetimefield_value
        sql = (f"INSERT INTO audit_auditevent ({', '.join(COLUMNS)}) "  # noqa: S608 (constants)
               f"VALUES ({', '.join(['%s'] * len(COLUMNS))})")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, ((*row[:at], adapt(row[at]), *row[at + 1:])
                                     for row in rows))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    from audit.models import AuditEvent

    loaded = AuditEvent.objects.count()
    check(loaded == count, f"loaded {loaded} events, expected {count}")
    return time.perf_counter() - started


def changelist(client, url: str):
    """GET a changelist page; a redirect (bad lookup, ``?e=1``), an error or another page
    is a failure, never a figure."""
    return expect(client.get(url), 200, CHANGELIST_MARKER, what=f"GET {url}")


def median_ms(client, url: str, runs: int) -> float:
    changelist(client, url)  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        expect(response, 200, CHANGELIST_MARKER, what=f"GET {url}")
    return statistics.median(times)


def export_form(client, changelist_url: str) -> tuple[str, dict[str, str]]:
    """The changelist's "Export CSV" form, as a browser would submit it: its action (the
    export URL with the changelist's filters) and its CSRF token."""
    page = changelist(client, changelist_url).content.decode()
    form = re.search(r'<form method="post" action="([^"]*export\.csv[^"]*)"[^>]*>(.*?)</form>',
                     page, re.DOTALL)
    check(form, f"no export form on {changelist_url}")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(2))
    check(token, f"no CSRF token in the export form on {changelist_url}")
    return html.unescape(form.group(1)), {"csrfmiddlewaretoken": token.group(1)}


def export_ms(client, changelist_url: str, username: str) -> tuple[float, int]:
    """Time the export button: POST the form, read the whole streamed CSV. Then check it:
    the header, and exactly ``username``'s events (counted in the database)."""
    from audit.models import AuditEvent
    from audit.serialise import CSV_COLUMNS

    action, data = export_form(client, changelist_url)
    started = time.perf_counter()
    response = client.post(action, data)
    chunks = list(response.streaming_content) if response.status_code == 200 else []
    elapsed = (time.perf_counter() - started) * 1000
    expect(response, 200, what=f"POST {action}")
    check(response["Content-Type"].startswith("text/csv"),
          f"POST {action}: {response['Content-Type']}, not CSV")
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8"))))
    check(rows and tuple(rows[0]) == tuple(CSV_COLUMNS), f"POST {action}: bad header {rows[:1]}")
    column = CSV_COLUMNS.index("actor_username")
    wrong = [row for row in rows[1:] if row[column] != username]
    check(not wrong, f"POST {action}: {len(wrong)} rows of other users, e.g. {wrong[:1]}")
    expected = AuditEvent.objects.filter(actor_username=username).count()
    check(len(rows) - 1 == expected > 0,
          f"POST {action}: {len(rows) - 1} rows, {expected} events of {username}")
    return elapsed, len(rows) - 1


def scenarios(events: int, users: int) -> dict[str, str]:
    base = CHANGELIST
    user = probe_user(users)
    week_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=7)).isoformat()
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    deep = max(1, min(50, events // 100))  # 50 at full size; a page that exists when smoke
    return {
        "unfiltered (page 1)": base,
        "filtered by user (?actor_username=)": f"{base}?actor_username={user}",
        "filtered by user (search ?q=)": f"{base}?q={user}",
        "filtered by action + last 7 days": (
            f"{base}?action__exact=permission_changed&created_at__gte={week_ago}"
            f"&created_at__lt={tomorrow}"
        ).replace("+", "%2B"),
        "filtered by action only": f"{base}?action__exact=sign_in",
        f"unfiltered, page {deep}": f"{base}?p={deep}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--database-url",
                        default="postgres://postgres@127.0.0.1:5432/keyfax_bench_audit",
                        help="PostgreSQL: dropped and recreated; empty: a scratch SQLite file")
    args = arguments(parser, smoke={"events": 400, "users": 20, "runs": 1, "database_url": ""})

    with database(args.database_url) as url:
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    os.environ.update({
        "DATABASE_URL": url, "DEBUG": "false", "ALLOWED_HOSTS": "testserver",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdef", "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "keyfax_site.settings",
    })
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from accounts.models import User

    call_command("migrate", verbosity=0)
    load_s = load(args.events, args.users)
    started = time.perf_counter()
    verified = io.StringIO()
    call_command("verify_audit", stdout=verified)  # CommandError on a broken chain
    verify_s = time.perf_counter() - started
    check(f"Audit chain OK: {args.events} events" in verified.getvalue(), verified.getvalue())

    client = Client(enforce_csrf_checks=True)  # as a browser: the export needs its token
    client.force_login(User.objects.create_superuser("bench-it", "it@example.com", None))
    figures = {name: median_ms(client, url, args.runs)
               for name, url in scenarios(args.events, args.users).items()}
    user = probe_user(args.users)
    export = export_ms(client, f"{CHANGELIST}?actor_username={user}", user)
    report(args, figures, load_s, verify_s, export, connection.vendor)


def report(args, figures, load_s, verify_s, export, vendor) -> None:
    export_ms, export_rows = export
    loaded = ("COPY", "VACUUM ANALYZE") if vendor == "postgresql" else ("INSERT", "ANALYZE")
    lines = [
        f"- Data: {args.events:,} events over one year, {args.users} users, loaded with "
        f"{loaded[0]} as a real hash chain sealed in Python ({load_s:.0f} s including "
        f"{loaded[1]})",
        "- Server time of `client.get` (Django test Client, superuser), median of "
        f"{args.runs} runs after a warm-up:", "",
        "| changelist | median ms | target |", "|---|---|---|",
    ]
    targets = {"unfiltered (page 1)": "≤ 300", "filtered by user (?actor_username=)": "≤ 100",
               "filtered by user (search ?q=)": "≤ 100"}
    lines += [f"| {name} | {ms:.1f} | {targets.get(name, '')} |" for name, ms in figures.items()]
    lines += [
        "",
        f"- CSV export of one user's events ({export_rows} rows, streamed; the export "
        f"button's CSRF-checked POST): {export_ms:.0f} ms",
        f"- `manage.py verify_audit` over {args.events:,} events: {verify_s:.1f} s",
    ]
    publish(args, "Audit admin (issue 5)", lines, database=database_version())


if __name__ == "__main__":
    try:
        main()
    except BenchFailure as failure:
        raise SystemExit(f"bench/audit_admin.py failed: {failure}") from failure
