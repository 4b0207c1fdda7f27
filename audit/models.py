"""Audit events: written once, never changed or deleted through the ORM."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")


class Action(models.TextChoices):
    """The event catalogue (docs/audit.md)."""

    SIGN_IN = "sign_in", "Sign-in"
    SIGN_OUT = "sign_out", "Sign-out"
    PERMISSIONS_SYNCED = "permissions_synced", "Permissions synced from Entra ID"
    PERMISSION_CHANGED = "permission_changed", "Permission changed"
    LOCKED_EDIT_REFUSED = "locked_edit_refused", "Edit of an Entra-managed permission refused"
    USER_CREATED = "user_created", "User created"
    USER_CHANGED = "user_changed", "User changed"
    USER_DISABLED = "user_disabled", "User disabled"
    USER_ENABLED = "user_enabled", "User enabled"
    ROLE_MAPPING_CHANGED = "role_mapping_changed", "Role mapping changed"
    SETTINGS_SEEN = "settings_seen", "SSO settings seen at start-up"
    SCIM_CHANGE = "scim_change", "SCIM provisioning change"
    AUDIT_PRUNED = "audit_pruned", "Audit events pruned"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    REFUSED = "refused", "Refused"
    FAILURE = "failure", "Failure"


class AuditEvent(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    action = models.CharField(max_length=40, choices=Action.choices, db_index=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reason = models.CharField(max_length=60, blank=True)
    element = models.CharField(max_length=20, blank=True)
    actor_user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_username = models.CharField(max_length=150, blank=True)
    actor_tenant_id = models.CharField(max_length=36, blank=True)
    actor_object_id = models.CharField(max_length=36, blank=True, db_index=True)
    subject = models.CharField(max_length=200, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")
