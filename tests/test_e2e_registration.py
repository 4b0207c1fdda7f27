"""Pre-registration (KEYFAX_SSO_PROVISIONING=registered) over real HTTP against the emulator:
only people registered first and linked by object id get in; nobody is matched by UPN or
email (nOAuth)."""

from __future__ import annotations

import uuid

import pytest

from accounts.checks import check_sso_settings
from accounts.models import EntraIdentity, User
from accounts.sso_config import Element, sso_config
from audit.models import AuditEvent
from tests import people
from tests.factories import EntraIdentityFactory, LocalUserFactory, UserFactory
from tests.tokens import TENANT_ID

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ADMIN = people.person("Administrator")
STAFF = people.with_role("Keyfax.Staff")


def refused(response, reason: str) -> AuditEvent:
    assert response.status_code == 403, response.text[:300]
    assert f"Reason: {reason}" in response.text
    return AuditEvent.objects.filter(action="sign_in").latest("id")


def test_an_unregistered_person_is_refused_and_it_sees_who(entra, browser, settings):
    settings.KEYFAX_SSO_PROVISIONING = "registered"

    response = browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")

    event = refused(response, "not_registered")
    assert "You are not registered to use Keyfax" in response.text
    assert "register you in User Maintenance" in response.text
    assert not User.objects.exists()
    assert (event.outcome, event.actor_object_id) == ("refused", ADMIN["oid"])
    assert event.detail["upn"] == ADMIN["upn"] and event.detail["target"] == "admin_tool"


def test_a_registered_linked_person_is_admitted(entra, browser, settings):
    settings.KEYFAX_SSO_PROVISIONING = "registered"
    registered = EntraIdentityFactory(tenant_id=TENANT_ID, object_id=ADMIN["oid"],
                                      user=UserFactory(username="eleanor"))

    response = browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")

    assert (response.status_code, response.headers.get("Location")) == (302, "/admin-tools/")
    assert User.objects.get() == registered.user


def test_the_same_upn_and_email_with_another_object_id_is_refused(entra, browser, settings):
    """nOAuth: a registered account whose username and email equal this person's UPN, and an
    Entra identity of another object id, is never theirs."""
    settings.KEYFAX_SSO_PROVISIONING = "registered"
    local = LocalUserFactory(username=ADMIN["upn"], email=ADMIN["email"])
    other = EntraIdentityFactory(tenant_id=TENANT_ID, object_id=uuid.uuid4(),
                                 user=UserFactory(username="someone", email=ADMIN["email"]),
                                 upn=ADMIN["upn"])

    refused(browser.sign_in(ADMIN["oid"], next_url="/admin-tools/"), "not_registered")

    assert not EntraIdentity.objects.filter(object_id=ADMIN["oid"]).exists()
    assert set(User.objects.values_list("pk", flat=True)) == {local.pk, other.user_id}
    assert browser.get("/admin-tools/").status_code == 302  # not signed in as anyone


def test_per_element_policies_apply_to_the_element_signed_in_to(entra, browser, settings):
    settings.KEYFAX_SSO_PROVISIONING = "web_staff=registered"

    refused(browser.sign_in(STAFF["oid"], next_url="/staff/"), "not_registered")
    assert not User.objects.exists()
    signed_in = browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    assert signed_in.status_code == 302 and User.objects.count() == 1


def test_on_sign_in_stays_the_default(entra, browser):
    response = browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    assert response.status_code == 302 and User.objects.count() == 1


@pytest.mark.parametrize("value", ["registerd", "admin_tool=maybe", "kitchen=registered", ""])
def test_an_unreadable_policy_is_an_error_and_fails_safe(settings, value):
    settings.KEYFAX_SSO_PROVISIONING = value

    [problem] = [p for p in check_sso_settings() if p.id == "keyfax.E013"]
    assert all(sso_config().registration_required(e) for e in Element)
    assert "KEYFAX_SSO_PROVISIONING" in problem.msg
