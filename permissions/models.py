"""Role mappings (Entra app role or group → Keyfax permissions) and sync provenance."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import models

from permissions import catalogue

# App-role values: printable ASCII, no spaces (what Entra accepts in the manifest).
ROLE_VALUE = re.compile(r"\A[!-~]{1,120}\Z")


class KeyfaxPermission(models.Model):
    """No table: it only carries the catalogue's permissions (``permissions.<codename>``)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = catalogue.model_permissions()
        verbose_name = "Keyfax permission"

    def __str__(self) -> str:
        return "Keyfax permission"


class SourceKind(models.TextChoices):
    ROLE = "role", "Entra app role"
    GROUP = "group", "Entra group"


class RoleMappingManager(models.Manager):
    def get_by_natural_key(self, kind: str, value: str) -> RoleMapping:
        return self.get(kind=kind, value=value)


class RoleMapping(models.Model):
    """What holding an Entra app role (or being in a group) means in Keyfax.

    Matching is exact: the token's value must equal ``value`` character for character.
    ``is_staff``/``is_superuser`` come only from a mapping that explicitly grants them.
    """

    kind = models.CharField(max_length=10, choices=SourceKind.choices, default=SourceKind.ROLE)
    value = models.CharField(
        max_length=120,
        help_text="The app-role value (e.g. Keyfax.Admin), or the group's object id (a GUID).",
    )
    display_name = models.CharField(
        max_length=100, blank=True, help_text="Shown in Entra ID (the app role's display name)."
    )
    description = models.CharField(max_length=250, blank=True)
    permissions = models.ManyToManyField(
        Permission, blank=True, related_name="+",
        limit_choices_to={"content_type__app_label": catalogue.APP_LABEL,
                          "codename__in": [e.codename for e in catalogue.CATALOGUE]},
        help_text="Keyfax permissions everyone holding this role or group gets.",
    )
    grants_staff = models.BooleanField(
        "grants Django admin access (is_staff)", default=False,
        help_text="Only while the Administration Tool is in authentication_and_permissions.",
    )
    grants_superuser = models.BooleanField(
        "grants superuser (is_superuser)", default=False,
        help_text="Every permission everywhere. Only for IT's own administrators.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = RoleMappingManager()

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="role_mapping_unique_value"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"

    def natural_key(self) -> tuple[str, str]:
        """``(kind, value)``: what fixtures (e.g. the demo's) name a mapping by."""
        return (self.kind, self.value)

    def clean(self) -> None:
        if self.kind == SourceKind.GROUP:
            try:
                self.value = str(uuid.UUID(self.value.strip()))
            except ValueError:
                raise ValidationError(
                    {"value": "A group is named by its object id, a GUID."}
                ) from None
        elif not ROLE_VALUE.match(self.value):
            raise ValidationError(
                {"value": "An app-role value is 1 to 120 printable ASCII characters, no spaces."}
            )


class ScriptSetGrantManager(models.Manager):
    def get_by_natural_key(
        self, kind: str, value: str, slug: str, codename: str, app_label: str, model: str
    ) -> ScriptSetGrant:
        return self.get(
            mapping__kind=kind, mapping__value=value, script_set__slug=slug,
            permission__codename=codename, permission__content_type__app_label=app_label,
            permission__content_type__model=model,
        )


class ScriptSetGrant(models.Model):
    """A permission the mapping grants on one Script Set only (django-guardian)."""

    mapping = models.ForeignKey(
        RoleMapping, on_delete=models.CASCADE, related_name="script_set_grants"
    )
    script_set = models.ForeignKey(
        "scripts.ScriptSet", on_delete=models.CASCADE, related_name="+"
    )
    permission = models.ForeignKey(
        Permission, on_delete=models.CASCADE, related_name="+",
        limit_choices_to={"content_type__app_label": catalogue.SCRIPT_SET_APP_LABEL,
                          "content_type__model": catalogue.SCRIPT_SET_MODEL},
    )

    objects = ScriptSetGrantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mapping", "script_set", "permission"], name="script_set_grant_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.permission.codename} in {self.script_set}"

    def natural_key(self) -> tuple[str, ...]:
        """The mapping's key, the Script Set's slug and the permission's key, flattened:
        ``(kind, value, slug, codename, app_label, model)``."""
        return (
            self.mapping.natural_key() + self.script_set.natural_key()
            + self.permission.natural_key()
        )

    natural_key.dependencies = [  # type: ignore[attr-defined]
        "permissions.rolemapping", "scripts.scriptset", "auth.permission",
    ]


class EntraGrant(models.Model):
    """Why a synced user holds a permission: the roles and groups it came from (provenance).

    One row per permission granted (bounded by the catalogue, not by the number of roles),
    ``sources`` listing ``"role:<value>"`` / ``"group:<object id>"``.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entra_grants"
    )
    element = models.CharField(max_length=20)
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, related_name="+")
    script_set = models.ForeignKey(
        "scripts.ScriptSet", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    sources = models.JSONField(default=list)
    synced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "element"])]

    def __str__(self) -> str:
        return f"{self.permission.codename} from {', '.join(self.sources)}"
