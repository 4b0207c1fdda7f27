"""Run-time controls of the people's lifecycle and of Graph's simulated failures.

``/_emulator/people`` (HTML page, POST forms) and ``POST /_emulator/people/<oid or upn>``
with JSON ``{"enabled": bool, "assigned": bool, "roles": [...], "sign_out": true}`` (any of
them; applied in that order), ``POST /_emulator/graph`` with ``{"mode": ...}``. Development
only, like the rest of the emulator: it listens on loopback, and refuses cross-site posts.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .directory import UnknownPerson, check_roles
from .graph import GRAPH_MODES
from .people import Person
from .people_page import people_page
from .sign_out import call_front_channel, front_channel_requests, origins
from .web import Request, Response, html_response, json_response, single_values

if TYPE_CHECKING:
    from .server import EntraEmulator

PERSON_KEYS = ("enabled", "assigned", "roles", "sign_out")
MODE_ALIASES = {"normal": "ok"}
FORM_ACTIONS = {
    "disable": {"enabled": False},
    "enable": {"enabled": True},
    "unassign": {"assigned": False},
    "assign": {"assigned": True},
    "sign_out": {"sign_out": True},
}


class ControlError(ValueError):
    """A control request the emulator refuses (HTTP ``status``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def person_state(emu: EntraEmulator, person: Person) -> dict[str, Any]:
    """What the JSON control answers about a person."""
    return {
        "id": person.oid,
        "userPrincipalName": person.upn,
        "displayName": person.name,
        "accountEnabled": person.enabled,
        "assigned": person.assigned,
        "roles": list(person.roles),
        "sessions": [s.sid for s in emu.store.sessions_of(person.oid)],
    }


def handle_people(emu: EntraEmulator, req: Request) -> Response:
    """GET: the People page (JSON with ``Accept: application/json``). POST: reset everyone
    (form ``action=reset`` or JSON ``{"reset": true}``)."""
    if req.method == "GET":
        if "application/json" in req.headers.get("accept", ""):
            return json_response(200, {"people": [person_state(emu, p) for p in emu.people]})
        return _page(emu)
    try:
        changes = _changes(emu, req)
        if changes != {"reset": True}:
            raise ControlError('Send {"reset": true} to put everyone back as the file has them.')
    except ControlError as exc:
        return _refuse(emu, req, exc)
    emu.directory.reset()
    if req.is_form:
        return _page(emu, notice="Everyone is back as the people file describes them.")
    return json_response(200, {"people": [person_state(emu, p) for p in emu.people]})


def handle_person(emu: EntraEmulator, req: Request, oid: str) -> Response:
    """GET: the person's state (JSON). POST: change it (JSON or the People page's form)."""
    person = emu.person(oid)
    try:
        if person is None:
            raise ControlError(f"No person has the object id or UPN {oid!r}.", 404)
        if req.method == "GET":
            return json_response(200, person_state(emu, person))
        changes = _changes(emu, req)
        unknown = sorted(set(changes) - set(PERSON_KEYS))
        if unknown:
            raise ControlError(f"Unknown field(s) {', '.join(unknown)}.")
        if not changes:
            raise ControlError(f"Send one or more of {', '.join(PERSON_KEYS)}.")
        person, signed_out = _apply(emu, person, changes, browser=req.is_form)
    except (ControlError, UnknownPerson) as exc:
        return _refuse(emu, req, exc if isinstance(exc, ControlError) else ControlError(str(exc)))
    if req.is_form:
        frames = signed_out.get("front_channel", [])
        notice = f"{person.name}: " + _describe(changes, len(signed_out.get("sessions", [])))
        return _page(emu, notice=notice, frames=frames)
    state = person_state(emu, person)
    if signed_out:
        state["signed_out"] = signed_out
    return json_response(200, state)


def handle_graph_control(emu: EntraEmulator, req: Request) -> Response:
    """GET: the Graph mode. POST ``{"mode": "normal|throttled|forbidden|down|..."}``."""
    if req.method == "POST":
        try:
            changes = _changes(emu, req)
            mode = changes.get("mode")
            mode = MODE_ALIASES.get(mode, mode) if isinstance(mode, str) else mode
            if set(changes) != {"mode"} or mode not in GRAPH_MODES:
                choices = ", ".join(["normal", *GRAPH_MODES])
                raise ControlError(f'Send {{"mode": ...}} with one of {choices}.')
        except ControlError as exc:
            return _refuse(emu, req, exc)
        emu.graph_mode = str(mode)
        if req.is_form:
            return _page(emu, notice=f"Microsoft Graph now answers: {mode}.")
    return json_response(200, {"mode": emu.graph_mode, "modes": ["normal", *GRAPH_MODES]})


def _apply(
    emu: EntraEmulator, person: Person, changes: dict[str, Any], *, browser: bool
) -> tuple[Person, dict[str, Any]]:
    for key in ("enabled", "assigned", "sign_out"):
        if key in changes and not isinstance(changes[key], bool):
            raise ControlError(f"{key} must be true or false.")
    roles = changes.get("roles")
    if roles is not None:
        if not isinstance(roles, list):
            raise ControlError("roles must be a list of app-role values.")
        try:
            check_roles(roles)
        except ValueError as exc:
            raise ControlError(str(exc)) from exc
    person = emu.directory.update(
        person.oid, enabled=changes.get("enabled"), assigned=changes.get("assigned"), roles=roles
    )
    if not changes.get("sign_out"):
        return person, {}
    ended = emu.store.end_sessions_of(person.oid)
    urls = front_channel_requests(emu, ended)
    signed_out: dict[str, Any] = {"sessions": [s.sid for s in ended]}
    # A browser loads the URLs in iframes; a script has none, so the emulator calls them.
    signed_out["front_channel"] = (
        urls if browser else call_front_channel(urls, emu.front_channel_timeout)
    )
    return person, signed_out


def _changes(emu: EntraEmulator, req: Request) -> dict[str, Any]:
    """The request's JSON object, or its form translated to the same keys."""
    if _cross_site(emu, req):
        raise ControlError("Cross-site requests to the emulator's controls are refused.", 403)
    if req.is_form:
        form, duplicate = single_values(req.form())
        if duplicate and duplicate != "roles":
            raise ControlError(f"The form field {duplicate!r} is repeated.")
        action = form.get("action", "")
        if "mode" in form:
            return {"mode": form["mode"]}
        if action == "reset":
            return {"reset": True}
        if action == "roles":
            return {"roles": [r.strip() for r in form.get("roles", "").split(",") if r.strip()]}
        if action in FORM_ACTIONS:
            return dict(FORM_ACTIONS[action])
        raise ControlError(f"Unknown action {action!r}.")
    mime = req.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if mime != "application/json":
        raise ControlError("Send application/json (or the People page's form).", 415)
    try:
        data = json.loads(req.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ControlError("The body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise ControlError("The body must be a JSON object.")
    return data


def _cross_site(emu: EntraEmulator, req: Request) -> bool:
    """A browser's request from another site's page (scripts and curl send neither header).

    ``Sec-Fetch-Site`` first: the pages' ``no-referrer`` policy makes ``Origin`` ``null``."""
    fetch_site = req.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = req.headers.get("origin")
    own = {emu.base_url, f"http://localhost:{emu.port}", f"http://127.0.0.1:{emu.port}"}
    return origin is not None and origin not in own


def _describe(changes: dict[str, Any], ended: int) -> str:
    said = []
    if "enabled" in changes:
        said.append("account enabled" if changes["enabled"] else "account disabled")
    if "assigned" in changes:
        said.append("assigned to the app" if changes["assigned"] else "unassigned from the app")
    if "roles" in changes:
        said.append("app roles saved")
    if changes.get("sign_out"):
        said.append(f"signed out of Microsoft ({ended} session{'s' if ended != 1 else ''})")
    return ", ".join(said) + "."


def _page(
    emu: EntraEmulator,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    frames: list[str] | None = None,
) -> Response:
    people = emu.people
    sessions = {p.oid: len(emu.store.sessions_of(p.oid)) for p in people}
    page = people_page(
        tenant_id=emu.tenant_id,
        people=people,
        sessions=sessions,
        graph_mode=emu.graph_mode,
        graph_modes=GRAPH_MODES,
        notice=notice,
        error=error,
        frames=frames or [],
    )
    return html_response(status, page, frame_src=origins(frames or []))


def _refuse(emu: EntraEmulator, req: Request, exc: ControlError) -> Response:
    if req.is_form and exc.status != 403:
        return _page(emu, status=exc.status, error=str(exc))
    return json_response(exc.status, {"error": "invalid_request", "error_description": str(exc)})
