"""Make any input storable: the same values read back from SQLite and PostgreSQL as hashed."""

from __future__ import annotations

import ipaddress
import json
import math
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder


def ip_or_none(raw: object) -> str | None:
    """A normalised IP address (as PostgreSQL's ``inet`` prints it), or ``None``."""
    try:
        return str(ipaddress.ip_address(str(raw).strip())) if raw else None
    except ValueError:
        return None


def text(value: object, limit: int) -> str:
    """Printable-safe text: no NUL (PostgreSQL refuses it), no lone surrogates, cut to size."""
    cleaned = str(value).replace("\x00", "\ufffd")
    return cleaned.encode("utf-8", "replace").decode("utf-8")[:limit]


def clean_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON that reads back from any database exactly as it was hashed."""
    plain = json.loads(json.dumps(detail, cls=_LenientEncoder))
    cleaned = _clean_json(plain)
    return cleaned if isinstance(cleaned, dict) else {"value": cleaned}


class _LenientEncoder(DjangoJSONEncoder):
    """Django's encoder (dates, UUIDs, decimals), and ``str()`` for anything else."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _clean_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {text(key, 200): _clean_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean_json(item) for item in value]
    if isinstance(value, str):
        return text(value, 4000)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) >= 1e15:
            return int(value)  # jsonb would print it without a decimal point
    return value
