"""Issue 4's figures: one Web Staff diagnostic step submit (answer → next step).

    .venv/bin/python bench/diagnostic_step.py [--runs 51] [--database-url URL]

Migrates a fresh database (a scratch SQLite file by default; a PostgreSQL URL is dropped and
recreated), loads ``demo_scripts``, signs in a Web Staff user (Django test Client, an
admitted Entra session, ``run_repair_diagnostics``) and POSTs the first answer of "Leaking
tap" with its signed state: SQL queries for one submit, and the median server time
(``time.perf_counter`` around ``client.post``) of ``--runs`` submits after a warm-up. The
budget (tests/test_staff_diagnostics.py) is at most 6 queries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(url: str) -> None:
    if url.startswith("postgres"):
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "keyfax_site.settings", "DATABASE_URL": url,
        "DEBUG": "false", "SECRET_KEY": "bench-only-secret-key-0123456789abcdef",
        "ALLOWED_HOSTS": "testserver", "ENTRA_TENANT_ID": "9b2c1d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
        "ENTRA_CLIENT_ID": "6731de76-14a6-49ae-97bc-6eba6914391e",
        "ENTRA_CLIENT_SECRET": "bench-secret", "KEYFAX_SSO_ADMIN_TOOL": "authentication",
        "KEYFAX_SSO_WEB_STAFF": "authentication", "LOG_LEVEL": "ERROR",
        "SILENCED_SYSTEM_CHECKS": "keyfax.E006,keyfax.W001,keyfax.W002",
    })
    import logging

    import django
    from django.core.management import call_command

    django.setup()
    logging.getLogger("keyfax.audit").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    call_command("loaddata", "demo_scripts", verbosity=0)


def staff_client():
    from django.test import Client

    from accounts.models import User
    from permissions.catalogue import global_permission_rows
    from tests.permission_helpers import entra_session

    user = User.objects.create(username="bench.staff", first_name="Bench", last_name="Staff")
    user.user_permissions.add(*global_permission_rows().filter(
        codename="run_repair_diagnostics"))
    client = Client()
    entra_session(client, user)  # signed in through Entra, both elements admitted
    return client


def measure(client, runs: int) -> tuple[int, float, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scripts.models import Script

    version = Script.objects.get(topic="Leaking tap").published_version
    url = f"/staff/repairs/{version.pk}/"
    first = client.get(url)
    state = re.search(r'name="state" value="([^"]+)"', first.text).group(1)
    data = {"state": state, "answer": str(version.graph["steps"][0]["answers"][0]["id"])}
    response = client.post(url, data)  # warm-up
    assert response.status_code == 200 and "Where is the water coming from?" in response.text
    with CaptureQueriesContext(connection) as captured:
        client.post(url, data)
    queries = len(captured)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.post(url, data)
        times.append((time.perf_counter() - start) * 1000)
    return queries, statistics.median(times), connection.vendor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=51)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        setup(options.database_url or f"sqlite:///{scratch}/bench.sqlite3")
        queries, median, vendor = measure(staff_client(), options.runs)
    print(f"- Machine: {platform.node()}: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {vendor}")
    print(f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"- Step submit: {queries} queries, median {median:.2f} ms over {options.runs} runs")


if __name__ == "__main__":
    main()
