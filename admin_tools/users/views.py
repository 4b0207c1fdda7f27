"""User Maintenance pages: thin; decisions live in services and selectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.forms import SetPasswordForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import open_sessions
from accounts.access import element_required
from accounts.models import User
from accounts.sso_config import Element
from admin_tools.users import selectors, services
from admin_tools.users.forms import DetailsForm, EditForm, FilterForm
from admin_tools.users.paging import IdFirstPaginator
from permissions import catalogue
from permissions import services as permission_services
from permissions.sync import group_conflicts

MAINTAIN_USERS = "permissions.maintain_users"
PER_PAGE = 50


def maintainers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """An admitted Administration Tool session holding maintain-users (else the 403 page)."""
    return element_required(Element.ADMIN_TOOL)(
        permission_required(MAINTAIN_USERS, raise_exception=True)(view))


def _person(user_id: int) -> User:
    try:
        return selectors.person(user_id)
    except User.DoesNotExist:
        raise Http404("No such user.") from None


def _who(request: HttpRequest) -> services.Who:
    return services.Who(actor=request.user, request=request)


@maintainers_only
@require_http_methods(["GET"])
def user_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET, groups=selectors.user_groups())
    filters = form.filters()
    page = IdFirstPaginator(
        selectors.user_list(**filters), PER_PAGE,
        rows=lambda ids: selectors.user_rows(ids, filters["sort"]),
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page,
               "people": selectors.mark_types(list(page.object_list)), "sort": filters["sort"],
               "query": query.urlencode(), "sorts": _sort_links(request, filters["sort"]),
               # admin_tools:user-edit is users/<id>/: one reverse, not one per row
               "users_url": reverse("admin_tools:users")}
    return render(request, "admin_tools/user_list.html", context)


def _sort_links(request: HttpRequest, current: str) -> dict[str, dict[str, str]]:
    """Per column: the query string that sorts by it (toggling direction) and aria-sort."""
    links = {}
    for key in selectors.SORTS:
        query = request.GET.copy()
        query.pop("page", None)
        active = current.removeprefix("-") == key
        query["sort"] = f"-{key}" if current == key else key
        state = "none" if not active else ("descending" if current.startswith("-")
                                           else "ascending")
        links[key] = {"query": query.urlencode(), "aria": state}
    return links


@maintainers_only
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    form = DetailsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = services.create_local_user(form.details(), _who(request))
        messages.success(request, f"Created {person.display_name}.")
        if person.login_mode == "password":
            return redirect("admin_tools:user-password", user_id=person.pk)
        return redirect("admin_tools:user-edit", user_id=person.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "admin_tools/users/create.html", {"form": form}, status=status)


@maintainers_only
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _person(user_id)
    panel = selectors.entra_panel(person)
    locked = permission_services.locked_elements(person, via=services.VIA)
    current = permission_services.current_codenames(person)
    initial = {name: getattr(person, name) for name in services.DETAIL_FIELDS}
    account_refusal = services.account_refusal(person, _who(request))
    form = EditForm(request.POST or None, initial=initial, current=current, locked=locked,
                    pk=person.pk, entra_linked=panel is not None,
                    read_only=account_refusal is not None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.update_user(person, form.details(), form.requested(), _who(request))
            except (permission_services.LockedPermissionError, permission_services.NotHeldError,
                    services.Refused) as refusal:
                form.add_error(None, str(refusal))
                status = 403
            else:
                messages.success(request, f"Saved {person.display_name}.")
                return redirect("admin_tools:user-edit", user_id=person.pk)
    context = {
        "person": person, "form": form, "panel": panel,
        "sections": _sections(form, person, locked, current, request.user),
        "password_refusal": services.password_refusal(person),
        "account_refusal": account_refusal,
        "group_conflicts": group_conflicts(person, locked) if panel else [],
        "open_sessions": open_sessions.open_for(person),
    }
    return render(request, "admin_tools/user_edit.html", context, status=status)


def _sections(form: EditForm, person: User, locked: set[Element],
              current: dict[Element, set[str]], editor: Any) -> list[dict[str, Any]]:
    """Per element: its field, whether it is locked, and each permission with its sources
    and whether this editor may grant it (nobody grants what they do not hold)."""
    sources = selectors.provenance(person, locked)
    sections = []
    for element, field in form.element_fields():
        rows = []
        checkboxes = list(field) if element not in locked else []
        for index, entry in enumerate(catalogue.entries(element)):
            held = entry.codename in current[element]
            found = sources.get(element.value, {}).get(entry.codename, [])
            if held and not any(not s.startswith("Django group") for s in found):
                found = ["granted directly", *found]
            rows.append({"entry": entry, "held": held, "sources": found,
                         "checkbox": checkboxes[index] if checkboxes else None,
                         "grantable": held or editor.has_perm(entry.perm)})
        sections.append({"element": element, "field": field, "locked": element in locked,
                         "rows": rows})
    return sections


@maintainers_only
@require_POST
def user_disable(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _person(user_id)
    try:
        if services.disable_user(person, _who(request)):
            messages.success(request, f"Disabled {person.display_name}: they cannot sign in.")
    except services.Refused as refusal:
        messages.error(request, str(refusal))
    return redirect("admin_tools:user-edit", user_id=person.pk)


@maintainers_only
@require_POST
def user_enable(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _person(user_id)
    try:
        if services.enable_user(person, _who(request)):
            messages.success(request, f"Enabled {person.display_name}.")
    except services.Refused as refusal:
        messages.error(request, str(refusal))
    return redirect("admin_tools:user-edit", user_id=person.pk)


@maintainers_only
@require_http_methods(["GET", "POST"])
def user_password(request: HttpRequest, user_id: int) -> HttpResponse:
    """Set a new password for a local user (Django's password validators apply)."""
    person = _person(user_id)
    refusal = (services.account_refusal(person, _who(request))
               or services.password_refusal(person))
    form = SetPasswordForm(person, request.POST or None)
    status = 403 if refusal is not None else 200
    if request.method == "POST":
        try:
            if refusal is not None:  # a forged POST: refused and audited
                services.reset_password(person, None, _who(request))
            elif form.is_valid():
                services.reset_password(person, form.cleaned_data["new_password1"],
                                        _who(request))
                messages.success(request, f"Set a new password for {person.display_name}.")
                return redirect("admin_tools:user-edit", user_id=person.pk)
            else:
                status = 400
        except services.Refused:
            status = 403
    context = {"person": person, "form": form, "refusal": refusal and refusal[1]}
    return render(request, "admin_tools/users/password.html", context, status=status)
