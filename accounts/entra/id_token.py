"""Verify an Entra ID token. Each check is named and refuses with its own reason.

PyJWT verifies the RS256 signature with a key from the tenant's JWKS; the claim checks are
written out below, in order, so that a refusal says exactly which rule failed.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Any

import jwt

from accounts.refusals import Reason, SignInRefused
from accounts.sso_config import GUID

# Entra signs ID tokens with RS256 only; OIDC_RP_SIGN_ALGO must name it (keyfax.E009).
SUPPORTED_ALGORITHMS = ("RS256",)
LEEWAY_SECONDS = 60
# Headers that would let a token name its own key. PyJWT never fetches them, and we refuse
# any token that carries them rather than silently ignoring them.
KEY_BEARING_HEADERS = ("jku", "x5u", "jwk", "x5c", "crit")
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "sub", "oid", "tid")

KeyLookup = Callable[[str], "jwt.PyJWK | None"]


def verify_id_token(
    raw: object,
    *,
    key_for: KeyLookup,
    algorithm: str = "RS256",
    issuer: str,
    client_id: str,
    tenant_id: str,
    nonce: str | None,
    now: float | None = None,
) -> dict[str, Any]:
    """Return the token's claims, or raise :class:`SignInRefused` naming the failed check."""
    if not isinstance(raw, str) or raw.count(".") != 2:
        raise SignInRefused(Reason.TOKEN_MALFORMED)
    header = _header(raw, algorithm)
    key = _signing_key(header, key_for)
    claims = _verified_claims(raw, key, algorithm)
    _check_required_claims(claims)
    _check_version(claims)
    _check_issuer(claims, issuer)
    _check_audience(claims, client_id)
    _check_tenant(claims, tenant_id)
    _check_lifetime(claims, time.time() if now is None else now)
    _check_identifiers(claims)
    _check_nonce(claims, nonce)
    return claims


def _header(raw: str, algorithm: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.PyJWTError:
        raise SignInRefused(Reason.TOKEN_MALFORMED) from None
    if algorithm not in SUPPORTED_ALGORITHMS or header.get("alg") != algorithm:
        raise SignInRefused(Reason.TOKEN_ALGORITHM, {"alg": str(header.get("alg"))[:20]})
    present = [name for name in KEY_BEARING_HEADERS if name in header]
    if present:
        raise SignInRefused(Reason.TOKEN_KEY_HEADER, {"headers": present})
    return header


def _signing_key(header: dict[str, Any], key_for: KeyLookup) -> jwt.PyJWK:
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise SignInRefused(Reason.TOKEN_KEY_UNKNOWN, {"kid": None})
    key = key_for(kid)
    if key is None:
        raise SignInRefused(Reason.TOKEN_KEY_UNKNOWN, {"kid": kid[:100]})
    return key


def _verified_claims(raw: str, key: jwt.PyJWK, algorithm: str) -> dict[str, Any]:
    """Signature only; the claims are checked one by one afterwards."""
    try:
        claims = jwt.decode(
            raw,
            key,
            algorithms=[algorithm],
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise SignInRefused(Reason.TOKEN_SIGNATURE) from None
    except jwt.PyJWTError:
        raise SignInRefused(Reason.TOKEN_MALFORMED) from None
    if not isinstance(claims, dict):
        raise SignInRefused(Reason.TOKEN_MALFORMED)
    return claims


def _check_required_claims(claims: dict[str, Any]) -> None:
    missing = [name for name in REQUIRED_CLAIMS if claims.get(name) in (None, "")]
    if missing:
        raise SignInRefused(Reason.TOKEN_CLAIM_MISSING, {"claims": missing})


def _check_version(claims: dict[str, Any]) -> None:
    if claims.get("ver") != "2.0":
        raise SignInRefused(Reason.TOKEN_VERSION, {"ver": str(claims.get("ver"))[:10]})


def _check_issuer(claims: dict[str, Any], issuer: str) -> None:
    if claims["iss"] != issuer:
        raise SignInRefused(Reason.TOKEN_ISSUER, {"iss": str(claims["iss"])[:200]})


def _check_audience(claims: dict[str, Any], client_id: str) -> None:
    if claims["aud"] != client_id:
        raise SignInRefused(Reason.TOKEN_AUDIENCE, {"aud": str(claims["aud"])[:200]})


def _check_tenant(claims: dict[str, Any], tenant_id: str) -> None:
    tid = claims["tid"]
    if not isinstance(tid, str) or tid.lower() != tenant_id.lower():
        raise SignInRefused(Reason.TOKEN_TENANT, {"tid": str(tid)[:64]})


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SignInRefused(Reason.TOKEN_CLAIM_INVALID, {"claim": name})
    return float(value)


def _check_lifetime(claims: dict[str, Any], now: float) -> None:
    if _number(claims, "exp") < now - LEEWAY_SECONDS:
        raise SignInRefused(Reason.TOKEN_EXPIRED)
    if _number(claims, "iat") > now + LEEWAY_SECONDS:
        raise SignInRefused(Reason.TOKEN_ISSUED_IN_FUTURE)
    if "nbf" in claims and _number(claims, "nbf") > now + LEEWAY_SECONDS:
        raise SignInRefused(Reason.TOKEN_NOT_YET_VALID)


def _check_identifiers(claims: dict[str, Any]) -> None:
    if not isinstance(claims["oid"], str) or not GUID.match(claims["oid"]):
        raise SignInRefused(Reason.TOKEN_CLAIM_INVALID, {"claim": "oid"})
    if not isinstance(claims["sub"], str):
        raise SignInRefused(Reason.TOKEN_CLAIM_INVALID, {"claim": "sub"})


def _check_nonce(claims: dict[str, Any], nonce: str | None) -> None:
    token_nonce = claims.get("nonce")
    if not nonce or not isinstance(token_nonce, str):
        raise SignInRefused(Reason.NONCE_MISMATCH)
    if not hmac.compare_digest(token_nonce.encode(), nonce.encode()):
        raise SignInRefused(Reason.NONCE_MISMATCH)
