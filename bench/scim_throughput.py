"""SCIM throughput: Entra's look-up + PATCH pair, sustained, over 10,000 provisioned users.

    .venv/bin/python bench/scim_throughput.py [--users 10000] [--runs 5] [--seconds 10]
        [--clients 2] [--workers 2] [--database-url URL] [--record]
    .venv/bin/python bench/scim_throughput.py --smoke    # every path once, writes nothing

Drops and recreates its own PostgreSQL database (``keyfax_bench_scim`` on 127.0.0.1,
``--database-url`` to change; ``DATABASE_URL`` is not read, as this database is dropped)
and migrates it. The users are Entra's: one is provisioned through ``POST /scim/v2/Users``
(the body ``manage.py entra_provision`` sends) and the others are copies of the rows that
request made, bulk-created (85% provisioned, 10% made at a first sign-in, 5% local, and a
SCIM group per 500 users with members); a copy's SCIM resource must read exactly like the
original's, names aside.

The site is served over real HTTP, as in production: gunicorn (``--workers`` sync workers)
on 127.0.0.1 over that database. ``--clients`` threads each replay Entra's update of a
random provisioned person, as its provisioning service does for every change, for
``--seconds`` per run: ``GET /scim/v2/Users?filter=userName eq "…"`` then ``PATCH
/scim/v2/Users/{id}`` replacing ``name.familyName`` (a new name each time). Every response
is checked (status, the one person found, the new name returned), so a failed request stops
the bench instead of counting as a fast one; afterwards the database holds the last names
sent and exactly one audit event per PATCH.

Reported, median of ``--runs`` runs: SCIM requests per second (two per pair) and the p50 and
p99 latency of the pair, first at ``--baseline-users`` (100) and then at ``--users``; and, in
the same invocation, ``GET /scim/v2/ServiceProviderConfig`` (no database) for scale. Queries
per request (``CaptureQueriesContext``, in process through Django's test Client) are counted
at both sizes and must be equal: constant in the number of users; beside them, each request's
median server time in process at both sizes. Target: ≥ 100 requests/s.
``--smoke`` uses a scratch SQLite file unless ``--database-url`` is given.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from harness import (
    ROOT,
    BenchFailure,
    arguments,
    check,
    database,
    database_version,
    django_in_process,
    expect,
    free_port,
    publish,
    site_environment,
)

from entra_emulator.people import Person
from entra_emulator.provisioning import replace, user_document

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/keyfax_bench_scim"
TARGET = 100.0  # SCIM requests per second
PREFIX = "/scim/v2"
SCIM_JSON = "application/scim+json"
NAMESPACE = uuid.UUID("5c1a0e0f-8d7b-4c5e-9a3f-2b1d0c9e8f7a")
FIRST = ["Ann", "Ben", "Chloe", "Dev", "Ellen", "Femi", "Grace", "Harry", "Isla", "Jamal",
         "Kate", "Liam", "Maya", "Noah", "Olu", "Priya", "Quinn", "Rosa", "Sam", "Tariq"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
        "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green"]
# The provisioned original's values: tokens found nowhere else, replaced in each copy.
TEMPLATE = Person(oid=str(uuid.uuid5(NAMESPACE, "template")), given_name="Givenqzx",
                  family_name="Familyqzx", name="Givenqzx Familyqzx",
                  upn="upnqzx@riverside-homes.example", email="upnqzx@riverside-homes.example")


def person(index: int) -> Person:
    """User ``index``: 0 is the one provisioned through SCIM, the others its copies."""
    if index == 0:
        return TEMPLATE
    first, last = FIRST[index % len(FIRST)], LAST[(index // len(FIRST)) % len(LAST)]
    upn = f"{first}.{last}{index}@riverside-homes.example".lower()
    return Person(oid=str(uuid.uuid5(NAMESPACE, f"user-{index}")), given_name=first,
                  family_name=last, name=f"{first} {last}", upn=upn, email=upn)


# --- the data ----------------------------------------------------------------------------


def scim_client(token: str):
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def in_process(client, method: str, path: str, body: dict | None = None):
    call = getattr(client, method.lower())
    if body is None:
        return call(PREFIX + path)
    return call(PREFIX + path, json.dumps(body), content_type=SCIM_JSON)


@dataclass
class Population:
    """The users so far: their count, the provisioned ones' indexes, the groups."""

    token: str
    template: dict[str, Any] = field(default_factory=dict)  # the original's SCIM resource
    count: int = 0
    provisioned: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    load_seconds: float = 0.0
    kinds: dict[str, int] = field(default_factory=lambda: {
        "provisioned": 0, "made at sign-in": 0, "local": 0})


