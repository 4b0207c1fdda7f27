"""User Maintenance: registering an Entra person, and linking or unlinking an account.

The administrator picks a person from a Microsoft Graph search; the form sends only their
object id, and the server asks Graph for that person again (names and UPN in a POST are never
believed). Registration is never by a typed UPN or email.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import open_sessions
from accounts.entra import directory
from accounts.models import EntraIdentity, User
from accounts.sso_config import SsoConfig, sso_config
from admin_tools.users import selectors, services
from admin_tools.users.views import _person, _who, maintainers_only

SEARCH_TEMPLATE = "admin_tools/users/directory_search.html"


@maintainers_only
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Search the directory (GET ``?q=``); POST ``object_id`` registers that person."""
    config = sso_config()
    context = {"target": None, "verb": "Register", "configured": directory.is_configured(config)}
    if request.method == "POST":
        object_id = request.POST.get("object_id", "")
        try:
            person = directory.get_person(config, object_id)
            user = services.register_entra_person(person, config.tenant_id, _who(request))
        except directory.DirectoryError as error:
            return _page(request, context, str(error), error.status)
        except services.CannotRegister as error:
            return _page(request, context, str(error), 409)
        except services.Refused as refusal:
            context["existing"] = _account_for(config, object_id)
            return _page(request, context, str(refusal), 403)
        messages.success(request, f"Registered {user.display_name} ({user.username}): they "
                                  "sign in with Microsoft Entra ID.")
        return redirect("admin_tools:user-edit", user_id=user.pk)
    return _search(request, config, context)


@maintainers_only
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, user_id: int) -> HttpResponse:
    """Link a local account to a person picked from the directory (POST ``object_id``)."""
    target = _person(user_id)
    config = sso_config()
    refusal = services.account_refusal(target, _who(request))
    context = {"target": target, "verb": "Link", "configured": directory.is_configured(config),
               "refusal": refusal and refusal[1],
               "identity": selectors.identity_of(target)}
    if request.method == "POST":
        object_id = request.POST.get("object_id", "")
        try:
            services.authorize_link(target, object_id, _who(request))  # before Graph is asked
            person = directory.get_person(config, object_id)
            services.link_entra_person(target, person, config.tenant_id, _who(request))
        except directory.DirectoryError as error:
            return _page(request, context, str(error), error.status)
        except services.Refused as error:
            context["existing"] = _account_for(config, object_id)
            return _page(request, context, str(error), 403)
        messages.success(request, f"Linked {target.display_name} to the Entra person "
                                  f"{person.display_name} ({person.upn}): they now sign in "
                                  "with Microsoft Entra ID and have no Keyfax password.")
        return redirect("admin_tools:user-edit", user_id=target.pk)
    if refusal or context["identity"]:
        return _page(request, context, None, 403 if refusal else 200)
    return _search(request, config, context)


@maintainers_only
@require_http_methods(["GET", "POST"])
def unlink(request: HttpRequest, user_id: int) -> HttpResponse:
    """Confirm (GET, so it works without JavaScript), then unlink the account (POST)."""
    target = _person(user_id)
    refusal = services.account_refusal(target, _who(request))
    identity = selectors.identity_of(target)
    status = 403 if refusal else 200
    if request.method == "POST":
        try:
            services.unlink_entra_person(target, _who(request))
        except services.Refused as error:
            refusal, status = (error.reason, str(error)), 403
        else:
            if identity is not None:
                messages.success(request, f"Unlinked {target.display_name} from Microsoft "
                                          "Entra ID; their open sessions have ended.")
            return redirect("admin_tools:user-edit", user_id=target.pk)
    context = {"person": target, "identity": identity, "refusal": refusal and refusal[1],
               "sessions": len(open_sessions.open_for(target)) if identity else 0}
    return render(request, "admin_tools/users/unlink.html", context, status=status)


def _search(request: HttpRequest, config: SsoConfig, context: dict[str, Any]) -> HttpResponse:
    """The search page, with results for ``?q=`` when given."""
    query = request.GET.get("q", "").strip()
    context["query"] = query
    if not query or not context["configured"]:
        return _page(request, context, None, 200)
    try:
        people = directory.search_people(config, query)
    except directory.DirectoryError as error:
        return _page(request, context, str(error), error.status)
    found = _accounts(config, [person.object_id for person in people])
    context["results"] = [{"person": person, "account": found.get(person.object_id)}
                          for person in people]
    return _page(request, context, None, 200)


def _page(request: HttpRequest, context: dict[str, Any], error: str | None,
          status: int) -> HttpResponse:
    context.setdefault("query", request.POST.get("q", "").strip()[:100])
    return render(request, SEARCH_TEMPLATE, {**context, "error": error}, status=status)


def _accounts(config: SsoConfig, object_ids: list[str]) -> dict[str, User]:
    """The Keyfax accounts already linked to these object ids (in the configured tenant)."""
    if not config.tenant_is_valid or not object_ids:
        return {}
    found = EntraIdentity.objects.select_related("user").filter(
        tenant_id=config.tenant_id, object_id__in=object_ids)
    return {str(identity.object_id): identity.user for identity in found}


def _account_for(config: SsoConfig, value: str) -> User | None:
    oid = directory.object_id(value)
    return _accounts(config, [oid]).get(oid) if oid else None
