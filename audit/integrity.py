"""Walk the hash chain and say whether it is intact, and if not, where it first breaks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from audit import chain, selectors


@dataclass(frozen=True)
class ChainReport:
    count: int = 0
    first: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    anchor: str = "the start of the log"
    broken_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain(chunk_size: int = 2000) -> ChainReport:
    """Recompute every hash, oldest first, in one snapshot; stop at the first broken link."""
    with transaction.atomic():
        return _walk(selectors.chain_values(chunk_size))


def _walk(rows: Any) -> ChainReport:
    count, first, previous, anchor = 0, None, None, ""
    for row in rows:
        if first is None:
            first = row
            anchor = _anchor(row)
            if not anchor:
                return _broken(count, first, row, (
                    f"the oldest event follows hash {row['prev_hash'][:16]}…, which is neither "
                    "the start of the log nor a recorded prune checkpoint: events were removed"
                ))
        elif row["prev_hash"] != previous["hash"]:
            return _broken(count, first, row, (
                f"its link does not match event #{previous['id']}: events were removed, "
                "reordered or changed"
            ))
        if chain.seal(row) != row["hash"]:
            return _broken(count, first, row, "its content does not match its hash: it was changed")
        count, previous = count + 1, row
    return ChainReport(count=count, first=first, last=previous, anchor=anchor or "empty")


def _anchor(row: dict[str, Any]) -> str:
    """Where a chain may start: the genesis hash, or the last hash a prune recorded."""
    if row["prev_hash"] == chain.GENESIS:
        return "the start of the log"
    for checkpoint in selectors.prune_checkpoints(row["id"]):
        if checkpoint.get("last_hash") == row["prev_hash"] and _before(checkpoint, row):
            return f"prune checkpoint #{checkpoint['id']}"
    return ""


def _before(checkpoint: dict[str, Any], row: dict[str, Any]) -> bool:
    last_id = checkpoint.get("last_id")
    return isinstance(last_id, int) and last_id < row["id"]


def _broken(count: int, first: Any, row: dict[str, Any], problem: str) -> ChainReport:
    return ChainReport(count=count, first=first, broken_id=row["id"], problem=problem, last=row)
