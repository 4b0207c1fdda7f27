"""One ``settings_seen`` event per process: the SSO modes it serves with (never secrets).

What the event records comes from ``accounts`` (``audit.vocabulary.settings_summary``).

Written on the first request a process serves, not in ``AppConfig.ready()`` (no database
there). The liveness probe is skipped: it must not touch the database.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit import vocabulary
from audit.models import Action, ActorKind
from audit.services import record

_lock = threading.Lock()
_seen = False
_SKIP_PATHS = frozenset({"/healthz"})


class SettingsSeenMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _seen and request.path_info not in _SKIP_PATHS:
            record_settings_seen()
        return self.get_response(request)


def record_settings_seen() -> bool:
    """Write the event unless this process already has; ``True`` when it wrote it."""
    global _seen
    with _lock:
        if _seen:
            return False
        record(
            Action.SETTINGS_SEEN, actor_kind=ActorKind.SYSTEM, subject="sso settings",
            detail={
                **vocabulary.settings_summary(),
                "process": {"pid": os.getpid(), "host": socket.gethostname()},
            },
        )
        _seen = True
        return True


def forget_settings_seen() -> None:
    """For tests: let the next request write the event again."""
    global _seen
    with _lock:
        _seen = False
