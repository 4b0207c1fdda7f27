"""Who may enter an element: the decorator every portal view uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.destinations import sign_in_url
from accounts.refused_pages import refused_page
from accounts.sessions import admitted_elements, sign_in_method
from accounts.sso_config import Element, sso_config


def session_admits(request: HttpRequest, element: Element) -> bool:
    """Whether this signed-in session may use ``element`` under its current mode.

    An element with SSO admits Entra sign-ins that were admitted to it at sign-in (an access
    role, permissions from Entra, the step-up it requires), and password sign-ins of local
    break-glass accounts only while ``KEYFAX_LOCAL_LOGIN`` is on; an element with SSO off
    admits password sign-ins only. A public-facing Web Staff (``KEYFAX_WEB_STAFF_PUBLIC``)
    with SSO on admits Entra sign-ins only: no password is accepted from the internet.
    """
    config = sso_config()
    method = sign_in_method(request)
    if config.mode_for(element).uses_sso:
        if method == "entra":
            return admitted_elements(request).get(element.value) == config.admission_key(element)
        public = element is Element.WEB_STAFF and config.web_staff_public
        return method == "password" and config.local_login and not public
    return method == "password"


def admin_session_allowed(request: HttpRequest) -> bool:
    """Whether this session's sign-in may use Django admin (``is_staff`` is asked apart).

    An Entra sign-in may; a password sign-in only while passwords are accepted: with
    ``KEYFAX_LOCAL_LOGIN`` on, or where no element uses SSO. A break-glass session opened
    while local sign-in was on stops working here as soon as it is switched off.
    """
    if sign_in_method(request) == "entra":
        return True
    config = sso_config()
    return config.local_login or not config.enabled


def element_required(element: Element) -> Callable:
    """Require a signed-in session that ``element``'s mode admits."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not session_admits(request, element):
                mode = sso_config().mode_for(element)
                if mode.uses_sso and element.value in admitted_elements(request):
                    # admitted under other settings: sign in (and sync) again under these
                    return redirect(sign_in_url(request.get_full_path()))
                context = {"element": element, "mode": mode, "next": request.get_full_path()}
                entra = sign_in_method(request) == "entra" and mode.uses_sso
                return refused_page(
                    request,
                    "accounts/element_not_admitted.html" if entra
                    else "accounts/wrong_sign_in.html",
                    context, reason="not_admitted" if entra else "wrong_sign_in",
                    element=element.value)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
