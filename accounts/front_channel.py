"""Entra's front-channel logout: end, on the server, the sessions an Entra ``sid`` opened.

Entra loads ``/oidc/logout/front-channel/?sid=…`` in a hidden iframe when the person signs
out of Microsoft (or of another app in the same Entra session). The request carries only the
``sid`` and usually no Keyfax cookie, so each sign-in remembers which session its ``sid``
opened (:func:`remember`), and this view ends those sessions by their key.
"""

from __future__ import annotations

import re
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from accounts.models import EntraSession
from accounts.sign_out import record_sign_out

# Entra's sid is a GUID; anything outside this shape (NUL bytes included, which PostgreSQL
# refuses) is not one of ours and is never looked up.
SID_SHAPE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def remember(request: HttpRequest, user: Any, sid: object) -> None:
    """Note which session this sign-in's ``sid`` opened (call after ``login()``)."""
    if not isinstance(sid, str) or not SID_SHAPE.match(sid):
        return
    if request.session.session_key is None:
        request.session.save()
    EntraSession.objects.update_or_create(
        session_key=request.session.session_key, defaults={"sid": sid, "user": user}
    )


def forget(request: HttpRequest) -> None:
    """A local or RP-initiated sign-out: the session is gone, so is its note."""
    if request.session.session_key:
        EntraSession.objects.filter(session_key=request.session.session_key).delete()


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
    notes = list(EntraSession.objects.select_related("user__entra_identity").filter(sid=sid))
    for note in notes:
        with transaction.atomic():  # the sign-out and its audit event stand or fall together
            store(session_key=note.session_key).delete()
            note.delete()
            record_sign_out(request, note.user, method="entra", kind="front_channel")
