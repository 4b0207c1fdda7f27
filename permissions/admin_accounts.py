"""Django admin's users and groups, through the same doors as every other surface.

Account writes (add, change, enable/disable, flags, password, delete, bulk delete) go
through :mod:`accounts.services` (the privilege ladder, the identity rules, one audit event
each); element permissions, groups that carry them and the admin flags through the lock of
:mod:`permissions.services`. Changes Django admin makes with its own machinery (a user's
groups and non-catalogue permissions, a group's permissions and name) are audited here.
"""

from __future__ import annotations

from contextlib import suppress
from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse

from accounts import services as accounts
from accounts.admin import ITAccess, KeyfaxUserAdmin
from accounts.models import User
from accounts.sso_config import Element
from audit.models import Action
from audit.services import record
from permissions import catalogue, services

ADMIN = "django_admin"
ACCOUNT_FIELDS = ("username", "first_name", "last_name", "email", "user_group", "is_active",
                  "is_staff", "is_superuser")
_password_request: ContextVar[HttpRequest] = ContextVar("keyfax_admin_password_request")


def actor(request: HttpRequest) -> accounts.Actor:
    return accounts.Actor(user=request.user, request=request, via=ADMIN)


def _by_element(permissions: Any) -> dict[Element, set[str]]:
    found: dict[Element, set[str]] = {element: set() for element in Element}
    for permission in permissions:
        element = catalogue.element_of(permission)
        if element is not None:
            found[element].add(catalogue.label(permission))
    return found


def _other_permissions(permissions: Any) -> list[str]:
    """Permissions outside the catalogue, as ``app_label.codename``."""
    return sorted(f"{p.content_type.app_label}.{p.codename}" for p in permissions
                  if catalogue.element_of(p) is None)


class DoorUserFormMixin:
    """Refuse in the form (audited, shown as a form error) what the doors refuse."""

    keyfax_request: Any = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = self.instance
        if user.pk is None or self.errors:
            return cleaned
        stored = User.objects.get(pk=user.pk)
        request = self.keyfax_request
        kwargs = {"actor": request.user, "request": request, "via": ADMIN}
        self.keyfax_account_changes = {
            name: cleaned[name] for name in self.changed_data if name in ACCOUNT_FIELDS}
        try:
            accounts.authorize_change(stored, self.keyfax_account_changes, actor(request))
            if "user_permissions" in cleaned:
                before = stored.user_permissions.select_related("content_type")
                self.keyfax_before = _by_element(before)
                self.keyfax_other_before = _other_permissions(before)
                after = _by_element(cleaned["user_permissions"])
                for element in Element:
                    services.authorize_change(user, element, before=self.keyfax_before[element],
                                              after=after[element], **kwargs)
                    services.authorize_grant(
                        user, element, {c for c in after[element] - self.keyfax_before[element]
                                        if "." not in c}, **kwargs)
            if "groups" in cleaned:
                self.keyfax_groups_before = sorted(stored.groups.values_list("name", flat=True))
                services.authorize_groups_change(
                    user, before=stored.groups.all(), after=cleaned["groups"], **kwargs)
            if "is_staff" in cleaned and "is_superuser" in cleaned:
                services.authorize_flags_change(
                    user, before=(stored.is_staff, stored.is_superuser),
                    after=(cleaned["is_staff"], cleaned["is_superuser"]), **kwargs)
        except (accounts.AccountRefused, services.LockedPermissionError,
                services.NotHeldError) as refusal:
            raise ValidationError(str(refusal), code="refused") from None
        return cleaned


class DoorPasswordForm(AdminPasswordChangeForm):
    """Django admin's set-password form, saving through :func:`accounts.set_password`."""

    def save(self, commit: bool = True) -> User:
        request = _password_request.get()
        if self.cleaned_data.get("set_usable_password", True):
            accounts.set_password(self.user, self.cleaned_data["password1"], actor(request))
        else:
            accounts.remove_password(self.user, actor(request))
        return self.user


