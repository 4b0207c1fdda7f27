"""Forged and malformed ID tokens, fed through the real sign-in flow, are refused.

The emulator's ``id_token_hook`` swaps the token it would issue for a forgery; everything
else (state, nonce, PKCE, the code exchange) is the real flow over HTTP.
"""

from __future__ import annotations

import time

import pytest

from accounts.models import EntraIdentity
from audit.models import AuditEvent
from tests import people, tokens

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADMIN = people.person("Administrator")
ATTACKER_KEY = tokens.new_rsa_key()
OTHER_TENANT = "11111111-2222-3333-4444-555555555555"


def assert_refused(entra, browser, forge, reason: str) -> AuditEvent:
    """Sign in with the forgery; expect the error page, no session and the audit event."""
    entra.id_token_hook = lambda header, claims: forge(entra, dict(claims))

    response = browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")

    assert response.status_code == 403, response.text[:300]
    assert "Reference:" in response.text and "What to do" in response.text
    assert f"Reason: {reason}" in response.text
    assert browser.get("/admin-tools/").status_code == 302  # not signed in
    assert not EntraIdentity.objects.filter(object_id=ADMIN["oid"]).exists()
    event = AuditEvent.objects.filter(action="sign_in").latest("id")
    assert (event.outcome, event.reason) == ("refused", reason)
    return event


def _signed(claims_change=None, **headers):
    def forge(entra, claims):
        if claims_change:
            claims = claims_change(claims)
        return tokens.sign(claims, entra.signing_private_key, entra.signing_kid, **headers)

    return forge


def _without(*names):
    return _signed(lambda c: {k: v for k, v in c.items() if k not in names})


def _with(**values):
    return _signed(lambda c: {**c, **values})


FORGERIES = {
    "alg none": (lambda e, c: tokens.unsigned(c, kid=e.signing_kid), "token_algorithm"),
    "HS256 keyed with the public key": (
        lambda e, c: tokens.hs256_with_public_key(c, e.signing_private_key, e.signing_kid),
        "token_algorithm",
    ),
    "foreign key, same kid": (
        lambda e, c: tokens.sign(c, ATTACKER_KEY, e.signing_kid), "token_signature",
    ),
    "foreign key, unknown kid": (
        lambda e, c: tokens.sign(c, ATTACKER_KEY, "attacker-kid"), "token_key_unknown",
    ),
    "no kid": (lambda e, c: tokens.sign(c, e.signing_private_key, None), "token_key_unknown"),
    "wrong aud": (_with(aud="00000000-0000-0000-0000-000000000001"), "token_audience"),
    "wrong iss": (_with(iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"),
                  "token_issuer"),
    "right iss, other tid": (_with(tid=OTHER_TENANT), "token_tenant"),
    "expired": (_with(exp=int(time.time()) - 7200, iat=int(time.time()) - 10800,
                      nbf=int(time.time()) - 10800), "token_expired"),
    "nbf in the future": (_with(nbf=int(time.time()) + 3600), "token_not_yet_valid"),
    "nonce missing": (_without("nonce"), "nonce_mismatch"),
    "nonce wrong": (_with(nonce="not-the-nonce-we-sent"), "nonce_mismatch"),
    "iat missing": (_without("iat"), "token_claim_missing"),
    "sub missing": (_without("sub"), "token_claim_missing"),
    "oid missing": (_without("oid"), "token_claim_missing"),
    "tid missing": (_without("tid"), "token_claim_missing"),
    "v1 token": (_with(ver="1.0", iss=f"https://sts.windows.net/{tokens.TENANT_ID}/"),
                 "token_version"),
    "garbage": (lambda e, c: "not.a.jwt", "token_malformed"),
}


@pytest.mark.parametrize("name", FORGERIES)
def test_forged_token_is_refused(entra, browser, name):
    forge, reason = FORGERIES[name]
    assert_refused(entra, browser, forge, reason)


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk"])
def test_headers_pointing_at_an_attackers_key_are_refused_and_never_fetched(
    entra, browser, trap_server, header
):
    base, hits = trap_server
    url = f"{base}/keys"
    value = tokens.public_jwk(ATTACKER_KEY, "attacker-kid") if header == "jwk" else url

    def forge(entra, claims):
        return tokens.sign(claims, ATTACKER_KEY, "attacker-kid", **{header: value})

    assert_refused(entra, browser, forge, "token_key_header")
    assert hits == []


def test_a_token_signed_with_a_newly_rotated_key_is_accepted(entra, browser):
    assert browser.sign_in(ADMIN["oid"]).status_code == 302  # keys now cached
    browser.session.cookies.clear()
    entra.rotate_signing_key()
    entra.reset_counts()

    assert browser.sign_in(ADMIN["oid"]).status_code == 302
    assert entra.request_counts["jwks"] == 1  # one refetch for the unknown kid


def test_unknown_kids_refetch_the_keys_at_most_once_per_interval(entra, browser):
    assert browser.sign_in(ADMIN["oid"]).status_code == 302  # keys now cached
    EntraIdentity.objects.all().delete()
    entra.reset_counts()

    for _ in range(4):
        browser.session.cookies.clear()
        assert_refused(
            entra, browser, FORGERIES["foreign key, unknown kid"][0], "token_key_unknown"
        )

    assert entra.request_counts["jwks"] == 1
