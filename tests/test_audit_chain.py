"""The hash chain: every event sealed and linked; verify_audit finds the first broken link."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test import RequestFactory

from audit.chain import GENESIS, seal
from audit.integrity import verify_chain
from audit.models import Action, ActorKind, AuditEvent, Outcome
from audit.services import record
from tests.conftest import postgresql_only
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


TRIGGER = "ALTER TABLE audit_auditevent {} TRIGGER audit_auditevent_append_only"


def tamper(sql: str, params: list) -> None:
    """Change rows behind the ORM's back (on PostgreSQL, past the trigger, in this test only)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(TRIGGER.format("DISABLE"))
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(TRIGGER.format("ENABLE"))


def verify_output() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


@pytest.fixture
def three_events(db) -> list[AuditEvent]:
    return [record(Action.SIGN_IN, subject=f"user:{n}", detail={"n": n}) for n in range(3)]


def test_events_are_linked_from_the_genesis_hash(three_events):
    first, second, third = three_events
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({e.hash for e in three_events}) == 3


def test_the_stored_event_reads_back_to_its_hash(three_events):
    stored = AuditEvent.objects.values().get(pk=three_events[1].pk)
    assert seal(stored) == stored["hash"] == three_events[1].hash


def test_verify_reports_an_intact_chain(three_events):
    output = verify_output()
    assert "Audit chain OK: 3 events" in output
    assert f"#{three_events[0].pk}" in output and three_events[2].hash in output


@pytest.mark.django_db
def test_verify_accepts_an_empty_log():
    assert "the log is empty" in verify_output()


def test_an_edited_event_is_caught(three_events):
    tamper("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["edited", three_events[1].pk])
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit")
    message = str(caught.value)
    assert f"BROKEN at event #{three_events[1].pk}" in message
    assert "content does not match its hash" in message
    assert caught.value.returncode == 1


def test_an_edited_and_resealed_event_breaks_the_next_link(three_events):
    values = AuditEvent.objects.values().get(pk=three_events[1].pk)
    values["subject"] = "user:999"
    tamper(
        "UPDATE audit_auditevent SET subject = %s, hash = %s WHERE id = %s",
        ["user:999", seal(values), three_events[1].pk],
    )
    report = verify_chain()
    assert report.broken_id == three_events[2].pk
    assert "link does not match" in report.problem


def test_a_removed_event_is_caught(three_events):
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [three_events[1].pk])
    assert verify_chain().broken_id == three_events[2].pk


def test_removing_the_oldest_events_is_caught(three_events):
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [three_events[0].pk])
    report = verify_chain()
    assert report.broken_id == three_events[1].pk
    assert "neither the start of the log nor a recorded prune checkpoint" in report.problem


def test_verify_rejects_a_bad_chunk_size(three_events):
    with pytest.raises(CommandError, match="chunk-size"):
        call_command("verify_audit", "--chunk-size", "0")


def test_verify_streams_in_chunks(three_events):
    out = StringIO()
    call_command("verify_audit", "--chunk-size", "1", stdout=out)
    assert "Audit chain OK: 3 events" in out.getvalue()


@pytest.mark.django_db
def test_writing_an_event_takes_at_most_two_queries(django_assert_max_num_queries):
    record(Action.SIGN_IN)
    with django_assert_max_num_queries(2):
        record(Action.SIGN_OUT, subject="user:1", detail={"method": "password"})


@pytest.mark.django_db
def test_odd_input_is_stored_cleanly_and_still_verifies():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="2001:db8::1", HTTP_USER_AGENT="x" * 1000,
    )
    request.request_id = "r" * 100
    user = UserFactory(username="ünïcødé")
    record(
        Action.SIGN_IN, outcome=Outcome.REFUSED, request=request, actor=user,
        tenant_id=uuid.uuid4(), object_id=uuid.uuid4(), reason="r" * 100,
        subject="nul\x00byte", detail={
            "uuid": uuid.uuid4(), "big": 1e20, "small": 1e-7, "nan": float("nan"),
            "nested": {"nul": "a\x00b", 3: ["x", 1.5, None, True]}, "surrogate": "\ud800",
        },
    )
    event = AuditEvent.objects.get()
    assert event.source_ip == "2001:db8::1"
    assert len(event.user_agent) == 400 and len(event.request_id) == 64
    assert "\x00" not in event.subject and event.detail["nested"]["3"][1] == 1.5
    assert verify_chain().ok


@pytest.mark.django_db
@pytest.mark.parametrize(("kwargs", "kind"), [
    ({}, ActorKind.SYSTEM),
    ({"request": RequestFactory().get("/")}, ActorKind.ANONYMOUS),
    ({"object_id": "abc"}, ActorKind.USER),
    ({"actor_kind": ActorKind.SCIM}, ActorKind.SCIM),
])
def test_the_actor_kind_says_who_acted(kwargs, kind):
    assert record(Action.USER_CHANGED, **kwargs).actor_kind == kind


@pytest.mark.django_db
def test_the_event_belongs_to_the_callers_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        record(Action.USER_CREATED, subject="user:5")
        raise RuntimeError("the action failed")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_failed_audit_write_fails_the_action(monkeypatch):
    """No savepoint: the caller cannot swallow the error and commit without its event."""
    def broken_head() -> str:
        raise ConnectionError("audit table unavailable")

    monkeypatch.setattr("audit.chain.lock_chain_head", broken_head)
    with pytest.raises(ConnectionError), transaction.atomic():
        UserFactory(username="created-without-audit")
        try:
            record(Action.USER_CREATED)
        except ConnectionError:
            assert transaction.get_rollback()
            raise
    assert not AuditEvent.objects.exists()


WRITERS, PER_WRITER = 6, 15


def write_concurrently() -> list[Exception]:
    """Several threads, each with its own connection, appending at once."""
    start, errors = threading.Barrier(WRITERS), []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(PER_WRITER):
                with transaction.atomic():
                    record(Action.SIGN_IN, subject=f"writer:{n}:{i}")
        except Exception as error:  # reported by the caller
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


SQLITE_FILE_RUN = """
import django
django.setup()
from django.core.management import call_command
from tests.test_audit_chain import write_concurrently
call_command("migrate", verbosity=0)
assert write_concurrently() == []
call_command("verify_audit")
"""


def test_concurrent_writers_never_fork_the_chain_on_a_sqlite_file(tmp_path):
    """The SQLite test database is in memory, shared-cache, which has no busy wait, so the
    writers run against a real WAL file with the site's settings (BEGIN IMMEDIATE) in a child
    process. It never touches the test database, so it runs whichever engine that is."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/audit.sqlite3",
           "DJANGO_SETTINGS_MODULE": "keyfax_site.settings"}
    run = subprocess.run(
        [sys.executable, "-c", SQLITE_FILE_RUN], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"Audit chain OK: {WRITERS * PER_WRITER} events" in run.stdout


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain_on_postgresql():
    """Threads, each with its own connection, on the PostgreSQL test database."""
    assert write_concurrently() == []
    assert AuditEvent.objects.count() == WRITERS * PER_WRITER
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == len(prev_hashes)  # no two events follow the same one
    assert verify_chain().count == WRITERS * PER_WRITER


@pytest.mark.django_db
def test_an_anonymous_request_user_is_not_a_user():
    from django.contrib.auth.models import AnonymousUser

    event = record(Action.SIGN_IN, actor=AnonymousUser(), request=RequestFactory().get("/"))
    assert event.actor_kind == ActorKind.ANONYMOUS and event.actor_user_id is None
