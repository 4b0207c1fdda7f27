"""Print the ``appRoles`` for the Entra app registration's manifest, from the role mappings.

Each role's ``id`` is a uuid5 of a fixed namespace and its value, so running this again (on
any machine) gives the same ids and pasting the output never re-creates a role.
"""

from __future__ import annotations

import json
import uuid

from django.core.management.base import BaseCommand

from permissions import catalogue
from permissions.models import RoleMapping, SourceKind

APP_ROLE_NAMESPACE = uuid.UUID("0c5e4b7a-2f1d-5a3c-9b8e-4d6f7a1c2e3b")


def app_role_id(value: str) -> str:
    return str(uuid.uuid5(APP_ROLE_NAMESPACE, value))


def app_roles() -> list[dict]:
    mappings = RoleMapping.objects.filter(kind=SourceKind.ROLE).prefetch_related("permissions")
    roles = []
    for mapping in mappings.order_by("value"):
        names = sorted(
            entry.name for p in mapping.permissions.all()
            if (entry := catalogue.entry(p.codename)) is not None
        )
        description = mapping.description or (
            f"Keyfax: {', '.join(names)}." if names else "Keyfax app role."
        )
        roles.append({
            "allowedMemberTypes": ["User"],
            "description": description,
            "displayName": mapping.display_name or mapping.value,
            "id": app_role_id(mapping.value),
            "isEnabled": True,
            "value": mapping.value,
        })
    return roles


class Command(BaseCommand):
    help = "Print the appRoles JSON for the Entra app registration manifest."

    def handle(self, *args, **options) -> None:
        self.stdout.write(json.dumps({"appRoles": app_roles()}, indent=2))
