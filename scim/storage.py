"""scim2-server's storage over the Django ORM: Users and Groups, one transaction per
operation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from scim2_models import (
    ForbiddenException,
    NotImplementedException,
    Resource,
    ResourceType,
    ResponseParameters,
    SearchRequest,
)
from scim2_server.storage import ScimStorage, SearchPage

from accounts.services import AccountRefused, Actor
from scim import filters
from scim.groups import GroupStore
from scim.provider import provider
from scim.users import UserStore


class DjangoStorage(ScimStorage):
    def __init__(self, actor: Actor, tenant_id: str) -> None:
        scim = provider()
        models = {rt.name: scim.model_for(rt) for rt in scim.resource_types}
        self.users = UserStore(models["User"], actor, tenant_id)
        self.groups = GroupStore(models["Group"], actor, tenant_id)

    def _store(self, resource_type: ResourceType) -> UserStore | GroupStore:
        return self.users if resource_type.name == "User" else self.groups

    def get(self, resource_type: ResourceType, resource_id: str, *,
            response_parameters: ResponseParameters[Any] | None = None) -> Resource[Any]:
        return self._store(resource_type).get(resource_id)

    def search(self, resource_types: list[ResourceType], search_request: SearchRequest[Any],
               *, position: Any = None) -> SearchPage:
        if len(resource_types) != 1:
            raise NotImplementedException(detail="Search /Users or /Groups, not the root.")
        store = self._store(resource_types[0])
        attributes = (filters.USER_ATTRIBUTES if store is self.users
                      else filters.GROUP_ATTRIBUTES)
        query = filters.to_q(search_request.filter.ast if search_request.filter else None,
                             attributes)
        total, resources = store.search(query, search_request.start_index_0 or 0,
                                        search_request.count)
        return SearchPage(total, resources)

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        return self._store(resource_type).create(resource)

    def update(self, resource_type: ResourceType, resource: Resource[Any], *,
               expected_version: str | None = None) -> Resource[Any]:
        return self._store(resource_type).update(resource)

    def delete(self, resource_type: ResourceType, resource_id: str, *,
               expected_version: str | None = None) -> None:
        self._store(resource_type).delete(resource_id)

    @contextmanager
    def operation(self) -> Iterator[None]:
        """One transaction per operation. Should the account door ever refuse the system
        actor, the answer is a SCIM 403, not a 500."""
        try:
            with transaction.atomic():
                yield
        except AccountRefused as refused:
            raise ForbiddenException(detail=str(refused)) from None