def provision_template(population: Population) -> None:
    """The original: provisioned through SCIM as Entra does it (user 0)."""
    client = scim_client(population.token)
    created = expect(in_process(client, "POST", "/Users", user_document(TEMPLATE)), 201,
                     TEMPLATE.oid, what="POST /Users (the original)")
    population.template = created.json()
    population.provisioned.append(0)
    population.kinds["provisioned"] += 1
    population.count = 1


def substitutions(copy: Person) -> list[tuple[str, str]]:
    return [(TEMPLATE.name, copy.name), (TEMPLATE.given_name, copy.given_name),
            (TEMPLATE.family_name, copy.family_name), (TEMPLATE.upn, copy.upn),
            (TEMPLATE.oid, copy.oid)]


def substituted(value: Any, pairs: list[tuple[str, str]]) -> Any:
    text = json.dumps(value)
    for old, new in pairs:
        text = text.replace(old, new)
    return json.loads(text)


def clone(instance: Any, pairs: list[tuple[str, str]], **overrides: Any) -> Any:
    """A copy of a model row: every concrete field but the key, its strings, UUIDs and JSON
    with the original's values replaced by the copy's."""
    values = {}
    for model_field in type(instance)._meta.concrete_fields:
        if model_field.primary_key:
            continue
        value = getattr(instance, model_field.attname)
        if isinstance(value, str | uuid.UUID | dict | list):
            kind = type(value)
            value = substituted(str(value) if kind is uuid.UUID else value, pairs)
            value = uuid.UUID(value) if kind is uuid.UUID else value
        values[model_field.attname] = value
    values.update(overrides)
    return type(instance)(**values)


def populate(population: Population, total: int) -> None:
    """Users up to ``total``, copies of the original; checked; then ANALYZEd."""
    from django.db import connection, transaction

    from accounts.models import EntraIdentity, LoginMode, User
    from scim.models import ScimGroup, ScimGroupMember, ScimUserRecord

    started = time.perf_counter()
    if not population.template:
        provision_template(population)
    original = User.objects.select_related("entra_identity", "scim_record").get(
        username=TEMPLATE.upn)
    rng = random.Random(total)
    new = range(population.count, total)
    mix = ["provisioned"] * 17 + ["made at sign-in"] * 2 + ["local"]  # 85%, 10%, 5%
    users, identities, records, kinds = [], [], [], []
    for index in new:
        copy = person(index)
        pairs = substitutions(copy)
        kind = mix[index % len(mix)]
        kinds.append(kind)
        if kind == "provisioned":
            users.append(clone(original, pairs))
        elif kind == "made at sign-in":
            users.append(clone(original, pairs, provisioned_at=None, scim_changed_at=None,
                               last_login=original.date_joined))
        else:
            users.append(clone(original, pairs, provisioned_at=None, scim_changed_at=None,
                               login_mode=LoginMode.PASSWORD, username=f"local{index}"))
    with transaction.atomic():
        users = User.objects.bulk_create(users, batch_size=2000)
        for index, user, kind in zip(new, users, kinds, strict=True):
            pairs = substitutions(person(index))
            if kind != "local":
                identities.append(clone(original.entra_identity, pairs, user_id=user.pk))
            if kind == "provisioned":
                records.append(clone(original.scim_record, pairs, user_id=user.pk))
                population.provisioned.append(index)
            population.kinds[kind] += 1
        EntraIdentity.objects.bulk_create(identities, batch_size=2000)
        ScimUserRecord.objects.bulk_create(records, batch_size=2000)
        add_groups(population, total, users, ScimGroup, ScimGroupMember, rng)
    population.count = total
    with connection.cursor() as cursor:  # what autovacuum does to a settled table
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    population.load_seconds += time.perf_counter() - started
    check(User.objects.count() == total, f"{User.objects.count()} users, expected {total}")
    check_copies_read_like_the_original(population)


