"""Django admin is IT's SSO surface: Keyfax.IT signs in through Entra and lands there; anyone
else gets a page that says why, never the sign-in form again; a password session works
only while local sign-in is on."""

from __future__ import annotations

import pytest

from accounts.models import EntraIdentity
from audit.models import AuditEvent
from tests import people
from tests.factories import LocalUserFactory
from tests.permission_helpers import default_mappings, entra_session

__all__ = ["default_mappings"]

IT = people.with_role("Keyfax.IT")
ADMIN = people.person("Administrator")
PERMS = "authentication_and_permissions"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_it_signs_in_through_entra_and_lands_in_django_admin(perms_site, browser):
    response = browser.sign_in(IT["oid"], next_url="/django-admin/")

    assert (response.status_code, response.headers["Location"]) == (302, "/django-admin/")
    index = browser.get("/django-admin/")
    assert index.status_code == 200 and "Keyfax IT administration" in index.text
    for page in ("audit/auditevent/", "permissions/rolemapping/", "accounts/user/"):
        assert browser.get(f"/django-admin/{page}").status_code == 200, page
    user = EntraIdentity.objects.get(object_id=IT["oid"]).user
    assert user.is_staff and not user.is_superuser
    event = AuditEvent.objects.filter(action="sign_in").latest("id")
    assert (event.outcome, event.actor_object_id) == ("success", IT["oid"])


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_sign_in_for_django_admin_without_it_access_is_refused(perms_site, browser):
    response = browser.sign_in(ADMIN["oid"], next_url="/django-admin/")

    assert response.status_code == 403
    assert "Reason: no_it_access" in response.text and "Keyfax.IT" in response.text
    event = AuditEvent.objects.filter(action="sign_in").latest("id")
    assert (event.outcome, event.reason) == ("refused", "no_it_access")
    assert not EntraIdentity.objects.filter(object_id=ADMIN["oid"]).exists()


@pytest.mark.django_db
def test_a_signed_in_person_without_it_access_is_told_not_looped(client, sign_in):
    person = sign_in("maintain_users", user=LocalUserFactory(first_name="Ella",
                                                             last_name="Whit"))
    response = client.get("/django-admin/", follow=True)

    assert response.status_code == 403
    assert "Django admin is for IT" in response.text
    assert "Ella Whit" in response.text and person.username in response.text
    assert "with Microsoft Entra ID" in response.text
    assert response.redirect_chain == [("/django-admin/login/?next=/django-admin/", 302)]


@pytest.mark.django_db
def test_nobody_signed_in_goes_to_the_keyfax_sign_in_page(client):
    response = client.get("/django-admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=/django-admin/")


@pytest.mark.django_db
def test_a_break_glass_session_ends_in_django_admin_when_local_sign_in_is_switched_off(
        client, settings):
    from tests.conftest import point_site_at

    point_site_at(settings, "https://login.microsoftonline.com")
    settings.KEYFAX_LOCAL_LOGIN = True
    breakglass = LocalUserFactory(username="it.breakglass", is_staff=True, is_superuser=True)
    breakglass.set_password("break-glass-password-long-and-random")
    breakglass.save()
    assert client.post("/accounts/login/", {
        "username": "it.breakglass",
        "password": "break-glass-password-long-and-random"}).status_code == 302
    assert client.get("/django-admin/").status_code == 200

    settings.KEYFAX_LOCAL_LOGIN = False
    response = client.get("/django-admin/", follow=True)

    assert response.status_code == 403
    assert "no longer accepts password sign-ins for Django admin" in response.text
    assert client.get("/django-admin/audit/auditevent/").status_code == 302


@pytest.mark.django_db
def test_signing_out_of_django_admin_is_audited(client, settings):
    it = LocalUserFactory(username="it.staff", is_staff=True)
    entra_session(client, it, elements=())
    response = client.post("/django-admin/logout/")

    assert (response.status_code, response["Location"]) == (302, "/accounts/signed-out/")
    event = AuditEvent.objects.get(action="sign_out")
    assert (event.actor_user_id, event.detail["method"]) == (it.pk, "entra")
    assert client.get("/django-admin/").status_code == 302  # signed out
