"""User Maintenance account actions: create a local user, disable/enable, reset a password."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from tests.factories import EntraUserFactory, LocalUserFactory, MaintainerFactory

pytestmark = pytest.mark.django_db
NEW = {"username": "new.person", "first_name": "Nia", "last_name": "Newton",
       "email": "nia@example.org", "login_mode": "password", "user_group": "Repairs",
       "notes": "Starts Monday."}
STRONG = "tangerine-Horizon-42"




def only_event(action: str) -> AuditEvent:
    [event] = AuditEvent.objects.filter(action=action)
    return event


# --- create ---------------------------------------------------------------------------------


def test_create_a_local_user(client, maintainer):
    assert client.get("/admin-tools/users/new/").status_code == 200

    response = client.post("/admin-tools/users/new/", NEW)

    person = User.objects.get(username="new.person")
    assert response.status_code == 302
    assert response["Location"] == f"/admin-tools/users/{person.pk}/password/"
    assert (person.first_name, person.last_name, person.email, person.login_mode,
            person.user_group, person.notes) == ("Nia", "Newton", "nia@example.org", "password",
                                                 "Repairs", "Starts Monday.")
    assert not hasattr(person, "entra_identity") or person.entra_identity is None
    assert not person.has_usable_password()
    event = only_event("user_created")
    assert (event.subject, event.actor_user_id) == (f"user:{person.pk}", maintainer.pk)
    assert event.detail["fields"]["username"] == "new.person"
    assert event.detail["notes"] is True


def test_a_user_created_for_sso_goes_to_their_page(client, maintainer):
    response = client.post("/admin-tools/users/new/", {**NEW, "login_mode": "sso"})
    person = User.objects.get(username="new.person")
    assert response["Location"] == f"/admin-tools/users/{person.pk}/"
    assert person.login_mode == "sso"


@pytest.mark.parametrize(("missing", "message"), [
    ("first_name", "This field is required"), ("last_name", "This field is required"),
    ("email", "This field is required"), ("username", "This field is required"),
])
def test_forename_surname_email_and_username_are_mandatory(client, maintainer, missing,
                                                           message):
    response = client.post("/admin-tools/users/new/", {**NEW, missing: ""})
    assert response.status_code == 400
    assert message in response.text
    assert not User.objects.filter(username="new.person").exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("taken", ["maint", "MAINT", "Maint"])
def test_usernames_are_unique_whatever_the_case(client, maintainer, taken):
    response = client.post("/admin-tools/users/new/", {**NEW, "username": taken})
    assert response.status_code == 400
    assert "already exists" in response.text
    assert User.objects.count() == 1


def test_create_needs_maintain_users(client, settings):
    settings.KEYFAX_SSO_ADMIN_TOOL = "off"
    client.force_login(LocalUserFactory())
    assert client.get("/admin-tools/users/new/").status_code == 403
    assert client.post("/admin-tools/users/new/", NEW).status_code == 403
    assert not User.objects.filter(username="new.person").exists()


def test_every_form_needs_its_csrf_token(settings):
    settings.KEYFAX_SSO_ADMIN_TOOL = "off"
    maintainer = MaintainerFactory()
    target = LocalUserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(maintainer)
    for path in ("/admin-tools/users/new/", f"/admin-tools/users/{target.pk}/",
                 f"/admin-tools/users/{target.pk}/disable/",
                 f"/admin-tools/users/{target.pk}/password/"):
        assert client.post(path, NEW).status_code == 403, path
    assert 'name="csrfmiddlewaretoken"' in client.get(f"/admin-tools/users/{target.pk}/").text
    target.refresh_from_db()
    assert target.is_active


# --- disable / enable ---------------------------------------------------------------------------


def test_disable_and_enable(client, maintainer):
    person = EntraUserFactory()

    response = client.post(f"/admin-tools/users/{person.pk}/disable/")

    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.is_active
    assert only_event("user_disabled").subject == f"user:{person.pk}"
    assert "Enable " in client.get(f"/admin-tools/users/{person.pk}/").text

    client.post(f"/admin-tools/users/{person.pk}/disable/")  # already disabled: no event
    assert AuditEvent.objects.filter(action="user_disabled").count() == 1

    client.post(f"/admin-tools/users/{person.pk}/enable/")
    person.refresh_from_db()
    assert person.is_active
    assert only_event("user_enabled").actor_user_id == maintainer.pk


def test_a_disabled_local_user_cannot_sign_in(client, maintainer):
    person = LocalUserFactory(username="dora")
    client.post(f"/admin-tools/users/{person.pk}/disable/")
    assert not Client().login(username="dora", password="correct horse battery staple")


def test_disable_and_enable_are_post_only(client, maintainer):
    person = LocalUserFactory()
    assert client.get(f"/admin-tools/users/{person.pk}/disable/").status_code == 405
    assert client.get(f"/admin-tools/users/{person.pk}/enable/").status_code == 405
    person.refresh_from_db()
    assert person.is_active


def test_nobody_disables_themselves(client, maintainer):
    response = client.post(f"/admin-tools/users/{maintainer.pk}/disable/", follow=True)

    assert "You cannot disable your own account" in response.text
    maintainer.refresh_from_db()
    assert maintainer.is_active
    event = only_event("user_disabled")
    assert (event.outcome, event.reason) == ("refused", "self")


def test_disable_needs_maintain_users(client, settings):
    settings.KEYFAX_SSO_ADMIN_TOOL = "off"
    person = LocalUserFactory()
    client.force_login(LocalUserFactory())
    assert client.post(f"/admin-tools/users/{person.pk}/disable/").status_code == 403
    person.refresh_from_db()
    assert person.is_active


# --- password reset -----------------------------------------------------------------------------


def test_reset_a_local_users_password(client, maintainer):
    person = LocalUserFactory(username="pat")
    assert client.get(f"/admin-tools/users/{person.pk}/password/").status_code == 200

    response = client.post(f"/admin-tools/users/{person.pk}/password/",
                           {"new_password1": STRONG, "new_password2": STRONG})

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password(STRONG)
    event = only_event("user_changed")
    assert event.detail == {"via": "user_maintenance", "username": person.username,
                            "password": "reset"}
    assert STRONG not in str(AuditEvent.objects.values_list("detail", flat=True)[0])
    assert Client().login(username="pat", password=STRONG)


@pytest.mark.parametrize(("first", "second", "message"), [
    ("123", "123", "This password is too short"),
    ("password", "password", "This password is too common"),
    (STRONG, STRONG + "x", "The two password fields didn"),
    ("pat-pat-pat", "pat-pat-pat", "too similar to the username"),
])
def test_weak_or_mismatched_passwords_are_refused(client, maintainer, first, second, message):
    person = LocalUserFactory(username="pat-pat-pat")
    response = client.post(f"/admin-tools/users/{person.pk}/password/",
                           {"new_password1": first, "new_password2": second})
    assert response.status_code == 400
    assert message in response.text
    person.refresh_from_db()
    assert person.check_password("correct horse battery staple")
    assert not AuditEvent.objects.exists()


def test_an_entra_linked_user_never_gets_a_password(client, maintainer):
    person = EntraUserFactory()
    page = client.get(f"/admin-tools/users/{person.pk}/password/")
    assert page.status_code == 403
    assert "never has a Keyfax password" in page.text
    assert 'name="new_password1"' not in page.text

    forged = client.post(f"/admin-tools/users/{person.pk}/password/",
                         {"new_password1": STRONG, "new_password2": STRONG})

    assert forged.status_code == 403
    person.refresh_from_db()
    assert not person.has_usable_password()
    event = only_event("user_changed")
    assert (event.outcome, event.reason) == ("refused", "entra_linked")


def test_a_local_user_in_sso_mode_gets_no_password(client, maintainer):
    person = LocalUserFactory(login_mode="sso")
    forged = client.post(f"/admin-tools/users/{person.pk}/password/",
                         {"new_password1": STRONG, "new_password2": STRONG})
    assert forged.status_code == 403
    person.refresh_from_db()
    assert not person.check_password(STRONG)
    assert only_event("user_changed").reason == "login_mode_sso"
