"""Entra's provisioning cycle for one demo person, replayed against the Keyfax site.

The request shapes are Entra's own (see docs/scim.md): a test connection with a random
userName, a look-up by userName before anything else, a create whose ``externalId`` is the
person's object id, and PATCHes with ``"op": "Replace"``. Each step returns the lines to
print, one per request, in words a newcomer understands.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from .people import Person
from .scim_client import Exchange, ProvisioningError, ScimClient

STEPS = ("test", "lookup", "create", "update", "disable", "enable", "delete")
"""Every step in the order Entra takes them; ``all`` runs them all."""

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def user_document(person: Person) -> dict[str, Any]:
    """The body of Entra's create, with objectId mapped to externalId."""
    return {
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "externalId": person.oid,
        "userName": person.upn,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": person.email}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": person.name, "familyName": person.family_name,
                 "givenName": person.given_name},
        "roles": [],
    }


def replace(path: str, value: Any) -> dict[str, Any]:
    """A PATCH body with one ``Replace`` operation, as Entra sends it."""
    return {"schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "Replace", "path": path, "value": value}]}


class Provisioner:
    """Replays the steps for ``person``; ``user_id`` is the SCIM id once known."""

    def __init__(self, client: ScimClient, person: Person, *, family_name: str | None = None,
                 active_as_string: bool = False) -> None:
        self.client = client
        self.person = person
        self.family_name = family_name or person.family_name
        self.active_as_string = active_as_string
        self.user_id: str | None = None

    def run(self, step: str) -> list[str]:
        """The lines for one step (a look-up first when the step needs the SCIM id)."""
        actions: dict[str, Callable[[], list[str]]] = {
            "test": self.test_connection, "lookup": self.lookup, "create": self.create,
            "update": self.update, "disable": lambda: self.set_active(False),
            "enable": lambda: self.set_active(True), "delete": self.delete,
        }
        return actions[step]()

    def test_connection(self) -> list[str]:
        found = self._expect("test", self.client.send(
            "GET", "/Users", filter_=f'userName eq "{uuid.uuid4()}"'), 200)
        return [_line("test connection", found, "the site accepts the token; nobody has "
                      "that random userName, as Entra expects")]

    def lookup(self) -> list[str]:
        found = self._expect("lookup", self.client.send(
            "GET", "/Users", filter_=f'userName eq "{self.person.upn}"'), 200)
        resources = found.body.get("Resources") or []
        if not resources:
            self.user_id = None
            return [_line("lookup", found, "not provisioned yet: Entra would create them")]
        self.user_id = str(resources[0]["id"])
        state = "active" if resources[0].get("active", True) else "disabled"
        return [_line("lookup", found, f"already provisioned as id {self.user_id}, {state}")]

    def create(self) -> list[str]:
        found = self._expect("create", self.client.send(
            "POST", "/Users", body=user_document(self.person)), 201)
        self.user_id = str(found.body.get("id", ""))
        return [_line("create", found, f"account created (or a deleted one restored), linked "
                      f"to Entra object id {self.person.oid}: their sign-in will find it")]

    def update(self) -> list[str]:
        lines = self._known()
        found = self._patch("update", replace("name.familyName", self.family_name))
        return [*lines, _line("update", found, f'family name is now "{self.family_name}"')]

    def set_active(self, active: bool) -> list[str]:
        lines = self._known()
        value: bool | str = str(active) if self.active_as_string else active
        step = "enable" if active else "disable"
        found = self._patch(step, replace("active", value))
        meaning = ("active=true: they may sign in again" if active
                   else "active=false: the person's open sessions end now")
        return [*lines, _line(step, found, meaning)]

    def delete(self) -> list[str]:
        lines = self._known()
        found = self._expect("delete", self.client.send("DELETE", f"/Users/{self.user_id}"), 204)
        self.user_id = None
        return [*lines, _line("delete", found, "retired: access removed, the account kept "
                              "for the audit log; a create with the same object id restores it")]

    # --- helpers -------------------------------------------------------------------------

    def _known(self) -> list[str]:
        """Look the person up first (as Entra does) unless an earlier step found them."""
        if self.user_id:
            return []
        lines = self.lookup()
        if not self.user_id:
            raise ProvisioningError(
                f"{self.person.name} ({self.person.upn}) is not provisioned on the site (or "
                "was deleted): run --step create first.")
        return lines

    def _patch(self, step: str, body: dict[str, Any]) -> Exchange:
        found = self.client.send("PATCH", f"/Users/{self.user_id}", body=body)
        return self._expect(step, found, 200, 204)  # Entra accepts either

    @staticmethod
    def _expect(step: str, found: Exchange, *statuses: int) -> Exchange:
        if found.status not in statuses:
            expected = " or ".join(str(status) for status in statuses)
            said = f" The site said: {found.detail}" if found.detail else ""
            raise ProvisioningError(
                f"{step}: {found.line} → {found.status}, but Entra expects {expected}.{said}")
        return found


def _line(step: str, found: Exchange, meaning: str) -> str:
    return f"{step}: {found.line} → {found.status} ({meaning})"