def add_groups(population: Population, total: int, users: list, group_model, member_model,
               rng: random.Random) -> None:
    """A SCIM group per 500 users (one at least), each user in about two of them."""
    wanted = max(1, total // 500)
    for number in range(len(population.groups), wanted):
        group = group_model.objects.create(
            display_name=f"Bench group {number}", external_id=str(uuid.uuid5(
                NAMESPACE, f"group-{number}")),
            document={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                      "displayName": f"Bench group {number}"})
        population.groups.append(str(group.pk))
    members = []
    for user in users:
        for group_id in rng.sample(population.groups, min(2, len(population.groups))):
            members.append(member_model(group_id=group_id, user_id=user.pk,
                                        display=user.get_full_name()))
    member_model.objects.bulk_create(members, batch_size=5000)


def check_copies_read_like_the_original(population: Population) -> None:
    """A provisioned copy's SCIM resource is the original's, names and groups aside."""
    client = scim_client(population.token)
    index = population.provisioned[-1]
    copy = person(index)
    found = expect(in_process(client, "GET", f"/Users/{copy.oid}"), 200, copy.upn,
                   what=f"GET /Users/{copy.oid}")
    resource, template = found.json(), substituted(population.template, substitutions(copy))
    for document in (resource, template):
        document.pop("meta", None)
        document.pop("groups", None)
    check(resource == template, f"a copied user reads {resource}, the original {template}")


# --- the site, served ------------------------------------------------------------------------


@contextmanager
def gunicorn(url: str, workers: int) -> Iterator[str]:
    """The site on ``url``'s database, over real HTTP: gunicorn, as in production."""
    env = site_environment("https://login.microsoftonline.com", DATABASE_URL=url)
    port = free_port()
    with tempfile.TemporaryFile("w+") as errors:  # a pipe could fill up and stall it
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "keyfax_site.wsgi", "--bind",
             f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(base + "/healthz", server, errors)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=10)


def wait_for(url: str, server: subprocess.Popen, errors) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            errors.seek(0)
            raise BenchFailure(f"gunicorn exited {server.returncode}: {errors.read()[-2000:]}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise BenchFailure(f"{url} did not come up")


# --- the load ----------------------------------------------------------------------------


@dataclass
class Load:
    """One run's figures: requests served, latencies (ms) of each unit of work, seconds."""

    requests: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class PairClient:
    """Entra's provisioning service updating one person: look-up, then PATCH."""

    def __init__(self, base: str, token: str, people: list[int], seed: int) -> None:
        self.base = base + PREFIX
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}",
                                     "Accept": SCIM_JSON})
        self.people = people
        self.rng = random.Random(seed)
        self.seed = seed
        self.sent = 0  # PATCHes
        self.last_names: dict[str, str] = {}  # userName → the familyName last sent

    def pair(self, load: Load) -> None:
        who = person(self.rng.choice(self.people))
        found = expect(self.session.get(
            f"{self.base}/Users", params={"filter": f'userName eq "{who.upn}"'}, timeout=30),
            200, what=f"GET /Users?filter=userName eq {who.upn}").json()
        check(found.get("totalResults") == 1 and found["Resources"][0]["id"] == who.oid,
              f"the look-up of {who.upn} found {found}")
        self.sent += 1
        family = f"{who.family_name}-{self.seed}-{self.sent}"
        patched = expect(self.session.patch(
            f"{self.base}/Users/{who.oid}", data=json.dumps(replace("name.familyName", family)),
            headers={"Content-Type": SCIM_JSON}, timeout=30), 200,
            what=f"PATCH /Users/{who.oid}").json()
        check(patched.get("name", {}).get("familyName") == family,
              f"PATCH /Users/{who.oid} answered {patched}, not familyName {family!r}")
        load.requests += 2
        self.last_names[who.upn] = family

    def service_provider_config(self, load: Load) -> None:
        found = expect(self.session.get(f"{self.base}/ServiceProviderConfig", timeout=30), 200,
                       '"patch": {"supported": true}', what="GET /ServiceProviderConfig")
        check(found.headers.get("Content-Type", "").startswith(SCIM_JSON),
              "ServiceProviderConfig is not application/scim+json")
        load.requests += 1


