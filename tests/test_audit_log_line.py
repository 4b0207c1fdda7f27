"""The SIEM feed: one JSON line per committed event on ``keyfax.audit``; settings_seen."""

from __future__ import annotations

import json
import logging
from datetime import UTC

import pytest
from django.test import RequestFactory

from audit import startup
from audit.models import Action, AuditEvent, Outcome
from audit.services import record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LINE_KEYS = {
    "schema", "id", "time", "action", "outcome", "reason", "element", "actor", "subject",
    "source_ip", "user_agent", "request_id", "detail", "prev_hash", "hash",
}
ACTOR_KEYS = {"kind", "user_id", "username", "tenant_id", "object_id"}


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def siem():
    handler, logger = Lines(), logging.getLogger("keyfax.audit")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_each_committed_event_is_one_json_line(siem, django_capture_on_commit_callbacks):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="Edge")
    request.request_id = "abc12345"
    user = UserFactory(username="alice")
    with django_capture_on_commit_callbacks(execute=True):
        event = record(
            Action.SIGN_IN, outcome=Outcome.REFUSED, request=request, actor=user,
            tenant_id="t", object_id="o", reason="token_expired", element="web_staff",
            subject=f"user:{user.pk}", detail={"method": "entra"},
        )
    assert len(siem) == 1 and "\n" not in siem[0]
    line = json.loads(siem[0])
    assert set(line) == LINE_KEYS and set(line["actor"]) == ACTOR_KEYS
    assert line == {
        "schema": "keyfax.audit/1", "id": event.pk,
        "time": event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "action": "sign_in", "outcome": "refused", "reason": "token_expired",
        "element": "web_staff",
        "actor": {"kind": "user", "user_id": user.pk, "username": "alice",
                  "tenant_id": "t", "object_id": "o"},
        "subject": f"user:{user.pk}", "source_ip": "192.0.2.7", "user_agent": "Edge",
        "request_id": "abc12345", "detail": {"method": "entra"},
        "prev_hash": event.prev_hash, "hash": event.hash,
    }


def test_a_rolled_back_event_is_not_logged(siem, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record(Action.SIGN_OUT)
    assert siem == [] and len(callbacks) == 1  # runs only if the transaction commits


@pytest.fixture
def fresh_process():
    startup.forget_settings_seen()
    yield
    startup._seen = True  # as tests/conftest.py leaves it for every other test


def test_the_first_request_records_the_settings_once(client, settings, fresh_process):
    settings.ENTRA_CLIENT_SECRET = "s3cret-value-never-logged"
    settings.KEYFAX_SSO_WEB_STAFF = "authentication_and_permissions"
    client.get("/accounts/login/")
    client.get("/accounts/login/")
    events = AuditEvent.objects.filter(action=Action.SETTINGS_SEEN)
    assert events.count() == 1
    event = events.get()
    assert event.actor_kind == "system"
    assert event.detail["modes"]["web_staff"] == "authentication_and_permissions"
    assert event.detail["client_secret_set"] is True
    assert "s3cret-value-never-logged" not in json.dumps(event.detail)
    assert set(event.detail["process"]) == {"pid", "host"}


def test_the_liveness_probe_does_not_record_the_settings(client, fresh_process):
    client.get("/healthz")
    assert not AuditEvent.objects.exists()
    assert startup.record_settings_seen() is True
    assert startup.record_settings_seen() is False
