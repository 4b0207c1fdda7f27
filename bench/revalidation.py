"""Issue 12's figures: what the silent re-check costs, and User Maintenance's sessions panel.

    .venv/bin/python bench/revalidation.py [--runs 9] [--users 10000] [--sessions 50000]
        [--database-url postgres://...] [--record]
    .venv/bin/python bench/revalidation.py --smoke    # every path once, writes nothing

Everything in this process: the development Entra emulator (``EntraEmulator(...).start()``,
as tests/conftest.py's ``emulator`` fixture) and the site, migrated on a fresh database (a
scratch SQLite file by default; a PostgreSQL ``--database-url`` is dropped and recreated),
served by a ``wsgiref`` server thread so the emulator's redirects can be followed over real
HTTP by the scripted browser of tests/browser.py (``requests``).

1. **IdP requests per revalidation**: one sign-in, then ``--runs`` times: the session made due
   (tests/revalidation_helpers.make_due), a GET of ``/staff/`` followed through the re-check
   (``revalidate``), and the emulator's requests counted by endpoint
   (``emu.request_counts``, reset before each). Target: 1 token call and the browser's 1
   authorize hop; 0 discovery/JWKS fetches (cached since the sign-in).
2. **Added server time per revalidated request**: server time is measured in the WSGI
   application (``time.perf_counter`` around the site's handling of each request), less the
   time the site spent waiting for the emulator (its calls through
   ``accounts.entra.http``). Baseline, same invocation: the median of ``--runs`` signed-in
   GETs of ``/staff/`` when not due. Measured: the median over ``--runs`` re-checks of the
   site's requests of the round trip (the due GET's redirect, ``/oidc/revalidate/`` and
   ``/oidc/callback/``), and the ratio.
3. **User Maintenance with the sessions panel**: SQL queries (``CaptureQueriesContext``, after
   one warm-up request: the "last seen" note is written at most once a minute) for the person
   page ``/admin-tools/users/<id>/`` and the list page ``/admin-tools/users/``, as a
   signed-in maintainer (Django test Client, an admitted Entra session), first with
   ``--small-users``/``--small-sessions``, then with ``--users`` users and ``--sessions``
   ``SignedInSession`` rows (bulk-created, spread over the users; 5 open ones for the person
   shown): the counts must not grow with the data. Target: the list page in ≤ 8 queries.

Every response is checked before it counts (status, the page's heading, the re-check ending
back on ``/staff/``); a wrong one stops the bench, non-zero, recording nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from harness import (
    BenchFailure,
    arguments,
    check,
    database,
    database_version,
    django_in_process,
    emulator,
    expect,
    publish,
)

from tests.tokens import CLIENT_SECRET

STAFF_HEADING = "<h1>Keyfax Web Staff</h1>"
LIST_HEADING = "<h1>User Maintenance</h1>"
PERSON_NAME = "Rev Alidation"
FIRST = ["Ann", "Ben", "Chloe", "Dev", "Ellen", "Femi", "Grace", "Harry", "Isla", "Jamal"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Patel", "Khan", "Hughes", "Shah", "Wood", "Hall"]
ELEMENTS = ["admin_tool", "web_staff", "django_admin"]


# --- the site over HTTP, timed on the server side --------------------------------------------


class Timings:
    """Per site request: the path, the server time and the time spent waiting for Entra."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.requests: list[tuple[str, float, float]] = []

    def clear(self) -> None:
        self.requests.clear()

    def idp_wait(self) -> float:
        return getattr(self.local, "idp", 0.0)

    def add_idp_wait(self, seconds: float) -> None:
        self.local.idp = self.idp_wait() + seconds


def timed_app(app, timings: Timings):
    def application(environ, start_response):
        timings.local.idp = 0.0
        start = time.perf_counter()
        body = b"".join(app(environ, start_response))  # the whole response, rendered
        elapsed = time.perf_counter() - start
        timings.requests.append((environ["PATH_INFO"], elapsed * 1000,
                                 timings.idp_wait() * 1000))
        return [body]

    return application


