"""The OpenID Connect relying party views, built on mozilla-django-oidc's.

The callback runs ``KEYFAX_SIGN_IN_PIPELINE`` (:mod:`accounts.pipeline`) and nothing else:
every check and write of a sign-in is a step named in that list.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

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

from accounts import revalidation
from accounts.backends import EntraOIDCBackend, EntraSettings
from accounts.destinations import element_for_path, safe_next
from accounts.entra.discovery import provider_metadata
from accounts.models import SignedInSession
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
        next_url = safe_next(request, request.session.get("oidc_login_next"))
        request.session["oidc_login_next"] = next_url
        # each sign-in carries its own destination: two tabs never swap theirs
        self.pending_sign_in(request, response)["next"] = next_url
        return response

    @staticmethod
    def pending_sign_in(request: HttpRequest, response: HttpResponse) -> dict:
        """What the session keeps for the state this response sends to Entra."""
        state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
        request.session.modified = True
        return request.session["oidc_states"][state]

    def get_extra_params(self, request: HttpRequest) -> dict[str, str]:
        """Ask for the Conditional Access authentication context when the sign-in needs it."""
        target = element_for_path(safe_next(request, request.GET.get("next")))
        context_id = step_up_context(sso_config(), target)
        if context_id is None:
            return {}
        claims = {"id_token": {"acrs": {"essential": True, "value": context_id}}}
        return {"claims": json.dumps(claims, separators=(",", ":"))}


class EntraRevalidateView(EntraAuthenticateView):
    """Start a silent re-check of this signed-in Entra session (``prompt=none``, the
    person's ``login_hint`` and ``sid``): see :mod:`accounts.revalidation`."""

    def get(self, request: HttpRequest) -> HttpResponse:
        next_url = safe_next(request, request.GET.get("next")) or "/"
        if not request.user.is_authenticated or sign_in_method(request) != "entra":
            return HttpResponseRedirect(next_url)
        unreachable = revalidation.check_reachable(request)
        if unreachable is not None:
            if revalidation.past_grace(request):
                return revalidation.end_session(request, unreachable.reason, unreachable.detail)
            revalidation.note_unreachable(request, unreachable)
            return HttpResponseRedirect(next_url)
        response = super().get(request)
        self.pending_sign_in(request, response)["revalidate"] = request.user.pk
        revalidation.note_started(request)
        return response

    def get_extra_params(self, request: HttpRequest) -> dict[str, str]:
        params = {**super().get_extra_params(request), "prompt": "none"}
        identity = getattr(request.user, "entra_identity", None)
        if identity is not None and identity.upn:
            params["login_hint"] = identity.upn
        note = SignedInSession.objects.filter(
            session_key=request.session.session_key).exclude(sid="").first()
        if note is not None:
            params["sid"] = note.sid
        return params


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
            if self.sign_in.revalidating is not None:
                return self.revalidation_failure(refusal)
            return self.login_failure(refusal)
        return self.login_success()

    def revalidation_failure(self, refusal: SignInRefused) -> HttpResponse:
        """Entra could not be asked: keep the session within the grace period. Anything else
        (Entra said no, or its answer failed a check) ends the session, clearly."""
        request = self.request
        if revalidation.is_transient(refusal) and not revalidation.past_grace(request):
            revalidation.note_unreachable(request, refusal)
            return HttpResponseRedirect(self.success_url)
        return revalidation.end_session(request, refusal.reason, refusal.detail)

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
