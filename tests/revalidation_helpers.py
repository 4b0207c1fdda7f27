"""Driving a silent re-check (accounts.revalidation) with the scripted browser."""

from __future__ import annotations

import time
from importlib import import_module

from django.conf import settings

from accounts.revalidation import VALIDATED_AT
from tests.browser import Browser


def make_due(browser: Browser, seconds_ago: int | None = None) -> None:
    """Pretend Entra last said yes for this browser's session ``seconds_ago`` (default: just
    over one interval) — written into the session store, as a worker would find it."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(browser.session_id)
    ago = seconds_ago if seconds_ago is not None else settings.KEYFAX_REVALIDATE_SECONDS + 1
    store[VALIDATED_AT] = int(time.time()) - ago
    store.save()


def revalidate(browser: Browser, path: str) -> tuple[list[str], object]:
    """GET ``path`` on a due session and follow the re-check (our /oidc/ URLs and the
    OpenID Provider's) to the site's last answer; the hops taken and that answer."""
    hops: list[str] = []
    response = browser.get(path)
    while response.status_code in (301, 302) and len(hops) < 6:
        location = response.headers["Location"]
        hops.append(location)
        ours = location.startswith("/") or location.startswith(browser.base_url)
        if ours and "/oidc/" not in location:
            break  # back on a page of the site: the re-check is over
        response = browser.get(location)
    return hops, response
