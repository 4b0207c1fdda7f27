"""Issue 5's figures: the audit changelist in Django admin over 1,000,000 events.

    .venv/bin/python bench/audit_admin.py [--events 1000000] [--runs 9] [--record]

Drops and recreates its own PostgreSQL database (``keyfax_bench_audit`` on 127.0.0.1,
``--database-url`` to change), migrates, and bulk-loads the events with COPY. The hash chain
is real: each event is sealed in Python with ``audit.chain.seal`` as it is streamed to COPY,
so ``verify_audit`` walks a genuine 1,000,000-link chain (its time is reported too). Then
it measures the server time of the admin changelist (Django test Client, signed in as a
superuser, ``time.perf_counter`` around ``client.get``; median of ``--runs`` after a warm-up).
``--record`` appends the figures to bench/RESULTS.md under "Audit admin (issue 5)".
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACTIONS = [  # (action, weight): mostly sign-ins, as a real log is
    ("sign_in", 60), ("sign_out", 20), ("permissions_synced", 10), ("permission_changed", 4),
    ("locked_edit_refused", 1), ("user_created", 2), ("user_changed", 2), ("user_disabled", 1),
]
USERS = 5000
COLUMNS = (
    "created_at", "action", "outcome", "reason", "element", "actor_kind", "actor_user_id",
    "actor_username", "actor_tenant_id", "actor_object_id", "subject", "source_ip",
    "user_agent", "request_id", "detail", "prev_hash", "hash",
)


def recreate_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def event_rows(count: int, now: dt.datetime):
    """Synthetic events over the last year, oldest first, each sealed onto the previous."""
    from audit.chain import GENESIS, seal

    rng = random.Random(5)
    actions, weights = zip(*ACTIONS, strict=True)
    start, step = now - dt.timedelta(days=365), dt.timedelta(days=365) / count
    previous = GENESIS
    for n in range(count):
        user = rng.randrange(USERS)
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


def load(count: int) -> float:
    from django.db import connection

    started = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        sql = f"COPY audit_auditevent ({', '.join(COLUMNS)}) FROM STDIN"
        with cursor.copy(sql) as copy:
            for row in event_rows(count, dt.datetime.now(dt.UTC)):
                copy.write_row(row)
    raw.commit()
    raw.autocommit = True
    raw.execute("VACUUM ANALYZE audit_auditevent")
    return time.perf_counter() - started


def median_ms(client, url: str, runs: int) -> float:
    response = client.get(url)  # warm-up
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


def stream_ms(client, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(url)
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    return (time.perf_counter() - started) * 1000, lines - 1


def scenarios() -> dict[str, str]:
    base = "/django-admin/audit/auditevent/"
    week_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=7)).isoformat()
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    return {
        "unfiltered (page 1)": base,
        "filtered by user (?actor_username=)": f"{base}?actor_username=user0042",
        "filtered by user (search ?q=)": f"{base}?q=user0042",
        "filtered by action + last 7 days": (
            f"{base}?action__exact=permission_changed&created_at__gte={week_ago}"
            f"&created_at__lt={tomorrow}"
        ).replace("+", "%2B"),
        "filtered by action only": f"{base}?action__exact=sign_in",
        "unfiltered, page 50": f"{base}?p=50",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--database-url",
                        default="postgres://postgres@127.0.0.1:5432/keyfax_bench_audit")
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args()

    recreate_database(args.database_url)
    os.environ.update({
        "DATABASE_URL": args.database_url, "DEBUG": "false", "ALLOWED_HOSTS": "testserver",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdef", "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "keyfax_site.settings",
    })
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User

    call_command("migrate", verbosity=0)
    load_s = load(args.events)
    started = time.perf_counter()
    call_command("verify_audit", stdout=io.StringIO())
    verify_s = time.perf_counter() - started

    client = Client()
    client.force_login(User.objects.create_superuser("bench-it", "it@example.com", None))
    figures = {name: median_ms(client, url, args.runs) for name, url in scenarios().items()}
    export_ms, export_rows = stream_ms(
        client, "/django-admin/audit/auditevent/export.csv?actor_username=user0042"
    )
    report(args, figures, load_s, verify_s, export_ms, export_rows)


def report(args, figures, load_s, verify_s, export_ms, export_rows) -> None:
    machine = (f"{platform.node() or 'unknown'}: {platform.machine()}, {os.cpu_count()} cores, "
               f"Python {platform.python_version()}, PostgreSQL {server_version()}")
    lines = [
        "## Audit admin (issue 5)", "",
        f"- Machine: {machine}",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Command: `.venv/bin/python bench/audit_admin.py --events {args.events} "
        f"--runs {args.runs}`",
        f"- Data: {args.events:,} events over one year, {USERS} users, loaded with COPY as a "
        f"real hash chain sealed in Python ({load_s:.0f} s including VACUUM ANALYZE)",
        "- Server time of `client.get` (Django test Client, superuser), median of "
        f"{args.runs} runs after a warm-up:", "",
        "| changelist | median ms | target |", "|---|---|---|",
    ]
    targets = {"unfiltered (page 1)": "≤ 300", "filtered by user (?actor_username=)": "≤ 100",
               "filtered by user (search ?q=)": "≤ 100"}
    lines += [f"| {name} | {ms:.1f} | {targets.get(name, '')} |" for name, ms in figures.items()]
    lines += [
        "",
        f"- CSV export of one user's events ({export_rows} rows, streamed): {export_ms:.0f} ms",
        f"- `manage.py verify_audit` over {args.events:,} events: {verify_s:.1f} s",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.record:
        results = ROOT / "bench" / "RESULTS.md"
        prefix = "" if not results.exists() else "\n"
        with open(results, "a", encoding="utf-8") as out:
            out.write(prefix + text)


def server_version() -> str:
    from django.db import connection

    major, rest = divmod(connection.pg_version, 10000)
    return f"{major}.{rest}"


if __name__ == "__main__":
    main()
