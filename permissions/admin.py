"""Django admin for IT: role mappings (audited), and the lock on users' and groups' permissions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError

from accounts.admin import KeyfaxUserAdmin
from accounts.models import User
from accounts.sso_config import Element
from permissions import catalogue, services
from permissions.mappings import record_mapping_change, snapshot
from permissions.models import EntraGrant, RoleMapping, ScriptSetGrant

ADMIN = "django_admin"


class ScriptSetGrantInline(admin.TabularInline):
    model = ScriptSetGrant
    extra = 0
    verbose_name = "permission on one Script Set"
    verbose_name_plural = "permissions on one Script Set only"


@admin.register(RoleMapping)
class RoleMappingAdmin(admin.ModelAdmin):
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
class EntraGrantAdmin(admin.ModelAdmin):
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


def _by_element(permissions: Any) -> dict[Element, set[str]]:
    found: dict[Element, set[str]] = {element: set() for element in Element}
    for permission in permissions:
        element = catalogue.element_of(permission)
        if element is not None:
            found[element].add(catalogue.label(permission))
    return found


class LockedUserFormMixin:
    """Refuse changes to what Entra owns: element permissions, groups carrying them, flags."""

    keyfax_request: Any = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = self.instance
        if user.pk is None or self.errors:
            return cleaned
        stored = User.objects.get(pk=user.pk)
        kwargs = {"actor": self.keyfax_request.user, "request": self.keyfax_request, "via": ADMIN}
        try:
            if "user_permissions" in cleaned:
                before = _by_element(stored.user_permissions.select_related("content_type"))
                after = _by_element(cleaned["user_permissions"])
                self.keyfax_before = before
                for element in Element:
                    services.authorize_change(user, element, before=before[element],
                                              after=after[element], **kwargs)
            if "groups" in cleaned:
                services.authorize_groups_change(
                    user, before=stored.groups.all(), after=cleaned["groups"], **kwargs)
            if "is_staff" in cleaned and "is_superuser" in cleaned:
                services.authorize_flags_change(
                    user, before=(stored.is_staff, stored.is_superuser),
                    after=(cleaned["is_staff"], cleaned["is_superuser"]), **kwargs)
        except services.LockedPermissionError as refusal:
            raise ValidationError(str(refusal), code="managed_by_entra") from None
        return cleaned


class LockAwareUserAdmin(KeyfaxUserAdmin):
    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (LockedUserFormMixin, form), {"keyfax_request": request})

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        before = getattr(form, "keyfax_before", None)
        if before is None:
            return
        permissions = form.instance.user_permissions.select_related("content_type")
        after = _by_element(permissions)
        for element in Element:
            if before[element] != after[element]:
                services.record_permission_change(
                    form.instance, element,
                    {"before": sorted(before[element]), "after": sorted(after[element])},
                    actor=request.user, request=request, via=ADMIN,
                )


class LockedGroupForm(forms.ModelForm):
    keyfax_request: Any = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        group = self.instance
        if group.pk is None or "permissions" not in cleaned:
            return cleaned
        try:
            services.authorize_group_permissions_change(
                group, before=Permission.objects.filter(group=group).select_related("content_type"),
                after=cleaned["permissions"], actor=self.keyfax_request.user,
                request=self.keyfax_request, via=ADMIN,
            )
        except services.LockedPermissionError as refusal:
            raise ValidationError(str(refusal), code="managed_by_entra") from None
        return cleaned


class LockAwareGroupAdmin(GroupAdmin):
    form = LockedGroupForm

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"keyfax_request": request})


admin.site.unregister(User)
admin.site.register(User, LockAwareUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, LockAwareGroupAdmin)
