"""The sign-in steps ``accounts`` contributes to ``KEYFAX_SIGN_IN_PIPELINE``.

Read the list in settings for their order; each step says here what it checks or does.
The protocol steps call the backend's methods (``accounts.backends.EntraOIDCBackend``), so a
subclass of the backend changes how, and the list changes what and when.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib import auth
from django.http import HttpRequest

from accounts import open_sessions, provisioning, revalidation
from accounts.backends import aadsts_code
from accounts.destinations import element_for_path, is_django_admin_path, safe_next
from accounts.entra.discovery import provider_metadata
from accounts.entra.graph import member_groups
from accounts.pipeline import SignInContext, sign_in_step
from accounts.refusals import Reason, SignInRefused
from accounts.sessions import remember_sign_in
from accounts.sso_config import Element, Mode
from audit.models import Action
from audit.services import record

STATE_MAX_AGE_SECONDS = 10 * 60
BACKEND = "accounts.backends.EntraOIDCBackend"


@sign_in_step()
def require_sso_enabled(context: SignInContext) -> None:
    """SSO may have been switched off (or its settings broken) since the redirect to Entra."""
    if not context.config.ready:
        raise SignInRefused(Reason.SSO_NOT_CONFIGURED)


@sign_in_step(gives={"nonce", "code_verifier", "next_url", "target", "for_django_admin",
                     "revalidating"})
def check_state(context: SignInContext) -> None:
    """This browser started this sign-in: its state is good once, for ten minutes. Then
    Entra's own error, if it sent one, and the code it must have sent. A state started as a
    silent re-check of this signed-in user's session (``accounts.revalidation``) says so."""
    request = context.request
    pending = _pop_pending_sign_in(request, request.GET.get("state"))
    revalidate = pending.get("revalidate")
    if revalidate is not None and revalidate == request.user.pk:
        context.revalidating = revalidate
    if request.GET.get("error"):
        raise _entra_error(request.GET.get("error"), request.GET.get("error_description"))
    if not request.GET.get("code"):
        raise SignInRefused(Reason.MISSING_CODE)
    nonce, verifier = pending.get("nonce"), pending.get("code_verifier")
    if not (isinstance(nonce, str) and nonce and isinstance(verifier, str) and verifier):
        raise SignInRefused(Reason.UNKNOWN_STATE, {"state": "no nonce or PKCE verifier"})
    context.nonce, context.code_verifier = nonce, verifier
    context.next_url = safe_next(request, pending.get("next")
                                 or request.session.get("oidc_login_next"))
    context.target = element_for_path(context.next_url)
    context.for_django_admin = is_django_admin_path(context.next_url)


@sign_in_step(needs={"code_verifier"}, gives={"tokens"})
def exchange_code(context: SignInContext) -> None:
    """Redeem the code at the token endpoint, with the client secret and the PKCE verifier."""
    context.tokens = context.backend.redeem_code(context.request, context.code_verifier)


@sign_in_step(needs={"tokens", "nonce"}, gives={"claims"})
def verify_id_token(context: SignInContext) -> None:
    """Every ID-token check (signature, alg, iss, aud, tid, lifetime, nonce): the claims
    are the only source of identity (no userinfo call)."""
    id_token = context.tokens["id_token"]
    context.claims = context.backend.verify_token(id_token, nonce=context.nonce)
    context.backend.store_tokens(context.tokens.get("access_token"), id_token)
    roles = context.claims.get("roles")
    if roles is not None and not isinstance(roles, list):
        context.notes["roles_claim_ignored"] = f"not a list ({type(roles).__name__})"


@sign_in_step(needs={"claims"}, gives={"graph_groups"})
def resolve_groups_overage(context: SignInContext) -> None:
    """Over 200 groups, Entra sends none and points at Graph: read them from Microsoft
    Graph (``ENTRA_GRAPH_URL``, never the URL in the token). Only where Entra decides
    permissions; any failure refuses (fail closed)."""
    if not context.has_groups_overage:
        return
    config = context.config
    if not any(config.mode_for(e) is Mode.AUTHENTICATION_AND_PERMISSIONS for e in Element):
        context.notes["groups_overage"] = "not needed"
        return
    metadata = provider_metadata(config)
    context.graph_groups = member_groups(config, metadata, context.object_id)
    context.notes["groups_overage"] = "read from Microsoft Graph"


@sign_in_step(needs={"claims"}, gives={"identity"})
def find_person(context: SignInContext) -> None:
    """The person by (tid, oid) and nothing else: never by email, UPN or username. A first
    sign-in finds nobody (``identity`` stays ``None``)."""
    context.identity = provisioning.find_identity(context.tenant_id, context.object_id)


@sign_in_step(needs={"identity", "revalidating"})
def require_same_person(context: SignInContext) -> None:
    """A re-check of a signed-in session must come back with the same person."""
    if context.revalidating is None:
        return
    if context.identity is None or context.identity.user_id != context.revalidating:
        raise SignInRefused(Reason.NOT_THE_SAME_PERSON, {"oid": context.object_id})


