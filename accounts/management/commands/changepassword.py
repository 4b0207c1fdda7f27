"""Django's ``changepassword``, through the account door: never for an Entra-linked or SSO
account, and on the record like every other password change."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth.management.commands import changepassword
from django.core.management.base import CommandError
from django.db import transaction

from accounts import services as accounts
from accounts.models import User

COMMAND = accounts.Actor(via="management_command")


class Command(changepassword.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"] or getpass.getuser()
        user = User.objects.filter(username=username).first()
        if user is not None:
            try:
                accounts.authorize_password(COMMAND, user)
            except accounts.AccountRefused as refusal:
                raise CommandError(str(refusal)) from None
        with transaction.atomic():  # the password and its audit event commit together
            super().handle(*args, **options)
            user.refresh_from_db()
            accounts.record_change(user, COMMAND, {"password": "reset"})
