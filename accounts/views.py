"""Sign-in page, signed-out page and the site's 403 page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import open_sessions, throttle
from accounts.destinations import (
    element_for_path,
    is_django_admin_path,
    safe_next,
    sign_in_url,
)
from accounts.forms import PasswordSignInForm
from accounts.refused_pages import refused_page
from accounts.sessions import remember_sign_in
from accounts.sso_config import sso_config
from audit.models import Action, Outcome
from audit.services import record

GENERIC_FAILURE = "That username and password did not match an account that can sign in here."


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """'Sign in with Microsoft', and a password form only where password sign-in is allowed."""
    config = sso_config()
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    password_allowed = config.password_sign_in_allowed()
    form = PasswordSignInForm(request.POST or None) if password_allowed else None
    status = 200
    if request.method == "POST":
        if form is None:
            _record_password_refusal(request, request.POST.get("username", ""), "password_off")
            status = 403
        elif form.is_valid():
            user, error = _password_sign_in(request, form.cleaned_data)
            if user is not None:
                return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
            form.add_error(None, error)
            status = 400
        else:
            status = 400
    context = {
        "sso_ready": config.ready,
        "sso_url": sign_in_url(next_url),
        "form": form,
        "next": next_url or "",
    }
    return render(request, "accounts/login.html", context, status=status)


def _password_sign_in(request: HttpRequest, data: dict) -> tuple[object | None, str]:
    # REMOTE_ADDR is the client's address, also behind a trusted proxy (ClientAddressMiddleware).
    username, address = data["username"], request.META.get("REMOTE_ADDR")
    if throttle.is_locked(username, address):
        _record_password_refusal(request, username, "throttled")
        minutes = max(1, -(-settings.KEYFAX_LOGIN_LOCKOUT_SECONDS // 60))  # rounded up
        wait = f"{minutes} minute{'' if minutes == 1 else 's'}"
        return None, f"Too many failed attempts. Wait {wait}, then try again."
    user = auth.authenticate(request, username=username, password=data["password"])
    if user is None:
        throttle.note_failure(username, address)
        _record_password_refusal(request, username, "bad_credentials")
        return None, GENERIC_FAILURE
    throttle.clear(username, address)
    auth.login(request, user)
    remember_sign_in(request, "password")
    open_sessions.note(request, user, "password", element=_element_of(request))
    record(
        Action.SIGN_IN, request=request, actor=user, subject=f"user:{user.pk}",
        detail={"method": "password"},
    )
    return user, ""


def _element_of(request: HttpRequest) -> str:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if next_url and is_django_admin_path(next_url):
        return "django_admin"
    found = element_for_path(next_url) if next_url else None
    return found.value if found else ""


def _record_password_refusal(request: HttpRequest, username: str, reason: str) -> None:
    record(
        Action.SIGN_IN, outcome=Outcome.REFUSED, request=request, reason=reason,
        subject=f"username:{str(username)[:150]}", detail={"method": "password"},
    )


@require_http_methods(["GET"])
def signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signed_out.html")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The site's 403 page (``PermissionDenied`` anywhere), on the record."""
    return refused_page(request, "403.html", reason="forbidden")
