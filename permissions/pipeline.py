"""Sign-in steps contributed by ``permissions`` (named in ``KEYFAX_SIGN_IN_PIPELINE``).

``decide_access`` decides, before anything is written, which elements the sign-in admits
and refuses when it admits none (or not the element the sign-in is for); ``sync_permissions``
then makes the permissions of every element in ``authentication_and_permissions`` exactly
what the person's roles and groups map to.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError

from accounts.pipeline import SignInContext, sign_in_step
from accounts.refusals import Reason, SignInRefused
from accounts.sso_config import Element, Mode
from permissions.mappings import entitlements
from permissions.models import ROLE_VALUE
from permissions.sync import apply_entitlements

ADMITTED = "admitted"
NO_ACCESS_ROLE = "no_access_role"
NO_PERMISSIONS = "no_permissions"
STEP_UP_REQUIRED = "step_up_required"
# When several elements refuse, the person is told the most actionable reason first.
_REASONS = {
    STEP_UP_REQUIRED: Reason.STEP_UP_REQUIRED,
    NO_PERMISSIONS: Reason.NO_PERMISSIONS,
    NO_ACCESS_ROLE: Reason.NO_ACCESS_ROLE,
}


def synced_elements(context: SignInContext) -> list[Element]:
    config = context.config
    return [e for e in Element if config.mode_for(e) is Mode.AUTHENTICATION_AND_PERMISSIONS]


@sign_in_step(needs={"claims", "graph_groups", "target", "for_django_admin", "identity"},
              gives={"entitlements", "verdicts", "admitted"})
def decide_access(context: SignInContext) -> None:
    """Per element using SSO: the step-up it requires, then an access role (``authentication``)
    or a permission from the role mappings (``authentication_and_permissions``). Refuses
    when the sign-in admits no element, or not the one it is for; a sign-in for Django admin
    needs IT access instead (``is_staff``, from a mapping such as ``Keyfax.IT`` while the
    Administration Tool takes permissions from Entra). Writes nothing."""
    config = context.config
    if synced_elements(context):
        context.entitlements = entitlements(context.roles, context.groups)
        if context.entitlements.unmapped_roles:  # ignored, but worth seeing
            context.notes["unmapped_roles"] = context.entitlements.unmapped_roles
    context.verdicts = {e: _verdict(context, e) for e in Element if config.mode_for(e).uses_sso}
    context.admitted = {e for e, verdict in context.verdicts.items() if verdict == ADMITTED}
    context.notes["elements"] = {e.value: verdict for e, verdict in context.verdicts.items()}
    if context.for_django_admin:
        if _has_it_access(context):
            return
        raise SignInRefused(Reason.NO_IT_ACCESS, {
            "oid": context.object_id, "target": "django_admin", "roles": context.roles[:50]})
    target = context.target
    target_verdict = context.verdicts.get(target, ADMITTED) if target else ADMITTED
    if target_verdict == ADMITTED and context.admitted:
        return
    refused = [target_verdict] if target_verdict != ADMITTED else list(context.verdicts.values())
    why = next((key for key in _REASONS if key in refused), NO_ACCESS_ROLE)
    raise SignInRefused(_REASONS[why], {
        "oid": context.object_id,
        "target": target.value if target else None,
        "elements": context.notes["elements"],
        "roles": context.roles[:50],
    })


@sign_in_step(needs={"user", "entitlements", "admitted"}, writes=True)
def sync_permissions(context: SignInContext) -> None:
    """Entra decides: in each ``authentication_and_permissions`` element the person's
    permissions become exactly what their roles and groups map to (audited)."""
    elements = synced_elements(context)
    if not elements or context.entitlements is None:
        return
    try:
        apply_entitlements(
            context.user, context.entitlements, elements, request=context.request,
            tenant_id=context.tenant_id, object_id=context.object_id,
        )
    except DatabaseError as error:  # the pipeline's transaction rolls back: nothing half-done
        detail = {"oid": context.object_id, "error": type(error).__name__}
        raise SignInRefused(Reason.PERMISSIONS_SYNC_FAILED, detail) from None


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
    granted = context.entitlements
    return ADMITTED if granted is not None and granted.admits(element) else NO_PERMISSIONS


def _has_it_access(context: SignInContext) -> bool:
    """Whether the person will hold ``is_staff`` once this sign-in's writes are made."""
    if context.config.mode_for(Element.ADMIN_TOOL) is Mode.AUTHENTICATION_AND_PERMISSIONS:
        granted = context.entitlements
        return granted is not None and (granted.staff or granted.superuser)
    user = context.identity.user if context.identity else None
    return user is not None and (user.is_staff or user.is_superuser)


def _acrs(context: SignInContext) -> list[str]:
    acrs: Any = context.claims.get("acrs")
    return [value for value in acrs if isinstance(value, str)] if isinstance(acrs, list) else []
