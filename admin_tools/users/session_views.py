"""User Maintenance: who is signed in as this person, and ending those sessions."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import open_sessions
from admin_tools.users import services
from admin_tools.users.views import _person, _who, maintainers_only


@maintainers_only
@require_http_methods(["GET", "POST"])
def end_sessions(request: HttpRequest, user_id: int) -> HttpResponse:
    """Confirm (GET, so it works without JavaScript), then end one (``?session=``) or all of
    the person's open sessions (POST). Their next request says why."""
    person = _person(user_id)
    chosen = request.POST.get("session") or request.GET.get("session")
    sessions = open_sessions.open_for(person)
    if chosen is not None:
        sessions = [s for s in sessions if str(s.pk) == chosen]
    if request.method == "POST":
        try:
            ended = services.end_sessions(
                person, _who(request),
                only=[s.pk for s in sessions] if chosen is not None else None)
        except services.Refused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, f"Ended {ended} session{'s' if ended != 1 else ''} of "
                             f"{person.display_name}." if ended else "No session to end.")
        return redirect("admin_tools:user-edit", user_id=person.pk)
    context = {"person": person, "sessions": sessions, "chosen": chosen,
               "refusal": services.account_refusal(person, _who(request))}
    return render(request, "admin_tools/users/end_sessions.html", context)
