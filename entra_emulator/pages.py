"""The emulator's HTML pages: account picker, sign-in error, signed out, index.

Self-contained (inline CSS, no scripts, no external resources); every value is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .people import Person
from .web import Trace

CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f2f2f2;color:#1b1b1b;font:15px/1.45 "Segoe UI",system-ui,sans-serif}
main{max-width:460px;margin:40px auto;padding:32px 36px;background:#fff;
  box-shadow:0 2px 6px rgba(0,0,0,.2)}
.brand{margin:0 0 16px;font-size:13px;font-weight:600;color:#505050;letter-spacing:.02em}
h1{margin:0 0 4px;font-size:24px;font-weight:600}
.lead{margin:0 0 20px;color:#404040}
ul{list-style:none;margin:0;padding:0}
li{margin:0 0 8px}
button{font:inherit;color:inherit;cursor:pointer}
.account{display:flex;gap:12px;width:100%;padding:10px 12px;text-align:left;background:#fff;
  border:1px solid #c8c8c8;border-radius:2px}
.account:hover{background:#f0f6fc;border-color:#0067b8}
button:focus-visible{outline:3px solid #0067b8;outline-offset:2px}
.avatar{flex:none;width:40px;height:40px;border-radius:50%;background:#0067b8;color:#fff;
  display:flex;align-items:center;justify-content:center;font-weight:600}
.who{display:block;min-width:0}
.who span{display:block;overflow-wrap:anywhere}
.name{font-weight:600}
.upn,.desc{color:#404040;font-size:14px}
.tags{margin-top:4px}
.tag{display:inline-block;margin:2px 4px 0 0;padding:0 6px;border:1px solid #8a8886;
  border-radius:10px;font-size:12px;color:#323130}
.tag.warn{border-color:#a4262c;color:#a4262c}
.tag.ok{border-color:#107c10;color:#0b5a0b}
.actions{margin-top:20px;display:flex;justify-content:flex-end}
.secondary{padding:6px 20px;background:#e1e1e1;border:1px solid #c8c8c8}
.secondary:hover{background:#d0d0d0}
.error{margin:0 0 16px;padding:8px 12px;border-left:4px solid #a4262c;background:#fde7e9}
.details{margin-top:20px;font-size:13px;color:#404040}
.details dt{font-weight:600}
.details dd{margin:0 0 6px;overflow-wrap:anywhere}
footer{max-width:460px;margin:0 auto 40px;font-size:12px;color:#505050;text-align:center}
"""

BANNER = "Microsoft Entra ID: development emulator"


def layout(title: str, body: str, tenant_id: str, head: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{head}'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<main><p class="brand">{escape(BANNER)}</p>{body}</main>'
        f"<footer>Development emulator for tenant {escape(tenant_id)}: not Microsoft Entra ID. "
        "Never use it in production.</footer></body></html>\n"
    )


def _initials(person: Person) -> str:
    return (person.given_name[:1] + person.family_name[:1]).upper() or "?"


def _tags(person: Person, signed_in: bool) -> str:
    tags = [f'<span class="tag">{escape(role)}</span>' for role in person.roles]
    if not person.roles:
        tags.append('<span class="tag">No app roles</span>')
    if not person.enabled:
        tags.append('<span class="tag warn">Account disabled</span>')
    if not person.assigned:
        tags.append('<span class="tag warn">Not assigned to this app</span>')
    if len(person.groups) > 200:
        tags.append(f'<span class="tag">{len(person.groups)} groups (overage)</span>')
    if signed_in:
        tags.append('<span class="tag ok">Signed in</span>')
    return "".join(tags)


def _account_button(person: Person, signed_in: bool) -> str:
    return (
        f'<li><button class="account" type="submit" name="account" value="{escape(person.oid)}">'
        f'<span class="avatar" aria-hidden="true">{escape(_initials(person))}</span>'
        f'<span class="who"><span class="name">{escape(person.name)}</span>'
        f'<span class="upn">{escape(person.upn)}</span>'
        f'<span class="desc">{escape(person.description)}</span>'
        f'<span class="tags">{_tags(person, signed_in)}</span></span></button></li>'
    )


def picker_page(
    *,
    people: Sequence[Person],
    action: str,
    app_name: str,
    tenant_id: str,
    error: str | None = None,
    signed_in_oid: str | None = None,
) -> str:
    """The "Pick an account" page: one submit button per person, plus Cancel."""
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    accounts = "".join(_account_button(p, p.oid == signed_in_oid) for p in people)
    body = (
        '<h1 id="title">Pick an account</h1>'
        f'<p class="lead">to continue to {escape(app_name)}</p>{alert}'
        f'<form method="post" action="{escape(action)}" aria-labelledby="title">'
        f'<ul aria-label="Demo accounts">{accounts}</ul>'
        '<div class="actions"><button class="secondary" type="submit" name="account" '
        'value="cancel">Cancel</button></div></form>'
    )
    return layout("Sign in to your account", body, tenant_id)


def error_page(*, code: int, message: str, trace: Trace, tenant_id: str) -> str:
    """Entra's "Sorry, but we're having trouble signing you in" page."""
    details = "".join(
        f"<dt>{escape(term)}</dt><dd>{escape(value)}</dd>"
        for term, value in (
            ("Request Id", trace.trace_id),
            ("Correlation Id", trace.correlation_id),
            ("Timestamp", trace.timestamp),
            ("Message", f"AADSTS{code}: {message}"),
        )
    )
    body = (
        "<h1>Sign in</h1>"
        '<p class="lead">Sorry, but we\u2019re having trouble signing you in.</p>'
        f'<p class="error" role="alert">AADSTS{code}: {escape(message)}</p>'
        f'<h2 class="brand">Troubleshooting details</h2><dl class="details">{details}</dl>'
    )
    return layout("Sign in to your account", body, tenant_id)


def front_channel_frames(frames: Sequence[str]) -> str:
    """Hidden iframes loading each app's front-channel logout URL, as Entra does."""
    return "".join(
        f'<iframe src="{escape(url)}" hidden width="0" height="0" '
        'title="Front-channel logout"></iframe>'
        for url in frames
    )


def signed_out_page(
    *, tenant_id: str, frames: Sequence[str] = (), continue_url: str | None = None
) -> str:
    """Signed out: front-channel logout iframes, then back to the app if it asked."""
    onward = ""
    head = ""
    if continue_url:
        head = f'<meta http-equiv="refresh" content="1;url={escape(continue_url)}">'
        onward = f'<p><a href="{escape(continue_url)}">Continue</a></p>'
    body = (
        "<h1>You signed out of your account</h1>"
        '<p class="lead">It\u2019s a good idea to close all browser windows.</p>'
        f"{onward}{front_channel_frames(frames)}"
    )
    return layout("Sign out", body, tenant_id, head)


def index_page(*, tenant_id: str, discovery_url: str, base_url: str) -> str:
    body = (
        "<h1>Entra ID emulator</h1>"
        f'<p class="lead">Serving one tenant: {escape(tenant_id)}.</p>'
        '<dl class="details"><dt>Authority (ENTRA_AUTHORITY and ENTRA_GRAPH_URL)</dt>'
        f"<dd>{escape(base_url)}</dd><dt>Discovery document</dt>"
        f"<dd>{escape(discovery_url)}</dd></dl>"
        '<p><a href="/_emulator/people">People: disable, unassign, change app roles or sign '
        "out of Microsoft</a></p>"
    )
    return layout("Entra ID emulator", body, tenant_id)
