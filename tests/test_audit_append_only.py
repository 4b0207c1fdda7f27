"""Audit events are append-only: the ORM, the admin and (on PostgreSQL) the database refuse."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from audit.integrity import verify_chain
from audit.models import Action, AppendOnlyError, AuditEvent
from audit.services import record
from tests.conftest import postgresql_only, sqlite_only
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event() -> AuditEvent:
    return record(Action.SIGN_IN, subject="user:1")


def test_an_event_cannot_be_saved_again(event):
    event.reason = "edited"
    with pytest.raises(AppendOnlyError):
        event.save()


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize("operation", [
    lambda qs: qs.update(reason="edited"),
    lambda qs: qs.delete(),
    lambda qs: qs.bulk_update(list(qs), ["reason"]),
    lambda qs: qs.update_or_create(pk=1, defaults={"reason": "edited"}),
])
def test_querysets_refuse_changes_and_deletes(event, operation):
    with pytest.raises(AppendOnlyError):
        operation(AuditEvent.objects.all())
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_events_are_only_written_by_record():
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.create(action=Action.SIGN_IN, outcome="success")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(action=Action.SIGN_IN, outcome="success")])
    assert not AuditEvent.objects.exists()


def test_admin_offers_no_add_change_or_delete_even_to_a_superuser(event):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().get("/django-admin/audit/auditevent/")
    request.user = superuser
    model_admin = admin_site._registry[AuditEvent]
    assert model_admin.has_view_permission(request, event)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert "delete_selected" not in model_admin.get_actions(request)


PRUNE_ON = "SET LOCAL keyfax.audit_prune = 'on'"

RAW_CHANGES = pytest.mark.parametrize("statements", [
    ["UPDATE audit_auditevent SET reason = 'edited'"],
    ["DELETE FROM audit_auditevent"],
    ["TRUNCATE audit_auditevent"],
    [PRUNE_ON, "UPDATE audit_auditevent SET reason = 'edited'"],  # prune allows DELETE only
])


@postgresql_only
@RAW_CHANGES
def test_raw_sql_changes_are_refused_by_postgresql(event, statements):
    """PostgreSQL's trigger refuses the change itself."""
    record(Action.SIGN_OUT, subject="user:1")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        for sql in statements:
            cursor.execute(sql)
    assert [e.reason for e in AuditEvent.objects.order_by("id")] == ["", ""]
    assert verify_chain().ok


@sqlite_only
@RAW_CHANGES
def test_raw_sql_changes_are_caught_by_verify_audit_on_sqlite(event, statements):
    """SQLite has no trigger (and no TRUNCATE), so verify_audit is the guard."""
    later = record(Action.SIGN_OUT, subject="user:1")
    with connection.cursor() as cursor:
        for sql in statements:
            if sql != PRUNE_ON:
                sql = sql.replace("TRUNCATE", "DELETE FROM")
                cursor.execute(f"{sql} WHERE id = %s", [event.pk])
    report = verify_chain()
    assert not report.ok
    assert report.broken_id in {event.pk, later.pk}


def flush_and_record_one() -> None:
    record(Action.SIGN_IN)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    record(Action.SIGN_IN)


@pytest.mark.django_db(transaction=True)
def test_manage_py_flush_may_still_empty_the_whole_database():
    """Django's confirmed wipe (and the test runner) passes."""
    flush_and_record_one()
    assert AuditEvent.objects.count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_after_a_flush_postgresql_refuses_truncate_again():
    """The door closes behind the wipe: the trigger is back for the next TRUNCATE."""
    flush_and_record_one()
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 1
