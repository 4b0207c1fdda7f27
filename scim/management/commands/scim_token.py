"""``manage.py scim_token create NAME`` / ``revoke NAME`` / ``list``: the bearer tokens Entra's
provisioning service presents at ``/scim/v2/``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scim import tokens
from scim.models import ScimToken


class Command(BaseCommand):
    help = ("Create (prints the token once, alone on its last line), revoke or list the SCIM "
            "bearer tokens for Entra ID's provisioning service.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "revoke", "list"])
        parser.add_argument("name", nargs="?", default="")

    def handle(self, *args: Any, action: str, name: str, **options: Any) -> None:
        if action == "list":
            for token in ScimToken.objects.all():
                state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else \
                    f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at \
                    else "never used"
                self.stdout.write(f"{token.name}\tcreated {token.created_at:%Y-%m-%d}\t{state}")
            return
        if not name:
            raise CommandError(f"Name the token: manage.py scim_token {action} NAME")
        try:
            if action == "create":
                token = tokens.create(name)
            else:
                tokens.revoke(name)
        except tokens.TokenError as error:
            raise CommandError(str(error)) from None
        if action == "create":
            self.stdout.write(
                f"SCIM token {name!r} created. Paste it into Entra ID (Provisioning → Admin "
                "Credentials → Secret Token) now: it is stored hashed and never shown again.")
            self.stdout.write(token)
        else:
            self.stdout.write(f"SCIM token {name!r} revoked: requests presenting it now get 401.")
