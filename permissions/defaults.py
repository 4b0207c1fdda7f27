"""The role mappings a new installation starts with (seeded by a data migration).

Values match the app roles in docs and in ``manage.py entra_app_roles``; IT edits them in
Django admin afterwards. Only ``Keyfax.IT`` grants ``is_staff`` (IT's access to Django admin,
while the Administration Tool takes permissions from Entra ID); none grants
``is_superuser``, which stays with the break-glass account.
"""

from __future__ import annotations

from typing import Any

from accounts.sso_config import Element
from permissions import catalogue

ADMIN_TOOL = [e.codename for e in catalogue.entries(Element.ADMIN_TOOL)]
WEB_STAFF = [e.codename for e in catalogue.entries(Element.WEB_STAFF)]

DEFAULT_MAPPINGS: list[dict[str, Any]] = [
    {"value": "Keyfax.Admin", "display_name": "Keyfax Administrator",
     "description": "Full access to the Keyfax Administration Tool, including User Maintenance.",
     "permissions": ADMIN_TOOL},
    {"value": "Keyfax.ScriptAuthor", "display_name": "Keyfax Script Author",
     "description": "Writes and changes diagnostic scripts in the Administration Tool.",
     "permissions": ["edit_scripts"]},
    {"value": "Keyfax.ScriptPublisher", "display_name": "Keyfax Script Publisher",
     "description": "Publishes diagnostic scripts so Web Staff can run them.",
     "permissions": ["publish_scripts"]},
    {"value": "Keyfax.Staff", "display_name": "Keyfax Web Staff",
     "description": "Runs Repair and Enquiries Diagnostics in Keyfax Web Staff.",
     "permissions": WEB_STAFF},
    {"value": "Keyfax.Staff.Repairs", "display_name": "Keyfax Web Staff: Repairs",
     "description": "Runs Repair Diagnostics in Keyfax Web Staff.",
     "permissions": ["run_repair_diagnostics"]},
    {"value": "Keyfax.Staff.Enquiries", "display_name": "Keyfax Web Staff: Enquiries",
     "description": "Runs Enquiries Diagnostics in Keyfax Web Staff.",
     "permissions": ["run_enquiries_diagnostics"]},
    {"value": "Keyfax.IT", "display_name": "Keyfax IT",
     "description": "IT: Django admin (the audit log, role mappings and users).",
     "permissions": [], "grants_staff": True},
]


def ensure_catalogue_permissions(apps: Any) -> None:
    """Create the catalogue's Permission rows now (Django makes them only after migrate)."""
    from django.contrib.auth.management import create_permissions

    for label in (catalogue.APP_LABEL, catalogue.SCRIPT_SET_APP_LABEL):
        config = apps.get_app_config(label)
        stub = getattr(config, "models_module", None) is None  # a migration's historical app
        if stub:
            config.models_module = True
        try:
            create_permissions(config, apps=apps, verbosity=0)
        finally:
            if stub:
                del config.models_module


def seed_default_mappings(apps: Any, schema_editor: Any = None) -> None:
    """Add the default mappings that are missing; existing ones are left as IT made them."""
    ensure_catalogue_permissions(apps)
    permission = apps.get_model("auth", "Permission")
    mapping_model = apps.get_model("permissions", "RoleMapping")
    for default in DEFAULT_MAPPINGS:
        mapping, created = mapping_model.objects.get_or_create(
            kind="role", value=default["value"],
            defaults={"display_name": default["display_name"],
                      "description": default["description"],
                      "grants_staff": default.get("grants_staff", False)},
        )
        if created:
            mapping.permissions.set(permission.objects.filter(
                content_type__app_label=catalogue.APP_LABEL,
                codename__in=default["permissions"],
            ))
