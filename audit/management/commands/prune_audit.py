"""``manage.py prune_audit --older-than DAYS [--export PATH]``: retention, with a checkpoint."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit import retention


class Command(BaseCommand):
    help = (
        "Remove audit events older than DAYS, after exporting them (JSON lines, fsync'd) when "
        "--export is given; a checkpoint event keeps the remaining chain verifiable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS",
                            help="Remove events older than this many days (1 or more).")
        parser.add_argument("--export", metavar="PATH",
                            help="Write the removed events here first; must be a new file.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Say what would be removed, change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        days, dry_run = options["older_than"], options["dry_run"]
        try:
            path = retention.check_export_path(options["export"]) if options["export"] else None
            span = retention.plan(days)
            if span is None:
                self.stdout.write(f"Nothing to prune: no events older than {days} days.")
                return
            summary = f"{span.count} events (#{span.first_id} to #{span.last_id})"
            if dry_run:
                self.stdout.write(f"Would remove {summary}. Nothing changed.")
                return
            exported = retention.export(span, path) if path else None
            checkpoint = retention.prune(span, days, exported)
        except retention.PruneError as error:
            raise CommandError(f"{error}. Nothing was removed.") from error
        where = f"; exported to {exported.path} (sha256 {exported.sha256})" if exported else ""
        self.stdout.write(self.style.SUCCESS(
            f"Removed {summary}{where}; checkpoint event #{checkpoint.pk}."
        ))
