"""SCIM Users: the Entra-linked Keyfax accounts of the configured tenant.

IT maps ``objectId → externalId``: a User whose ``externalId`` is a GUID is linked to that Entra
person (tenant, object id) alone, never by ``userName`` or email, so their first sign-in finds
the account; any other ``externalId`` (Entra's default, ``mailNickname``) makes an account that
waits unlinked, as User Maintenance shows. A linked User's ``id`` is its object id.
Accounts created at a first sign-in are Users too, so Entra's look-up finds them instead of
creating a duplicate. Every
write goes through the account door (:mod:`accounts.services`): one audit event each, actor
kind ``scim``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from scim2_models import (
    MutabilityException,
    NotFoundException,
    Resource,
    UniquenessException,
)

from accounts import services as accounts
from accounts.models import EntraIdentity, User
from audit.models import Action
from audit.services import record
from permissions.services import revoke_everything
from scim import documents, filters
from scim.models import ScimGroupMember, ScimUserRecord


class UserStore:
    def __init__(self, model: type[Resource[Any]], actor: accounts.Actor, tenant_id: str
                 ) -> None:
        self.model = model
        self.actor = actor
        self.tenant_id = tenant_id

    # --- reading -------------------------------------------------------------------------

    def queryset(self) -> QuerySet[User]:
        """Provisioned accounts and the Entra-linked accounts of the tenant, retired aside."""
        return (User.objects.filter(retired_at__isnull=True)
                .filter(Q(scim_record__isnull=False) | Q(entra_identity__tenant_id=self.tenant_id))
                .select_related("entra_identity", "scim_record"))

    def find(self, resource_id: str, *, lock: bool = False, retired: bool = False) -> User:
        query = self.queryset()
        if retired:
            query = User.objects.select_related("entra_identity", "scim_record")
        if lock:
            query = query.select_for_update(of=("self",))
        found = query.filter(filters.user_id(resource_id)).first()
        if found is None:
            raise NotFoundException(detail=f"No user {resource_id[:100]!r}.")
        return found

    def get(self, resource_id: str) -> Resource[Any]:
        user = self.find(resource_id)
        return self.resource(user, self._groups([user]).get(user.pk, []))

    def search(self, query: Q, start: int, count: int | None) -> tuple[int, list[Resource]]:
        found = self.queryset().filter(query)  # one-to-one joins only: no duplicates
        total = found.count()
        if count == 0:
            return total, []
        page = list(found.order_by("pk")[start:None if count is None else start + count])
        groups = self._groups(page)
        return total, [self.resource(user, groups.get(user.pk, [])) for user in page]

    def resource(self, user: User, groups: list[dict[str, str]]) -> Resource[Any]:
        record_ = _record_of(user)
        identity = _identity_of(user)
        document = dict(record_.document) if record_ else self._from_account(user)
        document["userName"] = user.username
        if "active" in document or not user.is_active:  # Keyfax may have disabled it itself
            document["active"] = user.is_active
        document["id"] = scim_id(user)
        if groups:
            document["groups"] = groups
        resource = self.model.model_validate(document)
        created = record_.created_at if record_ else user.date_joined
        modified = record_.updated_at if record_ else (
            identity.last_sign_in_at if identity and identity.last_sign_in_at else created)
        resource.meta = documents.meta("User", created, modified,
                                       record_.version if record_ else 1)
        return resource

    @staticmethod
    def _from_account(user: User) -> dict[str, Any]:
        """The document of an account Entra never provisioned (made at a first sign-in)."""
        identity = _identity_of(user)
        document: dict[str, Any] = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "name": {"givenName": user.first_name, "familyName": user.last_name},
            "active": user.is_active,
        }
        if identity is not None:
            document["externalId"] = str(identity.object_id)
            if identity.display_name:
                document["displayName"] = identity.display_name
        if user.email:
            document["emails"] = [{"value": user.email, "type": "work", "primary": True}]
        return document

    @staticmethod
    def _groups(users: list[User]) -> dict[int, list[dict[str, str]]]:
        found: dict[int, list[dict[str, str]]] = {}
        rows = (ScimGroupMember.objects.filter(user__in=users)
                .values_list("user_id", "group_id", "group__display_name"))
        for user_id, group_id, name in rows:
            found.setdefault(user_id, []).append(
                {"value": str(group_id), "display": name, "$ref": f"Groups/{group_id}"})
        return found

    # --- writing -------------------------------------------------------------------------

    def create(self, resource: Resource[Any]) -> Resource[Any]:
        document = documents.document_of(resource)
        fields = documents.account_fields(document)
        external_id = str(resource.external_id or "")
        object_id = documents.object_id_or_none(external_id)
        existing = None
        if object_id is not None:
            identity = (EntraIdentity.objects.select_related("user")
                        .filter(tenant_id=self.tenant_id, object_id=object_id).first())
            existing = identity.user if identity else None
        if existing is not None and existing.retired_at is None:
            raise UniquenessException(detail=(
                f"The Entra person {object_id} already has a Keyfax account: look it up by "
                "externalId and update it."))
        self._refuse_taken_username(fields["username"], existing)
        try:
            with transaction.atomic():
                if existing is None:
                    user = accounts.create_provisioned_user(
                        fields, self.actor,
                        link=(self.tenant_id, object_id) if object_id else None)
                else:
                    user = existing
                    accounts.restore_user(user, fields, self.actor)
                ScimUserRecord.objects.update_or_create(user=user, defaults={
                    "document": document, "external_id": external_id[:255],
                    **({"scim_id": object_id} if object_id and existing is None else {})})
        except IntegrityError:  # the same person created twice at once: the other won
            raise UniquenessException(detail="This person already has a Keyfax account.") \
                from None
        return self.get(scim_id(user))

    def update(self, resource: Resource[Any]) -> Resource[Any]:
        user = self.find(str(resource.id), lock=True)
        identity = _identity_of(user)
        document = documents.document_of(resource)
        external_id = str(resource.external_id or "")
        object_id = documents.object_id_or_none(external_id)
        if identity is not None and external_id and object_id != str(identity.object_id):
            raise MutabilityException(detail=(
                "externalId is the Entra object ID this account is linked to: it cannot "
                "change. Provision the other person as a new user."))
        fields = documents.account_fields(document)
        self._refuse_taken_username(fields["username"], user)
        changes = {name: value for name, value in fields.items() if getattr(user, name) != value}
        record_ = _record_of(user)
        before = record_.document if record_ else None
        if identity is None and object_id is not None:
            self._refuse_linked_elsewhere(object_id)
            accounts.link_entra_identity(user, self.tenant_id, object_id, self.actor)
        if changes:
            accounts.change_user(user, changes, self.actor)
        elif document != before and not (identity is None and object_id):
            record(Action.SCIM_CHANGE, request=self.actor.request, actor_kind="scim",
                   subject=f"user:{user.pk}", detail={
                       "credential": self.actor.credential, "resource": "User",
                       "attributes": _changed_keys(before or {}, document)})
        if changes or document != before:
            self._save(user, document, external_id, record_)
        return self.get(scim_id(user))

    def delete(self, resource_id: str) -> None:
        user = self.find(resource_id, lock=True)
        groups = ScimGroupMember.objects.filter(user=user).delete()[0]
        removed = revoke_everything(user)
        if groups:
            removed["scim_groups"] = groups
        accounts.retire_user(user, self.actor, removed)

    # --- helpers -------------------------------------------------------------------------

    def _save(self, user: User, document: dict[str, Any], external_id: str,
              record_: ScimUserRecord | None) -> None:
        now = timezone.now()
        if record_ is None:
            identity = _identity_of(user)
            ScimUserRecord.objects.create(
                user=user, document=document, external_id=external_id[:255],
                scim_id=identity.object_id if identity else uuid.uuid4())
        else:
            ScimUserRecord.objects.filter(pk=record_.pk).update(
                document=document, external_id=external_id[:255],
                version=record_.version + 1, updated_at=now)
        User.objects.filter(pk=user.pk).update(scim_changed_at=now)
        identity = _identity_of(user)
        if identity is not None:
            EntraIdentity.objects.filter(pk=identity.pk).update(
                email=user.email,
                display_name=str(document.get("displayName") or identity.display_name)[:255])

    def _refuse_linked_elsewhere(self, object_id: str) -> None:
        if EntraIdentity.objects.filter(tenant_id=self.tenant_id, object_id=object_id).exists():
            raise UniquenessException(detail=(
                f"The Entra person {object_id} is linked to another Keyfax account."))

    @staticmethod
    def _refuse_taken_username(username: str, owner: User | None) -> None:
        """userName is unique whatever its case, among every Keyfax account (local ones too):
        never merged into an account that is not this person's."""
        taken = User.objects.filter(username__iexact=username)
        if owner is not None:
            taken = taken.exclude(pk=owner.pk)
        if taken.exists():
            raise UniquenessException(detail=(
                f"userName {username[:150]!r} belongs to another Keyfax account."))


def scim_id(user: User) -> str:
    record_ = _record_of(user)
    if record_ is not None:
        return str(record_.scim_id)
    identity = _identity_of(user)
    return str(identity.object_id) if identity else ""


def _record_of(user: User) -> ScimUserRecord | None:
    try:
        return user.scim_record
    except ScimUserRecord.DoesNotExist:
        return None


def _identity_of(user: User) -> EntraIdentity | None:
    try:
        return user.entra_identity
    except EntraIdentity.DoesNotExist:
        return None


def _changed_keys(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
