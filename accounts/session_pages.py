"""``/accounts/sessions/``: a person sees where they are signed in and ends the others."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import open_sessions, services


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def my_sessions(request: HttpRequest) -> HttpResponse:
    """GET lists this person's open sessions; POST ends the chosen one (``session``) or all
    the others. This browser's own session is never ended here: Sign out does that."""
    if request.method == "POST":
        chosen = request.POST.get("session")
        only = None if chosen is None else [int(chosen)] if chosen.isdigit() else []
        ended = services.end_sessions(
            request.user, services.Actor(user=request.user, request=request, via="own_sessions"),
            only=only)
        messages.success(request, f"Ended {ended} other session{'s' if ended != 1 else ''}."
                         if ended else "No other session to end.")
        return redirect("accounts:sessions")
    context = {"sessions": open_sessions.open_for(request.user),
               "current_key": request.session.session_key}
    return render(request, "accounts/sessions.html", context)
