"""The SSO settings, read and interpreted in one place.

``sso_config()`` builds an immutable snapshot from Django settings each time it is called
(cheap, and ``override_settings`` in tests just works). ``accounts.checks`` reports every
problem it finds with a stable id; the rest of the code trusts the snapshot.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
MULTI_TENANT_NAMES = {"common", "organizations", "consumers"}


class Element(StrEnum):
    """A Keyfax solution element; each has its own SSO mode."""

    ADMIN_TOOL = "admin_tool"
    WEB_STAFF = "web_staff"

    @property
    def label(self) -> str:
        return {
            Element.ADMIN_TOOL: "Keyfax Administration Tool",
            Element.WEB_STAFF: "Keyfax Web Staff",
        }[self]

    @property
    def setting_name(self) -> str:
        return {
            Element.ADMIN_TOOL: "KEYFAX_SSO_ADMIN_TOOL",
            Element.WEB_STAFF: "KEYFAX_SSO_WEB_STAFF",
        }[self]


class Mode(StrEnum):
    """How an element uses Entra ID (DESIGN.md, the modes table)."""

    OFF = "off"
    AUTHENTICATION = "authentication"
    AUTHENTICATION_AND_PERMISSIONS = "authentication_and_permissions"

    @property
    def uses_sso(self) -> bool:
        return self is not Mode.OFF


class Provisioning(StrEnum):
    """Who an element's Entra sign-in may create an account for (``KEYFAX_SSO_PROVISIONING``)."""

    ON_SIGN_IN = "on_sign_in"  # anyone Entra admits gets an account at their first sign-in
    REGISTERED = "registered"  # only people registered first (User Maintenance or SCIM)


def parse_provisioning(value: str) -> tuple[dict[Element, Provisioning], list[str]]:
    """``registered``, ``on_sign_in``, or per element ``admin_tool=registered,web_staff=…``
    (an element not named keeps ``on_sign_in``); and what could not be read. Anything
    unreadable fails safe to ``registered``: a typo never lets strangers in."""
    policies = dict.fromkeys(Element, Provisioning.ON_SIGN_IN)
    problems: list[str] = []
    text = value.strip()
    if text in {p.value for p in Provisioning}:
        return dict.fromkeys(Element, Provisioning(text)), []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, _, policy = (item.strip() for item in part.partition("="))
        if name in {e.value for e in Element} and policy in {p.value for p in Provisioning}:
            policies[Element(name)] = Provisioning(policy)
        else:
            problems.append(part)
    if problems or not text:
        return dict.fromkeys(Element, Provisioning.REGISTERED), problems or [value]
    return policies, []


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_acceptable_endpoint_url(url: str) -> bool:
    """https anywhere; plain http only for a loopback host (the development emulator)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and is_loopback_host(parts.hostname)


@dataclass(frozen=True)
class SsoConfig:
    authority: str
    tenant_id: str
    client_id: str
    client_secret: str
    graph_url: str
    modes: dict[Element, str]
    access_roles: tuple[str, ...]
    web_staff_public: bool
    local_login: bool
    require_mfa: tuple[str, ...]
    mfa_auth_context: str
    http_timeout: float
    provisioning: dict[Element, Provisioning]

    def mode_for(self, element: Element) -> Mode:
        """The element's mode; an unknown value (reported by checks) fails safe to ``off``."""
        try:
            return Mode(self.modes[element])
        except ValueError:
            return Mode.OFF

    @property
    def enabled(self) -> bool:
        """SSO is on when any element uses it."""
        return any(self.mode_for(element).uses_sso for element in Element)

    @property
    def tenant_is_valid(self) -> bool:
        return bool(GUID.match(self.tenant_id))

    @property
    def discovery_url(self) -> str:
        return f"{self.authority}/{self.tenant_id.lower()}/v2.0/.well-known/openid-configuration"

    @property
    def ready(self) -> bool:
        """Everything needed to start a sign-in is present and sane."""
        return (
            self.enabled
            and self.tenant_is_valid
            and bool(self.client_id)
            and bool(self.client_secret)
            and is_acceptable_endpoint_url(self.authority)
        )

    def admission_key(self, element: Element) -> str:
        """The settings an Entra session is admitted to ``element`` under: tenant, client,
        mode, access roles, step-up. A session admitted under other settings is sent
        through sign-in again, so a change takes effect at once."""
        mode = self.mode_for(element)
        parts = [self.tenant_id.lower(), self.client_id, mode.value,
                 ",".join(sorted(self.access_roles)) if mode is Mode.AUTHENTICATION else "",
                 self.mfa_auth_context if element.value in self.require_mfa else ""]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def registration_required(self, element: Element | None) -> bool:
        """Whether a sign-in for ``element`` finds only registered people (``None``: the home
        page or Django admin, where any element in ``registered`` is enough)."""
        if element is None:
            return any(self.provisioning[e] is Provisioning.REGISTERED for e in Element
                       if self.mode_for(e).uses_sso)
        return self.provisioning[element] is Provisioning.REGISTERED

    def password_sign_in_allowed(self, element: Element | None = None) -> bool:
        """Password sign-in: where an element is off, or everywhere while break-glass is on."""
        if self.local_login:
            return True
        if element is None:
            return any(not self.mode_for(e).uses_sso for e in Element)
        return not self.mode_for(element).uses_sso


def sso_config() -> SsoConfig:
    return SsoConfig(
        authority=settings.ENTRA_AUTHORITY.rstrip("/"),
        tenant_id=settings.ENTRA_TENANT_ID.strip(),
        client_id=settings.ENTRA_CLIENT_ID.strip(),
        client_secret=settings.ENTRA_CLIENT_SECRET,
        graph_url=settings.ENTRA_GRAPH_URL.rstrip("/"),
        modes={
            Element.ADMIN_TOOL: settings.KEYFAX_SSO_ADMIN_TOOL.strip(),
            Element.WEB_STAFF: settings.KEYFAX_SSO_WEB_STAFF.strip(),
        },
        access_roles=tuple(settings.KEYFAX_SSO_ACCESS_ROLES),
        web_staff_public=settings.KEYFAX_WEB_STAFF_PUBLIC,
        local_login=settings.KEYFAX_LOCAL_LOGIN,
        require_mfa=tuple(settings.KEYFAX_REQUIRE_MFA),
        mfa_auth_context=settings.KEYFAX_MFA_AUTH_CONTEXT,
        http_timeout=float(settings.ENTRA_HTTP_TIMEOUT),
        provisioning=parse_provisioning(settings.KEYFAX_SSO_PROVISIONING)[0],
    )


def settings_summary() -> dict[str, Any]:
    """What IT configured, as the site reads it, for the ``settings_seen`` audit event; the
    client secret only as set / not set."""
    config = sso_config()
    return {
        "modes": {str(element): mode for element, mode in config.modes.items()},
        "ready": config.ready,
        "authority": config.authority,
        "tenant_id": config.tenant_id,
        "client_id": config.client_id,
        "client_secret_set": bool(config.client_secret),
        "access_roles": list(config.access_roles),
        "web_staff_public": config.web_staff_public,
        "local_login": config.local_login,
        "require_mfa": list(config.require_mfa),
        "mfa_auth_context": config.mfa_auth_context,
        "provisioning": {str(element): str(policy)
                         for element, policy in config.provisioning.items()},
    }
