"""Authentication backends: Entra ID (OIDC code flow) and local break-glass passwords."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import lazy
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import absolutify

from accounts.entra.discovery import provider_metadata
from accounts.entra.http import json_object, post_form
from accounts.entra.id_token import verify_id_token
from accounts.entra.keys import key_set
from accounts.models import LoginMode
from accounts.refusals import Reason, SignInRefused
from accounts.sso_config import sso_config

_AADSTS = re.compile(r"\bAADSTS(\d{4,7})\b")

# mozilla-django-oidc's endpoint settings, answered from the tenant's discovery document.
DISCOVERED_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


def _discovered(name: str) -> str:
    return getattr(provider_metadata(sso_config()), name)


discovered = lazy(_discovered, str)


class EntraSettings:
    """mozilla-django-oidc's ``OIDC_*`` settings, answered the Entra way.

    The client id and secret are ``ENTRA_CLIENT_ID`` / ``ENTRA_CLIENT_SECRET``; the endpoints
    are discovered from the tenant, lazily (a string that fetches discovery the first time
    it is used, so building a view or backend never touches the network); there is no
    userinfo endpoint, because the claims come from the verified ID token. Every other
    ``OIDC_*`` setting is read from Django settings and means what its documentation says.
    """

    def get_settings(self, attr: str, *args: Any) -> Any:
        if attr == "OIDC_RP_CLIENT_ID":
            return sso_config().client_id
        if attr == "OIDC_RP_CLIENT_SECRET":
            return sso_config().client_secret
        if attr in DISCOVERED_ENDPOINTS:
            return discovered(DISCOVERED_ENDPOINTS[attr])
        if attr == "OIDC_OP_USER_ENDPOINT":
            return None
        return super().get_settings(attr, *args)  # type: ignore[misc]


def aadsts_code(description: object) -> str | None:
    """The ``AADSTSnnnnn`` code at the start of an Entra ``error_description``."""
    if not isinstance(description, str):
        return None
    match = _AADSTS.search(description[:200])
    return f"AADSTS{match.group(1)}" if match else None


class EntraOIDCBackend(EntraSettings, OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, with Entra's rules.

    The sign-in pipeline (``KEYFAX_SIGN_IN_PIPELINE``) runs the callback and calls the
    protocol methods here — :meth:`redeem_code` (which calls :meth:`get_token`),
    :meth:`verify_token`, :meth:`store_tokens` — so a subclass can override any of them.
    The person is found by (tid, oid) in the pipeline, never by email, so Django's
    ``authenticate()`` never signs anyone in through this backend; it serves the session's
    user (:meth:`get_user`).
    """

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> None:
        return None  # the callback's pipeline signs people in, not authenticate()

    def redeem_code(self, request: HttpRequest, code_verifier: str) -> dict[str, Any]:
        """The token response for the callback's code, redeemed with the PKCE verifier."""
        callback = self.get_settings("OIDC_AUTHENTICATION_CALLBACK_URL",
                                     "oidc_authentication_callback")
        payload = {
            "client_id": self.OIDC_RP_CLIENT_ID,
            "client_secret": self.OIDC_RP_CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": request.GET.get("code", ""),
            "redirect_uri": absolutify(request, reverse(callback)),
            "code_verifier": code_verifier,
        }
        return self.get_token(payload)

    def get_token(self, payload: dict[str, str]) -> dict[str, Any]:
        """POST to the token endpoint; every failure is a :class:`SignInRefused`."""
        response = post_form(
            str(self.OIDC_OP_TOKEN_ENDPOINT), payload,
            timeout=sso_config().http_timeout, what="token",
        )
        if response.status_code >= 500:
            raise SignInRefused(
                Reason.ENTRA_UNREACHABLE, {"fetching": "token", "status": response.status_code}
            )
        body = json_object(response, "token")
        if response.status_code != 200:
            raise SignInRefused(
                Reason.CODE_REJECTED,
                {
                    "status": response.status_code,
                    "error": str(body.get("error", ""))[:60],
                    "aadsts": aadsts_code(body.get("error_description")),
                },
            )
        if not body.get("id_token"):
            raise SignInRefused(Reason.TOKEN_MISSING)
        return body

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """Every check of DESIGN.md, against the discovered issuer and the tenant's keys;
        the header's ``alg`` must be ``OIDC_RP_SIGN_ALGO``."""
        config = sso_config()
        metadata = provider_metadata(config)
        keys = key_set(str(self.OIDC_OP_JWKS_ENDPOINT), config.http_timeout)
        return verify_id_token(
            token,
            key_for=keys.key_for,
            algorithm=self.OIDC_RP_SIGN_ALGO,
            issuer=metadata.issuer,
            client_id=config.client_id,
            tenant_id=config.tenant_id,
            nonce=kwargs.get("nonce"),
        )

    def get_user(self, user_id: Any) -> Any:
        """The session's user, unless disabled since: disabling ends sessions at once."""
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


class LocalPasswordBackend(ModelBackend):
    """Password sign-in for local accounts only; an Entra-linked user never has a password."""

    def user_can_authenticate(self, user: Any) -> bool:
        if hasattr(user, "entra_identity") or user.login_mode != LoginMode.PASSWORD:
            return False
        return super().user_can_authenticate(user)
