"""Who may author and publish in a Script Set: the model permission or the object one."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from guardian.shortcuts import get_objects_for_user

from permissions.catalogue import SCRIPT_SET_APP_LABEL
from scripts.models import ScriptSet

EDIT, PUBLISH = "edit_scripts", "publish_scripts"


def may(user: Any, codename: str, script_set: ScriptSet) -> bool:
    """``permissions.<codename>`` site-wide, or ``scripts.<codename>`` on this set."""
    return user.has_perm(f"permissions.{codename}") or user.has_perm(
        f"{SCRIPT_SET_APP_LABEL}.{codename}", script_set)


def may_edit(user: Any, script_set: ScriptSet) -> bool:
    return may(user, EDIT, script_set)


def may_publish(user: Any, script_set: ScriptSet) -> bool:
    return may(user, PUBLISH, script_set)


def may_see(user: Any, script_set: ScriptSet) -> bool:
    return may_edit(user, script_set) or may_publish(user, script_set)


def require(allowed: bool) -> None:
    """Raise ``PermissionDenied`` (the site's 403 page) unless ``allowed``."""
    if not allowed:
        raise PermissionDenied


def is_global_author(user: Any) -> bool:
    return user.has_perm(f"permissions.{EDIT}") or user.has_perm(f"permissions.{PUBLISH}")


def visible_sets(user: Any):
    """The Script Sets this user may author or publish in."""
    if is_global_author(user):
        return ScriptSet.objects.all()
    perms = [f"{SCRIPT_SET_APP_LABEL}.{codename}" for codename in (EDIT, PUBLISH)]
    return get_objects_for_user(
        user, perms, ScriptSet, any_perm=True,
        with_superuser=False, accept_global_perms=False)
