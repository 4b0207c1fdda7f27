"""The sign-in page: Microsoft first; passwords only where allowed; throttled; audited."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

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


# --- The throttle counts per (username, client address) and per address (issue 10) ---------

HERE, THERE = "198.51.100.1", "203.0.113.9"
PROXY = "10.0.0.1"


def attempt(client, username: str, password: str, **environ):
    return client.post("/accounts/login/", {"username": username, "password": password},
                       **environ)


def refusals(reason: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="sign_in", outcome="refused", reason=reason)
                .order_by("id"))


def test_failures_from_one_address_lock_that_address_only(client, password_site):
    """Five bad passwords for it.breakglass from A: the right one still works from B, not A."""
    user = LocalUserFactory(username="it.breakglass")
    for _ in range(5):
        assert attempt(client, user.username, "wrong", REMOTE_ADDR=HERE).status_code == 400
    assert [event.source_ip for event in refusals("bad_credentials")] == [HERE] * 5

    elsewhere = attempt(Client(), user.username, PASSWORD, REMOTE_ADDR=THERE)
    assert elsewhere.status_code == 302
    signed_in = AuditEvent.objects.latest("id")
    assert (signed_in.outcome, signed_in.actor_user_id, signed_in.source_ip) == (
        "success", user.pk, THERE
    )

    here = attempt(client, user.username, PASSWORD, REMOTE_ADDR=HERE)
    assert here.status_code == 400 and "Too many failed attempts" in here.text
    assert "_auth_user_id" not in client.session
    assert [event.source_ip for event in refusals("throttled")] == [HERE]  # one per refusal


def test_spraying_many_usernames_from_one_address_is_locked(client, password_site):
    """Four times KEYFAX_LOGIN_ATTEMPTS failures from one address lock it for everyone."""
    password_site.KEYFAX_LOGIN_ATTEMPTS = 2  # so the address limit is 8
    user = LocalUserFactory()
    for n in range(7):
        attempt(client, f"sprayed.{n}", "wrong", REMOTE_ADDR=HERE)
    # Below the address limit, a person who shares the address still signs in.
    assert attempt(Client(), user.username, PASSWORD, REMOTE_ADDR=HERE).status_code == 302

    attempt(client, "sprayed.7", "wrong", REMOTE_ADDR=HERE)

    locked = attempt(client, user.username, PASSWORD, REMOTE_ADDR=HERE)
    assert locked.status_code == 400 and "Too many failed attempts" in locked.text
    assert "_auth_user_id" not in client.session
    assert attempt(client, "sprayed.8", "wrong", REMOTE_ADDR=HERE).status_code == 400
    assert [(e.subject, e.source_ip) for e in refusals("throttled")] == [
        (f"username:{user.username}", HERE), ("username:sprayed.8", HERE)
    ]
    assert len(refusals("bad_credentials")) == 8  # the locked attempts are not tried at all
    # Another address is not affected.
    assert attempt(Client(), user.username, PASSWORD, REMOTE_ADDR=THERE).status_code == 302


def test_behind_a_trusted_proxy_clients_are_counted_apart_untrusted_they_share(
    client, password_site
):
    user = LocalUserFactory(username="it.breakglass")

    def five_failures_then_the_right_password_elsewhere():
        for _ in range(5):
            attempt(Client(), user.username, "wrong", REMOTE_ADDR=PROXY,
                    HTTP_X_FORWARDED_FOR=HERE)
        return attempt(Client(), user.username, PASSWORD, REMOTE_ADDR=PROXY,
                       HTTP_X_FORWARDED_FOR=THERE)

    password_site.KEYFAX_TRUSTED_PROXIES = [PROXY]
    assert five_failures_then_the_right_password_elsewhere().status_code == 302
    assert {event.source_ip for event in refusals("bad_credentials")} == {HERE}
    assert AuditEvent.objects.latest("id").source_ip == THERE

    cache.clear()
    password_site.KEYFAX_TRUSTED_PROXIES = []
    shared = five_failures_then_the_right_password_elsewhere()
    assert shared.status_code == 400 and "Too many failed attempts" in shared.text
    assert AuditEvent.objects.latest("id").source_ip == PROXY
    assert [event.source_ip for event in refusals("throttled")] == [PROXY]


def test_an_ipv6_client_is_counted_by_its_64_block(client, password_site):
    user = LocalUserFactory(username="it.breakglass")
    for n in range(5):
        attempt(client, user.username, "wrong", REMOTE_ADDR=f"2001:db8:0:1::{n + 1}")

    same_block = attempt(Client(), user.username, PASSWORD, REMOTE_ADDR="2001:db8:0:1::99")
    assert same_block.status_code == 400 and "Too many failed attempts" in same_block.text
    other_block = attempt(Client(), user.username, PASSWORD, REMOTE_ADDR="2001:db8:0:2::1")
    assert other_block.status_code == 302


def test_the_lock_out_message_names_the_configured_wait(client, password_site):
    password_site.KEYFAX_LOGIN_ATTEMPTS = 1
    password_site.KEYFAX_LOGIN_LOCKOUT_SECONDS = 300
    user = LocalUserFactory()
    attempt(client, user.username, "wrong")
    response = attempt(client, user.username, PASSWORD)
    assert "Too many failed attempts. Wait 5 minutes, then try again." in response.text
