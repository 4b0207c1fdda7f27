"""What the SCIM endpoint serves (schemas, resource types, capabilities) and the policy it reads
Entra's requests with. Built once per process."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    Patch,
    Resource,
    ResponseParameters,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
)
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from scim2_server.utils import load_default_resource_types, load_default_schemas

MAX_RESULTS = 200
"""Resources one search answers at most (Entra asks for one at a time)."""

ENTRA_POLICY = ScimPolicy(
    # Entra sends attributes of its own (and extension URNs IT adds): dropped, not refused.
    # Privileged ones (isStaff, isSuperuser, permissions) are unknown here, so never written.
    unknown=ScimPolicy.Unknown.ignore,
    # aadOptscim062020 off: {"op": "Remove", "path": "members", "value": [{"value": id}]}
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    # emails[type eq "work"].value replaced on a user who has no work email yet
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)
"""What Entra's provisioning service really sends, accepted: ``op`` in any case and booleans
as strings are read by scim2-models whatever the policy."""

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
NOT_SERVED = {"password"}  # Keyfax accounts linked to Entra never have a password


def config() -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken, name="Bearer token",
            description="A token from manage.py scim_token create NAME, in the Authorization "
                        "header.", primary=True)],
    )


@lru_cache(maxsize=1)
def provider() -> ScimProvider:
    schemas = load_default_schemas()
    user = schemas[USER_SCHEMA]
    user.attributes = [a for a in user.attributes or [] if a.name not in NOT_SERVED]
    return ScimProvider.from_discovery(
        schemas.values(), load_default_resource_types().values(), config=config(),
        policy=ENTRA_POLICY)


class KeyfaxScimService(ScimService):
    def patch_response(self, base_url: str, resource: Resource[Any],
                       response_parameters: ResponseParameters[Any]) -> ScimResponse:
        """A patched User is answered 200 with the resource, as Entra's documentation
        shows; a Group 204 (RFC 7644 §3.5.2 allows both)."""
        if resource.meta is not None and resource.meta.resource_type == "User":
            return self.resource_response(self.publish(base_url, resource),
                                          Context.RESOURCE_REPLACEMENT_RESPONSE,
                                          response_parameters)
        return super().patch_response(base_url, resource, response_parameters)


@lru_cache(maxsize=1)
def service() -> ScimService:
    return KeyfaxScimService(provider())
