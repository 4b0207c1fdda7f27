"""System checks for the SSO settings (``manage.py check``), each with a stable id."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from accounts.entra.id_token import SUPPORTED_ALGORITHMS
from accounts.pipeline import pipeline_problems
from accounts.proxies import trusted_proxy_networks
from accounts.sso_config import (
    GUID,
    MULTI_TENANT_NAMES,
    Element,
    Mode,
    is_acceptable_endpoint_url,
    is_loopback_host,
    parse_provisioning,
    sso_config,
)

VALID_MODES = ", ".join(mode.value for mode in Mode)


@register(Tags.security, deploy=False)
def check_sso_settings(app_configs: Any = None, **kwargs: Any) -> list:
    config = sso_config()
    problems: list = []
    for element in Element:
        if config.modes[element] not in {mode.value for mode in Mode}:
            problems.append(Error(
                f"{element.setting_name} must be one of {VALID_MODES}, "
                f"got {config.modes[element]!r}",
                hint="Until this is fixed the element behaves as 'off'.",
                id="keyfax.E005",
            ))
    if config.tenant_id or config.enabled:
        problems += _tenant_problems(config.tenant_id)
    if not is_acceptable_endpoint_url(config.authority):
        problems.append(Error(
            f"ENTRA_AUTHORITY must be an https URL, got {config.authority!r}",
            hint="Plain http is accepted only for a loopback host (the development emulator).",
            id="keyfax.E002",
        ))
    if not is_acceptable_endpoint_url(config.graph_url):
        problems.append(Error(
            f"ENTRA_GRAPH_URL must be an https URL, got {config.graph_url!r}",
            hint="Plain http is accepted only for a loopback host (the development emulator).",
            id="keyfax.E007",
        ))
    if config.enabled and not config.client_id:
        problems.append(Error(
            "ENTRA_CLIENT_ID is not set while SSO is on",
            hint="Copy the Application (client) ID from the app registration in Entra ID.",
            id="keyfax.E003",
        ))
    if config.enabled and not config.client_secret:
        problems.append(Error(
            "ENTRA_CLIENT_SECRET is not set while SSO is on",
            hint="Create a client secret under Certificates & secrets in the app registration.",
            id="keyfax.E004",
        ))
    if not settings.DEBUG and _points_at_emulator(config.authority):
        problems.append(Error(
            f"ENTRA_AUTHORITY points at the development emulator ({config.authority}) "
            "while DEBUG is off",
            hint="Use https://login.microsoftonline.com (or your sovereign cloud's authority).",
            id="keyfax.E006",
        ))
    unknown = sorted(set(config.require_mfa) - {element.value for element in Element})
    if unknown:
        problems.append(Error(
            f"KEYFAX_REQUIRE_MFA names unknown elements: {', '.join(unknown)}",
            hint="Use admin_tool and/or web_staff.",
            id="keyfax.E008",
        ))
    _policies, unreadable = parse_provisioning(settings.KEYFAX_SSO_PROVISIONING)
    if unreadable:
        problems.append(Error(
            f"KEYFAX_SSO_PROVISIONING cannot be read: {', '.join(map(repr, unreadable))}",
            hint="Use on_sign_in, registered, or per element "
                 "admin_tool=registered,web_staff=on_sign_in. Until then every element "
                 "admits registered people only.",
            id="keyfax.E013",
        ))
    interval = settings.KEYFAX_REVALIDATE_SECONDS
    if interval < 1 or settings.KEYFAX_REVALIDATE_GRACE_SECONDS < 0:
        problems.append(Error(
            "KEYFAX_REVALIDATE_SECONDS must be a positive number of seconds and "
            "KEYFAX_REVALIDATE_GRACE_SECONDS zero or more",
            hint="The defaults are 900 and 3600.", id="keyfax.E014",
        ))
    elif config.enabled and interval < 60:
        problems.append(Warning(
            f"KEYFAX_REVALIDATE_SECONDS is {interval}: every signed-in person goes through "
            "Microsoft that often",
            hint="Entra throttles busy applications; 900 (15 minutes) is the default.",
            id="keyfax.W003",
        ))
    if config.enabled and config.local_login:
        problems.append(Warning(
            "KEYFAX_LOCAL_LOGIN is on: local break-glass accounts can sign in with a password",
            hint="Switch it off again once Entra ID sign-in works.",
            id="keyfax.W001",
        ))
    web_staff_sso = config.mode_for(Element.WEB_STAFF).uses_sso
    if config.enabled and config.web_staff_public and not web_staff_sso:
        problems.append(Warning(
            "KEYFAX_WEB_STAFF_PUBLIC is on but Web Staff does not use Entra ID sign-in",
            hint="Set KEYFAX_SSO_WEB_STAFF so a public-facing Web Staff requires Entra sign-in.",
            id="keyfax.W002",
        ))
    return problems


@register(Tags.security, deploy=False)
def check_sign_in_settings(app_configs: Any = None, **kwargs: Any) -> list:
    """The sign-in pipeline and the mozilla-django-oidc settings it relies on."""
    problems: list = []
    algorithm = getattr(settings, "OIDC_RP_SIGN_ALGO", "HS256")
    if algorithm not in SUPPORTED_ALGORITHMS:
        problems.append(Error(
            f"OIDC_RP_SIGN_ALGO must be RS256, got {algorithm!r}",
            hint="Entra ID signs ID tokens with RS256; until this is fixed every sign-in is "
            "refused (token_algorithm).",
            id="keyfax.E009",
        ))
    for problem in pipeline_problems(getattr(settings, "KEYFAX_SIGN_IN_PIPELINE", [])):
        problems.append(Error(
            f"KEYFAX_SIGN_IN_PIPELINE: {problem}",
            hint="Until this is fixed every Entra sign-in is refused (sign_in_misconfigured). "
            "See docs/sign-in.md for the steps and their order.",
            id="keyfax.E010",
        ))
    for name in ("OIDC_USE_PKCE", "OIDC_USE_NONCE"):
        if getattr(settings, name, False) is not True:
            problems.append(Error(
                f"{name} must be True",
                hint="Every sign-in must bind its code to a PKCE verifier and its ID token to "
                "a nonce; a sign-in without them is refused (unknown_state).",
                id="keyfax.E011",
            ))
    return problems


def _tenant_problems(tenant_id: str) -> list:
    if tenant_id.lower() in MULTI_TENANT_NAMES:
        return [Error(
            f"ENTRA_TENANT_ID must be a GUID, got {tenant_id!r}",
            hint="Multi-tenant authorities are refused: any Entra tenant could sign in. Use your "
            "Directory (tenant) ID.",
            id="keyfax.E001",
        )]
    if not GUID.match(tenant_id):
        return [Error(
            f"ENTRA_TENANT_ID must be a GUID, got {tenant_id!r}",
            hint="Copy the Directory (tenant) ID from the app registration's Overview page.",
            id="keyfax.E001",
        )]
    return []


def _points_at_emulator(authority: str) -> bool:
    parts = urlsplit(authority)
    return parts.scheme == "http" and is_loopback_host(parts.hostname)


@register(Tags.security, deploy=False)
def check_trusted_proxies(app_configs: Any = None, **kwargs: Any) -> list:
    """Every ``KEYFAX_TRUSTED_PROXIES`` entry is an IP address or a CIDR network."""
    _, refused = trusted_proxy_networks(getattr(settings, "KEYFAX_TRUSTED_PROXIES", []))
    return [
        Error(
            f"KEYFAX_TRUSTED_PROXIES: {entry!r} is not an IP address or network ({why})",
            hint="List the reverse proxies' addresses or CIDR networks, comma-separated "
            "(e.g. 10.0.0.5,10.1.0.0/24). Until this is fixed the entry is trusted nowhere: "
            "requests through that proxy keep the proxy's address and get a fresh request id.",
            id="keyfax.E012",
        )
        for entry, why in refused
    ]
