"""SCIM tokens and provisioned groups in Django admin: listed, never shown or edited (tokens
are made and revoked with ``manage.py scim_token``, groups by Entra)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from scim import tokens
from scim.models import ScimGroup, ScimToken


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ScimToken)
class ScimTokenAdmin(ReadOnly):
    list_display = ("name", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return obj is None and request.user.is_superuser  # the list's revoke action only

    @admin.action(description="Revoke the selected tokens (Entra's requests then get 401)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ScimToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            tokens.revoke(token.name)
            messages.success(request, f"Revoked {token.name}.")


@admin.register(ScimGroup)
class ScimGroupAdmin(ReadOnly):
    list_display = ("display_name", "external_id", "updated_at")
    search_fields = ("display_name", "external_id")
    fields = ("display_name", "external_id", "created_at", "updated_at")
