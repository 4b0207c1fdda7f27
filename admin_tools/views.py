"""The Keyfax Administration Tool home: each person sees only what they may use.

User Maintenance lives in :mod:`admin_tools.users`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from accounts.access import element_required
from accounts.sso_config import Element
from admin_tools.scripts.access import is_global_author, visible_sets


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    url: str = ""  # empty: not available yet


def _url(name: str) -> str:
    """The tool's URL, or "" while that page does not exist yet."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def tools_for(user) -> list[Tool]:
    """The Administration Tool's areas this user's permissions allow, in menu order."""
    tools = []
    if user.has_perm("permissions.maintain_users"):
        tools.append(Tool("User Maintenance", "Users, login modes, User Groups and permissions.",
                          _url("admin_tools:users")))
    # Site-wide authors and publishers, and those of one Script Set only (django-guardian).
    if is_global_author(user) or visible_sets(user).exists():
        tools.append(Tool("Scripts", "Author and publish the diagnostic scripts.",
                          _url("admin_tools:scripts")))
    if user.has_perm("permissions.view_reports"):
        tools.append(Tool("Reports", "Diagnostics reports and outcomes.",
                          _url("admin_tools:reports")))
    if user.has_perm("permissions.view_system_settings"):
        tools.append(Tool("System settings", "The SSO and system settings.",
                          _url("admin_tools:settings")))
    if user.is_active and user.is_staff:
        tools.append(Tool("Django admin", "For IT: the audit log, role mappings and users.",
                          _url("admin:index")))
    return tools


@element_required(Element.ADMIN_TOOL)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "admin_tools/home.html", {"tools": tools_for(request.user)})