class DoorUserAdmin(KeyfaxUserAdmin):
    change_password_form = DoorPasswordForm
    readonly_fields = ("last_login", "date_joined")  # kept by Django, not edited by hand

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (DoorUserFormMixin, form), {"keyfax_request": request})

    def has_change_permission(self, request, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or accounts.refusal(actor(request), obj) is None)

    def has_delete_permission(self, request, obj=None) -> bool:
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or (accounts.refusal(actor(request), obj) is None
                               and not accounts.is_entra_linked(obj) and obj.pk != request.user.pk)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            accounts.save_new_user(obj, actor(request))
            return
        stored = User.objects.get(pk=obj.pk)
        accounts.change_user(stored, getattr(form, "keyfax_account_changes", {}), actor(request))

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        user = form.instance
        before = getattr(form, "keyfax_before", None)
        if before is not None:
            permissions = list(user.user_permissions.select_related("content_type"))
            after = _by_element(permissions)
            for element in Element:
                if before[element] != after[element]:
                    services.record_permission_change(
                        user, element,
                        {"before": sorted(before[element]), "after": sorted(after[element])},
                        actor=request.user, request=request, via=ADMIN,
                    )
            other = {"before": form.keyfax_other_before,
                     "after": _other_permissions(permissions)}
            if other["before"] != other["after"]:
                accounts.record_change(user, actor(request), {"other_permissions": other})
        if hasattr(form, "keyfax_groups_before"):
            groups = {"before": form.keyfax_groups_before,
                      "after": sorted(user.groups.values_list("name", flat=True))}
            if groups["before"] != groups["after"]:
                accounts.record_change(user, actor(request), {"groups": groups})

    def delete_model(self, request, obj) -> None:
        accounts.delete_user(obj, actor(request))

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            accounts.delete_user(user, actor(request))

    def user_change_password(self, request, id, form_url="") -> HttpResponse:
        """Refused (audited when posted) for an Entra-linked or SSO account; saved through
        the door otherwise."""
        user = self.get_object(request, unquote(id))
        found = accounts.password_refusal(user) if user is not None else None
        if found is not None and self.has_change_permission(request, user):
            if request.method == "POST":  # an attempt: on the record
                with suppress(accounts.AccountRefused):
                    accounts.authorize_password(actor(request), user)
            raise PermissionDenied(found[1])
        token = _password_request.set(request)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _password_request.reset(token)


class DoorGroupForm(forms.ModelForm):
    keyfax_request: Any = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        group = self.instance
        if group.pk is None or "permissions" not in cleaned:
            return cleaned
        request = self.keyfax_request
        try:
            services.authorize_group_permissions_change(
                group, before=Permission.objects.filter(group=group).select_related("content_type"),
                after=cleaned["permissions"], actor=request.user, request=request, via=ADMIN,
            )
        except services.LockedPermissionError as refusal:
            raise ValidationError(str(refusal), code="managed_by_entra") from None
        return cleaned


class DoorGroupAdmin(ITAccess, GroupAdmin):
    """Group changes and deletions are audited (``group_changed``)."""

    form = DoorGroupForm

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"keyfax_request": request})

    def save_model(self, request, obj, form, change) -> None:
        obj.keyfax_before = _group_state(Group.objects.filter(pk=obj.pk).first())
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        group = form.instance
        _record_group(request, group, getattr(group, "keyfax_before", {}), _group_state(group))

    def delete_model(self, request, obj) -> None:
        before, pk = _group_state(obj), obj.pk
        super().delete_model(request, obj)
        obj.pk = pk  # named in the event as it was
        _record_group(request, obj, before, {})

    def delete_queryset(self, request, queryset) -> None:
        for group in queryset:
            self.delete_model(request, group)


def _group_state(group: Group | None) -> dict[str, Any]:
    if group is None:
        return {}
    return {"name": group.name, "permissions": sorted(
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type"))}


def _record_group(request: HttpRequest, group: Group, before: dict, after: dict) -> None:
    if before == after:
        return
    record(Action.GROUP_CHANGED, request=request, actor=request.user,
           subject=f"group:{group.pk}", detail={"via": ADMIN, "name": group.name,
                                                "before": before, "after": after})


admin.site.unregister(User)
admin.site.register(User, DoorUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, DoorGroupAdmin)
