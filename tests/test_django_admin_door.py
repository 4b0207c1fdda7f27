"""Django admin writes go through the same doors as every other surface, on the record.

Each test drives Django admin's real pages (GET the form, POST it back changed) as IT
would, and checks the account, the hash-chained audit event and, for refusals, that
nothing changed.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from accounts.models import User
from audit.integrity import verify_chain
from audit.models import AuditEvent
from tests.admin_forms import form_data
from tests.factories import EntraUserFactory, LocalUserFactory, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "correct-horse-battery-staple-42"
USERS = "/django-admin/accounts/user/"
GROUPS = "/django-admin/auth/group/"


def change(client, user, **changes):
    page = client.get(f"{USERS}{user.pk}/change/")
    assert page.status_code == 200
    data = form_data(page)
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return client.post(f"{USERS}{user.pk}/change/", data)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.fixture
def it_admin(client):
    """IT's superuser (SSO off: a password session is the way in)."""
    boss = LocalUserFactory(username="it.boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    return boss


@pytest.fixture
def it_staff(client):
    """IT staff without superuser, with Django's user permissions."""
    staff = LocalUserFactory(username="it.staff", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="accounts", content_type__model="user"))
    client.force_login(staff)
    return staff


def test_adding_a_user_is_audited(client, it_admin):
    data = form_data(client.get(f"{USERS}add/"))
    data.update({"username": "new.person", "usable_password": "true", "password1": STRONG,
                 "password2": STRONG})
    response = client.post(f"{USERS}add/", data)
    assert response.status_code == 302, response.content[:500]
    person = User.objects.get(username="new.person")
    [event] = events("user_created")
    assert (event.actor_user_id, event.subject, event.detail["via"]) == (
        it_admin.pk, f"user:{person.pk}", "django_admin")
    assert event.detail["password"] == "set"


def test_changing_details_disabling_and_flags_are_audited(client, it_admin):
    person = LocalUserFactory(username="pat", first_name="Pat")
    response = change(client, person, first_name="Patricia", is_active=False, is_staff=True)

    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.first_name, person.is_active, person.is_staff) == ("Patricia", False, True)
    # one save, one event: the disabling, naming the other changes made with it
    [disabled] = events("user_disabled")
    assert not events("user_changed")
    assert disabled.detail["changes"] == {
        "first_name": {"before": "Pat", "after": "Patricia"},
        "is_staff": {"before": False, "after": True}}
    assert disabled.subject == f"user:{person.pk}" and disabled.actor_user_id == it_admin.pk
    assert verify_chain().ok


def test_it_staff_cannot_grant_superuser(client, it_staff):
    person = LocalUserFactory(username="pat")
    response = change(client, person, is_superuser=True)

    assert response.status_code == 200  # the form again, with the reason
    assert "Only someone who holds is_superuser can grant it." in response.text
    person.refresh_from_db()
    assert not person.is_superuser
    [event] = events("user_changed")
    assert (event.outcome, event.reason) == ("refused", "not_held")


def test_it_staff_cannot_change_a_superuser(client, it_staff):
    boss = LocalUserFactory(username="it.boss", is_staff=True, is_superuser=True)
    page = client.get(f"{USERS}{boss.pk}/change/")
    assert page.status_code == 200 and "Save" not in page.text  # shown read-only
    response = client.post(f"{USERS}{boss.pk}/change/", {"username": "owned"})
    assert response.status_code == 403
    assert client.post(f"{USERS}{boss.pk}/password/", {
        "password1": STRONG, "password2": STRONG}).status_code == 403
    boss.refresh_from_db()
    assert boss.username == "it.boss" and not boss.check_password(STRONG)


