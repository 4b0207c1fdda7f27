"""The whole sign-in over real HTTP: browser → site (live server) → Entra emulator → site."""

from __future__ import annotations

import io
import logging
from urllib.parse import urljoin, urlsplit

import pytest

from accounts.models import EntraIdentity, User
from audit.models import AuditEvent
from keyfax_site.log_filters import RedactSecrets
from tests import people, tokens
from tests.browser import query
from tests.factories import EntraIdentityFactory, UserFactory
from tests.tokens import CLIENT_SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADMIN = people.person("Administrator")
AUTHOR = people.person("Script author")


def test_a_valid_sign_in_lands_signed_in(entra, browser):
    response = browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin-tools/"
    home = browser.get("/admin-tools/")
    assert home.status_code == 200
    assert "Eleanor Whitfield" in home.text
    identity = EntraIdentity.objects.select_related("user").get(object_id=ADMIN["oid"])
    assert identity.user.email == ADMIN["email"]
    assert identity.roles == ["Keyfax.Admin"]
    assert not identity.user.has_usable_password()
    event = AuditEvent.objects.filter(action="sign_in").latest("id")
    assert (event.outcome, event.actor_user_id, event.actor_object_id) == (
        "success", identity.user_id, ADMIN["oid"],
    )
    assert event.detail["provisioned"] is True


def test_pkce_state_and_nonce_are_sent_on_every_sign_in(entra, browser):
    first, second = query(browser.start_sign_in()), query(browser.start_sign_in())

    assert first["code_challenge_method"] == "S256"
    assert len(first["code_challenge"]) == 43
    assert first["state"] != second["state"]
    assert first["nonce"] != second["nonce"]
    assert first["code_challenge"] != second["code_challenge"]


def test_a_second_sign_in_refreshes_display_fields_but_keeps_the_same_user(entra, browser):
    browser.sign_in(ADMIN["oid"])
    identity = EntraIdentity.objects.get(object_id=ADMIN["oid"])
    User.objects.filter(pk=identity.user_id).update(first_name="Old", email="old@example.com")

    browser.session.cookies.clear()
    browser.sign_in(ADMIN["oid"])

    assert EntraIdentity.objects.filter(object_id=ADMIN["oid"]).count() == 1
    user = User.objects.get(pk=identity.user_id)
    assert (user.first_name, user.email) == ("Eleanor", ADMIN["email"])


def test_the_session_id_changes_at_sign_in(entra, browser):
    callback = browser.pick_account(browser.start_sign_in(), ADMIN["oid"])
    before = browser.session_id
    assert before

    browser.get(callback)

    assert browser.session_id and browser.session_id != before


@pytest.mark.parametrize(
    "next_url",
    ["//evil.example", "/\\evil.example", "https:evil.example", "javascript:alert(1)",
     "https://evil.example/", "///evil.example", "\\\\evil.example"],
)
def test_an_unsafe_next_lands_on_the_default_page(entra, browser, next_url):
    response = browser.sign_in(ADMIN["oid"], next_url=next_url)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_an_encoded_next_stays_on_this_site(entra, browser):
    response = browser.sign_in(ADMIN["oid"], next_url="/%2F%2Fevil.example")

    landing = urljoin(browser.base_url + "/", response.headers["Location"])
    assert urlsplit(landing).netloc == urlsplit(browser.base_url).netloc


def test_a_local_next_is_honoured(entra, browser):
    response = browser.sign_in(ADMIN["oid"], next_url="/staff/?tab=recent")
    assert response.headers["Location"] == "/staff/?tab=recent"


