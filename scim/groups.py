"""SCIM Groups: the Entra groups provisioning pushes, with their members.

A group's ``externalId`` is its Entra object id (Entra's default mapping), which is what a
group role mapping names: a change of members applies those mappings to the people concerned
at once (:mod:`scim.group_permissions`). Members are provisioned Users, by ``id``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q
from scim2_models import InvalidValueException, NotFoundException, Resource

from accounts.models import User
from accounts.services import Actor
from audit.models import Action
from audit.services import record
from scim import documents, filters, group_permissions
from scim.models import ScimGroup, ScimGroupMember
from scim.users import scim_id

MAX_MEMBER_CHANGES = 1000
"""Members one request may add or remove. Entra sends membership in much smaller batches;
a larger request is refused at once instead of holding the database for minutes."""


class GroupStore:
    def __init__(self, model: type[Resource[Any]], actor: Actor, tenant_id: str) -> None:
        self.model = model
        self.actor = actor
        self.tenant_id = tenant_id
        self._seen: dict[uuid.UUID, set[int]] = {}  # members as get() returned them

    def find(self, resource_id: str) -> ScimGroup:
        try:
            group = ScimGroup.objects.filter(pk=uuid.UUID(str(resource_id))).first()
        except ValueError:
            group = None
        if group is None:
            raise NotFoundException(detail=f"No group {str(resource_id)[:100]!r}.")
        return group

    def get(self, resource_id: str, *, members: bool = True) -> Resource[Any]:
        group = self.find(resource_id)
        return self.resource(group, self._members([group]).get(group.pk, []) if members else [])

    def search(self, query: Q, start: int, count: int | None) -> tuple[int, list[Resource]]:
        found = ScimGroup.objects.filter(query).distinct()
        total = found.count()
        if count == 0:
            return total, []
        page = list(found.order_by("display_name", "id")[
            start:None if count is None else start + count])
        members = self._members(page)
        return total, [self.resource(group, members.get(group.pk, [])) for group in page]

    def resource(self, group: ScimGroup, members: list[tuple[int, str, str]]
                 ) -> Resource[Any]:
        self._seen[group.pk] = {user_id for user_id, _sid, _name in members}
        document = dict(group.document, id=str(group.pk), displayName=group.display_name)
        if members:
            document["members"] = [
                {"value": sid, "$ref": f"Users/{sid}", "type": "User",
                 **({"display": display} if display else {})} for _id, sid, display in members]
        resource = self.model.model_validate(document)
        resource.meta = documents.meta("Group", group.created_at, group.updated_at,
                                       group.version)
        return resource

    @staticmethod
    def _members(groups: list[ScimGroup]) -> dict[uuid.UUID, list[tuple[int, str, str]]]:
        """Each group's members as (account id, SCIM id, display as sent)."""
        found: dict[uuid.UUID, list[tuple[int, str, str]]] = {}
        rows = (ScimGroupMember.objects.filter(group__in=groups)
                .select_related("user__scim_record", "user__entra_identity").order_by("user_id"))
        for row in rows:
            found.setdefault(row.group_id, []).append(
                (row.user_id, scim_id(row.user), row.display))
        return found

    # --- writing -------------------------------------------------------------------------

    def create(self, resource: Resource[Any]) -> Resource[Any]:
        document = documents.document_of(resource)
        name = self._display_name(resource)
        wanted = self._member_accounts(resource)
        if len(wanted) > MAX_MEMBER_CHANGES:
            raise _too_many(len(wanted))
        group = ScimGroup.objects.create(display_name=name, document=document,
                                         external_id=str(resource.external_id or "")[:255])
        ScimGroupMember.objects.bulk_create(
            [ScimGroupMember(group=group, user_id=i, display=wanted[i]) for i in sorted(wanted)])
        self._record(group, "created", added=len(wanted))
        self._resync(group, set(wanted))
        return self.get(str(group.pk))

    def update(self, resource: Resource[Any]) -> Resource[Any]:
        group = ScimGroup.objects.select_for_update().filter(pk=resource.id).first()
        if group is None:
            raise NotFoundException(detail=f"No group {str(resource.id)[:100]!r}.")
        before = self._seen.get(group.pk)
        if before is None:
            before = set(ScimGroupMember.objects.filter(group=group)
                         .values_list("user_id", flat=True))
        wanted = self._member_accounts(resource)
        added, removed = set(wanted) - before, before - set(wanted)
        if len(added) + len(removed) > MAX_MEMBER_CHANGES:
            raise _too_many(len(added) + len(removed))
        document = documents.document_of(resource)
        name = self._display_name(resource)
        external_id = str(resource.external_id or "")[:255]
        changed = (document != group.document or name != group.display_name
                   or external_id != group.external_id)
        if not (changed or added or removed):
            return self.get(str(group.pk))
        old_external_id = group.external_id
        group.document, group.display_name, group.external_id = document, name, external_id
        group.version += 1
        group.save()
        ScimGroupMember.objects.filter(group=group, user_id__in=removed).delete()
        ScimGroupMember.objects.bulk_create(
            [ScimGroupMember(group=group, user_id=i, display=wanted[i]) for i in sorted(added)],
            ignore_conflicts=True)
        self._record(group, "changed", added=len(added), removed=len(removed))
        if external_id != old_external_id:
            self._resync(group, set(wanted) | before, also=old_external_id)
        else:
            self._resync(group, added | removed)
        return self.get(str(group.pk))

    def delete(self, resource_id: str) -> None:
        group = self.find(resource_id)
        members = set(ScimGroupMember.objects.filter(group=group)
                      .values_list("user_id", flat=True))
        self._record(group, "deleted", removed=len(members))
        group.delete()
        self._resync(group, members)

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _display_name(resource: Resource[Any]) -> str:
        name = getattr(resource, "display_name", None)
        if not isinstance(name, str) or not name.strip():
            raise InvalidValueException(detail="displayName is required.")
        if len(name) > 256:
            raise InvalidValueException(detail="displayName is longer than 256 characters.")
        return name

    def _member_accounts(self, resource: Resource[Any]) -> dict[int, str]:
        """The accounts the members name, by their User ``id`` (an unknown one is refused),
        each with the ``display`` sent for it."""
        displays = {str(member.value).lower(): str(member.display or "")[:256]
                    for member in (getattr(resource, "members", None) or [])
                    if member.value is not None}
        values = set(displays)
        if len(values) > MAX_MEMBER_CHANGES + len(self._seen_members()):
            raise _too_many(len(values))
        guids = {guid for value in values if (guid := filters.guid(value)) is not None}
        accounts = (User.objects.filter(retired_at__isnull=True)
                    .filter(Q(scim_record__scim_id__in=guids)
                            | Q(scim_record__isnull=True, entra_identity__object_id__in=guids))
                    .select_related("scim_record", "entra_identity"))
        wanted = {scim_id(user): user.pk for user in accounts}
        missing = sorted(values - set(wanted))
        if missing:
            raise InvalidValueException(detail=(
                f"members: no Keyfax user has the id {', '.join(m[:40] for m in missing[:5])}"
                f"{' …' if len(missing) > 5 else ''}. Provision the users first."))
        return {pk: displays[sid] for sid, pk in wanted.items()}

    def _seen_members(self) -> set[int]:
        return set().union(*self._seen.values()) if self._seen else set()

    def _record(self, group: ScimGroup, change: str, **counts: int) -> None:
        record(Action.SCIM_CHANGE, request=self.actor.request, actor_kind="scim",
               subject=f"scim_group:{group.pk}",
               detail={"credential": self.actor.credential, "resource": "Group",
                       "change": change, "group": group.display_name,
                       "external_id": group.external_id,
                       **{key: value for key, value in counts.items() if value}})

    def _resync(self, group: ScimGroup, identity_ids: set[int], also: str = "") -> None:
        if identity_ids and (group_permissions.is_mapped(group.external_id)
                             or (also and group_permissions.is_mapped(also))):
            group_permissions.resync(identity_ids, self.actor)


def _too_many(count: int) -> InvalidValueException:
    return InvalidValueException(detail=(
        f"This request changes {count} members; at most {MAX_MEMBER_CHANGES} at a time."))
