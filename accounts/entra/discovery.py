"""The tenant's OpenID configuration, discovered and cached.

Microsoft serves the document with ``max-age=86400`` and advises refreshing it about every
12 hours; we keep it 12 hours and keep the last good copy when a refresh fails.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from accounts.entra.http import get_json
from accounts.refusals import Reason, SignInRefused
from accounts.sso_config import SsoConfig, is_acceptable_endpoint_url

MAX_AGE_SECONDS = 12 * 60 * 60


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


_cache: dict[str, tuple[ProviderMetadata, float]] = {}
_lock = threading.Lock()


def provider_metadata(config: SsoConfig) -> ProviderMetadata:
    """Discovered endpoints for the configured tenant (cached; refreshed every 12 hours)."""
    url = config.discovery_url
    with _lock:
        cached = _cache.get(url)
    if cached and time.monotonic() - cached[1] < MAX_AGE_SECONDS:
        return cached[0]
    try:
        metadata = _fetch(config)
    except SignInRefused:
        if cached:
            return cached[0]  # last good copy beats an outage
        raise
    with _lock:
        _cache[url] = (metadata, time.monotonic())
    return metadata


def expected_issuer(config: SsoConfig) -> str:
    return f"{config.authority}/{config.tenant_id.lower()}/v2.0"


def _fetch(config: SsoConfig) -> ProviderMetadata:
    document = get_json(config.discovery_url, timeout=config.http_timeout, what="discovery")
    fields = {
        name: document.get(name)
        for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    }
    missing = [name for name, value in fields.items() if not isinstance(value, str) or not value]
    if missing:
        raise SignInRefused(Reason.DISCOVERY_INVALID, {"missing": missing})
    if fields["issuer"].lower() != expected_issuer(config).lower():
        raise SignInRefused(Reason.DISCOVERY_INVALID, {"issuer": fields["issuer"]})
    insecure = [n for n in fields if n != "issuer" and not is_acceptable_endpoint_url(fields[n])]
    if insecure:
        raise SignInRefused(Reason.DISCOVERY_INVALID, {"insecure": insecure})
    algorithms = document.get("id_token_signing_alg_values_supported") or []
    if "RS256" not in algorithms:
        raise SignInRefused(Reason.DISCOVERY_INVALID, {"algorithms": algorithms})
    end_session = document.get("end_session_endpoint")
    if not (isinstance(end_session, str) and is_acceptable_endpoint_url(end_session)):
        end_session = None
    return ProviderMetadata(end_session_endpoint=end_session, **fields)


def clear_cache() -> None:
    with _lock:
        _cache.clear()
