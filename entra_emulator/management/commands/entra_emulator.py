"""``manage.py entra_emulator``: run the development Entra ID emulator (DEBUG only)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from entra_emulator import EntraEmulator, PeopleFileError, load_people
from entra_emulator.server import is_loopback


class Command(BaseCommand):
    help = (
        "Run a development imitation of Microsoft Entra ID for ENTRA_TENANT_ID, with an "
        "account picker of demo people. Refuses to run unless DEBUG is on."
    )
    # The emulator stands apart from the site: it checks what it needs itself, so that an
    # unfinished site configuration does not stop it from starting.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=8001, help="port (default 8001)")
        parser.add_argument(
            "--host", default="127.0.0.1", help="loopback host to bind (default 127.0.0.1)"
        )
        parser.add_argument(
            "--people", default=None, help="people JSON file (default fixtures/entra_people.json)"
        )
        parser.add_argument(
            "--front-channel-logout-url",
            action="append",
            default=[],
            metavar="URL",
            help="the app's registered front-channel logout URL, loaded with ?sid=...&iss=... "
            "when a person signs out of Microsoft (repeatable; default: the signed-in site's "
            "origin + /oidc/logout/front-channel/)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "The Entra ID emulator is a development tool: it refuses to run when DEBUG "
                "is False."
            )
        host, port = options["host"], options["port"]
        if not is_loopback(host):
            raise CommandError(
                f"--host must be a loopback address (127.0.0.1 or localhost), not {host!r}."
            )
        if not 0 <= port <= 65535:
            raise CommandError(f"--port must be 0..65535, not {port}.")
        tenant_id, client_id, client_secret = _entra_settings()
        try:
            people = load_people(options["people"])
        except PeopleFileError as exc:
            raise CommandError(str(exc)) from exc
        try:
            emulator = EntraEmulator(
                tenant_id=tenant_id,
                client_id=client_id,
                client_secret=client_secret,
                people=people,
                host=host,
                port=port,
                front_channel_logout_urls=options["front_channel_logout_url"],
            )
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot start the emulator: {exc}") from exc
        self.stdout.write(
            f"Entra ID emulator for tenant {tenant_id}: authority (ENTRA_AUTHORITY and "
            f"ENTRA_GRAPH_URL) {emulator.base_url}, {len(people)} demo people. Disable, "
            f"unassign, change roles or sign out people at {emulator.base_url}/_emulator/people. "
            "Ctrl-C to stop."
        )
        try:
            emulator.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Entra ID emulator stopped.")


def _entra_settings() -> tuple[str, str, str]:
    """Tenant, client id and secret from settings (the secret exactly as the site uses it)."""
    names = ("ENTRA_TENANT_ID", "ENTRA_CLIENT_ID", "ENTRA_CLIENT_SECRET")
    values = [str(getattr(settings, name, "") or "") for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value.strip()]
    if missing:
        raise CommandError(f"Set {', '.join(missing)} (for example in .env) to run the emulator.")
    return values[0].strip(), values[1].strip(), values[2]
