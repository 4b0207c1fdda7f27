"""The emulator's demo people (fixtures/entra_people.json), looked up by what they are."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

PEOPLE_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "entra_people.json"


@cache
def _people() -> tuple[dict, ...]:
    return tuple(json.loads(PEOPLE_FILE.read_text())["people"])


def person(description: str) -> dict:
    """The demo person whose ``description`` is exactly ``description``."""
    for entry in _people():
        if entry["description"] == description:
            return entry
    raise LookupError(f"no demo person described as {description!r}")


def with_role(role: str) -> dict:
    return next(entry for entry in _people() if role in entry.get("roles", []))
