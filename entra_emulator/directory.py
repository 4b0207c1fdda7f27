"""The tenant's people as they are now: the people file's, changed at run time.

An administrator can disable a person (Entra ``accountEnabled``), remove their assignment
to the app, or replace their app roles; sign-in, ID tokens and Graph read from here.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable

from .people import ROLE_VALUE, Person


class UnknownPerson(LookupError):
    """No person has that object id or UPN."""


def check_roles(roles: Iterable[object]) -> tuple[str, ...]:
    """App-role values, checked and de-duplicated in order; ValueError names a bad one."""
    checked: list[str] = []
    for role in roles:
        if not isinstance(role, str) or not ROLE_VALUE.match(role):
            raise ValueError(f"{role!r} is not an app-role value (letters, digits, . _ : -)")
        checked.append(role)
    return tuple(dict.fromkeys(checked))


class Directory:
    """Thread-safe, ordered map of the people; each change replaces a frozen ``Person``."""

    def __init__(self, people: Iterable[Person]) -> None:
        self._lock = threading.Lock()
        self._initial = tuple(people)
        self._people: dict[str, Person] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the people file's state."""
        with self._lock:
            self._people = {p.oid.lower(): p for p in self._initial}

    def all(self) -> tuple[Person, ...]:
        with self._lock:
            return tuple(self._people.values())

    def get(self, oid_or_upn: str | None) -> Person | None:
        key = (oid_or_upn or "").strip().lower()
        if not key:
            return None
        with self._lock:
            found = self._people.get(key)
            if found is None and "@" in key:
                found = next((p for p in self._people.values() if p.upn.lower() == key), None)
            return found

    def update(
        self,
        oid_or_upn: str,
        *,
        enabled: bool | None = None,
        assigned: bool | None = None,
        roles: Iterable[object] | None = None,
    ) -> Person:
        """Change what is given; the person as they are now. Raises UnknownPerson."""
        new_roles = check_roles(roles) if roles is not None else None
        current = self.get(oid_or_upn)
        if current is None:
            raise UnknownPerson(oid_or_upn)
        with self._lock:
            person = self._people[current.oid.lower()]
            changes: dict[str, object] = {}
            if enabled is not None:
                changes["enabled"] = enabled
            if assigned is not None:
                changes["assigned"] = assigned
            if new_roles is not None:
                changes["roles"] = new_roles
            person = dataclasses.replace(person, **changes)  # type: ignore[arg-type]
            self._people[person.oid.lower()] = person
            return person
