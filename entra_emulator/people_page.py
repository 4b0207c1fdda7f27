"""The emulator's "People" page: play an Entra administrator, without JavaScript.

Two forms per person (Disable/Enable, Unassign/Assign, Sign out of Microsoft; app roles) and
one for Graph's simulated failures; every value is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .pages import front_channel_frames, layout
from .people import Person

PAGE_CSS = (
    "<style>body main{max-width:820px}.person{margin:0 0 14px;padding:12px 14px;"
    "border:1px solid #c8c8c8}.person h2{margin:0;font-size:17px}.row{display:flex;"
    "flex-wrap:wrap;gap:8px;align-items:center;margin-top:8px}input[type=text]{font:inherit;"
    "padding:4px 6px;min-width:260px;border:1px solid #8a8886}.notice{margin:0 0 16px;"
    "padding:8px 12px;border-left:4px solid #107c10;background:#dff6dd}</style>"
)


def _state_tags(person: Person, sessions: int) -> str:
    tags = [
        '<span class="tag ok">Enabled</span>'
        if person.enabled
        else '<span class="tag warn">Disabled</span>',
        '<span class="tag ok">Assigned to the app</span>'
        if person.assigned
        else '<span class="tag warn">Not assigned to the app</span>',
    ]
    tags += [f'<span class="tag">{escape(role)}</span>' for role in person.roles]
    if not person.roles:
        tags.append('<span class="tag">No app roles</span>')
    if sessions:
        tags.append(f'<span class="tag ok">Signed in to Microsoft ({sessions})</span>')
    return "".join(tags)


def _person_form(person: Person, sessions: int) -> str:
    action = f"/_emulator/people/{escape(person.oid)}"
    toggle = "enable" if not person.enabled else "disable"
    assign = "assign" if not person.assigned else "unassign"
    roles = escape(", ".join(person.roles))
    label = f"roles-{escape(person.oid)}"
    return (
        f'<section class="person" aria-label="{escape(person.name)}">'
        f"<h2>{escape(person.name)}</h2>"
        f'<span class="upn">{escape(person.upn)} \u00b7 object id {escape(person.oid)}</span>'
        f'<div class="tags">{_state_tags(person, sessions)}</div>'
        f'<form method="post" action="{action}">'
        '<div class="row">'
        f'<button class="secondary" type="submit" name="action" value="{toggle}">'
        f"{toggle.capitalize()}</button>"
        f'<button class="secondary" type="submit" name="action" value="{assign}">'
        f"{assign.capitalize()}</button>"
        '<button class="secondary" type="submit" name="action" value="sign_out">'
        "Sign out of Microsoft</button></div></form>"
        # A form of its own, so that Enter in the field saves the roles (and nothing else).
        f'<form method="post" action="{action}">'
        f'<div class="row"><label for="{label}">App roles (comma-separated)</label>'
        f'<input type="text" id="{label}" name="roles" value="{roles}">'
        '<button class="secondary" type="submit" name="action" value="roles">Save roles'
        "</button></div></form></section>"
    )


def _graph_form(mode: str, modes: Sequence[str]) -> str:
    buttons = "".join(
        f'<button class="secondary" type="submit" name="mode" value="{escape(m)}"'
        f"{' aria-pressed=true' if m == mode else ''}>{escape(m)}</button>"
        for m in modes
    )
    return (
        '<section class="person" aria-label="Microsoft Graph"><h2>Microsoft Graph</h2>'
        f'<span class="desc">Now answering: <strong>{escape(mode)}</strong>. throttled: 429 '
        "with Retry-After; forbidden: 403 (no User.Read.All); down/error: 503; slow: "
        "delayed.</span>"
        f'<form method="post" action="/_emulator/graph"><div class="row">{buttons}</div>'
        "</form></section>"
    )


def people_page(
    *,
    tenant_id: str,
    people: Sequence[Person],
    sessions: dict[str, int],
    graph_mode: str,
    graph_modes: Sequence[str],
    notice: str | None = None,
    error: str | None = None,
    frames: Sequence[str] = (),
) -> str:
    """Everyone's state and controls; ``frames`` are front-channel logout URLs to load."""
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    told = f'<p class="notice" role="status">{escape(notice)}</p>' if notice else ""
    body = (
        "<h1>People</h1>"
        '<p class="lead">Change a person as an Entra administrator would, then watch Keyfax '
        'react. <a href="/">Emulator home</a></p>'
        f"{alert}{told}"
        + "".join(_person_form(p, sessions.get(p.oid, 0)) for p in people)
        + _graph_form(graph_mode, graph_modes)
        + '<form method="post" action="/_emulator/people"><div class="row">'
        '<button class="secondary" type="submit" name="action" value="reset">'
        "Reset everyone to the people file</button></div></form>" + front_channel_frames(frames)
    )
    return layout("People: Entra ID emulator", body, tenant_id, PAGE_CSS)
