"""Django admin is IT's surface: who may use it, how they get in, and their sign-out.

IT signs in through Entra ID (the ``Keyfax.IT`` app role gives ``is_staff``) or, while
``KEYFAX_LOCAL_LOGIN`` is on, with the break-glass account's password. A signed-in person
without IT access gets a page that says who they are signed in as and what Django admin
needs, never the sign-in form again. Signing out here is audited like everywhere else.
"""

from __future__ import annotations

from django.contrib import admin, auth
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from accounts.access import admin_session_allowed
from accounts.destinations import sign_in_url
from accounts.refused_pages import refused_page
from accounts.sessions import sign_in_method
from accounts.sign_out import record_sign_out


class KeyfaxAdminSite(admin.AdminSite):
    site_header = "Keyfax IT administration"
    site_title = "Keyfax IT administration"
    index_title = "Audit log, role mappings and users"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and admin_session_allowed(request)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """No form of its own: the Keyfax sign-in page, or (signed in without IT access)
        a page that says why."""
        next_url = request.GET.get("next") or request.path.replace("login/", "")
        if not request.user.is_authenticated:
            return redirect_to_login(next_url)
        method = sign_in_method(request)
        context = {
            "method": method,
            "password_session_refused": method == "password" and request.user.is_staff,
            "sign_in_url": sign_in_url(next_url),
        }
        reason = "password_session" if context["password_session_refused"] else "no_it_access"
        return refused_page(request, "admin_not_allowed.html", context, reason=reason)

    def logout(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.method == "POST" and request.user.is_authenticated:
            with transaction.atomic():  # the sign-out and its audit event stand or fall together
                record_sign_out(request, request.user, method=sign_in_method(request),
                                kind="local")
                auth.logout(request)
        return super().logout(request, extra_context)
