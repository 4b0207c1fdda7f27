"""``manage.py entra_person``: change a demo person in the running Entra emulator, as an Entra
administrator would (disable, unassign, replace app roles, sign out of Microsoft)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from django.core.management.base import BaseCommand, CommandError

from entra_emulator.server import is_loopback

TIMEOUT_SECONDS = 15.0


class Command(BaseCommand):
    help = (
        "Change a person (object id or UPN) in the running development Entra emulator over "
        "HTTP, then watch Keyfax react; with no change, show the person as the emulator "
        "holds them. The emulator's /_emulator/people page does the same in a browser."
    )
    # A client of the emulator over HTTP: it needs neither the database nor the site's checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("person", help="the person's object id or UPN")
        enabled = parser.add_mutually_exclusive_group()
        enabled.add_argument("--disable", dest="enabled", action="store_false", default=None,
                             help="disable the account (Entra accountEnabled false)")
        enabled.add_argument("--enable", dest="enabled", action="store_true",
                             help="enable the account again")
        assigned = parser.add_mutually_exclusive_group()
        assigned.add_argument("--unassign", dest="assigned", action="store_false", default=None,
                              help="remove the person's assignment to the app")
        assigned.add_argument("--assign", dest="assigned", action="store_true",
                              help="assign the person to the app again")
        parser.add_argument("--roles", default=None, metavar="R1,R2",
                            help="replace the person's app roles ('' removes them all)")
        parser.add_argument("--sign-out", action="store_true",
                            help="sign the person out of Microsoft (front-channel logout)")
        parser.add_argument("--emulator", default="http://127.0.0.1:8001",
                            help="the emulator's URL (default http://127.0.0.1:8001)")

    def handle(self, *args: Any, **options: Any) -> None:
        base = options["emulator"].rstrip("/")
        parts = urlsplit(base)
        if parts.scheme != "http" or not is_loopback(parts.hostname or ""):
            raise CommandError("--emulator must be the emulator's http://127.0.0.1:PORT URL.")
        change: dict[str, Any] = {}
        for key in ("enabled", "assigned"):
            if options[key] is not None:
                change[key] = options[key]
        if options["roles"] is not None:
            change["roles"] = [r.strip() for r in options["roles"].split(",") if r.strip()]
        if options["sign_out"]:
            change["sign_out"] = True
        url = f"{base}/_emulator/people/{quote(options['person'].strip(), safe='@')}"
        try:
            if change:
                answer = requests.post(url, json=change, timeout=TIMEOUT_SECONDS)
            else:
                answer = requests.get(url, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise CommandError(f"Cannot reach the emulator at {base}: {exc}") from exc
        try:
            state = answer.json()
        except ValueError:
            state = {}
        if answer.status_code != 200:
            detail = state.get("error_description") or answer.text[:200]
            raise CommandError(f"The emulator refused ({answer.status_code}): {detail}")
        for line in describe(state):
            self.stdout.write(line)


def describe(state: dict[str, Any]) -> list[str]:
    """The person's state as the emulator answered it, in a few lines."""
    roles = ", ".join(state.get("roles") or []) or "none"
    lines = [
        f"{state.get('displayName')} ({state.get('userPrincipalName')}, object id "
        f"{state.get('id')})",
        f"  account {'enabled' if state.get('accountEnabled') else 'disabled'}, "
        f"{'assigned to' if state.get('assigned') else 'not assigned to'} the app, "
        f"app roles: {roles}, {len(state.get('sessions') or [])} Microsoft session(s)",
    ]
    signed_out = state.get("signed_out")
    if signed_out is not None:
        lines.append(f"  signed out of {len(signed_out['sessions'])} Microsoft session(s)")
        for call in signed_out.get("front_channel", []):
            outcome = call.get("status") or call.get("error")
            lines.append(f"  front-channel logout {call['url'].split('?', 1)[0]}: {outcome}")
    return lines
