"""Sessions that follow Entra: an Entra session is silently re-checked every
``KEYFAX_REVALIDATE_SECONDS`` (``prompt=none``), so access ends when Entra says so.

The check is a sign-in without the person: the browser goes to Entra's authorization endpoint
with ``prompt=none`` and the person's ``login_hint`` (and Entra's ``sid``), and the callback runs
the whole sign-in pipeline in revalidation mode (:class:`accounts.pipeline.SignInContext`
``revalidating``): the same checks, the same person, roles and permissions synced again, no
new session. Choices (docs/sessions.md):

- A **GET** page request that finds the session due is sent through the check first and comes
  back to the same URL (``next`` travels in the state, so tabs never swap destinations).
- A **POST** (or any other unsafe method) is served, and the check happens at the next GET: a
  form is never lost at the boundary. Past ``KEYFAX_REVALIDATE_SECONDS +
  KEYFAX_REVALIDATE_GRACE_SECONDS`` without a successful check, every request ends the session.
- **fetch/XHR** gets a JSON 401 (``revalidation_required``) instead of a redirect it cannot
  follow; the page reloads itself (a GET) to be checked.
- **Parallel tabs**: once one request has gone to Entra, others are served for
  ``IN_FLIGHT_SECONDS`` instead of starting a second check.
- **Entra unreachable**: the session keeps working, the failure is audited and retried after
  ``RETRY_SECONDS``, until the grace period ends; then the session ends with a clear page.
- **Break-glass** (password) sessions are not re-checked this way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.destinations import safe_next
from accounts.entra.discovery import provider_metadata
from accounts.middleware import wants_json
from accounts.refusals import Reason, SignInRefused
from accounts.sessions import sign_in_method
from accounts.sso_config import sso_config
from audit.models import Action, Outcome
from audit.services import record

VALIDATED_AT = "keyfax_validated_at"  # in the session: when Entra last said yes (epoch s)
IN_FLIGHT = "keyfax_revalidating"  # {"since": epoch s, "failures": n, "retry_at": epoch s}
IN_FLIGHT_SECONDS = 60
RETRY_SECONDS = 60


def mark_validated(request: HttpRequest) -> None:
    """Entra has just said yes for this session (a sign-in or a re-check)."""
    request.session[VALIDATED_AT] = int(time.time())
    request.session.pop(IN_FLIGHT, None)


def age(request: HttpRequest) -> float:
    """Seconds since Entra last said yes for this session (a session from before
    revalidation existed counts from now: it is re-checked within one interval)."""
    validated = request.session.get(VALIDATED_AT)
    if not isinstance(validated, int):
        request.session[VALIDATED_AT] = validated = int(time.time())
    return time.time() - validated


def is_due(request: HttpRequest) -> bool:
    return age(request) >= settings.KEYFAX_REVALIDATE_SECONDS


def past_grace(request: HttpRequest) -> bool:
    return age(request) >= (settings.KEYFAX_REVALIDATE_SECONDS
                            + settings.KEYFAX_REVALIDATE_GRACE_SECONDS)


def start_url(next_url: str) -> str:
    return f"{reverse('oidc_revalidate')}?{urlencode({'next': next_url})}"


class RevalidationMiddleware:
    """After ``SignedInSessionMiddleware``: send a due Entra session through the check, as
    the module says."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _applies(request) or not is_due(request):
            return self.get_response(request)
        if past_grace(request) and not _in_flight(request):
            return end_session(request, Reason.REVALIDATION_OVERDUE, {"age": int(age(request))})
        if wants_json(request):
            return JsonResponse({
                "error": "revalidation_required",
                "detail": "Keyfax must re-check your sign-in with Microsoft: reload the page.",
                "sign_in_url": start_url(safe_next(request, request.headers.get("Referer"))
                                         or "/"),
            }, status=401)
        if request.method not in ("GET", "HEAD") or _in_flight(request) or _waiting(request):
            return self.get_response(request)  # checked at the next GET (module docstring)
        return HttpResponseRedirect(start_url(request.get_full_path()))


def _applies(request: HttpRequest) -> bool:
    if not request.user.is_authenticated or sign_in_method(request) != "entra":
        return False
    path = request.path
    return not (path.startswith("/oidc/") or path.startswith("/static/")
                or path.startswith("/scim/") or path == reverse("accounts:signed-out"))


def _in_flight(request: HttpRequest) -> bool:
    flight = request.session.get(IN_FLIGHT) or {}
    return time.time() - float(flight.get("since", 0)) < IN_FLIGHT_SECONDS


def _waiting(request: HttpRequest) -> bool:
    """After Entra could not be reached, the next try waits ``RETRY_SECONDS``."""
    flight = request.session.get(IN_FLIGHT) or {}
    return time.time() < float(flight.get("retry_at", 0))


def note_started(request: HttpRequest) -> None:
    flight = dict(request.session.get(IN_FLIGHT) or {})
    flight["since"] = int(time.time())
    request.session[IN_FLIGHT] = flight


def note_unreachable(request: HttpRequest, refusal: SignInRefused) -> None:
    """Entra (or Graph) could not be asked: keep the session within the grace period, try
    again later, on the record."""
    flight = dict(request.session.get(IN_FLIGHT) or {})
    flight.update(since=0, retry_at=int(time.time()) + RETRY_SECONDS,
                  failures=int(flight.get("failures", 0)) + 1)
    request.session[IN_FLIGHT] = flight
    _record(request, Outcome.FAILURE, refusal.reason, {
        **refusal.detail, "failures": flight["failures"], "session_kept": True,
        "grace_ends_in": int(settings.KEYFAX_REVALIDATE_SECONDS
                             + settings.KEYFAX_REVALIDATE_GRACE_SECONDS - age(request))})


def is_transient(refusal: SignInRefused) -> bool:
    """Entra or Graph did not answer: nothing said the person may no longer come in."""
    return refusal.reason.http_status == 503 and refusal.reason is not \
        Reason.SIGN_IN_MISCONFIGURED


def check_reachable(request: HttpRequest) -> SignInRefused | None:
    """Discovery answers (the check can start), or why not."""
    try:
        provider_metadata(sso_config())
    except SignInRefused as refusal:
        return refusal
    return None


def record_success(request: HttpRequest, detail: dict) -> None:
    _record(request, Outcome.SUCCESS, None, detail)


def end_session(request: HttpRequest, reason: Reason, detail: dict) -> HttpResponse:
    """Entra no longer lets this person in (or could not be asked for too long): record it,
    end the session, and say so."""
    _record(request, Outcome.REFUSED, reason, {**detail, "session_ended": True})
    auth.logout(request)
    context = {"reason": reason, "reference": getattr(request, "request_id", ""),
               "session_ended": True}
    response = render(request, "accounts/sign_in_refused.html", context,
                      status=401 if reason is Reason.REVALIDATION_OVERDUE else
                      reason.http_status)
    response["Cache-Control"] = "no-store"
    return response


def _record(request: HttpRequest, outcome: Outcome, reason: Reason | None, detail: dict
            ) -> None:
    user = request.user
    identity = getattr(user, "entra_identity", None)
    record(Action.SESSION_REVALIDATED, outcome=outcome, request=request, actor=user,
           tenant_id=str(identity.tenant_id) if identity else "",
           object_id=str(identity.object_id) if identity else "",
           subject=f"user:{user.pk}", reason=reason.value if reason else "",
           detail=detail)
