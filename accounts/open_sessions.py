"""Every signed-in session by its key, so that an account's sessions end at once.

A sign-in notes its session (:func:`note`); a sign-out forgets it (the ``user_logged_out``
signal). Disabling or retiring an account, from any surface, calls :func:`end_all`: the
session data is deleted from the session store (database-backed, so every worker and host
sees it at the next request) and the note is kept, marked ended, until that browser comes
back: :class:`accounts.middleware.SignedInSessionMiddleware` then shows the person why,
instead of a bare sign-in page.
"""

from __future__ import annotations

import re
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import SignedInSession
from audit.cleaning import ip_or_none

# Entra's sid is a GUID; anything outside this shape (NUL bytes included, which PostgreSQL
# refuses) is not one of ours and is never stored or looked up.
SID_SHAPE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
SEEN_KEY = "keyfax_seen"  # in the session: when its note's last_seen_at was last written
SEEN_PRECISION_SECONDS = 60


def note(request: HttpRequest, user: Any, method: str, sid: object = None,
         element: str = "") -> None:
    """Note the session this sign-in opened (call right after ``login()``): how, for what,
    from where, until when."""
    if request.session.session_key is None:
        request.session.save()
    now = timezone.now()
    SignedInSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={"user": user, "method": method, "ended_at": None, "end_reason": "",
                  "sid": sid if isinstance(sid, str) and SID_SHAPE.match(sid) else "",
                  "element": element[:20], "address": ip_or_none(request.META.get("REMOTE_ADDR")),
                  "user_agent": request.headers.get("User-Agent", "")[:200],
                  "last_seen_at": now, "expires_at": request.session.get_expiry_date()},
    )
    request.session[SEEN_KEY] = int(now.timestamp())


def touch(request: HttpRequest) -> None:
    """Note that this signed-in session was seen now: at most one write a minute, so the
    list of open sessions says when each was last used."""
    key = request.session.session_key
    if not key:
        return
    now = timezone.now()
    seen = request.session.get(SEEN_KEY)
    if isinstance(seen, int) and now.timestamp() - seen < SEEN_PRECISION_SECONDS:
        return
    SignedInSession.objects.filter(session_key=key, ended_at__isnull=True).update(
        last_seen_at=now, expires_at=request.session.get_expiry_date())
    request.session[SEEN_KEY] = int(now.timestamp())


def open_for(user: Any) -> list[SignedInSession]:
    """``user``'s sessions that are open now, newest first."""
    return list(SignedInSession.objects.filter(
        user=user, ended_at__isnull=True, expires_at__gt=timezone.now(),
    ).order_by("-created_at"))


def forget_key(session_key: str | None) -> None:
    if session_key:
        SignedInSession.objects.filter(session_key=session_key).delete()


@receiver(user_logged_out, dispatch_uid="accounts.open_sessions.forget")
def _forget_on_sign_out(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """Any sign-out (pages, Django admin, RP-initiated): the session is gone, so is its note."""
    if request is not None and hasattr(request, "session"):
        forget_key(request.session.session_key)


def end_all(user: Any, reason: str, *, only: list[int] | None = None,
            keep: str | None = None) -> int:
    """End ``user``'s open sessions now (``only`` these note ids; ``keep`` this session key);
    how many were open. Call it in the transaction of the change that ends them (a refused
    change ends nothing)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    notes = SignedInSession.objects.filter(user=user, ended_at__isnull=True)
    if only is not None:
        notes = notes.filter(pk__in=only)
    if keep:
        notes = notes.exclude(session_key=keep)
    notes = list(notes.values_list("pk", "session_key"))
    for _pk, session_key in notes:
        store(session_key=session_key).delete()
    SignedInSession.objects.filter(pk__in=[pk for pk, _key in notes]).update(
        ended_at=timezone.now(), end_reason=reason[:40])
    return len(notes)


def ended_note(session_key: str) -> SignedInSession | None:
    """The note of a session that was ended (not signed out), if this key is one."""
    return (SignedInSession.objects.select_related("user")
            .filter(session_key=session_key, ended_at__isnull=False).first())
