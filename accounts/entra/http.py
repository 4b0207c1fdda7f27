"""Every HTTP call to Entra ID goes through here: bounded time-outs, no secrets in errors."""

from __future__ import annotations

from typing import Any

import requests

from accounts.refusals import Reason, SignInRefused

USER_AGENT = "Keyfax-SSO/1.0"

# One pooled session: keep-alive to Entra saves a TLS handshake on every sign-in.
_session = requests.Session()
_session.headers["User-Agent"] = USER_AGENT


def _timeout(seconds: float) -> tuple[float, float]:
    return (min(seconds, 3.05), seconds)


def get_json(url: str, *, timeout: float, what: str) -> dict[str, Any]:
    """GET a JSON object; any failure becomes ``ENTRA_UNREACHABLE`` naming ``what`` failed."""
    try:
        response = _session.get(url, timeout=_timeout(timeout), allow_redirects=False)
    except requests.RequestException as exc:
        raise SignInRefused(
            Reason.ENTRA_UNREACHABLE, {"fetching": what, "error": type(exc).__name__}
        ) from None
    if response.status_code != 200:
        raise SignInRefused(
            Reason.ENTRA_UNREACHABLE, {"fetching": what, "status": response.status_code}
        )
    return _json_object(response, what)


def post_form(
    url: str, data: dict[str, str], *, timeout: float, what: str
) -> requests.Response:
    try:
        return _session.post(
            url, data=data, timeout=_timeout(timeout),
            headers={"Accept": "application/json"}, allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise SignInRefused(
            Reason.ENTRA_UNREACHABLE, {"fetching": what, "error": type(exc).__name__}
        ) from None


def post_json(
    url: str,
    body: dict[str, Any],
    *,
    bearer: str,
    timeout: float,
    what: str,
    refusal: Reason = Reason.ENTRA_UNREACHABLE,
) -> requests.Response:
    """POST a JSON body with a bearer token; a network failure refuses with ``refusal``."""
    try:
        return _session.post(
            url, json=body, timeout=_timeout(timeout), allow_redirects=False,
            headers={"Authorization": f"Bearer {bearer}", "Accept": "application/json"},
        )
    except requests.RequestException as exc:
        raise SignInRefused(refusal, {"fetching": what, "error": type(exc).__name__}) from None


def _json_object(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise SignInRefused(Reason.ENTRA_UNREACHABLE, {"fetching": what, "error": "not JSON"})
    return body


def json_object(response: requests.Response, what: str) -> dict[str, Any]:
    """The response body as a JSON object, or ``ENTRA_UNREACHABLE``."""
    return _json_object(response, what)
