"""The authorization endpoint (account picker, code issue) and the end-session endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from .pages import error_page, picker_page
from .people import Person
from .sign_out import front_channel_requests, signed_out_response
from .store import AuthCode
from .tokens import opaque, random_guid
from .validation import (
    AuthorizeRequest,
    PageError,
    RedirectError,
    check_client_and_redirect,
    check_request,
    is_loopback_http,
)
from .web import Request, Response, Trace, add_query, html_response, redirect, single_values

if TYPE_CHECKING:
    from .server import EntraEmulator

SESSION_COOKIE = "entra_emulator_session"
CANCEL = "cancel"


def handle_authorize(emu: EntraEmulator, req: Request) -> Response:
    """GET shows the account picker; POST (the picker form, ``account=<oid>``) signs in."""
    params, duplicate = _authorize_params(req)
    trace = Trace.new(req.correlation_id)
    try:
        check_client_and_redirect(
            params, duplicate, emu.client_id, emu.tenant_id, emu.redirect_uris
        )
    except PageError as exc:
        page = error_page(code=exc.code, message=exc.message, trace=trace, tenant_id=emu.tenant_id)
        return html_response(400, page)
    try:
        auth = check_request(params, emu.client_id)
    except RedirectError as exc:
        return _error_redirect(
            params["redirect_uri"], params.get("state"), exc.error, exc.code, exc.message, trace
        )
    sid = req.cookies.get(SESSION_COOKIE)
    signed_in_oid = emu.store.session_person(sid)
    if req.method == "GET":
        if auth.prompt == "none":
            return _silent_sign_in(emu, req, auth, params, sid, trace)
        return _picker(emu, params, 200, None, signed_in_oid)
    form, duplicate_field = single_values(req.form())
    account = form.get("account", "").strip()
    if duplicate_field == "account" or not account:
        return _picker(emu, params, 400, "Choose an account to sign in with.", signed_in_oid)
    if account.lower() == CANCEL:
        return _error_redirect(
            auth.redirect_uri,
            auth.state,
            "access_denied",
            65004,
            "User declined to consent to access the app.",
            trace,
        )
    person = emu.person(account)
    if person is None:
        return _picker(
            emu,
            params,
            400,
            "That account is not one of the demo accounts. Pick another.",
            signed_in_oid,
        )
    return _sign_in(emu, req, auth, person, sid, trace)


def handle_logout(emu: EntraEmulator, req: Request) -> Response:
    """End the emulator session, run front-channel logout for it (hidden iframes), then go
    back to a loopback or registered ``post_logout_redirect_uri`` if given."""
    params, _ = single_values(req.query)
    ended = emu.store.end_session(req.cookies.get(SESSION_COOKIE))
    clear = ("Set-Cookie", _cookie(req, "", max_age=0))
    target = params.get("post_logout_redirect_uri", "")
    onward = None
    if target and (is_loopback_http(target) or target in emu.redirect_uris):
        onward = add_query(target, [("state", params.get("state") or "")])
    frames = front_channel_requests(emu, [ended] if ended else [])
    if onward and not frames:
        return redirect(onward, [clear])
    return signed_out_response(emu, frames, onward, [clear])


def _authorize_params(req: Request) -> tuple[dict[str, str], str | None]:
    """The authorization parameters: from the query string (the picker posts it back);
    a POST without them in the query may carry them in the form, as Entra allows."""
    query = req.query
    if req.method == "POST" and not any(name == "client_id" for name, _ in query):
        return single_values((k, v) for k, v in req.form() if k != "account")
    return single_values(query)


def _picker(
    emu: EntraEmulator,
    params: dict[str, str],
    status: int,
    error: str | None,
    signed_in_oid: str | None,
) -> Response:
    action = f"/{emu.tenant_id}/oauth2/v2.0/authorize?{urlencode(list(params.items()))}"
    page = picker_page(
        people=emu.people,
        action=action,
        app_name=emu.app_name,
        tenant_id=emu.tenant_id,
        error=error,
        signed_in_oid=signed_in_oid,
    )
    return html_response(status, page)


def _silent_sign_in(
    emu: EntraEmulator,
    req: Request,
    auth: AuthorizeRequest,
    params: dict[str, str],
    sid: str | None,
    trace: Trace,
) -> Response:
    """``prompt=none``: succeed only for the person of this browser's emulator session, and
    only if they are the one ``login_hint`` names and the session is the one ``sid`` names."""
    oid = emu.store.session_person(sid)
    person = emu.person(oid) if oid else None
    hint = params.get("login_hint", "").strip()
    wanted_sid = params.get("sid", "").strip()
    if person is None:
        reason = "no user is signed in."
    elif hint and hint.lower() != person.upn.lower():
        reason = "the signed-in user is not the user the login_hint names."
    elif wanted_sid and wanted_sid != sid:
        reason = "the session the sid names is not signed in on this browser."
    else:
        return _sign_in(emu, req, auth, person, sid, trace)
    return _error_redirect(
        auth.redirect_uri,
        auth.state,
        "login_required",
        50058,
        f"A silent sign-in request was sent but {reason}",
        trace,
    )


def _sign_in(
    emu: EntraEmulator,
    req: Request,
    auth: AuthorizeRequest,
    person: Person,
    sid: str | None,
    trace: Trace,
) -> Response:
    refusal = sign_in_refusal(emu, person)
    if refusal is not None:
        code, message = refusal
        return _error_redirect(auth.redirect_uri, auth.state, "access_denied", code, message, trace)
    if not sid or emu.store.session_person(sid) != person.oid:
        sid = random_guid()  # a new emulator sign-in session
        emu.store.start_session(sid, person.oid)
    emu.store.note_app(sid, auth.redirect_uri)
    now = emu.clock()
    code = opaque(72, prefix="0.")
    record = AuthCode(
        client_id=auth.client_id,
        redirect_uri=auth.redirect_uri,
        code_challenge=auth.code_challenge,
        oid=person.oid,
        scope=auth.scope,
        sid=sid,
        nonce=auth.nonce,
        acrs=auth.acrs,
        expires_at=now + emu.code_lifetime,
    )
    emu.store.add_code(code, record, now)
    location = add_query(
        auth.redirect_uri,
        [("code", code), ("state", auth.state or ""), ("session_state", sid)],
    )
    return redirect(location, [("Set-Cookie", _cookie(req, sid))])


def sign_in_refusal(emu: EntraEmulator, person: Person) -> tuple[int, str] | None:
    """Why Entra refuses ``person`` now (AADSTS code, message), or None."""
    if not person.enabled:
        return 50057, (
            "User account is disabled. The user object in Active Directory backing this "
            "account has been disabled. An admin can re-enable this account through the "
            "Microsoft Entra admin center."
        )
    if not person.assigned:
        return 50105, (
            f"The signed in user '{person.upn}' is not assigned to a role for the application "
            f"'{emu.client_id}'({emu.app_name})."
        )
    return None


def _error_redirect(
    redirect_uri: str, state: str | None, error: str, code: int, message: str, trace: Trace
) -> Response:
    description = f"AADSTS{code}: {message}\r\n{trace.suffix(chr(13) + chr(10))}"
    params = [("error", error), ("error_description", description), ("state", state or "")]
    return redirect(add_query(redirect_uri, params))


def _cookie(req: Request, value: str, max_age: int | None = None) -> str:
    """The emulator's session cookie, scoped to ``/{tenant}/oauth2/v2.0/`` on this host."""
    path = req.path.rsplit("/", 1)[0] + "/"
    cookie = f"{SESSION_COOKIE}={value}; Path={path}; HttpOnly; SameSite=Lax"
    return cookie if max_age is None else f"{cookie}; Max-Age={max_age}"
