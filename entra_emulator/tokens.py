"""Minting: ID token claims as Entra v2 shapes them, RS256 signing (PyJWT), opaque values."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

import jwt

from .keys import SigningKey, b64url
from .people import Person

GROUPS_CLAIM_LIMIT = 200  # above this Entra sends the overage indicator instead of "groups"
ID_TOKEN_LIFETIME = 3600
AZURE_AD_GRAPH = "https://graph.windows.net"


def pairwise_sub(client_id: str, oid: str) -> str:
    """The app-specific ``sub``: base64url(SHA-256(client_id + oid)), 43 characters."""
    return b64url(hashlib.sha256(f"{client_id}{oid}".encode()).digest())


def random_guid() -> str:
    return str(uuid.uuid4())


def opaque(nbytes: int = 48, prefix: str = "") -> str:
    """An unguessable URL-safe string (codes and access tokens)."""
    return prefix + secrets.token_urlsafe(nbytes)


def id_token_header(key: SigningKey) -> dict[str, Any]:
    return {"typ": "JWT", "alg": "RS256", "kid": key.kid}


def id_token_claims(
    *,
    person: Person,
    client_id: str,
    issuer: str,
    tenant_id: str,
    now: int,
    nonce: str | None,
    sid: str,
    acrs: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The claims of a v2 ID token for ``person``, in the order Entra writes them."""
    claims: dict[str, Any] = {
        "aud": client_id,
        "iss": issuer,
        "iat": now,
        "nbf": now,
        "exp": now + ID_TOKEN_LIFETIME,
    }
    if acrs:
        claims["acrs"] = list(acrs)
    claims["aio"] = opaque(60, prefix="A")
    claims["email"] = person.email
    claims["name"] = person.name
    if nonce:
        claims["nonce"] = nonce
    claims["oid"] = person.oid
    claims["preferred_username"] = person.upn
    claims["rh"] = f"0.{opaque(40)}."
    if person.roles:
        claims["roles"] = list(person.roles)
    claims.update(_groups_claims(person, tenant_id))
    claims["sid"] = sid
    claims["sub"] = pairwise_sub(client_id, person.oid)
    claims["tid"] = tenant_id
    claims["uti"] = opaque(16)
    claims["ver"] = "2.0"
    return claims


def _groups_claims(person: Person, tenant_id: str) -> dict[str, Any]:
    if not person.groups:
        return {}
    if len(person.groups) <= GROUPS_CLAIM_LIMIT:
        return {"groups": list(person.groups)}
    endpoint = f"{AZURE_AD_GRAPH}/{tenant_id}/users/{person.oid}/getMemberObjects"
    return {
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": endpoint}},
    }


def sign(header: dict[str, Any], claims: dict[str, Any], key: SigningKey) -> str:
    """Sign ``claims`` with RS256 under ``header`` (which names the key's ``kid``)."""
    extra = {k: v for k, v in header.items() if k != "alg"}
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers=extra)
