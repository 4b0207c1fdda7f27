from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import EntraIdentity, User


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
class KeyfaxUserAdmin(UserAdmin):
    inlines = [EntraIdentityInline]
    fieldsets = (*UserAdmin.fieldsets, ("Keyfax", {"fields": ("user_group",)}))
    list_display = ("username", "first_name", "last_name", "email", "is_active", "is_staff")
