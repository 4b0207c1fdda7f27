"""The Keyfax permission catalogue: every Keyfax permission and the element it belongs to.

The permissions are Django permissions, so ``user.has_perm("permissions.edit_scripts")``,
``PermissionRequiredMixin`` and the admin all work. Most live on the table-less
:class:`permissions.models.KeyfaxPermission`; the two script permissions also exist on
``scripts.ScriptSet`` so they can be granted for one Script Set (django-guardian).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet

from accounts.sso_config import Element

APP_LABEL = "permissions"
SCRIPT_SET_APP_LABEL = "scripts"
SCRIPT_SET_MODEL = "scriptset"


@dataclass(frozen=True)
class Entry:
    codename: str
    name: str
    description: str
    element: Element
    per_script_set: bool = False  # also grantable on one Script Set

    @property
    def perm(self) -> str:
        """The ``has_perm`` string, e.g. ``permissions.edit_scripts``."""
        return f"{APP_LABEL}.{self.codename}"


CATALOGUE: tuple[Entry, ...] = (
    Entry("edit_scripts", "Edit scripts",
          "Create and change diagnostic scripts.", Element.ADMIN_TOOL, per_script_set=True),
    Entry("publish_scripts", "Publish scripts",
          "Make a script version live in Web Staff.", Element.ADMIN_TOOL, per_script_set=True),
    Entry("maintain_users", "Maintain users",
          "Use User Maintenance: user groups and permissions.", Element.ADMIN_TOOL),
    Entry("view_reports", "View reports",
          "See the diagnostics reports and outcomes.", Element.ADMIN_TOOL),
    Entry("view_system_settings", "View system settings",
          "See the SSO and system settings pages.", Element.ADMIN_TOOL),
    Entry("run_repair_diagnostics", "Run Repair Diagnostics",
          "Run the published Repair Diagnostics scripts.", Element.WEB_STAFF),
    Entry("run_enquiries_diagnostics", "Run Enquiries Diagnostics",
          "Run the published Enquiries Diagnostics scripts.", Element.WEB_STAFF),
)

_BY_CODENAME = {entry.codename: entry for entry in CATALOGUE}

# (app_label, codename) of every catalogue permission row, with its element.
_ELEMENT_OF: dict[tuple[str, str], Element] = {
    (APP_LABEL, entry.codename): entry.element for entry in CATALOGUE
}
_ELEMENT_OF.update({
    (SCRIPT_SET_APP_LABEL, entry.codename): entry.element
    for entry in CATALOGUE if entry.per_script_set
})


def entries(element: Element | None = None) -> tuple[Entry, ...]:
    return tuple(e for e in CATALOGUE if element is None or e.element is element)


def entry(codename: str) -> Entry | None:
    return _BY_CODENAME.get(codename)


def model_permissions() -> list[tuple[str, str]]:
    """``Meta.permissions`` of ``KeyfaxPermission``."""
    return [(e.codename, e.name) for e in CATALOGUE]


def element_of(permission: Permission | str | tuple[str, str]) -> Element | None:
    """The element a permission belongs to, or ``None`` when it is not a Keyfax permission.

    Accepts a ``Permission``, an ``"app_label.codename"`` string or a pair.
    """
    if isinstance(permission, Permission):
        key = (permission.content_type.app_label, permission.codename)
    elif isinstance(permission, str):
        app_label, _, codename = permission.partition(".")
        key = (app_label, codename)
    else:
        key = (permission[0], permission[1])
    return _ELEMENT_OF.get(key)


def keys(element: Element | None = None) -> set[tuple[str, str]]:
    """(app_label, codename) of the catalogue permissions, optionally of one element."""
    return {k for k, e in _ELEMENT_OF.items() if element is None or e is element}


def permissions_q(element: Element | None = None, prefix: str = "") -> Q:
    """A filter matching the catalogue's ``Permission`` rows (``prefix`` for a relation)."""
    query = Q(pk__in=[])
    for app_label, codename in sorted(keys(element)):
        query |= Q(**{f"{prefix}content_type__app_label": app_label, f"{prefix}codename": codename})
    return query


def permission_rows(element: Element | None = None) -> QuerySet[Permission]:
    return Permission.objects.filter(permissions_q(element)).select_related("content_type")


def global_permission_rows(element: Element | None = None) -> QuerySet[Permission]:
    """The catalogue permissions granted site-wide (not per Script Set)."""
    return permission_rows(element).filter(content_type__app_label=APP_LABEL)


def script_set_permission_rows() -> QuerySet[Permission]:
    return permission_rows().filter(content_type__app_label=SCRIPT_SET_APP_LABEL)


def label(permission: Permission) -> str:
    """How a permission is named in audit events: its codename, or ``app.codename`` when it is
    not one of ``permissions``'s own (e.g. ``scripts.edit_scripts``)."""
    app_label = permission.content_type.app_label
    return permission.codename if app_label == APP_LABEL else f"{app_label}.{permission.codename}"
