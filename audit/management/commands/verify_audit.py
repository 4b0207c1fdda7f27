"""``manage.py verify_audit``: prove the audit chain is intact, or name its first break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.chain import utc_timestamp
from audit.integrity import ChainReport, verify_chain


class Command(BaseCommand):
    help = "Walk the audit log's hash chain; exit non-zero at the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size", type=int, default=2000,
            help="Events read per round trip (memory stays bounded). Default 2000.",
        )

    def handle(self, *args: Any, chunk_size: int, **options: Any) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be 1 or more")
        report = verify_chain(chunk_size=chunk_size)
        if not report.ok:
            raise CommandError(_failure(report))
        self.stdout.write(self.style.SUCCESS(_summary(report)))


def _summary(report: ChainReport) -> str:
    if report.count == 0:
        return "Audit chain OK: the log is empty."
    first, last = report.first, report.last
    return (
        f"Audit chain OK: {report.count} event{'' if report.count == 1 else 's'}, "
        f"#{first['id']} "
        f"({utc_timestamp(first['created_at'])}) to #{last['id']} "
        f"({utc_timestamp(last['created_at'])}), anchored at {report.anchor}; "
        f"head hash {last['hash']}"
    )


def _failure(report: ChainReport) -> str:
    row = report.last
    return (
        f"Audit chain BROKEN at event #{report.broken_id} ({utc_timestamp(row['created_at'])}, "
        f"{row['action']}): {report.problem}. {report.count} events before it verified."
    )
