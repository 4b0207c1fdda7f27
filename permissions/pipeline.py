"""Sign-in steps contributed by ``permissions`` (named in ``KEYFAX_SIGN_IN_PIPELINE``).

``sync_permissions`` applies the token's roles and groups to every element in
``authentication_and_permissions``; ``check_element_access`` then decides which elements the
sign-in admits. A person admitted nowhere — or not to the element the sign-in is for — is
refused. A first-time person is refused by raising (the pipeline rolls back: no account is
left behind); a known person is refused after the pipeline commits, so permissions Entra
no longer grants are really gone.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError

from accounts.oidc_views import sign_in_target
from accounts.pipeline import SignInContext
from accounts.refusals import Reason, SignInRefused
from accounts.sso_config import Element, Mode
from permissions.mappings import entitlements
from permissions.models import ROLE_VALUE
from permissions.sync import apply_entitlements

ADMITTED = "admitted"
NO_ACCESS_ROLE = "no_access_role"
NO_PERMISSIONS = "no_permissions"
STEP_UP_REQUIRED = "step_up_required"
_REASONS = {
    STEP_UP_REQUIRED: Reason.STEP_UP_REQUIRED,
    NO_PERMISSIONS: Reason.NO_PERMISSIONS,
    NO_ACCESS_ROLE: Reason.NO_ACCESS_ROLE,
}


def synced_elements(context: SignInContext) -> list[Element]:
    config = context.config
    return [e for e in Element if config.mode_for(e) is Mode.AUTHENTICATION_AND_PERMISSIONS]


def sync_permissions(context: SignInContext) -> None:
    """Entra decides: permissions in each such element become exactly what roles map to."""
    _note_roles_claim(context)
    elements = synced_elements(context)
    if not elements:
        return
    granted = entitlements(context.roles, context.groups)
    context.state["entitlements"] = granted
    if granted.unmapped_roles:
        context.notes["unmapped_roles"] = granted.unmapped_roles  # ignored, but worth seeing
    try:
        apply_entitlements(
            context.user, granted, elements, request=context.request,
            tenant_id=context.tenant_id, object_id=context.object_id,
        )
    except DatabaseError as error:  # the pipeline's transaction rolls back: nothing half-done
        detail = {"oid": context.object_id, "error": type(error).__name__}
        raise SignInRefused(Reason.PERMISSIONS_SYNC_FAILED, detail) from None


def check_element_access(context: SignInContext) -> None:
    """Record the elements this sign-in admits; refuse when it admits none (or not the target)."""
    config = context.config
    verdicts = {e: _verdict(context, e) for e in Element if config.mode_for(e).uses_sso}
    context.admitted = {e.value for e, verdict in verdicts.items() if verdict == ADMITTED}
    context.notes["elements"] = {e.value: verdict for e, verdict in verdicts.items()}
    target = sign_in_target(context.request)
    refused = [verdicts[target]] if verdicts.get(target, ADMITTED) != ADMITTED else []
    if not refused and not context.admitted:
        refused = list(verdicts.values())
    if not refused:
        return
    why = next(key for key in _REASONS if key in refused)
    refusal = SignInRefused(_REASONS[why], {
        "oid": context.object_id,
        "target": target.value if target else None,
        "elements": context.notes["elements"],
        "roles": context.roles[:50],
    })
    if context.created:
        raise refusal  # nothing of this first sign-in is kept
    context.refusal = refusal


def _verdict(context: SignInContext, element: Element) -> str:
    config = context.config
    if element.value in config.require_mfa and config.mfa_auth_context not in _acrs(context):
        return STEP_UP_REQUIRED
    if config.mode_for(element) is Mode.AUTHENTICATION:
        access_roles = {role.strip() for role in config.access_roles if role.strip()}
        if access_roles:
            held = any(role in access_roles for role in context.roles)
        else:  # any app role: a well-formed app-role value
            held = any(ROLE_VALUE.match(role) for role in context.roles)
        return ADMITTED if held else NO_ACCESS_ROLE
    granted = context.state.get("entitlements")
    return ADMITTED if granted is not None and granted.admits(element) else NO_PERMISSIONS


def _acrs(context: SignInContext) -> list[str]:
    acrs: Any = context.claims.get("acrs")
    return [value for value in acrs if isinstance(value, str)] if isinstance(acrs, list) else []


def _note_roles_claim(context: SignInContext) -> None:
    roles = context.claims.get("roles")
    if roles is not None and not isinstance(roles, list):
        context.notes["roles_claim_ignored"] = f"not a list ({type(roles).__name__})"
