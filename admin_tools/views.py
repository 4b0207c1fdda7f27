"""The Keyfax Administration Tool: home and User Maintenance (a minimal first version)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.access import element_required
from accounts.models import User
from accounts.sso_config import Element
from admin_tools.forms import UserMaintenanceForm
from audit.models import Action
from audit.services import record
from permissions import catalogue, services
from permissions.models import EntraGrant

MAINTAIN_USERS = "permissions.maintain_users"
VIA = "user_maintenance"


@element_required(Element.ADMIN_TOOL)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "admin_tools/home.html")


@element_required(Element.ADMIN_TOOL)
@permission_required(MAINTAIN_USERS, raise_exception=True)
def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.select_related("entra_identity").order_by("username")[:500]
    return render(request, "admin_tools/user_list.html", {"people": users})


@element_required(Element.ADMIN_TOOL)
@permission_required(MAINTAIN_USERS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(User.objects.select_related("entra_identity"), pk=user_id)
    locked = services.locked_elements(person)
    current = services.current_codenames(person)
    form = UserMaintenanceForm(
        request.POST or None, current=current, locked=locked,
        initial={"user_group": person.user_group},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                _save(request, person, form, current)
            except services.LockedPermissionError as refusal:
                form.add_error(None, str(refusal))
                status = 403
            else:
                messages.success(request, f"Saved {person.display_name}.")
                return redirect("admin_tools:user-edit", user_id=person.pk)
    provenance = _provenance(person, locked)
    sections = [
        {
            "element": element,
            "field": field,
            "locked": element in locked,
            "rows": [
                {"entry": entry, "held": entry.codename in current[element],
                 "sources": provenance.get(element.value, {}).get(entry.codename, [])}
                for entry in catalogue.entries(element)
            ],
        }
        for element, field in form.element_fields()
    ]
    context = {"person": person, "form": form, "sections": sections}
    return render(request, "admin_tools/user_edit.html", context, status=status)


def _save(request: HttpRequest, person: User, form: UserMaintenanceForm, current) -> None:
    """Everything or nothing: the lock is asked first (its refusal is audited and kept)."""
    wanted = form.requested()
    audit = {"actor": request.user, "request": request, "via": VIA}
    for element, codenames in wanted.items():
        services.authorize_change(person, element, before=current[element], after=codenames,
                                  **audit)
    with transaction.atomic():
        for element, codenames in wanted.items():
            services.set_element_permissions(person, element, codenames, **audit)
        user_group = form.cleaned_data["user_group"].strip()
        if user_group != person.user_group:
            record(Action.USER_CHANGED, request=request, actor=request.user,
                   subject=f"user:{person.pk}",
                   detail={"via": VIA, "user_group": {"before": person.user_group,
                                                      "after": user_group}})
            person.user_group = user_group
            person.save(update_fields=["user_group"])


def _provenance(person: User, locked: set[Element]) -> dict[str, dict[str, list[str]]]:
    """element → codename → the roles and groups it came from (synced elements only)."""
    found: dict[str, dict[str, list[str]]] = {}
    if not locked:
        return found
    grants = EntraGrant.objects.filter(
        user=person, element__in=[e.value for e in locked]
    ).select_related("permission", "script_set")
    for grant in grants:
        for source in grant.sources:
            kind, _, value = str(source).partition(":")
            text = f"{'group' if kind == 'group' else 'app role'} {value}"
            if grant.script_set_id:
                text += f" (in Script Set {grant.script_set})"
            found.setdefault(grant.element, {}).setdefault(
                grant.permission.codename, []
            ).append(text)
    return found
