"""The audit log for IT: read-only, for superusers too."""

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "created_at", "action", "outcome", "reason", "element", "actor_username", "source_ip",
    )
    list_filter = ("action", "outcome", "element")
    search_fields = ("actor_username", "actor_object_id", "source_ip", "request_id")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
