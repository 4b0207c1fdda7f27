"""Driving the interop OP's pages from a ``requests.Session``: log in, cancel, log out.

Split from provider.py (which runs the OP process); see that module's docstring.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

MAX_REDIRECTS = 30
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


# --------------------------------------------------------------------------------------------
# Driving the OP's pages with requests


class _Form:
    def __init__(self, attrs: dict[str, str | None]) -> None:
        self.id = attrs.get("id") or ""
        self.method = (attrs.get("method") or "get").lower()
        self.action = attrs.get("action") or ""
        self.fields: dict[str, str] = {}


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self._current: _Form | None = None
        self.error_text: list[str] = []
        self._in_error = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self._current = _Form(attributes)
            self.forms.append(self._current)
        elif (
            tag == "input"
            and self._current is not None
            and attributes.get("name")
            and attributes.get("type", "text") not in {"submit", "button"}
        ):
            self._current.fields[attributes["name"]] = attributes.get("value") or ""
        if "error" in (attributes.get("class") or "").split():
            self._in_error += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        if tag in {"p", "span"} and self._in_error:
            self._in_error -= 1

    def handle_data(self, data: str) -> None:
        if self._in_error and data.strip():
            self.error_text.append(data.strip())


def _parse(response: requests.Response) -> _FormParser:
    parser = _FormParser()
    if "html" in response.headers.get("Content-Type", ""):
        parser.feed(response.text)
    return parser


def _page_summary(response: requests.Response) -> str:
    return f"{response.status_code} {response.url}\n{response.text[:1500]}"


def _follow(
    session: requests.Session,
    response: requests.Response,
    stop_at_prefix: str | None,
) -> requests.Response:
    """Follow redirects by hand (stopping before a URL that starts with stop_at_prefix); also
    submit oidc-provider's auto-submitting response_mode=form_post page, which needs JavaScript."""
    for _ in range(MAX_REDIRECTS):
        if response.status_code in REDIRECT_STATUSES and "Location" in response.headers:
            target = urljoin(response.url, response.headers["Location"])
            if stop_at_prefix is not None and target.startswith(stop_at_prefix):
                return response
            if response.status_code in {307, 308} and response.request.method == "POST":
                response = session.post(target, data=response.request.body, allow_redirects=False)
            else:
                response = session.get(target, allow_redirects=False)
            continue
        if response.status_code == 200 and "<title>Submitting Callback</title>" in response.text:
            forms = [f for f in _parse(response).forms if f.method == "post"]
            if forms:
                target = urljoin(response.url, forms[0].action)
                if stop_at_prefix is not None and target.startswith(stop_at_prefix):
                    return response
                response = session.post(target, data=forms[0].fields, allow_redirects=False)
                continue
        return response
    raise RuntimeError(f"more than {MAX_REDIRECTS} redirects: {response.url}")


def _is_op_page(response: requests.Response, form_id: str) -> _Form | None:
    for form in _parse(response).forms:
        if form.id == form_id:
            return form
    return None


def complete_login(
    session: requests.Session,
    response: requests.Response,
    account_id: str,
    *,
    stop_at_prefix: str | None = None,
) -> requests.Response:
    """Given the response a requests.Session got after following the RP's redirect to the OP's
    authorize URL (i.e. it now sits on the OP's login page), submit the login for account_id
    (the person's oid; a UPN or e-mail address works too) and follow redirects back to the RP;
    return the final response.

    With ``stop_at_prefix``, stop before requesting a URL that starts with it and return the
    redirect response (its Location header holds the RP callback URL with code and state).
    A disabled person (``"accountEnabled": false``) is refused the way Entra refuses: the RP gets
    ``error=access_denied`` with an AADSTS50057 description. An unknown account raises.
    """
    form = _is_op_page(response, "login")
    if form is None:
        raise RuntimeError(
            "complete_login: the response is not the OP's login page (was the OP session still "
            "signed in? use a fresh requests.Session or clear_op_cookies()):\n"
            + _page_summary(response)
        )
    action = urljoin(response.url, form.action)
    posted = session.post(action, data={"account": account_id}, allow_redirects=False)
    if posted.status_code not in REDIRECT_STATUSES:
        reason = " ".join(_parse(posted).error_text) or _page_summary(posted)
        raise RuntimeError(f"complete_login: the OP refused account {account_id!r}: {reason}")
    return _follow(session, posted, stop_at_prefix)


def abort_login(
    session: requests.Session,
    response: requests.Response,
    *,
    error: str = "access_denied",
    error_description: str = "AADSTS65004: User declined to consent to access the app.",
    stop_at_prefix: str | None = None,
) -> requests.Response:
    """Like complete_login, but the person cancels: the OP redirects to the RP with ``error``
    (e.g. ``error_description="AADSTS50105: ..."`` to play an unassigned user)."""
    form = _is_op_page(response, "abort")
    if form is None:
        raise RuntimeError(
            "abort_login: the response is not the OP's login page:\n" + _page_summary(response)
        )
    posted = session.post(
        urljoin(response.url, form.action),
        data={"error": error, "error_description": error_description},
        allow_redirects=False,
    )
    return _follow(session, posted, stop_at_prefix)


def complete_logout(
    session: requests.Session,
    response: requests.Response,
    *,
    stop_at_prefix: str | None = None,
) -> requests.Response:
    """Given the OP's sign-out confirmation page (the RP redirected to end_session_endpoint),
    confirm it and follow redirects (to post_logout_redirect_uri when the RP sent a registered
    one, with id_token_hint or client_id)."""
    form = _is_op_page(response, "op.logoutForm")
    if form is None:
        raise RuntimeError(
            "complete_logout: the response is not the OP's sign-out page:\n"
            + _page_summary(response)
        )
    posted = session.post(
        urljoin(response.url, form.action),
        data={**form.fields, "logout": "yes"},
        allow_redirects=False,
    )
    return _follow(session, posted, stop_at_prefix)


OP_COOKIE_NAMES = ("_session", "_interaction", "_interaction_resume")


def clear_op_cookies(session: requests.Session, authority: str | None = None) -> None:
    """Forget the OP's sign-in session in this requests.Session (cookies ignore ports, so the
    RP's and the OP's cookies share one jar on 127.0.0.1; the names do not clash)."""
    host = urlsplit(authority).hostname if authority else None
    for cookie in list(session.cookies):
        base = cookie.name.removesuffix(".sig").removesuffix(".legacy")
        if base in OP_COOKIE_NAMES and (
            host is None or cookie.domain.lstrip(".") in {host, f"{host}.local"}
        ):
            session.cookies.clear(cookie.domain, cookie.path, cookie.name)
