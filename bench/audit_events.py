"""Issue 10's figure: audit events written per change (≤ 1 per write, same transaction).

    .venv/bin/python bench/audit_events.py [--writes 200] [--runs 5] [--database-url URL] [--record]
    .venv/bin/python bench/audit_events.py --smoke    # every path once, writes nothing

Migrates a fresh database (a scratch SQLite file by default; a PostgreSQL URL is dropped and
recreated) and performs ``--writes`` writes of each kind, ``--runs`` times, through the doors
every surface uses: ``accounts.services`` (``change_user``, ``set_active``,
``set_password``, ``create_user``), ``permissions.services.change_permissions``,
``permissions.sync.apply_entitlements`` (a sign-in's sync) and a User Maintenance POST (the
Django test Client, an admitted session of a maintainer). Every write changes something.

Per kind it reports and checks (a wrong figure stops the bench, non-zero, recording nothing):

- **events per write**: audit events written over all measured writes, which must be exactly
  one per write, of the kind's action;
- **same transaction**: one write inside ``transaction.atomic()`` sees its event there, and
  raising rolls back both the change and the event; and one write whose event cannot be
  written (``AuditEvent.save`` raising) leaves no change behind;
- **time**: the median over the runs of the mean server time per write
  (``time.perf_counter`` around each write), and, in the same invocation, two baselines: the
  same door with ``audit.services.record`` switched off (the cost of auditing, as a ratio)
  and the bare ORM write (``.update()``, ``.save()``, ``user_permissions.add()``...), for
  scale. SQL statements per write are counted on one extra write of each.

Passwords are hashed with MD5 (the tests' hasher) in every column, so the password row shows
the write and its event rather than PBKDF2. The ``keyfax.audit`` logger is at WARNING: each
event's JSON line is built (inside ``record``) but not printed.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

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

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
OUR_APPS = ("accounts", "admin_tools", "audit", "permissions", "scripts", "staff_portal",
            "keyfax_site")
MODES = ("audited", "without record()", "bare ORM")


def setup(url: str) -> None:
    django_in_process(url)


# --- the kinds of write ----------------------------------------------------------------------


@dataclass
class Kind:
    """One kind of write. ``door`` and ``bare`` make one change each and say whether they
    did; ``state`` is what the door changes, read from the database; ``actions`` the events
    one door write may write; ``refresh`` re-reads in-memory objects after a rolled-back
    write."""

    name: str
    actions: set[str]
    door: Callable[[], bool]
    bare: Callable[[], bool]
    state: Callable[[], Any]
    refresh: Callable[[], None] = lambda: None
    figures: dict[str, Any] = field(default_factory=dict)


class Counter:
    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value += 1
        return self.value


def kinds() -> list[Kind]:
    from django.contrib.auth.models import Permission
    from django.test import Client

    from accounts import services as accounts
    from accounts.models import User
    from accounts.sso_config import Element
    from permissions import catalogue
    from permissions import services as permissions
    from permissions.mappings import entitlements
    from permissions.models import RoleMapping
    from permissions.sync import apply_entitlements
    from tests.permission_helpers import entra_session

    rows = {p.codename: p for p in catalogue.global_permission_rows()}
    maintainer = User.objects.create(username="bench.maintainer", first_name="Mina",
                                     last_name="Tainer", email="mina@example.org")
    maintainer.user_permissions.add(rows["maintain_users"], rows["view_reports"])
    maintainer = User.objects.get(pk=maintainer.pk)  # no cached permissions
    actor = accounts.Actor(user=maintainer, via="bench")
    n = Counter()

    def person(name: str) -> User:
        return User.objects.create(username=f"bench.{name}", first_name="Pat",
                                   last_name="Bench", email=f"{name}@example.org")

    def fresh(user: User) -> Callable[[], None]:
        return lambda: user.refresh_from_db()

    def field_of(user: User, name: str) -> Callable[[], Any]:
        return lambda: User.objects.filter(pk=user.pk).values_list(name, flat=True).get()

    # change_user: the first name
    details, details_bare = person("details"), person("details.bare")

    def change_details() -> bool:
        return bool(accounts.change_user(details, {"first_name": f"Pat{n.next()}"}, actor))

    def change_details_bare() -> bool:
        return User.objects.filter(pk=details_bare.pk).update(first_name=f"Pat{n.next()}") == 1

    # set_active: disable, enable, disable...
    active, active_bare = person("active"), person("active.bare")

    def toggle() -> bool:
        return accounts.set_active(active, not active.is_active, actor)

    def toggle_bare() -> bool:
        active_bare.is_active = not active_bare.is_active
        return User.objects.filter(pk=active_bare.pk).update(
            is_active=active_bare.is_active) == 1

    # set_password
    secret, secret_bare = person("password"), person("password.bare")

    def password() -> bool:
        before = secret.password
        accounts.set_password(secret, f"bench-password-{n.next()}", actor)
        return secret.password != before

    def password_bare() -> bool:
        before = secret_bare.password
        secret_bare.set_password(f"bench-password-{n.next()}")
        secret_bare.save(update_fields=["password"])
        return secret_bare.password != before

    # create_user
    def create() -> bool:
        return accounts.create_user({"username": f"bench.new{n.next()}", "first_name": "New",
                                     "last_name": "Person"}, actor).pk is not None

    def create_bare() -> bool:
        user = User(username=f"bench.new{n.next()}", first_name="New", last_name="Person",
                    login_mode="password")
        user.set_unusable_password()
        user.save()
        return user.pk is not None

    # change_permissions: grant, revoke, grant...
    granted, granted_bare = person("grants"), person("grants.bare")
    report = rows["view_reports"]

    def grant_or_revoke() -> bool:
        held = "view_reports" in permissions.current_codenames(granted)[Element.ADMIN_TOOL]
        change = {"revoke" if held else "grant": ["view_reports"]}
        return permissions.change_permissions(
            granted, Element.ADMIN_TOOL, actor=maintainer, via="bench", **change) is not None

    def grant_or_revoke_bare() -> bool:
        if granted_bare.user_permissions.filter(pk=report.pk).exists():
            granted_bare.user_permissions.remove(report)
        else:
            granted_bare.user_permissions.add(report)
        return True

    # the sign-in's sync: two role sets, each mapping to other permissions
    synced, synced_bare = person("synced"), person("synced.bare")
    mapped = {"Bench.A": ["view_reports", "run_repair_diagnostics"],
              "Bench.B": ["edit_scripts", "run_enquiries_diagnostics"]}
    for role, codenames in mapped.items():
        mapping = RoleMapping.objects.create(kind="role", value=role)
        mapping.permissions.add(*(rows[c] for c in codenames))
    both = [Element.ADMIN_TOOL, Element.WEB_STAFF]
    resolved = {role: entitlements([role], []) for role in mapped}
    sync_turn, bare_turn = Counter(), Counter()

    def sync() -> bool:
        role = "Bench.A" if sync_turn.next() % 2 else "Bench.B"
        changes = apply_entitlements(synced, resolved[role], both)
        return any(change.added or change.removed for change in changes.values())

    def sync_bare() -> bool:
        role = "Bench.A" if bare_turn.next() % 2 else "Bench.B"
        synced_bare.user_permissions.set([rows[c] for c in mapped[role]])
        return True

    def synced_state() -> list[int]:
        return sorted(Permission.objects.filter(user=synced).values_list("pk", flat=True))

    # a User Maintenance POST: the edit page, a new first name
    edited, edited_bare = person("edited"), person("edited.bare")
    client = Client()
    entra_session(client, maintainer)  # an admitted Administration Tool session
    page = f"/admin-tools/users/{edited.pk}/"
    expect(client.get(page), 200, "bench.edited", what=f"GET {page}")  # settings_seen, warm
    form = {"username": edited.username, "last_name": "Bench", "email": "edited@example.org",
            "login_mode": "password", "user_group": "", "notes": ""}

    def um_post() -> bool:
        expect(client.post(page, {**form, "first_name": f"Pat{n.next()}"}), 302,
               what=f"POST {page}")
        return True

    def um_post_bare() -> bool:
        return User.objects.filter(pk=edited_bare.pk).update(first_name=f"Pat{n.next()}") == 1

    return [
        Kind("change details: accounts.services.change_user", {"user_changed"},
             change_details, change_details_bare, field_of(details, "first_name"),
             fresh(details)),
        Kind("disable/enable: accounts.services.set_active", {"user_disabled", "user_enabled"},
             toggle, toggle_bare, field_of(active, "is_active"), fresh(active)),
        Kind("password: accounts.services.set_password", {"user_changed"},
             password, password_bare, field_of(secret, "password"), fresh(secret)),
        Kind("create: accounts.services.create_user", {"user_created"},
             create, create_bare, lambda: User.objects.count()),
        Kind("permissions: permissions.services.change_permissions", {"permission_changed"},
             grant_or_revoke, grant_or_revoke_bare, lambda: sorted(
                 permissions.current_codenames(granted)[Element.ADMIN_TOOL])),
        Kind("sign-in sync: permissions.sync.apply_entitlements", {"permissions_synced"},
             sync, sync_bare, synced_state, fresh(synced)),
        Kind("User Maintenance POST (edit, new first name)", {"user_changed"},
             um_post, um_post_bare, field_of(edited, "first_name")),
    ]


# --- measuring -----------------------------------------------------------------------------


@contextmanager
def record_switched_off() -> Iterator[None]:
    """``audit.services.record`` replaced by a no-op wherever this project imported it: the
    same doors, without their events."""
    from audit import services

    real = services.record
    targets = [module for name, module in list(sys.modules.items())
               if name.split(".")[0] in OUR_APPS and getattr(module, "record", None) is real]
    patches = [mock.patch.object(module, "record", lambda *args, **kwargs: None)
               for module in targets]
    for patch in patches:
        patch.start()
    try:
        yield
    finally:
        for patch in reversed(patches):
            patch.stop()


def events() -> int:
    from audit.models import AuditEvent

    return AuditEvent.objects.count()


def new_actions(after: int) -> set[str]:
    from audit.models import AuditEvent

    return set(AuditEvent.objects.filter(pk__gt=after).values_list("action", flat=True))


def last_id() -> int:
    from audit.models import AuditEvent

    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def batch(kind: Kind, mode: str, writes: int) -> float:
    """``writes`` writes in ``mode``; checked; their mean time in ms."""
    write = kind.bare if mode == "bare ORM" else kind.door
    before, since = events(), last_id()
    spent = 0.0
    with record_switched_off() if mode == "without record()" else _nothing():
        for _ in range(writes):
            start = time.perf_counter()
            changed = write()
            spent += time.perf_counter() - start
            check(changed, f"{kind.name} ({mode}): a write changed nothing")
    written = events() - before
    if mode == "audited":
        check(written == writes, f"{kind.name}: {writes} writes wrote {written} audit events "
                                 f"({written / writes:.2f} per write), expected exactly 1.00")
        actions = new_actions(since)
        check(actions <= kind.actions, f"{kind.name}: wrote {sorted(actions)}, expected only "
                                       f"{sorted(kind.actions)}")
    else:
        check(written == 0, f"{kind.name} ({mode}): {written} events written without the audit")
    return spent / writes * 1000


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def queries(kind: Kind, mode: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    write = kind.bare if mode == "bare ORM" else kind.door
    with record_switched_off() if mode == "without record()" else _nothing(), \
            CaptureQueriesContext(connection) as captured:
        check(write(), f"{kind.name} ({mode}): a write changed nothing")
    return len(captured)


class Rollback(Exception):
    """Raised to roll back the transaction around one write."""


def same_transaction(kind: Kind) -> None:
    """The write and its event commit together or not at all: proved both ways."""
    from django.db import transaction

    from audit.models import AuditEvent

    state, count = kind.state(), events()
    try:
        with transaction.atomic():
            check(kind.door(), f"{kind.name}: the write inside a transaction changed nothing")
            check(kind.state() != state, f"{kind.name}: the write changed nothing it reads")
            check(events() == count + 1, f"{kind.name}: {events() - count} events in the "
                                         "write's transaction, expected exactly its 1")
            raise Rollback
    except Rollback:
        pass
    kind.refresh()
    check(kind.state() == state, f"{kind.name}: the rolled-back change remained")
    check(events() == count, f"{kind.name}: the rolled-back write left its event behind")

    failed = RuntimeError("bench: the audit event could not be written")
    quiet = mock.patch.object(logging.getLogger("django.request"), "disabled", True)
    with mock.patch.object(AuditEvent, "save", side_effect=failed), quiet:  # no 500 traceback
        try:
            kind.door()
        except RuntimeError as raised:
            check(raised is failed, f"{kind.name}: {raised}")
        else:
            raise BenchFailure(f"{kind.name}: the write succeeded although its event failed")
    kind.refresh()
    check(kind.state() == state, f"{kind.name}: the change stayed although its event failed")
    check(events() == count, f"{kind.name}: an event was written although it failed")


def measure(kinds_: list[Kind], writes: int, runs: int) -> None:
    for kind in kinds_:
        same_transaction(kind)
        for mode in MODES:
            batch(kind, mode, 1)  # warm-up
        kind.figures["queries"] = {mode: queries(kind, mode) for mode in MODES}
        kind.figures["ms"] = {mode: [] for mode in MODES}
        kind.figures["writes"] = kind.figures["events"] = 0
    for _ in range(runs):
        for kind in kinds_:
            for mode in MODES:  # interleaved: drift hits every column alike
                before = events()
                kind.figures["ms"][mode].append(batch(kind, mode, writes))
                if mode == "audited":
                    kind.figures["writes"] += writes
                    kind.figures["events"] += events() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL: dropped and recreated; empty: a scratch SQLite file")
    parser.add_argument("--writes", type=int, default=200, help="writes of each kind per run")
    parser.add_argument("--runs", type=int, default=5)
    options = arguments(parser, smoke={"writes": 2, "runs": 1})
    with database(options.database_url) as url:
        setup(url)
        from django.test.utils import override_settings

        from audit.integrity import verify_chain

        with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            measured = kinds()
            measure(measured, options.writes, options.runs)
        chain = verify_chain()
        check(chain.ok, f"verify_audit: event #{chain.broken_id}: {chain.problem}")
        version = database_version()
    body = [
        f"- What: {options.writes} writes of each kind per run, {options.runs} runs, "
        "through the doors every surface uses (in-process; the User Maintenance row is the "
        "Django test Client); every write changes something",
        "- Events per write: audit events written by all measured writes ÷ writes (must be "
        "exactly 1.00). Same transaction: a write inside `transaction.atomic()` sees its "
        "event there and a rollback removes both; a write whose event fails leaves no change",
        "- Time: median over the runs of the mean ms per write (`time.perf_counter` around "
        "each write). Baselines, same invocation: the same door with "
        "`audit.services.record` switched off (audit cost = audited ÷ that) and the bare ORM "
        "write, for scale. Queries: SQL statements of one write (audited / without record() "
        "/ bare). Passwords hashed with MD5 in every column",
        "",
        "| write | writes | events | events per write | same transaction | queries | "
        "audited ms | without record() ms | bare ORM ms | audit cost |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in measured:
        figures = kind.figures
        ms = {mode: statistics.median(figures["ms"][mode]) for mode in MODES}
        per_write = figures["events"] / figures["writes"]
        check(per_write == 1, f"{kind.name}: {per_write:.2f} events per write")
        count = figures["queries"]
        body.append(
            f"| {kind.name} | {figures['writes']} | {figures['events']} | {per_write:.2f} | yes "
            f"| {count['audited']} / {count['without record()']} / {count['bare ORM']} "
            f"| {ms['audited']:.2f} | {ms['without record()']:.2f} | {ms['bare ORM']:.2f} "
            f"| {ms['audited'] / ms['without record()']:.2f}x |")
    body += ["", f"- `verify_audit` afterwards: intact, {chain.count} events"]
    publish(options, "Audit events per change (issue 10)", body, database=version)


if __name__ == "__main__":
    try:
        main()
    except BenchFailure as failure:
        raise SystemExit(f"bench/audit_events.py failed: {failure}") from failure