def run_load(clients: list[PairClient], work: Callable[[PairClient, Load], None],
             seconds: float) -> Load:
    """Every client doing ``work`` in its own thread for ``seconds`` (at least once each)."""
    loads = [Load() for _ in clients]
    failures: list[BaseException] = []
    start = threading.Barrier(len(clients) + 1)

    def loop(client: PairClient, load: Load) -> None:
        try:
            start.wait()
            deadline = time.perf_counter() + seconds
            while True:
                began = time.perf_counter()
                work(client, load)
                load.latencies.append((time.perf_counter() - began) * 1000)
                if time.perf_counter() >= deadline:
                    break
        except BaseException as failure:  # re-raised in the main thread
            failures.append(failure)

    threads = [threading.Thread(target=loop, args=pair, daemon=True)
               for pair in zip(clients, loads, strict=True)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise failures[0] if isinstance(failures[0], BenchFailure) else BenchFailure(
            f"a client failed: {failures[0]!r}")
    total = Load(seconds=elapsed)
    for load in loads:
        total.requests += load.requests
        total.latencies += load.latencies
    return total


def pair_clients(base: str, population: Population, count: int) -> list[PairClient]:
    """``count`` clients, each updating its own share of the provisioned people (as Entra
    never updates one person twice at once). The original (user 0) is never changed: the
    next users are copies of it."""
    people = [index for index in population.provisioned if index != 0]
    shares = [people[n::count] for n in range(count)]
    check(all(shares), f"{len(population.provisioned)} provisioned people for {count} clients")
    return [PairClient(base, population.token, share, seed) for seed, share in
            enumerate(shares, start=1)]


# --- queries per request -----------------------------------------------------------------


def in_process_figures(population: Population, timed: int
                       ) -> tuple[dict[str, int], dict[str, float]]:
    """SQL statements of each request, and its median server time (ms) over ``timed`` runs,
    in process (Django's test Client, ``time.perf_counter`` around the call), after a
    warm-up of the same request (the token's once-a-minute ``last_used_at`` write is then
    not due)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = scim_client(population.token)
    who = person(population.provisioned[-1])
    requests_ = {
        "GET /Users?filter=userName eq …": lambda n: expect(client.get(
            f"{PREFIX}/Users", {"filter": f'userName eq "{who.upn}"'}), 200, who.oid),
        "PATCH /Users/{id} (name.familyName)": lambda n: expect(in_process(
            client, "PATCH", f"/Users/{who.oid}",
            replace("name.familyName", f"Counted{population.count}-{n}")), 200,
            f"Counted{population.count}-{n}"),
        "GET /Users/{id} (for scale: not in the pair)": lambda n: expect(
            client.get(f"{PREFIX}/Users/{who.oid}"), 200, who.upn),
        "GET /ServiceProviderConfig": lambda n: expect(
            client.get(f"{PREFIX}/ServiceProviderConfig"), 200, "patch"),
    }
    counted, times = {}, {}
    for name, send in requests_.items():
        send(0)  # warm-up
        with CaptureQueriesContext(connection) as captured:
            send(1)
        counted[name] = len(captured)
        spent = []
        for n in range(2, 2 + timed):
            started = time.perf_counter()
            send(n)
            spent.append((time.perf_counter() - started) * 1000)
        times[name] = statistics.median(spent)
    return counted, times


# --- main ----------------------------------------------------------------------------------


@dataclass
class Phase:
    users: int
    queries: dict[str, int] = field(default_factory=dict)
    ms: dict[str, float] = field(default_factory=dict)  # in process, median
    pairs: list[Load] = field(default_factory=list)
    baseline: list[Load] = field(default_factory=list)  # ServiceProviderConfig
    patches: int = 0


def measure(base: str, population: Population, phase: Phase, options: argparse.Namespace,
            with_baseline: bool) -> None:
    from audit.models import AuditEvent

    events = AuditEvent.objects.filter(action="user_changed")
    before = events.count()
    clients = pair_clients(base, population, options.clients)
    run_load(clients, PairClient.pair, min(1.0, options.seconds))  # warm every worker
    run_load(clients, PairClient.service_provider_config, min(0.5, options.seconds))
    for _ in range(options.runs):  # interleaved: drift hits both alike
        phase.pairs.append(run_load(clients, PairClient.pair, options.seconds))
        if with_baseline:
            phase.baseline.append(run_load(clients, PairClient.service_provider_config,
                                           options.seconds))
    for client in clients:
        client.session.close()
    phase.patches = sum(client.sent for client in clients)
    written = events.count() - before
    check(written == phase.patches, f"{phase.patches} PATCHes (warm-ups included) wrote "
                                    f"{written} user_changed audit events, expected one each")
    check_the_last_names(clients)


def check_the_last_names(clients: list[PairClient]) -> None:
    """Every PATCH landed: each person holds the family name last sent to them."""
    from accounts.models import User

    sent: dict[str, str] = {}
    for client in clients:
        sent.update(client.last_names)  # the clients' people do not overlap
    stored = dict(User.objects.filter(username__in=list(sent)).values_list(
        "username", "last_name"))
    wrong = sum(stored.get(username) != name for username, name in sent.items())
    check(not wrong, f"{wrong} of {len(sent)} people do not hold the family name last sent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="PostgreSQL: dropped and recreated; empty: a scratch SQLite file")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--baseline-users", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--clients", type=int, default=2, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--timed", type=int, default=21,
                        help="in-process runs of each request whose median time is shown")
    options = arguments(parser, smoke={"users": 24, "baseline_users": 12, "runs": 1,
                                       "seconds": 0.2, "timed": 1, "database_url": ""})
    if not 0 < options.baseline_users < options.users:
        parser.error("--baseline-users must be between 1 and --users")
    with database(options.database_url) as url:
        django_in_process(url)
        body = run(options, url)
        version = database_version()
    publish(options, "SCIM throughput: Entra's look-up + PATCH", body, database=version)


def run(options: argparse.Namespace, url: str) -> list[str]:
    from scim import tokens

    population = Population(token=tokens.create("bench"))
    small, large = Phase(options.baseline_users), Phase(options.users)
    populate(population, small.users)
    small.queries, small.ms = in_process_figures(population, options.timed)
    with gunicorn(url, options.workers) as base:
        measure(base, population, small, options, with_baseline=False)
        populate(population, large.users)  # the site keeps serving the same database
        large.queries, large.ms = in_process_figures(population, options.timed)
        measure(base, population, large, options, with_baseline=True)
    check(small.queries == large.queries, f"queries per request grow with the users: "
                                          f"{small.queries} at {small.users}, "
                                          f"{large.queries} at {large.users}")
    return report(options, population, small, large)


def median(loads: list[Load], figure: Callable[[Load], float]) -> float:
    return statistics.median(figure(load) for load in loads)


def report(options: argparse.Namespace, population: Population, small: Phase, large: Phase
           ) -> list[str]:
    def rate(loads: list[Load]) -> float:
        return median(loads, lambda load: load.per_second)

    def row(what: str, users: int, loads: list[Load], unit: str) -> str:
        return (f"| {what} | {users} | {rate(loads):.1f} | "
                f"{median(loads, lambda load: load.percentile(50)):.1f} | "
                f"{median(loads, lambda load: load.percentile(99)):.1f} | {unit} | "
                f"{[round(load.per_second, 1) for load in loads]} |")

    at_large, at_small, spc = rate(large.pairs), rate(small.pairs), rate(large.baseline)
    p99_large = median(large.pairs, lambda load: load.percentile(99))
    p99_small = median(small.pairs, lambda load: load.percentile(99))
    kinds = ", ".join(f"{count} {kind}" for kind, count in population.kinds.items())
    samples = sum(len(load.latencies) for load in large.pairs)
    body = [
        f"- Served over real HTTP: gunicorn ({options.workers} sync workers, as in "
        f"production) on 127.0.0.1, {options.clients} client threads (`requests`) on the "
        "same machine; every response checked",
        f"- Data: {large.users} users ({kinds}), {len(population.groups)} SCIM "
        f"group{'s' if len(population.groups) != 1 else ''}, each user in up to two; "
        "copies of one user provisioned by `POST /scim/v2/Users`; "
        f"loaded in {population.load_seconds:.1f} s",
        "- Work: Entra's update of a random provisioned person: `GET /scim/v2/Users?filter="
        'userName eq "…"` then `PATCH /scim/v2/Users/{id}` replacing `name.familyName` '
        f"(one pair = 2 requests); {options.runs} runs of {options.seconds:g} s at "
        f"{small.users} users, then at {large.users} users interleaved with the baseline "
        "`GET /scim/v2/ServiceProviderConfig` (no database)",
        f"- Writes checked: {small.patches + large.patches} PATCHes (warm-ups included) "
        "wrote exactly one "
        "`user_changed` audit event each, and every person holds the last name sent",
        "",
        "| load | users | requests/s (median) | p50 ms | p99 ms | latency of | runs, requests/s |",
        "|---|---|---|---|---|---|---|",
        row("look-up + PATCH", small.users, small.pairs, "the pair"),
        row("look-up + PATCH", large.users, large.pairs, "the pair"),
        row("ServiceProviderConfig (baseline)", large.users, large.baseline, "one request"),
        "",
        f"- At {large.users} users: **{at_large:.1f} SCIM requests/s** "
        f"({at_large / 2:.1f} pairs/s), p99 of the pair **{p99_large:.1f} ms** "
        f"(median over runs of each run's p99; {samples} pairs in all). Target ≥ "
        f"{TARGET:.0f} requests/s: {'met' if at_large >= TARGET else 'NOT MET'}",
        f"- Ratios, same invocation: {large.users} vs {small.users} users "
        f"{at_large / at_small:.2f}x the requests/s, {p99_large / p99_small:.2f}x the p99; "
        f"look-up + PATCH vs ServiceProviderConfig {at_large / spc:.2f}x the requests/s",
        "",
        f"Queries per request, equal at {small.users} and {large.users} users (constant in "
        "the number of users), and server time, in process (Django's test Client, "
        f"`CaptureQueriesContext`; median ms of {options.timed} runs after a warm-up):",
        "",
        f"| request | queries at {small.users} users | queries at {large.users} users "
        f"| ms at {small.users} users | ms at {large.users} users |",
        "|---|---|---|---|---|",
        *(f"| {name} | {count} | {large.queries[name]} | {small.ms[name]:.1f} "
          f"| {large.ms[name]:.1f} |" for name, count in small.queries.items()),
    ]
    return body


if __name__ == "__main__":
    try:
        main()
    except BenchFailure as failure:
        raise SystemExit(f"bench/scim_throughput.py failed: {failure}") from failure
