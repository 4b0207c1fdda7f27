"""Django admin for IT: role mappings (audited); users and groups are in ``admin_accounts``."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import ITAccess
from permissions.mappings import record_mapping_change, snapshot
from permissions.models import EntraGrant, RoleMapping, ScriptSetGrant

ADMIN = "django_admin"


class ScriptSetGrantInline(ITAccess, admin.TabularInline):
    model = ScriptSetGrant
    extra = 0
    verbose_name = "permission on one Script Set"
    verbose_name_plural = "permissions on one Script Set only"


@admin.register(RoleMapping)
class RoleMappingAdmin(ITAccess, admin.ModelAdmin):
    list_display = ("value", "kind", "display_name", "grants_staff", "grants_superuser")
    list_filter = ("kind", "grants_staff", "grants_superuser")
    search_fields = ("value", "display_name")
    filter_horizontal = ("permissions",)
    inlines = [ScriptSetGrantInline]
    fields = ("kind", "value", "display_name", "description", "permissions",
              "grants_staff", "grants_superuser")

    def save_model(self, request, obj, form, change) -> None:
        stored = RoleMapping.objects.filter(pk=obj.pk).first() if change else None
        request.keyfax_mapping_before = snapshot(stored)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        record_mapping_change(
            getattr(request, "keyfax_mapping_before", {}), snapshot(form.instance),
            actor=request.user, request=request, via=ADMIN,
        )

    def delete_model(self, request, obj) -> None:
        before = snapshot(obj)
        super().delete_model(request, obj)
        record_mapping_change(before, {}, actor=request.user, request=request, via=ADMIN)

    def delete_queryset(self, request, queryset) -> None:
        befores = [snapshot(mapping) for mapping in queryset]
        super().delete_queryset(request, queryset)
        for before in befores:
            record_mapping_change(before, {}, actor=request.user, request=request, via=ADMIN)


@admin.register(EntraGrant)
class EntraGrantAdmin(ITAccess, admin.ModelAdmin):
    """Read-only: written by the sync at each sign-in."""

    list_display = ("user", "element", "permission", "script_set", "sources")
    list_filter = ("element",)
    search_fields = ("user__username",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


from permissions import admin_accounts  # noqa: E402, F401  (users and groups)
