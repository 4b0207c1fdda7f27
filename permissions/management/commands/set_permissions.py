"""Grant or revoke a user's Keyfax permissions, through the same lock as every other writer.

    manage.py set_permissions USERNAME --element admin_tool \
        --grant edit_scripts --revoke view_reports
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.sso_config import Element
from permissions import catalogue, services


class Command(BaseCommand):
    help = "Grant or revoke site-wide Keyfax permissions of one element for one user."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--element", required=True, choices=[e.value for e in Element])
        parser.add_argument("--grant", nargs="*", default=[], metavar="CODENAME")
        parser.add_argument("--revoke", nargs="*", default=[], metavar="CODENAME")

    def handle(self, *args, **options) -> None:
        element = Element(options["element"])
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"No user named {options['username']!r}.") from None
        try:
            change = services.change_permissions(
                user, element, grant=options["grant"], revoke=options["revoke"],
                via="management_command",
            )
        except services.LockedPermissionError as refusal:
            raise CommandError(str(refusal)) from None
        except ValueError as problem:
            valid = ", ".join(e.codename for e in catalogue.entries(element))
            raise CommandError(f"{problem}. {element.label} permissions: {valid}.") from None
        if change is None:
            self.stdout.write("Nothing to change.")
        else:
            self.stdout.write(
                f"{user.username} {element.value}: {', '.join(change['after']) or '(none)'}"
            )
