"""Audit events: written once, never changed or deleted through the ORM.

Each event is sealed into a hash chain (``audit.chain``); the catalogue, the fields and the
JSON line shape are documented in docs/audit.md.
"""

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

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AppendOnlyError("Audit events cannot be changed.")

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Audit events cannot be changed.")

    def bulk_create(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Audit events are written one at a time by audit.services.record.")


class Action(models.TextChoices):
    """The event catalogue (docs/audit.md)."""

    SIGN_IN = "sign_in", "Sign-in"
    SIGN_OUT = "sign_out", "Sign-out"
    SESSION_ENDED = "session_ended", "Session ended by an administrator or its owner"
    SESSION_REVALIDATED = "session_revalidated", "Session re-checked with Entra ID"
    PERMISSIONS_SYNCED = "permissions_synced", "Permissions synced from Entra ID"
    PERMISSION_CHANGED = "permission_changed", "Permission changed"
    LOCKED_EDIT_REFUSED = "locked_edit_refused", "Edit of an Entra-managed permission refused"
    USER_CREATED = "user_created", "User created"
    USER_CHANGED = "user_changed", "User changed"
    USER_DISABLED = "user_disabled", "User disabled"
    USER_ENABLED = "user_enabled", "User enabled"
    USER_DELETED = "user_deleted", "User deleted"
    GROUP_CHANGED = "group_changed", "Django group changed"
    ROLE_MAPPING_CHANGED = "role_mapping_changed", "Role mapping changed"
    SCRIPT_PUBLISHED = "script_published", "Script published"
    ACCESS_REFUSED = "access_refused", "Page or action refused"
    SETTINGS_SEEN = "settings_seen", "SSO settings seen at start-up"
    SCIM_CHANGE = "scim_change", "SCIM provisioning change"
    AUDIT_PRUNED = "audit_pruned", "Audit events pruned"
    AUDIT_EXPORTED = "audit_exported", "Audit events exported"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    REFUSED = "refused", "Refused"
    FAILURE = "failure", "Failure"


class ActorKind(models.TextChoices):
    """Who acted: a person (known by user id and/or Entra ids), nobody yet, or a machine."""

    USER = "user", "User"
    ANONYMOUS = "anonymous", "Anonymous visitor"
    SYSTEM = "system", "System"
    SCIM = "scim", "SCIM provisioning"


class AuditEvent(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    action = models.CharField(max_length=40, choices=Action.choices)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reason = models.CharField(max_length=60, blank=True)
    element = models.CharField(max_length=20, blank=True)
    actor_kind = models.CharField(
        max_length=20, choices=ActorKind.choices, default=ActorKind.SYSTEM
    )
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    actor_tenant_id = models.CharField(max_length=36, blank=True)
    actor_object_id = models.CharField(max_length=36, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The admin's default order, retention's cut-off and the date filter.
            models.Index(fields=["created_at", "id"], name="audit_time_idx"),
            models.Index(fields=["actor_username", "created_at"], name="audit_username_idx"),
            models.Index(fields=["actor_user_id", "created_at"], name="audit_user_id_idx"),
            models.Index(fields=["actor_object_id", "created_at"], name="audit_object_id_idx"),
            models.Index(fields=["action", "created_at"], name="audit_action_idx"),
            models.Index(fields=["subject", "created_at"], name="audit_subject_idx"),
            models.Index(fields=["source_ip", "created_at"], name="audit_source_ip_idx"),
            models.Index(fields=["request_id"], name="audit_request_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        if not self.hash:
            raise AppendOnlyError("Audit events are written by audit.services.record.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")
