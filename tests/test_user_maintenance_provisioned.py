"""User Maintenance and the account door on accounts Entra's provisioning made or removed."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts import services
from audit.models import AuditEvent
from tests.factories import EntraUserFactory, LocalUserFactory

pytestmark = pytest.mark.django_db


def test_a_provisioned_account_shows_where_it_came_from(client, maintainer):
    made = timezone.now()
    person = EntraUserFactory(provisioned_at=made, scim_changed_at=made)

    page = client.get(f"/admin-tools/users/{person.pk}/").text
    listing = client.get("/admin-tools/users/").text

    assert "Provisioned from Microsoft Entra ID" in page
    assert "not linked to an Entra person" not in page
    assert "Provisioned" in listing


def test_an_unlinked_provisioned_account_says_how_to_link_it(client, maintainer):
    person = LocalUserFactory(login_mode="sso", provisioned_at=timezone.now())

    page = client.get(f"/admin-tools/users/{person.pk}/").text

    assert "not linked to an Entra person yet" in page
    assert "objectId → externalId" in page


def test_a_retired_account_cannot_be_enabled_from_user_maintenance(client, maintainer):
    person = EntraUserFactory(is_active=False, retired_at=timezone.now())

    page = client.get(f"/admin-tools/users/{person.pk}/").text
    client.post(f"/admin-tools/users/{person.pk}/enable/")

    person.refresh_from_db()
    assert "Removed in Entra ID" in page
    assert not person.is_active
    [refused] = AuditEvent.objects.filter(action="user_enabled")
    assert (refused.outcome, refused.reason) == ("refused", "retired")


def test_the_system_may_restore_a_retired_account(maintainer):
    person = EntraUserFactory(is_active=False, retired_at=timezone.now())

    services.restore_user(person, {"is_active": True}, services.Actor(via="scim",
                                                                      credential="entra"))

    person.refresh_from_db()
    assert person.is_active and person.retired_at is None
    [event] = AuditEvent.objects.filter(action="user_enabled")
    assert (event.actor_kind, event.detail["credential"]) == ("scim", "entra")
