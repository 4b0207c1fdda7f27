"""Retention: prune_audit exports first, removes a prefix, and the chain still verifies."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.integrity import verify_chain
from audit.models import Action, AuditEvent
from audit.services import record
from tests.conftest import postgresql_only, sqlite_only

pytestmark = pytest.mark.django_db


def record_at(days_ago: int, subject: str) -> AuditEvent:
    moment = timezone.now() - timedelta(days=days_ago)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return record(Action.SIGN_IN, subject=subject)


@pytest.fixture
def history() -> list[AuditEvent]:
    """Two events 100 and 50 days old, then two recent ones."""
    return [record_at(100, "a"), record_at(50, "b"), record_at(1, "c"), record_at(0, "d")]


def prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_audit", *args, stdout=out)
    return out.getvalue()


def test_prune_exports_removes_and_leaves_a_verifiable_chain(history, tmp_path):
    export = tmp_path / "audit-2026.jsonl"
    output = prune("--older-than", "30", "--export", str(export))

    assert "Removed 2 events" in output and str(export) in output
    remaining = list(AuditEvent.objects.order_by("id"))
    assert [e.subject for e in remaining] == ["c", "d", "audit log"]
    checkpoint = remaining[-1]
    assert checkpoint.action == Action.AUDIT_PRUNED and checkpoint.actor_kind == "system"
    assert checkpoint.detail["last_hash"] == history[1].hash
    assert checkpoint.detail["export"]["lines"] == 2

    lines = [json.loads(line) for line in export.read_text().splitlines()]
    assert [line["subject"] for line in lines] == ["a", "b"]
    assert [line["hash"] for line in lines] == [history[0].hash, history[1].hash]
    assert lines[1]["prev_hash"] == lines[0]["hash"]

    report = verify_chain()
    assert report.ok and report.count == 3
    assert report.anchor == f"prune checkpoint #{checkpoint.pk}"


def test_pruning_every_event_leaves_the_checkpoint_as_the_anchor(db):
    old = [record_at(10, "a"), record_at(5, "b")]
    prune("--older-than", "2")
    checkpoint = AuditEvent.objects.get()
    assert checkpoint.action == Action.AUDIT_PRUNED
    assert checkpoint.prev_hash == old[-1].hash  # still linked to what was pruned
    assert verify_chain().anchor == f"prune checkpoint #{checkpoint.pk}"
    record_at(0, "after")
    assert verify_chain().ok


def test_a_second_prune_anchors_on_the_newer_checkpoint(history):
    prune("--older-than", "60")
    prune("--older-than", "30")
    assert [e.subject for e in AuditEvent.objects.order_by("id")] == [
        "c", "d", "audit log", "audit log",
    ]
    report = verify_chain()
    assert report.ok and report.anchor.startswith("prune checkpoint #")


def test_removing_more_than_the_checkpoint_says_is_caught(history):
    prune("--older-than", "30")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL keyfax.audit_prune = 'on'")
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [history[2].pk])
    assert not verify_chain().ok


def test_nothing_to_prune_changes_nothing(history):
    assert "Nothing to prune" in prune("--older-than", "365")
    assert AuditEvent.objects.count() == 4


def test_dry_run_changes_nothing(history, tmp_path):
    output = prune("--older-than", "30", "--dry-run", "--export", str(tmp_path / "x.jsonl"))
    assert "Would remove 2 events" in output
    assert AuditEvent.objects.count() == 4
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.parametrize(("days", "message"), [
    ("-5", "1 or more days"),
    ("0", "1 or more days"),
])
def test_bad_day_counts_are_refused(history, days, message):
    with pytest.raises(CommandError, match=message):
        prune("--older-than", days)
    assert AuditEvent.objects.count() == 4


def test_a_non_number_is_refused(history):
    with pytest.raises(CommandError, match="invalid int value"):
        prune("--older-than", "thirty")
    assert AuditEvent.objects.count() == 4


def test_an_existing_export_file_is_never_overwritten(history, tmp_path):
    earlier = tmp_path / "earlier.jsonl"
    earlier.write_text("earlier export\n")
    with pytest.raises(CommandError, match=r"already exists.*Nothing was removed"):
        prune("--older-than", "30", "--export", str(earlier))
    assert earlier.read_text() == "earlier export\n"
    assert AuditEvent.objects.count() == 4


def test_a_missing_export_directory_is_refused(history, tmp_path):
    with pytest.raises(CommandError, match="is not a directory"):
        prune("--older-than", "30", "--export", str(tmp_path / "missing" / "x.jsonl"))
    assert AuditEvent.objects.count() == 4


def test_an_unwritable_export_directory_is_refused(history, tmp_path):
    with (
        mock.patch("audit.retention.os.access", return_value=False),  # root may write anywhere
        pytest.raises(CommandError, match="is not writable"),
    ):
        prune("--older-than", "30", "--export", str(tmp_path / "x.jsonl"))
    assert AuditEvent.objects.count() == 4


def test_a_failed_export_write_removes_nothing_and_leaves_no_partial_file(history, tmp_path):
    target = tmp_path / "x.jsonl"
    with (
        mock.patch("audit.retention.os.fsync", side_effect=OSError(28, "No space left")),
        pytest.raises(CommandError, match=r"No space left.*Nothing was removed"),
    ):
        prune("--older-than", "30", "--export", str(target))
    assert not target.exists()
    assert AuditEvent.objects.count() == 4


def test_a_failure_while_removing_loses_nothing(history, tmp_path):
    with (
        mock.patch("audit.retention._delete", return_value=1),
        pytest.raises(CommandError, match="expected to remove 2 events"),
    ):
        prune("--older-than", "30")
    assert AuditEvent.objects.count() == 4
    assert verify_chain().ok


@sqlite_only
def test_outside_prune_a_raw_delete_is_caught_by_verify_audit_on_sqlite(history):
    """SQLite has no trigger: verify_audit is the guard."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [history[0].pk])
    assert not verify_chain().ok


@postgresql_only
def test_outside_prune_postgresql_refuses_deletes(history):
    """PostgreSQL needs the prune setting for a DELETE."""
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [history[0].pk])
    assert AuditEvent.objects.count() == 4
