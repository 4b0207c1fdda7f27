"""Signing keys: RSA 2048 keys with self-signed certificates, published as an Entra-style JWKS.

Keys live in memory only and are never written to disk.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

# The subject Entra's own signing certificates carry.
CERT_SUBJECT = "accounts.accesscontrol.windows.net"


def b64url(data: bytes) -> str:
    """Base64url without padding (JOSE encoding)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    """One RSA key pair and its certificate; ``kid`` equals the certificate's ``x5t``."""

    kid: str
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    def jwk(self, issuer: str) -> dict[str, Any]:
        """The JWKS entry, shaped like Entra's (no ``alg``)."""
        numbers = self.private_key.public_key().public_numbers()
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": _uint(numbers.n),
            "e": _uint(numbers.e),
            "x5c": [base64.b64encode(der).decode("ascii")],
            "issuer": issuer,
        }


def generate_signing_key() -> SigningKey:
    """A fresh RSA 2048 key with a self-signed certificate valid for five years."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CERT_SUBJECT)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=5 * 365))
        .sign(key, hashes.SHA256())
    )
    # x5t is defined as the base64url SHA-1 thumbprint of the DER certificate (RFC 7517).
    kid = b64url(certificate.fingerprint(hashes.SHA1()))  # noqa: S303
    return SigningKey(kid=kid, private_key=key, certificate=certificate)


class KeyRing:
    """All published keys; the newest one signs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: list[SigningKey] = [generate_signing_key()]

    @property
    def current(self) -> SigningKey:
        with self._lock:
            return self._keys[-1]

    def rotate(self) -> SigningKey:
        """Add a new key, keep publishing the old ones, and sign with the new one from now on."""
        key = generate_signing_key()
        with self._lock:
            self._keys.append(key)
        return key

    def jwks(self, issuer: str) -> dict[str, Any]:
        with self._lock:
            keys = list(self._keys)
        return {"keys": [key.jwk(issuer) for key in keys]}
