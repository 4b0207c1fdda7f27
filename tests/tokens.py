"""Make real and forged ID tokens for tests. Forgeries PyJWT refuses to make are built by hand."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TENANT_ID = "9b2c1d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
CLIENT_SECRET = "test-client-secret-not-real"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig"}


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def entra_claims(issuer: str, *, nonce: str = "n-0123456789", **overrides: Any) -> dict[str, Any]:
    """Claims shaped like an Entra v2 ID token (see shared/entra/id-token-example.json)."""
    now = int(time.time())
    claims = {
        "aud": CLIENT_ID,
        "iss": issuer,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "name": "Priya Shah",
        "nonce": nonce,
        "oid": str(uuid.uuid4()),
        "preferred_username": "priya.shah@riverside-homes.example",
        "email": "priya.shah@riverside-homes.example",
        "roles": ["Keyfax.ScriptAuthor"],
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "tid": TENANT_ID,
        "ver": "2.0",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def sign(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str | None, **headers: Any) -> str:
    header = {"typ": "JWT", **headers}
    if kid is not None:
        header["kid"] = kid
    return jwt.encode(claims, key, algorithm="RS256", headers=header)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def unsigned(claims: dict[str, Any], kid: str | None = None) -> str:
    """``alg: none``: no signature at all."""
    header = {"typ": "JWT", "alg": "none", **({"kid": kid} if kid else {})}
    return _segments(header, claims) + "."


def hs256_with_public_key(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str) -> str:
    """The classic key-confusion forgery: HMAC keyed with the IdP's public key."""
    signing_input = _segments({"typ": "JWT", "alg": "HS256", "kid": kid}, claims)
    mac = hmac.new(public_pem(key), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"
