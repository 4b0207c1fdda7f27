"""The OpenID Connect relying party views, built on mozilla-django-oidc's."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import auth
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import View
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    OIDCLogoutView,
)

from accounts import front_channel
from accounts.backends import aadsts_code
from accounts.entra.discovery import provider_metadata
from accounts.pipeline import SignInContext
from accounts.refusals import Reason, SignInRefused
from accounts.sign_in_pages import refusal_response
from accounts.sign_out import record_sign_out
from accounts.sso_config import Element, SsoConfig, sso_config
from audit.models import Action
from audit.services import record

STATE_MAX_AGE_SECONDS = 10 * 60
SIGN_IN_METHOD = "keyfax_sign_in_method"
ADMITTED_ELEMENTS = "keyfax_admitted_elements"  # the elements this Entra sign-in admits
# URL namespaces of the portals, so a sign-in's ``next`` tells which element it is for.
ELEMENT_NAMESPACES = {"admin_tools": Element.ADMIN_TOOL, "staff_portal": Element.WEB_STAFF}


def safe_next(request: HttpRequest, candidate: object) -> str | None:
    """A local path to go to after sign-in, or ``None`` (no open redirect)."""
    if not isinstance(candidate, str) or not candidate.startswith("/"):
        return None
    if candidate.startswith(("//", "/\\")):
        return None
    ok = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if ok else None


class EntraAuthenticateView(OIDCAuthenticationRequestView):
    """Start a sign-in: state, nonce and PKCE (S256) are made by mozilla-django-oidc."""

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the endpoint is discovered per request, not read here

    def get(self, request: HttpRequest) -> HttpResponse:
        config = sso_config()
        try:
            if not config.ready:
                raise SignInRefused(Reason.SSO_NOT_CONFIGURED)
            metadata = provider_metadata(config)
        except SignInRefused as refusal:
            return refusal_response(request, refusal)
        self.OIDC_OP_AUTH_ENDPOINT = metadata.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = config.client_id
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


def element_for_path(path: str | None) -> Element | None:
    """The element a local path belongs to (by its URL namespace), or ``None``."""
    if not path:
        return None
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return next((ELEMENT_NAMESPACES[n] for n in match.namespaces if n in ELEMENT_NAMESPACES), None)


def sign_in_target(request: HttpRequest) -> Element | None:
    """The element the sign-in in progress is for (from its ``next``), or ``None``."""
    return element_for_path(safe_next(request, request.session.get("oidc_login_next")))


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
    """Finish a sign-in; every refusal is a clear page and an audit event, never a 500."""

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            user = self._complete_sign_in(request)
        except SignInRefused as refusal:
            return refusal_response(request, refusal)
        return self._signed_in(request, user)

    def _complete_sign_in(self, request: HttpRequest) -> Any:
        pending = _pop_pending_sign_in(request, request.GET.get("state"))
        if request.GET.get("error"):
            raise _entra_error(request.GET.get("error"), request.GET.get("error_description"))
        if not request.GET.get("code"):
            raise SignInRefused(Reason.MISSING_CODE)
        user = auth.authenticate(
            request, nonce=pending.get("nonce"), code_verifier=pending.get("code_verifier")
        )
        if user is None:
            raise SignInRefused(Reason.ENTRA_ERROR, {"authenticate": "no user"})
        context = getattr(request, "keyfax_sign_in", None)
        if context is None:
            raise SignInRefused(Reason.ENTRA_ERROR, {"authenticate": "no pipeline"})
        if context.refusal is not None:  # decided by a step whose writes had to stand
            raise context.refusal
        if not context.admitted:
            raise SignInRefused(Reason.NO_ACCESS_ROLE, {"elements": "none admitted"})
        return user

    def _signed_in(self, request: HttpRequest, user: Any) -> HttpResponse:
        next_url = safe_next(request, request.session.get("oidc_login_next"))
        context = request.keyfax_sign_in
        with transaction.atomic():  # the session and its audit event stand or fall together
            auth.login(request, user)  # a new session key: no fixation
            request.session[SIGN_IN_METHOD] = "entra"
            request.session[ADMITTED_ELEMENTS] = sorted(context.admitted)
            front_channel.remember(request, user, context.claims.get("sid"))
            _record_sign_in(request, user, context)
        return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


def _record_sign_in(request: HttpRequest, user: Any, context: SignInContext) -> None:
    record(
        Action.SIGN_IN,
        request=request,
        actor=user,
        tenant_id=context.tenant_id,
        object_id=context.object_id,
        subject=f"user:{user.pk}",
        detail={
            "method": "entra",
            "provisioned": context.created,
            "roles": context.roles,
            "groups": len(context.groups),
            **context.notes,
        },
    )


def _pop_pending_sign_in(request: HttpRequest, state: object) -> dict[str, Any]:
    """Take the state this browser was given; a state is good once, for ten minutes."""
    states = request.session.get("oidc_states")
    if not isinstance(state, str) or not isinstance(states, dict) or state not in states:
        raise SignInRefused(Reason.UNKNOWN_STATE)
    pending = states.pop(state)  # saved with the response; the code is single-use anyway
    request.session.modified = True
    if not isinstance(pending, dict):
        raise SignInRefused(Reason.UNKNOWN_STATE)
    if time.time() - float(pending.get("added_on", 0)) > STATE_MAX_AGE_SECONDS:
        raise SignInRefused(Reason.STATE_EXPIRED)
    return pending


def _entra_error(error: object, description: object) -> SignInRefused:
    code = aadsts_code(description)
    detail = {"error": str(error)[:60], "aadsts": code}
    if code == "AADSTS50105":
        return SignInRefused(Reason.NOT_ASSIGNED, detail)
    if error == "access_denied":
        return SignInRefused(Reason.ACCESS_DENIED, detail)
    return SignInRefused(Reason.ENTRA_ERROR, detail)


class EntraLogoutView(OIDCLogoutView):
    """Sign out here, then (for an Entra sign-in) at Entra too. POST only (CSRF-protected)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        signed_out_url = request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL))
        if not request.user.is_authenticated:
            return HttpResponseRedirect(signed_out_url)
        method = request.session.get(SIGN_IN_METHOD, "password")
        entra_url = _entra_logout_url(signed_out_url) if method == "entra" else None
        kind = "rp_initiated" if entra_url else "local"
        with transaction.atomic():  # the sign-out and its audit event stand or fall together
            record_sign_out(request, request.user, method=method, kind=kind)
            front_channel.forget(request)
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


def sign_in_url(next_url: str | None = None) -> str:
    url = reverse("oidc_authentication_init")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url
