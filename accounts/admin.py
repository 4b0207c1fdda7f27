from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import EntraIdentity, User


class ITAccess:
    """Django admin is IT's: any active staff account (``Keyfax.IT``, or break-glass) may use
    this model admin without Django model permissions; the doors still decide each write."""

    def _is_it(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request) -> bool:
        return self._is_it(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._is_it(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        return self._is_it(request) or super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._is_it(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._is_it(request) or super().has_delete_permission(request, obj)


class EntraIdentityInline(admin.StackedInline):
    model = EntraIdentity
    can_delete = False
    extra = 0
    readonly_fields = (
        "tenant_id", "object_id", "upn", "email", "display_name", "roles", "groups",
        "first_sign_in_at", "last_sign_in_at",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class KeyfaxUserAdmin(ITAccess, UserAdmin):
    inlines = [EntraIdentityInline]
    fieldsets = (*UserAdmin.fieldsets, ("Keyfax", {"fields": ("user_group",)}))
    list_display = ("username", "first_name", "last_name", "email", "is_active", "is_staff")
