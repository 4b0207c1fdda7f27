"""The sign-in page: Microsoft first; passwords only where allowed; throttled; audited."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from audit.models import AuditEvent
from tests.conftest import point_site_at
from tests.factories import EntraIdentityFactory, LocalUserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _clear_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sso_site(settings):
    point_site_at(settings, "https://login.microsoftonline.com")
    return settings


@pytest.fixture
def password_site(settings):
    settings.ENTRA_TENANT_ID = ""
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = "off"
    settings.KEYFAX_LOCAL_LOGIN = True
    return settings


def test_with_sso_on_the_page_offers_microsoft_and_no_password_form(client, sso_site):
    page = client.get("/accounts/login/?next=/admin-tools/")
    assert page.status_code == 200
    assert "Sign in with Microsoft" in page.text
    assert 'href="/oidc/authenticate/?next=%2Fadmin-tools%2F"' in page.text
    assert 'type="password"' not in page.text


def test_with_sso_on_a_posted_password_is_refused(client, sso_site):
    user = LocalUserFactory()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.latest("id").reason == "password_off"


def test_break_glass_shows_the_password_form_beside_microsoft(client, sso_site):
    sso_site.KEYFAX_LOCAL_LOGIN = True
    page = client.get("/accounts/login/")
    assert "Sign in with Microsoft" in page.text and 'type="password"' in page.text


def test_a_local_user_signs_in_with_a_password_where_allowed(client, password_site):
    user = LocalUserFactory()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "next": "/staff/"}
    )
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.session["_auth_user_id"] == str(user.pk)
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.outcome, event.detail["method"]) == ("sign_in", "success",
                                                                     "password")


def test_a_wrong_password_is_a_form_error_and_an_audit_event(client, password_site):
    user = LocalUserFactory()
    response = client.post("/accounts/login/", {"username": user.username, "password": "nope"})
    assert response.status_code == 400
    assert "did not match" in response.text
    assert AuditEvent.objects.latest("id").reason == "bad_credentials"


def test_an_entra_linked_user_can_never_use_a_password(client, password_site):
    identity = EntraIdentityFactory(user=LocalUserFactory())
    response = client.post(
        "/accounts/login/", {"username": identity.user.username, "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_account_even_with_the_right_password(client, password_site):
    password_site.KEYFAX_LOGIN_ATTEMPTS = 3
    user = LocalUserFactory()
    for _ in range(3):
        client.post("/accounts/login/", {"username": user.username, "password": "wrong"})

    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 400
    assert "Too many failed attempts" in response.text
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.latest("id").reason == "throttled"


@pytest.mark.parametrize(
    "data", [{}, {"username": ""}, {"username": "x" * 500, "password": "y"},
             {"username": "a\x00b", "password": "y"}],
)
def test_bad_form_input_is_a_clear_error(client, password_site, data):
    response = client.post("/accounts/login/", data)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_an_unsafe_next_is_dropped(client, password_site):
    user = LocalUserFactory()
    response = client.post(
        "/accounts/login/",
        {"username": user.username, "password": PASSWORD, "next": "//evil.example/"},
    )
    assert response["Location"] == "/"


def test_django_admin_signs_in_through_the_keyfax_page(client):
    response = client.get("/django-admin/login/?next=/django-admin/audit/auditevent/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/django-admin/audit/")


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_a_local_user_switched_to_sso_cannot_use_a_password(client, password_site):
    user = LocalUserFactory(login_mode="sso")
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
