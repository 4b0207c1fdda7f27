"""Group role mappings applied when SCIM changes a group's members, without waiting for the
members' next sign-in (elements in ``authentication_and_permissions`` only).

A member's groups are then the provisioned groups they are in, plus the groups their last
sign-in named that provisioning does not push; their app roles are their last sign-in's
(SCIM does not carry them). SCIM never gives or takes IT's flags (``is_staff``).
"""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import EntraIdentity
from accounts.services import Actor
from accounts.sso_config import Element, Mode, sso_config
from permissions.mappings import canonical_groups, entitlements
from permissions.models import RoleMapping, SourceKind
from permissions.sync import apply_entitlements
from scim.models import ScimGroup, ScimGroupMember


def is_mapped(external_id: str) -> bool:
    group = canonical_groups([external_id])
    return bool(group) and RoleMapping.objects.filter(
        kind=SourceKind.GROUP, value=group[0]).exists()


def resync(user_ids: Iterable[int], actor: Actor) -> int:
    """Apply the group mappings to these people (Entra-linked, active); how many were synced."""
    config = sso_config()
    elements = [e for e in Element if config.mode_for(e) is Mode.AUTHENTICATION_AND_PERMISSIONS]
    ids = sorted(set(user_ids))
    if not elements or not ids:
        return 0
    pushed = set(canonical_groups(ScimGroup.objects.exclude(external_id="")
                                  .values_list("external_id", flat=True)))
    memberships: dict[int, list[str]] = {}
    for user_id, external_id in (ScimGroupMember.objects.filter(user_id__in=ids)
                                 .values_list("user_id", "group__external_id")):
        memberships.setdefault(user_id, []).append(external_id)
    synced = 0
    for identity in EntraIdentity.objects.select_related("user").filter(
            user_id__in=ids, user__is_active=True, user__retired_at__isnull=True):
        groups = set(canonical_groups(memberships.get(identity.user_id, [])))
        groups |= set(canonical_groups(identity.groups)) - pushed
        apply_entitlements(identity.user, entitlements(identity.roles, sorted(groups)), elements,
                           request=actor.request, scim_token=actor.credential or "scim")
        synced += 1
    return synced
