"""Keep each signed-in session's note current, and tell a browser whose session was ended
(a leaver, a disabled account, an administrator's choice) why, once."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accounts.open_sessions import ended_note, touch
from audit.models import Action, Outcome
from audit.services import record

BEARER_ONLY_PREFIX = "/scim/"  # never reads a session cookie

REASONS = {
    "account_disabled": "Your Keyfax account was disabled.",
    "account_retired": "Your Keyfax account was removed by Microsoft Entra ID provisioning.",
    "ended_by_administrator": "An administrator ended this session.",
    "ended_by_you": "You ended this session from another browser.",
    "account_unlinked": "Your Keyfax account was unlinked from your Microsoft account.",
}


class SignedInSessionMiddleware:
    """After ``AuthenticationMiddleware``. A signed-in request marks its session seen (one
    write a minute at most). A request still carrying the cookie of a session that
    :func:`accounts.open_sessions.end_all` ended is refused with a page saying so (a JSON 401
    for fetch/XHR), audited; the note and the cookie then go, so the next request is an
    ordinary signed-out one. That costs one indexed lookup, only for signed-out requests that
    carry a session cookie."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(BEARER_ONLY_PREFIX):
            return self.get_response(request)
        if request.user.is_authenticated:
            touch(request)
            return self.get_response(request)
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if key and len(key) <= 40:
            note = ended_note(key)
            if note is not None:
                return self._refuse(request, note)
        return self.get_response(request)

    def _refuse(self, request: HttpRequest, note) -> HttpResponse:
        why = REASONS.get(note.end_reason, "Your Keyfax session was ended.")
        record(Action.ACCESS_REFUSED, outcome=Outcome.REFUSED, request=request,
               actor=note.user, actor_kind="user", subject=f"user:{note.user_id}",
               reason="session_ended",
               detail={"method": request.method, "path": request.path[:190],
                       "ended_because": note.end_reason})
        note.delete()
        if wants_json(request):
            response: HttpResponse = JsonResponse(
                {"error": "session_ended", "detail": why}, status=401)
        else:
            response = render(request, "accounts/session_ended.html", {"why": why}, status=401)
        response["Cache-Control"] = "no-store"
        response.delete_cookie(settings.SESSION_COOKIE_NAME,
                               path=settings.SESSION_COOKIE_PATH,
                               domain=settings.SESSION_COOKIE_DOMAIN)
        return response


def wants_json(request: HttpRequest) -> bool:
    """A fetch/XHR request, answered with JSON rather than a page."""
    accept = request.headers.get("Accept", "")
    return (request.headers.get("X-Requested-With") == "XMLHttpRequest"
            or ("application/json" in accept and "text/html" not in accept))