@sign_in_step(needs={"claims", "identity", "target", "for_django_admin"})
def require_registration(context: SignInContext) -> None:
    """Where ``KEYFAX_SSO_PROVISIONING`` says ``registered``, only a person registered first
    (User Maintenance or SCIM, linked by object id) gets in: nobody is created here."""
    if context.identity is not None:
        return
    element = None if context.for_django_admin else context.target
    if context.config.registration_required(element):
        raise SignInRefused(Reason.NOT_REGISTERED, {
            "oid": context.object_id,
            "upn": str(context.claims.get("preferred_username") or "")[:200],
            "name": str(context.claims.get("name") or "")[:200],
            "target": "django_admin" if context.for_django_admin
            else element.value if element else None})


@sign_in_step(needs={"identity"})
def require_active_user(context: SignInContext) -> None:
    """A disabled Keyfax account stays out, whatever Entra says."""
    user = context.identity.user if context.identity else None
    if user is not None and not user.is_active:
        raise SignInRefused(Reason.ACCOUNT_DISABLED, {"user_id": user.pk})


@sign_in_step(needs={"claims", "identity", "admitted"}, gives={"identity", "user", "created"},
              writes=True)
def provision_or_update_user(context: SignInContext) -> None:
    """Create the account on a first sign-in (audited as ``user_created``); on every
    sign-in refresh the display fields and what Entra said (roles, groups, when)."""
    if context.identity is None:
        context.identity, context.created = provisioning.provision(context.claims)
    context.user = context.identity.user
    if context.created:
        _record_created(context)
    provisioning.refresh_from_claims(
        context.identity, context.claims, roles=context.roles, groups=context.groups)


@sign_in_step(needs={"user", "admitted", "claims", "revalidating"}, writes=True)
def log_in(context: SignInContext) -> None:
    """A new session (a new id: no fixation), marked as an Entra sign-in with the elements
    it admits, and noted under Entra's ``sid`` for front-channel logout. A re-check keeps
    the session and renews what it admits and when Entra last said yes."""
    request = context.request
    admitted = {element.value: context.config.admission_key(element)
                for element in context.admitted}
    if context.revalidating is not None:
        remember_sign_in(request, "entra", admitted)
        revalidation.mark_validated(request)
        return
    auth.login(request, context.user, backend=BACKEND)
    remember_sign_in(request, "entra", admitted)
    revalidation.mark_validated(request)
    open_sessions.note(
        request, context.user, "entra", sid=context.claims.get("sid"),
        element="django_admin" if context.for_django_admin
        else context.target.value if context.target else "")


@sign_in_step(needs={"user", "claims", "revalidating"}, writes=True)
def record_sign_in(context: SignInContext) -> None:
    """The ``sign_in`` audit event (``session_revalidated`` for a re-check), committed with
    the session or not at all."""
    if context.revalidating is not None:
        _record_about_the_person(context, Action.SESSION_REVALIDATED, detail={
            "roles": context.roles, "groups": len(context.groups), **context.notes})
        return
    _record_about_the_person(
        context,
        Action.SIGN_IN,
        element=context.target.value if context.target else "",
        detail={
            "method": "entra",
            "provisioned": context.created,
            "roles": context.roles,
            "groups": len(context.groups),
            **context.notes,
        },
    )


# --- helpers -----------------------------------------------------------------------------


def _pop_pending_sign_in(request: HttpRequest, state: object) -> dict[str, Any]:
    """Take the state this browser was given; a state is good once, for ten minutes."""
    states = request.session.get("oidc_states")
    if not isinstance(state, str) or not isinstance(states, dict) or state not in states:
        raise SignInRefused(Reason.UNKNOWN_STATE)
    pending = states.pop(state)
    request.session.save()  # used up now, even if the rest of the sign-in fails or waits
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
    if code == "AADSTS50057":
        return SignInRefused(Reason.ENTRA_ACCOUNT_DISABLED, detail)
    if error in ("login_required", "interaction_required", "consent_required"):
        return SignInRefused(Reason.ENTRA_SIGN_IN_REQUIRED, detail)
    if error == "access_denied":
        return SignInRefused(Reason.ACCESS_DENIED, detail)
    return SignInRefused(Reason.ENTRA_ERROR, detail)


def _record_created(context: SignInContext) -> None:
    _record_about_the_person(context, Action.USER_CREATED, detail={
        "via": "entra_sign_in", "fields": {"username": context.user.username}})


def _record_about_the_person(context: SignInContext, action: Action, **fields: Any) -> None:
    """An audit event in which the person signing in is both the actor and the subject."""
    record(
        action,
        request=context.request,
        actor=context.user,
        tenant_id=context.tenant_id,
        object_id=context.object_id,
        subject=f"user:{context.user.pk}",
        **fields,
    )
