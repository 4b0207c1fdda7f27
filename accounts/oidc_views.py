"""The OpenID Connect relying party views, built on mozilla-django-oidc's.

The callback runs ``KEYFAX_SIGN_IN_PIPELINE`` (:mod:`accounts.pipeline`) and nothing else:
every check and write of a sign-in is a step named in that list.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    OIDCLogoutView,
)

from accounts.backends import EntraOIDCBackend, EntraSettings
from accounts.destinations import element_for_path, safe_next
from accounts.entra.discovery import provider_metadata
from accounts.pipeline import SignInContext, run_pipeline
from accounts.refusals import Reason, SignInRefused
from accounts.sessions import sign_in_method
from accounts.sign_in_pages import refusal_response
from accounts.sign_out import record_sign_out
from accounts.sso_config import Element, SsoConfig, sso_config


class EntraAuthenticateView(EntraSettings, OIDCAuthenticationRequestView):
    """Start a sign-in: state, nonce and PKCE (S256) are made by mozilla-django-oidc."""

    def get(self, request: HttpRequest) -> HttpResponse:
        config = sso_config()
        try:
            if not config.ready:
                raise SignInRefused(Reason.SSO_NOT_CONFIGURED)
            provider_metadata(config)  # discovery fails here, as a clear page, not below
        except SignInRefused as refusal:
            return refusal_response(request, refusal)
        response = super().get(request)
        request.session["oidc_login_next"] = safe_next(
            request, request.session.get("oidc_login_next")
        )
        return response

    def get_extra_params(self, request: HttpRequest) -> dict[str, str]:
        """Ask for the Conditional Access authentication context when the sign-in needs it."""
        target = element_for_path(safe_next(request, request.GET.get("next")))
        context_id = step_up_context(sso_config(), target)
        if context_id is None:
            return {}
        claims = {"id_token": {"acrs": {"essential": True, "value": context_id}}}
        return {"claims": json.dumps(claims, separators=(",", ":"))}


def step_up_context(config: SsoConfig, target: Element | None) -> str | None:
    """The authentication context to ask Entra for, or ``None``.

    A sign-in for an element listed in ``KEYFAX_REQUIRE_MFA`` asks for it; so does a sign-in
    with no particular destination while any element requires it (it may be used there).
    A sign-in for an element that does not require it never forces the extra step.
    """
    required = {
        element for element in Element
        if element.value in config.require_mfa and config.mode_for(element).uses_sso
    }
    wanted = target in required if target is not None else bool(required)
    return config.mfa_auth_context if wanted else None


class EntraCallbackView(OIDCAuthenticationCallbackView):
    """Finish a sign-in by running the pipeline; every refusal is a clear page and an audit
    event, never a 500."""

    def get(self, request: HttpRequest) -> HttpResponse:
        self.sign_in = self.sign_in_context(request)
        try:
            run_pipeline(self.sign_in)
        except SignInRefused as refusal:
            return self.login_failure(refusal)
        return self.login_success()

    def sign_in_context(self, request: HttpRequest) -> SignInContext:
        backend = EntraOIDCBackend()
        backend.request = request
        return SignInContext(request=request, config=sso_config(), backend=backend)

    def login_failure(self, refusal: SignInRefused | None = None) -> HttpResponse:
        refusal = refusal or SignInRefused(Reason.ENTRA_ERROR)
        return refusal_response(self.request, refusal, self.sign_in)

    def login_success(self) -> HttpResponse:
        """The pipeline has logged the person in (its ``log_in`` step): go where they were
        going."""
        return HttpResponseRedirect(self.success_url)

    @property
    def success_url(self) -> str:
        return self.sign_in.next_url or resolve_url(settings.LOGIN_REDIRECT_URL)


class EntraLogoutView(OIDCLogoutView):
    """Sign out here, then (for an Entra sign-in) at Entra too. POST only (CSRF-protected)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        signed_out_url = request.build_absolute_uri(self.redirect_url)
        if not request.user.is_authenticated:
            return HttpResponseRedirect(signed_out_url)
        method = sign_in_method(request)
        entra_url = _entra_logout_url(signed_out_url) if method == "entra" else None
        kind = "rp_initiated" if entra_url else "local"
        with transaction.atomic():  # the sign-out and its audit event stand or fall together
            record_sign_out(request, request.user, method=method, kind=kind)
            auth.logout(request)
        return HttpResponseRedirect(entra_url or signed_out_url)


def _entra_logout_url(post_logout_redirect_uri: str) -> str | None:
    """Entra's end-session URL, if discovery has it to hand; never blocks the sign-out."""
    config = sso_config()
    if not config.ready:
        return None
    try:
        metadata = provider_metadata(config)
    except SignInRefused:
        return None
    if not metadata.end_session_endpoint:
        return None
    params = {"post_logout_redirect_uri": post_logout_redirect_uri}
    return f"{metadata.end_session_endpoint}?{urlencode(params)}"