def time_idp_calls(timings: Timings) -> None:
    """Every call the site makes to Entra goes through ``accounts.entra.http._session``."""
    from accounts.entra import http

    original = http._session.request

    def request(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            timings.add_idp_wait(time.perf_counter() - start)

    http._session.request = request


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve(timings: Timings) -> tuple[str, WSGIServer]:
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()  # sets logging up again: events, not figures
    logging.getLogger("keyfax.audit").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, timed_app(app, timings),
                         server_class=ThreadingServer, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


# --- 1 and 2: the re-check -------------------------------------------------------------------


def recheck(options: argparse.Namespace, emu) -> list[str]:
    from django.db import close_old_connections

    from tests import people
    from tests.browser import Browser
    from tests.revalidation_helpers import make_due, revalidate

    timings = Timings()
    time_idp_calls(timings)
    base, server = serve(timings)
    person = people.person("Administrator and Web Staff")
    try:
        with requests.Session() as session:
            browser = Browser(session, base)
            signed_in = browser.sign_in(person["oid"], next_url="/staff/")
            expect(signed_in, 302, what="the sign-in's callback")
            expect(browser.get("/staff/"), 200, STAFF_HEADING, what="GET /staff/ signed in")

            # Baseline: a signed-in GET of /staff/ when not due (after a warm-up).
            expect(browser.get("/staff/"), 200, STAFF_HEADING, what="GET /staff/ (warm-up)")
            timings.clear()
            for _ in range(options.runs):
                expect(browser.get("/staff/"), 200, STAFF_HEADING, what="GET /staff/")
            check([path for path, _, _ in timings.requests] == ["/staff/"] * options.runs,
                  f"baseline requests: {timings.requests}")
            baseline = statistics.median(ms for _, ms, _ in timings.requests)

            counts: list[Counter[str]] = []
            rounds: list[dict[str, tuple[float, float]]] = []
            for _ in range(options.runs):
                make_due(browser)
                emu.reset_counts()
                timings.clear()
                hops, response = revalidate(browser, "/staff/")
                check(hops and hops[0].startswith("/oidc/revalidate/")
                      and hops[-1] == "/staff/",
                      f"the re-check went {hops}, not from /oidc/revalidate/ back to /staff/")
                expect(response, 302, what="the re-check's callback")
                counts.append(Counter(emu.request_counts))
                check(counts[-1]["token"] >= 1, f"no token call in {dict(counts[-1])}")
                rounds.append({path: (ms, idp) for path, ms, idp in timings.requests})
                check(set(rounds[-1]) == {"/staff/", "/oidc/revalidate/", "/oidc/callback/"},
                      f"the re-check's site requests: {timings.requests}")
                expect(browser.get("/staff/"), 200, STAFF_HEADING, what="GET /staff/ after")
    finally:
        server.shutdown()
        server.server_close()
        close_old_connections()

    endpoints = sorted(set().union(*counts) | {"discovery", "jwks", "token", "authorize"})
    per = {name: statistics.mean(c[name] for c in counts) for name in endpoints}
    steps = {path: statistics.median(r[path][0] - r[path][1] for r in rounds)
             for path in ("/staff/", "/oidc/revalidate/", "/oidc/callback/")}
    idp = statistics.median(r["/oidc/callback/"][1] for r in rounds)
    totals = [sum(ms - wait for ms, wait in r.values()) for r in rounds]
    with_idp = [sum(ms for ms, _ in r.values()) for r in rounds]
    added = statistics.median(totals)
    return [
        f"- IdP requests per revalidation (emulator's counts, mean of {options.runs} "
        "re-checks after one sign-in): "
        + ", ".join(f"{name} {per[name]:.2f}" for name in endpoints)
        + "  (target: token 1, authorize 1 — the browser's hop, discovery 0, jwks 0)",
        f"- Server time (measured in the WSGI application, `wsgiref` thread; the site's wait "
        f"for the emulator excluded), median of {options.runs}:",
        f"  - baseline, signed-in GET /staff/ not due: {baseline:.2f} ms",
        f"  - re-check round trip: {added:.2f} ms = due GET /staff/ (redirect) "
        f"{steps['/staff/']:.2f} + /oidc/revalidate/ {steps['/oidc/revalidate/']:.2f} + "
        f"/oidc/callback/ {steps['/oidc/callback/']:.2f} ms (plus {idp:.2f} ms waiting for the "
        f"token call; {statistics.median(with_idp):.2f} ms in all)",
        f"  - ratio: {added / baseline:.2f}x a normal request, once per "
        "KEYFAX_REVALIDATE_SECONDS per session",
    ]


# --- 3: User Maintenance with the sessions panel ---------------------------------------------


def add_users(start: int, count: int) -> list[int]:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import EntraIdentity, User

    rng = random.Random(start)
    now = timezone.now()
    unusable = make_password(None)
    users = User.objects.bulk_create([
        User(username=f"bench.user{n}", first_name=rng.choice(FIRST), last_name=rng.choice(LAST),
             email=f"bench.user{n}@example.org", login_mode="sso", password=unusable,
             date_joined=now - dt.timedelta(days=rng.randint(0, 2000)))
        for n in range(start, start + count)
    ], batch_size=2000)
    EntraIdentity.objects.bulk_create([
        EntraIdentity(user=u, tenant_id=uuid.uuid4(), object_id=uuid.uuid4(), upn=u.username,
                      email=u.email, display_name=u.get_full_name(), roles=["Keyfax.Staff"],
                      last_sign_in_at=now - dt.timedelta(minutes=rng.randint(0, 200000)))
        for u in users
    ], batch_size=2000)
    return [u.pk for u in users]


def add_sessions(user_ids: list[int], count: int, seed: int) -> None:
    """``count`` notes over ``user_ids``: mostly open, some ended, some expired."""
    from django.utils import timezone

    from accounts.models import SignedInSession

    rng = random.Random(seed)
    now = timezone.now()
    rows = []
    for n in range(count):
        kind = rng.random()
        rows.append(SignedInSession(
            session_key=uuid.uuid4().hex, user_id=rng.choice(user_ids),
            method="entra" if rng.random() < 0.8 else "password", sid=uuid.uuid4().hex,
            element=rng.choice(ELEMENTS), address=f"10.0.{n % 256}.{n % 254 + 1}",
            user_agent="Mozilla/5.0 (bench)",
            last_seen_at=now - dt.timedelta(minutes=rng.randint(0, 600)),
            expires_at=now + dt.timedelta(hours=1 if kind > 0.1 else -1),
            ended_at=now if 0.1 < kind < 0.2 else None,
            end_reason="disabled" if 0.1 < kind < 0.2 else "",
        ))
    SignedInSession.objects.bulk_create(rows, batch_size=5000)


def person_with_sessions() -> int:
    from django.utils import timezone

    from accounts.models import SignedInSession, User

    person = User.objects.create(username="rev.alidation", first_name="Rev",
                                 last_name="Alidation", email="rev@example.org")
    now = timezone.now()
    SignedInSession.objects.bulk_create([
        SignedInSession(session_key=uuid.uuid4().hex, user=person, element=ELEMENTS[n % 3],
                        address="10.1.0.1", user_agent="Mozilla/5.0 (bench)",
                        last_seen_at=now, expires_at=now + dt.timedelta(hours=8))
        for n in range(5)
    ])
    return person.pk


def queries(client, path: str, heading: str) -> int:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    expect(client.get(path), 200, heading, what=f"GET {path} (warm-up)")
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        response = expect(client.get(path), 200, heading, what=f"GET {path}")
    if path != "/admin-tools/users/":
        shown = response.content.count(b'data-label="Signed in to"')
        check(shown == 5, f"GET {path}: {shown} open sessions shown, expected 5")
    return len(captured)


def maintenance(options: argparse.Namespace) -> list[str]:
    from django.db import connection
    from user_maintenance import maintainer_client

    from accounts.models import SignedInSession, User

    person = person_with_sessions()
    client = maintainer_client()
    paths = {"list /admin-tools/users/": ("/admin-tools/users/", LIST_HEADING),
             f"person /admin-tools/users/{person}/": (f"/admin-tools/users/{person}/",
                                                     f"<h1>{PERSON_NAME}</h1>")}
    sizes = []
    figures: dict[str, list[int]] = {name: [] for name in paths}
    done_users = 0
    for users, sessions in ((options.small_users, options.small_sessions),
                            (options.users, options.sessions)):
        add_users(done_users, users - done_users)
        ids = list(User.objects.filter(username__startswith="bench.user")
                   .values_list("pk", flat=True))
        add_sessions(ids, sessions - SignedInSession.objects.count(), seed=sessions)
        done_users = users
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        rows = SignedInSession.objects.count()
        check(rows == sessions, f"{rows} SignedInSession rows, expected {sessions}")
        sizes.append(f"{User.objects.count()} users / {rows} sessions")
        for name, (path, heading) in paths.items():
            figures[name].append(queries(client, path, heading))
    list_name = next(iter(paths))
    return [
        "- User Maintenance with the sessions panel: SQL queries of one request after a "
        "warm-up (`CaptureQueriesContext`, Django test Client, a signed-in maintainer); "
        "the person shown has 5 open sessions",
        "",
        "| page | " + " | ".join(sizes) + " |",
        "|---|" + "---|" * len(sizes),
        *(f"| {name} | " + " | ".join(str(n) for n in counts) + " |"
          for name, counts in figures.items()),
        "",
        f"- List page target ≤ 8 queries: {'met' if max(figures[list_name]) <= 8 else 'NOT met'}"
        f"; constant with the data: "
        f"{'yes' if all(len(set(c)) == 1 for c in figures.values()) else 'NO'}",
    ]


# --- the bench -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL: dropped and recreated; empty: a scratch SQLite file")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=50_000)
    parser.add_argument("--small-users", type=int, default=100)
    parser.add_argument("--small-sessions", type=int, default=500)
    options = arguments(parser, smoke={"runs": 1, "users": 60, "sessions": 300,
                                       "small_users": 20, "small_sessions": 100})
    check(options.small_users < options.users and options.small_sessions < options.sessions
          and options.small_sessions > 5, "sizes: small < full, and more than 5 sessions")
    with emulator() as emu, database(options.database_url) as url:
        django_in_process(
            url, ALLOWED_HOSTS="127.0.0.1,testserver", ENTRA_AUTHORITY=emu.base_url,
            ENTRA_GRAPH_URL=emu.base_url, ENTRA_CLIENT_SECRET=CLIENT_SECRET,
            SESSION_COOKIE_SECURE="false", CSRF_COOKIE_SECURE="false",
            KEYFAX_LOCAL_LOGIN="true", ENTRA_HTTP_TIMEOUT="5",
        )
        body = recheck(options, emu)
        body += maintenance(options)
        version = database_version()
    publish(options, "Session revalidation and the sessions panel (issue 12)", body,
            database=version)


if __name__ == "__main__":
    try:
        main()
    except BenchFailure as failure:
        raise SystemExit(f"bench/revalidation.py failed: {failure}") from failure