def test_noauth_same_email_and_username_from_another_person_is_a_new_user(entra, browser):
    """nOAuth: a token for a different (tid, oid) carrying an existing account's email and
    username must never sign in as that account."""
    victim = UserFactory(username=AUTHOR["upn"], email=AUTHOR["email"], is_superuser=True)
    other = EntraIdentityFactory(user__email=AUTHOR["email"])
    entra.id_token_hook = None  # the emulator's Priya carries the victim's email and UPN

    browser.sign_in(AUTHOR["oid"])

    identity = EntraIdentity.objects.select_related("user").get(object_id=AUTHOR["oid"])
    assert identity.user_id not in {victim.pk, other.user_id}
    assert identity.user.username != victim.username
    assert not identity.user.is_superuser
    victim.refresh_from_db()
    assert not hasattr(victim, "entra_identity") or victim.entra_identity is None


def test_sign_out_ends_the_session_here_and_at_entra(entra, browser):
    browser.sign_in(ADMIN["oid"])
    csrf = browser.get("/admin-tools/").cookies.get("csrftoken") or browser.session.cookies[
        "csrftoken"
    ]

    response = browser.post("/oidc/logout/", data={"csrfmiddlewaretoken": csrf},
                             headers={"Referer": browser.base_url + "/admin-tools/"})

    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{entra.issuer[:-5]}/oauth2/v2.0/logout")
    assert "post_logout_redirect_uri" in query(response.headers["Location"])
    assert browser.get("/admin-tools/").status_code == 302
    event = AuditEvent.objects.filter(action="sign_out").latest("id")
    assert event.actor_object_id == ADMIN["oid"]
    assert event.detail == {"method": "entra", "kind": "rp_initiated"}


def test_sign_out_by_get_is_refused(entra, browser):
    browser.sign_in(ADMIN["oid"])
    assert browser.get("/oidc/logout/").status_code == 405
    assert browser.get("/admin-tools/").status_code == 200


def test_steady_state_sign_in_makes_one_request_to_entra(entra, browser):
    browser.sign_in(ADMIN["oid"])  # warms discovery and keys
    browser.session.cookies.clear()
    entra.reset_counts()

    browser.sign_in(ADMIN["oid"])

    idp_calls = {k: v for k, v in entra.request_counts.items() if k not in {"authorize"}}
    assert idp_calls == {"token": 1}


@pytest.fixture
def site_log():
    """What the site's configured log handler writes, at DEBUG, during the test."""
    root = logging.getLogger()
    handler = next(h for h in root.handlers if any(
        isinstance(f, RedactSecrets) for f in h.filters))
    stream = io.StringIO()
    previous_stream, previous_level = handler.setStream(stream), root.level
    root.setLevel(logging.DEBUG)
    yield stream
    root.setLevel(previous_level)
    handler.setStream(previous_stream)


def test_secrets_codes_and_tokens_stay_out_of_logs_and_pages(entra, browser, site_log):
    issued: list[str] = []

    def remember(header, claims):
        issued.append(tokens.sign(claims, entra.signing_private_key, entra.signing_kid))
        return issued[-1]

    entra.id_token_hook = remember
    callback = browser.pick_account(browser.start_sign_in(), ADMIN["oid"])
    code = query(callback)["code"]
    page = browser.get(callback)
    replay = browser.get(callback)  # refused: the state is spent

    log = site_log.getvalue()
    assert "oidc/callback" in log  # the requests were logged, with the code redacted
    for text in (log, page.text, replay.text):
        assert code not in text
        assert CLIENT_SECRET not in text
        assert issued and issued[0] not in text


def test_disabling_a_user_ends_their_session_at_once(entra, browser):
    browser.sign_in(ADMIN["oid"])
    assert browser.get("/admin-tools/").status_code == 200

    User.objects.filter(entra_identity__object_id=ADMIN["oid"]).update(is_active=False)

    assert browser.get("/admin-tools/").status_code == 302  # back to sign-in


def test_noauth_a_username_differing_only_in_case_is_not_reused(entra, browser):
    victim = UserFactory(username=ADMIN["upn"].upper(), email=ADMIN["email"])

    browser.sign_in(ADMIN["oid"])

    user = EntraIdentity.objects.get(object_id=ADMIN["oid"]).user
    assert user.pk != victim.pk
    assert user.username.lower() != victim.username.lower()
