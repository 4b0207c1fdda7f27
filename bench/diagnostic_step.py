"""Issue 4's figures: one Web Staff diagnostic step submit (answer → next step).

    .venv/bin/python bench/diagnostic_step.py [--runs 51] [--database-url URL] [--record]
    .venv/bin/python bench/diagnostic_step.py --smoke    # every path once, writes nothing

Migrates a fresh database (a scratch SQLite file by default; a PostgreSQL URL is dropped and
recreated), loads ``demo_scripts``, signs in a Web Staff user (Django test Client, an
admitted Entra session, ``run_repair_diagnostics``) and POSTs the first answer of "Leaking
tap" with its signed state: SQL queries for one submit, and the median server time
(``time.perf_counter`` around ``client.post``) of ``--runs`` submits after a warm-up. The
budget (tests/test_staff_diagnostics.py) is at most 6 queries. Every response is checked
(status, and the next step's question) before it counts.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

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

NEXT_QUESTION = "Where is the water coming from?"  # "Leaking tap", after the first answer


def setup(url: str) -> None:
    from django.core.management import call_command

    django_in_process(url)
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


def measure(client, runs: int) -> tuple[int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scripts.models import Script

    version = Script.objects.get(topic="Leaking tap").published_version
    url = f"/staff/repairs/{version.pk}/"
    first = expect(client.get(url), 200, 'name="state"', what=f"GET {url}")
    state = re.search(r'name="state" value="([^"]+)"', first.text)
    check(state, f"GET {url}: no signed state in the form")
    data = {"state": state.group(1),
            "answer": str(version.graph["steps"][0]["answers"][0]["id"])}
    what = f"POST {url} (first answer)"
    expect(client.post(url, data), 200, NEXT_QUESTION, what=what)  # warm-up
    with CaptureQueriesContext(connection) as captured:
        expect(client.post(url, data), 200, NEXT_QUESTION, what=what)
    queries = len(captured)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.post(url, data)
        times.append((time.perf_counter() - start) * 1000)
        expect(response, 200, NEXT_QUESTION, what=what)
    return queries, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL: dropped and recreated; empty: a scratch SQLite file")
    parser.add_argument("--runs", type=int, default=51)
    options = arguments(parser, smoke={"runs": 1})
    with database(options.database_url) as url:
        setup(url)
        queries, median = measure(staff_client(), options.runs)
        version = database_version()
    publish(options, "Diagnostic step submit (issue 4)", [
        f"- Step submit: {queries} queries, median {median:.2f} ms over {options.runs} runs "
        "after a warm-up (Django test Client, `time.perf_counter` around `client.post`)",
    ], database=version)


if __name__ == "__main__":
    try:
        main()
    except BenchFailure as failure:
        raise SystemExit(f"bench/diagnostic_step.py failed: {failure}") from failure
