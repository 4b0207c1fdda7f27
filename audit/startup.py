"""One ``settings_seen`` event per process: the SSO modes it serves with (never secrets).

Written on the first request a process serves, not in ``AppConfig.ready()`` (no database
there). The liveness probe is skipped: it must not touch the database.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

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
            detail=sso_settings_summary(),
        )
        _seen = True
        return True


def forget_settings_seen() -> None:
    """For tests: let the next request write the event again."""
    global _seen
    with _lock:
        _seen = False


def sso_settings_summary() -> dict[str, Any]:
    """What IT configured, as the site reads it; the client secret only as set / not set."""
    from accounts.sso_config import sso_config  # read at request time; audit sits below accounts

    config = sso_config()
    return {
        "modes": {str(element): mode for element, mode in config.modes.items()},
        "ready": config.ready,
        "authority": config.authority,
        "tenant_id": config.tenant_id,
        "client_id": config.client_id,
        "client_secret_set": bool(config.client_secret),
        "access_roles": list(config.access_roles),
        "web_staff_public": config.web_staff_public,
        "local_login": config.local_login,
        "require_mfa": list(config.require_mfa),
        "mfa_auth_context": config.mfa_auth_context,
        "process": {"pid": os.getpid(), "host": socket.gethostname()},
    }