def test_groups_and_other_permissions_of_a_user_are_audited(client, it_admin):
    person = LocalUserFactory(username="pat")
    group = Group.objects.create(name="Call centre")
    view_user = Permission.objects.get(codename="view_user")
    response = change(client, person, groups=[str(group.pk)],
                      user_permissions=[str(view_user.pk)])

    assert response.status_code == 302
    details = [e.detail for e in events("user_changed")]
    assert {"groups": {"before": [], "after": ["Call centre"]}}.items() <= {
        k: v for d in details for k, v in d.items()}.items()
    assert any(d.get("other_permissions") == {"before": [], "after": ["accounts.view_user"]}
               for d in details)


def test_setting_a_password_goes_through_the_door(client, it_admin):
    person = LocalUserFactory(username="pat")
    response = client.post(f"{USERS}{person.pk}/password/", {
        "usable_password": "true", "password1": STRONG, "password2": STRONG,
        "set-password": "1"})

    assert response.status_code == 302, response.content[:300]
    assert Client().login(username="pat", password=STRONG)
    [event] = events("user_changed")
    assert event.detail["password"] == "reset" and STRONG not in str(event.detail)


def test_an_entra_linked_user_never_gets_a_password_from_django_admin(client, it_admin):
    person = EntraUserFactory()
    assert client.get(f"{USERS}{person.pk}/password/").status_code == 403
    response = client.post(f"{USERS}{person.pk}/password/", {
        "usable_password": "true", "password1": STRONG, "password2": STRONG})

    assert response.status_code == 403
    person.refresh_from_db()
    assert not person.has_usable_password()
    [event] = events("user_changed")
    assert (event.outcome, event.reason) == ("refused", "entra_linked")


def test_deleting_a_local_user_is_audited_and_an_entra_one_is_refused(client, it_admin):
    local, linked = LocalUserFactory(username="pat"), EntraUserFactory()
    assert client.post(f"{USERS}{local.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not User.objects.filter(pk=local.pk).exists()
    [event] = events("user_deleted")
    assert (event.subject, event.detail["username"]) == (f"user:{local.pk}", "pat")

    assert client.post(f"{USERS}{linked.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=linked.pk).exists()


def test_bulk_delete_is_audited_one_event_per_user(client, it_admin):
    people = [LocalUserFactory(username=f"temp{n}") for n in range(3)]
    response = client.post(USERS, {"action": "delete_selected", "post": "yes",
                                    "_selected_action": [str(p.pk) for p in people]})
    assert response.status_code == 302
    assert not User.objects.filter(username__startswith="temp").exists()
    assert sorted(e.detail["username"] for e in events("user_deleted")) == [
        "temp0", "temp1", "temp2"]


def test_bulk_delete_cannot_take_an_entra_linked_user(client, it_admin):
    linked = EntraUserFactory()
    response = client.post(USERS, {"action": "delete_selected", "post": "yes",
                                   "_selected_action": [str(linked.pk)]})
    assert User.objects.filter(pk=linked.pk).exists()
    assert response.status_code in (200, 403)
    assert not events("user_deleted")


def test_group_changes_are_audited(client, it_admin):
    group = Group.objects.create(name="Call centre")
    view_user = Permission.objects.get(codename="view_user")
    response = client.post(f"{GROUPS}{group.pk}/change/", {
        "name": "Call centre leads", "permissions": [str(view_user.pk)]})
    assert response.status_code == 302
    assert client.post(f"{GROUPS}{group.pk}/delete/", {"post": "yes"}).status_code == 302
    changed, deleted = events("group_changed")
    assert changed.detail["before"] == {"name": "Call centre", "permissions": []}
    assert changed.detail["after"] == {"name": "Call centre leads",
                                       "permissions": ["accounts.view_user"]}
    assert (deleted.subject, deleted.detail["after"]) == (f"group:{group.pk}", {})


def test_every_write_is_one_event(client, it_admin):
    """The figure: one audit event per account write, none without one."""
    person = UserFactory(username="pat", first_name="Pat")
    before = AuditEvent.objects.count()
    change(client, person, first_name="Patricia")
    assert AuditEvent.objects.count() == before + 1
