"""The demo data `make run` loads: it loads twice without clashing and matches the emulator."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import EntraIdentity, LoginMode, User
from tests.people import _people

pytestmark = pytest.mark.django_db


def test_demo_people_load_twice_and_match_the_emulators_assigned_people():
    call_command("loaddata", "demo", "demo_people", verbosity=0)
    call_command("loaddata", "demo", "demo_people", verbosity=0)

    assigned = {p["oid"] for p in _people() if p.get("assigned", True)}
    linked = {str(oid) for oid in EntraIdentity.objects.values_list("object_id", flat=True)}
    assert linked == assigned
    assert not User.objects.filter(entra_identity__isnull=False).exclude(
        login_mode=LoginMode.SSO
    ).exists()
    assert not any(u.has_usable_password() for u in User.objects.filter(login_mode="sso"))


def test_the_break_glass_demo_account_is_local():
    call_command("loaddata", "demo", verbosity=0)
    account = User.objects.get(username="it.breakglass")
    assert account.has_usable_password() and account.is_superuser
    assert not hasattr(account, "entra_identity")
