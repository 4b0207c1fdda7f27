"""Entra's front-channel logout: end, on the server, the sessions an Entra ``sid`` opened.

Entra loads ``/oidc/logout/front-channel/?sid=…`` in a hidden iframe when the person signs
out of Microsoft (or of another app in the same Entra session). The request carries only the
``sid`` and usually no Keyfax cookie, so each sign-in remembers which session its ``sid``
opened (``accounts.open_sessions.note``), and this view ends those sessions by their key.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from accounts.models import SignedInSession
from accounts.open_sessions import SID_SHAPE
from accounts.sign_out import record_sign_out


@xframe_options_exempt  # Entra calls this in a hidden iframe
@never_cache
@require_GET
def front_channel_logout(request: HttpRequest) -> HttpResponse:
    """End every session the ``sid`` opened; answer 200 whatever the ``sid`` (no oracle)."""
    sid = request.GET.get("sid", "")
    if SID_SHAPE.match(sid):
        _end_sessions(request, sid)
    return HttpResponse("Signed out of Keyfax.", content_type="text/plain; charset=utf-8")


def _end_sessions(request: HttpRequest, sid: str) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    notes = list(SignedInSession.objects.select_related("user__entra_identity")
                 .filter(sid=sid, ended_at__isnull=True))
    for note in notes:
        with transaction.atomic():  # the sign-out and its audit event stand or fall together
            store(session_key=note.session_key).delete()
            note.delete()
            record_sign_out(request, note.user, method="entra", kind="front_channel")
