"""Django's ``flush``, allowed past the audit table's TRUNCATE guard on PostgreSQL.

``flush`` is Django's explicit, confirmed wipe of the whole database (the test runner uses
it between transactional tests). Every other TRUNCATE of the audit table is refused.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections


class Command(DjangoFlush):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            return super().handle(**options)
        with connection.cursor() as cursor:
            cursor.execute("SET keyfax.audit_flush = 'on'")
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET keyfax.audit_flush")
