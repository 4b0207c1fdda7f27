"""Django's own account commands go through the account door too, on the record."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from audit.models import AuditEvent
from tests.factories import EntraUserFactory, LocalUserFactory

pytestmark = pytest.mark.django_db

STRONG = "correct-horse-battery-staple-42"


def test_createsuperuser_is_audited(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG)
    call_command("createsuperuser", "--noinput", username="it.breakglass",
                 email="it@example.org", verbosity=0)

    user = User.objects.get(username="it.breakglass")
    event = AuditEvent.objects.get(action="user_created")
    assert (event.actor_kind, event.subject, event.detail["via"]) == (
        "system", f"user:{user.pk}", "management_command")
    assert event.detail["fields"]["is_superuser"] is True
    assert STRONG not in str(event.detail)


@pytest.fixture
def typed(monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": STRONG)


def test_changepassword_is_audited(typed):
    person = LocalUserFactory(username="pat")
    call_command("changepassword", "pat", stdout=None)

    person.refresh_from_db()
    assert person.check_password(STRONG)
    event = AuditEvent.objects.get(action="user_changed")
    assert (event.detail["password"], event.detail["via"]) == ("reset", "management_command")


def test_changepassword_never_gives_an_entra_linked_user_a_password(typed):
    person = EntraUserFactory()
    with pytest.raises(CommandError, match="never has a Keyfax password"):
        call_command("changepassword", person.username)

    person.refresh_from_db()
    assert not person.has_usable_password()
    event = AuditEvent.objects.get(action="user_changed")
    assert (event.outcome, event.reason) == ("refused", "entra_linked")
