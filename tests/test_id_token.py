"""Each ID-token check on its own, with real RSA signatures (no emulator, no network)."""

from __future__ import annotations

import time

import jwt
import pytest

from accounts.entra.id_token import verify_id_token
from accounts.refusals import Reason, SignInRefused
from tests import tokens
from tests.tokens import CLIENT_ID, TENANT_ID

ISSUER = f"https://login.microsoftonline.com/{TENANT_ID}/v2.0"
KID = "key-1"
NONCE = "n-0123456789"


@pytest.fixture(scope="module")
def key():
    return tokens.new_rsa_key()


@pytest.fixture(scope="module")
def jwks(key):
    return {KID: jwt.PyJWK(tokens.public_jwk(key, KID), algorithm="RS256")}


def verify(raw, jwks, nonce=NONCE):
    return verify_id_token(
        raw, key_for=jwks.get, issuer=ISSUER, client_id=CLIENT_ID, tenant_id=TENANT_ID,
        nonce=nonce,
    )


def refusal(raw, jwks, nonce=NONCE) -> SignInRefused:
    with pytest.raises(SignInRefused) as caught:
        verify(raw, jwks, nonce)
    return caught.value


def test_a_well_formed_token_is_accepted(key, jwks):
    claims = tokens.entra_claims(ISSUER)
    assert verify(tokens.sign(claims, key, KID), jwks)["oid"] == claims["oid"]


def test_tenant_comparison_ignores_guid_case(key, jwks):
    claims = tokens.entra_claims(ISSUER, tid=TENANT_ID.upper())
    assert verify(tokens.sign(claims, key, KID), jwks)["tid"] == TENANT_ID.upper()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "00000000-0000-0000-0000-000000000000"}, Reason.TOKEN_AUDIENCE),
        ({"aud": [CLIENT_ID, "other"]}, Reason.TOKEN_AUDIENCE),
        ({"iss": "https://login.microsoftonline.com/other/v2.0"}, Reason.TOKEN_ISSUER),
        ({"tid": "11111111-2222-3333-4444-555555555555"}, Reason.TOKEN_TENANT),
        ({"exp": int(time.time()) - 3600}, Reason.TOKEN_EXPIRED),
        ({"nbf": int(time.time()) + 3600}, Reason.TOKEN_NOT_YET_VALID),
        ({"iat": int(time.time()) + 3600}, Reason.TOKEN_ISSUED_IN_FUTURE),
        ({"iat": None}, Reason.TOKEN_CLAIM_MISSING),
        ({"sub": None}, Reason.TOKEN_CLAIM_MISSING),
        ({"oid": None}, Reason.TOKEN_CLAIM_MISSING),
        ({"tid": None}, Reason.TOKEN_CLAIM_MISSING),
        ({"exp": "tomorrow"}, Reason.TOKEN_CLAIM_INVALID),
        ({"oid": "not-a-guid"}, Reason.TOKEN_CLAIM_INVALID),
        ({"ver": "1.0"}, Reason.TOKEN_VERSION),
        ({"nonce": None}, Reason.NONCE_MISMATCH),
        ({"nonce": "someone-elses-nonce"}, Reason.NONCE_MISMATCH),
    ],
)
def test_each_claim_rule_refuses_with_its_own_reason(key, jwks, overrides, reason):
    raw = tokens.sign(tokens.entra_claims(ISSUER, **overrides), key, KID)
    assert refusal(raw, jwks).reason is reason


def test_a_small_clock_skew_is_tolerated(key, jwks):
    now = int(time.time())
    claims = tokens.entra_claims(ISSUER, iat=now + 30, nbf=now + 30, exp=now - 30)
    assert verify(tokens.sign(claims, key, KID), jwks)


def test_no_nonce_expected_means_refused(key, jwks):
    raw = tokens.sign(tokens.entra_claims(ISSUER), key, KID)
    assert refusal(raw, jwks, nonce=None).reason is Reason.NONCE_MISMATCH


def test_alg_none_is_refused(jwks):
    raw = tokens.unsigned(tokens.entra_claims(ISSUER), kid=KID)
    assert refusal(raw, jwks).reason is Reason.TOKEN_ALGORITHM


def test_hs256_keyed_with_the_public_key_is_refused(key, jwks):
    raw = tokens.hs256_with_public_key(tokens.entra_claims(ISSUER), key, KID)
    assert refusal(raw, jwks).reason is Reason.TOKEN_ALGORITHM


def test_a_key_not_in_the_jwks_under_a_known_kid_fails_the_signature(jwks):
    raw = tokens.sign(tokens.entra_claims(ISSUER), tokens.new_rsa_key(), KID)
    assert refusal(raw, jwks).reason is Reason.TOKEN_SIGNATURE


def test_an_unknown_kid_is_refused(jwks):
    raw = tokens.sign(tokens.entra_claims(ISSUER), tokens.new_rsa_key(), "attacker")
    assert refusal(raw, jwks).reason is Reason.TOKEN_KEY_UNKNOWN


def test_a_token_without_kid_is_refused(key, jwks):
    raw = tokens.sign(tokens.entra_claims(ISSUER), key, kid=None)
    assert refusal(raw, jwks).reason is Reason.TOKEN_KEY_UNKNOWN


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk", "x5c"])
def test_headers_that_name_their_own_key_are_refused(header, jwks):
    attacker = tokens.new_rsa_key()
    value = {"jwk": tokens.public_jwk(attacker, KID), "x5c": ["MIIB"]}.get(
        header, "https://evil.example/keys"
    )
    raw = tokens.sign(tokens.entra_claims(ISSUER), attacker, KID, **{header: value})
    assert refusal(raw, jwks).reason is Reason.TOKEN_KEY_HEADER


@pytest.mark.parametrize(
    "raw", [None, "", "abc", "a.b", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.e30.!!!", 42]
)
def test_malformed_tokens_are_refused_not_crashed(raw, jwks):
    assert refusal(raw, jwks).reason in {Reason.TOKEN_MALFORMED, Reason.TOKEN_ALGORITHM}


def test_a_tampered_payload_fails_the_signature(key, jwks):
    header, _, signature = tokens.sign(tokens.entra_claims(ISSUER), key, KID).split(".")
    forged_payload = tokens.sign(
        tokens.entra_claims(ISSUER, oid="3f5d8a2b-7c1e-4b9a-8d6f-2e4c6a8b0d1f"), key, KID
    ).split(".")[1]
    assert refusal(f"{header}.{forged_payload}.{signature}", jwks).reason is Reason.TOKEN_SIGNATURE
