"""Authentication backends: Entra ID (OIDC code flow) and local break-glass passwords."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.entra.discovery import ProviderMetadata, provider_metadata
from accounts.entra.graph import resolve_groups_overage
from accounts.entra.http import json_object, post_form
from accounts.entra.id_token import verify_id_token
from accounts.entra.keys import key_set
from accounts.models import LoginMode
from accounts.pipeline import SignInContext, run_pipeline
from accounts.refusals import Reason, SignInRefused
from accounts.sso_config import SsoConfig, sso_config

_AADSTS = re.compile(r"\bAADSTS(\d{4,7})\b")


def aadsts_code(description: object) -> str | None:
    """The ``AADSTSnnnnn`` code at the start of an Entra ``error_description``."""
    if not isinstance(description, str):
        return None
    match = _AADSTS.search(description[:200])
    return f"AADSTS{match.group(1)}" if match else None


class EntraOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, with Entra's rules.

    Endpoints and keys are discovered (not configured); the ID token is verified by
    :func:`verify_id_token`; its claims are the only source of identity (no userinfo call);
    and the person is found by (tid, oid) through the sign-in pipeline. Every refusal raises
    :class:`SignInRefused`, which the callback view turns into the error page and audit event.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The parent reads static endpoint settings here; ours are discovered when a
        # sign-in actually happens, so a password sign-in never touches the network.
        self.UserModel = get_user_model()

    def authenticate(
        self,
        request: HttpRequest | None,
        nonce: str | None = None,
        code_verifier: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if request is None or not nonce or not code_verifier:
            return None  # not an OIDC callback (e.g. a password sign-in)
        self.config: SsoConfig = sso_config()
        if not self.config.ready:
            raise SignInRefused(Reason.SSO_NOT_CONFIGURED)
        self.metadata: ProviderMetadata = provider_metadata(self.config)
        self.OIDC_RP_CLIENT_ID = self.config.client_id
        self.OIDC_RP_CLIENT_SECRET = self.config.client_secret
        return super().authenticate(request, nonce=nonce, code_verifier=code_verifier)

    def get_token(self, payload: dict[str, str]) -> dict[str, Any]:
        """Redeem the code (with the PKCE verifier) at the token endpoint."""
        response = post_form(
            self.metadata.token_endpoint, payload, timeout=self.config.http_timeout, what="token"
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
        keys = key_set(self.metadata.jwks_uri, self.config.http_timeout)
        return verify_id_token(
            token,
            key_for=keys.key_for,
            issuer=self.metadata.issuer,
            client_id=self.config.client_id,
            tenant_id=self.config.tenant_id,
            nonce=kwargs.get("nonce"),
        )

    def get_user(self, user_id: Any) -> Any:
        """The session's user, unless disabled since: disabling ends sessions at once."""
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    def get_userinfo(self, access_token: str, id_token: str, payload: dict) -> dict:
        """Claims come from the verified ID token: no userinfo round-trip."""
        return payload

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict) -> Any:
        context = SignInContext(request=self.request, claims=payload, config=self.config)
        # Network before the pipeline's transaction: no database lock is held while Graph answers.
        resolve_groups_overage(context, self.metadata)
        user = run_pipeline(context)
        self.request.keyfax_sign_in = context
        return user


class LocalPasswordBackend(ModelBackend):
    """Password sign-in for local accounts only; an Entra-linked user never has a password."""

    def user_can_authenticate(self, user: Any) -> bool:
        if hasattr(user, "entra_identity") or user.login_mode != LoginMode.PASSWORD:
            return False
        return super().user_can_authenticate(user)
