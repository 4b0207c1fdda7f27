"""The emulator's demo people: loading and checking ``fixtures/entra_people.json``."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PEOPLE_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "entra_people.json"

# Fixed namespace for the generated group ids of a "group_count" person (stable across runs).
GROUP_NAMESPACE = uuid.UUID("6f1c2a7e-3b4d-5e6f-8a9b-0c1d2e3f4a5b")
MAX_GENERATED_GROUPS = 5000
ROLE_VALUE = re.compile(r"^[A-Za-z0-9._:-]{1,120}$")


class PeopleFileError(ValueError):
    """The people file is missing, not JSON, or describes a person badly."""


@dataclass(frozen=True)
class Person:
    """A demo user of the emulated tenant."""

    oid: str
    given_name: str
    family_name: str
    name: str
    upn: str
    email: str
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    assigned: bool = True
    description: str = ""
    enabled: bool = True  # Entra's accountEnabled


def generated_group_ids(count: int) -> tuple[str, ...]:
    """``count`` deterministic group object ids (uuid5 of a fixed namespace and the index)."""
    return tuple(str(uuid.uuid5(GROUP_NAMESPACE, f"group-{index}")) for index in range(count))


def load_people(path: str | os.PathLike[str] | None = None) -> list[Person]:
    """Read the people file (default ``<repo>/fixtures/entra_people.json``)."""
    source = Path(path) if path is not None else DEFAULT_PEOPLE_PATH
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PeopleFileError(f"cannot read the people file {source}: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PeopleFileError(f"the people file {source} is not valid JSON: {exc}") from exc
    return parse_people(data, str(source))


def parse_people(data: Any, source: str = "<people>") -> list[Person]:
    """Turn the decoded JSON document ``{"people": [...]}`` into checked ``Person`` objects."""
    if not isinstance(data, Mapping) or not isinstance(data.get("people"), list):
        raise PeopleFileError(f'{source}: expected an object with a "people" list')
    people = [_person(entry, f"{source}: people[{i}]") for i, entry in enumerate(data["people"])]
    if not people:
        raise PeopleFileError(f"{source}: the people list is empty")
    _check_unique(people, source)
    return people


def _person(entry: Any, where: str) -> Person:
    if not isinstance(entry, Mapping):
        raise PeopleFileError(f"{where}: expected an object")
    given_name = _text(entry, "given_name", where)
    family_name = _text(entry, "family_name", where)
    upn = _text(entry, "upn", where)
    if "@" not in upn:
        raise PeopleFileError(f"{where}: upn {upn!r} is not user@domain")
    assigned = entry.get("assigned", True)
    if not isinstance(assigned, bool):
        raise PeopleFileError(f"{where}: assigned must be true or false")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise PeopleFileError(f"{where}: enabled must be true or false")
    return Person(
        oid=_guid(entry.get("oid"), f"{where}.oid"),
        given_name=given_name,
        family_name=family_name,
        name=_text(entry, "name", where, default=f"{given_name} {family_name}"),
        upn=upn,
        email=_text(entry, "email", where, default=upn),
        roles=_roles(entry.get("roles", []), where),
        groups=_groups(entry, where),
        assigned=assigned,
        description=_text(entry, "description", where, default=""),
        enabled=enabled,
    )


def _text(entry: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if value is None:
        raise PeopleFileError(f"{where}: {key} is required")
    if not isinstance(value, str) or (not value.strip() and default != ""):
        raise PeopleFileError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def _guid(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise PeopleFileError(f"{where}: a GUID string is required")
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise PeopleFileError(f"{where}: {value!r} is not a GUID") from exc


def _roles(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PeopleFileError(f"{where}: roles must be a list of strings")
    for role in value:
        if not ROLE_VALUE.match(role):
            raise PeopleFileError(f"{where}: role value {role!r} is not a valid app-role value")
    return tuple(dict.fromkeys(value))


def _groups(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    listed = entry.get("groups", [])
    if not isinstance(listed, list):
        raise PeopleFileError(f"{where}: groups must be a list of group object ids")
    groups = [_guid(g, f"{where}.groups[{i}]") for i, g in enumerate(listed)]
    count = entry.get("group_count", 0)
    if (
        isinstance(count, bool)
        or not isinstance(count, int)
        or not 0 <= count <= MAX_GENERATED_GROUPS
    ):
        raise PeopleFileError(f"{where}: group_count must be an integer 0..{MAX_GENERATED_GROUPS}")
    groups.extend(generated_group_ids(count))
    return tuple(dict.fromkeys(groups))


def _check_unique(people: list[Person], source: str) -> None:
    for attribute in ("oid", "upn"):
        seen: set[str] = set()
        for person in people:
            value = getattr(person, attribute).lower()
            if value in seen:
                raise PeopleFileError(f"{source}: two people share the {attribute} {value!r}")
            seen.add(value)
