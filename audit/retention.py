"""Retention: export the oldest events, remove them, and leave a checkpoint in the chain.

The only way events leave the table. The export is written and fsync'd before anything is
removed; the removal, the checkpoint event and the PostgreSQL permission for it
(``SET LOCAL keyfax.audit_prune``) share one transaction, so a failure loses nothing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from audit import chain, selectors
from audit.models import Action, ActorKind, AuditEvent
from audit.serialise import as_json_line
from audit.services import record


class PruneError(Exception):
    """Nothing was removed; the message says why."""


@dataclass(frozen=True)
class Export:
    path: Path
    lines: int
    sha256: str


def plan(older_than_days: int) -> selectors.PruneRange | None:
    if older_than_days < 1:
        raise PruneError(f"--older-than must be 1 or more days, got {older_than_days}")
    return selectors.prune_range(timezone.now() - timedelta(days=older_than_days))


def check_export_path(raw: str) -> Path:
    """A new file in an existing, writable directory: an earlier export is never overwritten."""
    path = Path(raw).expanduser().absolute()
    if path.exists():
        raise PruneError(f"{path} already exists; choose a new file for the export")
    if not path.parent.is_dir():
        raise PruneError(f"{path.parent} is not a directory")
    if not os.access(path.parent, os.W_OK):
        raise PruneError(f"{path.parent} is not writable")
    return path


def export(span: selectors.PruneRange, path: Path) -> Export:
    """Write the events as JSON lines (the SIEM shape), fsync the file and its directory."""
    digest, lines = hashlib.sha256(), 0
    try:
        with transaction.atomic(), open(path, "xb") as out:  # one snapshot, streamed
            for event in selectors.events_between(span.first_id, span.last_id):
                line = (as_json_line(event) + "\n").encode("utf-8")
                out.write(line)
                digest.update(line)
                lines += 1
            out.flush()
            os.fsync(out.fileno())
        _fsync_directory(path.parent)
    except OSError as error:
        path.unlink(missing_ok=True)
        raise PruneError(f"could not write the export {path}: {error}") from error
    if lines != span.count:
        path.unlink(missing_ok=True)
        raise PruneError("the events changed while exporting; nothing was removed")
    return Export(path=path, lines=lines, sha256=digest.hexdigest())


def prune(span: selectors.PruneRange, days: int, exported: Export | None) -> AuditEvent:
    """Remove the planned events and write the ``audit_pruned`` checkpoint, all or nothing."""
    with transaction.atomic():
        chain.lock_chain_head()  # no append, and no other prune, until this commits
        if selectors.oldest_event_id() != span.first_id:
            raise PruneError("the oldest events changed since the plan (another prune?)")
        last_hash = AuditEvent.objects.values_list("hash", flat=True).get(pk=span.last_id)
        checkpoint = record(
            Action.AUDIT_PRUNED, actor_kind=ActorKind.SYSTEM, subject="audit log",
            detail=_checkpoint_detail(span, days, last_hash, exported),
        )
        removed = _delete(span)
        if removed != span.count:
            raise PruneError(f"expected to remove {span.count} events, found {removed}")
    return checkpoint


def _checkpoint_detail(
    span: selectors.PruneRange, days: int, last_hash: str, exported: Export | None
) -> dict[str, object]:
    return {
        "pruned": span.count,
        "first_id": span.first_id,
        "last_id": span.last_id,
        "last_hash": last_hash,
        "older_than_days": days,
        "cutoff": chain.utc_timestamp(span.cutoff),
        "export": None if exported is None else {
            "path": str(exported.path), "lines": exported.lines, "sha256": exported.sha256,
        },
    }


def _delete(span: selectors.PruneRange) -> int:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL keyfax.audit_prune = 'on'")
        cursor.execute(
            f"DELETE FROM {table} WHERE id >= %s AND id <= %s",  # noqa: S608 - quoted name
            [span.first_id, span.last_id],
        )
        removed = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL keyfax.audit_prune = 'off'")
    return removed


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
