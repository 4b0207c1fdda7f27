"""What audit shows but does not own, told to it by the apps above.

Audit is the bottom layer: it cannot import ``accounts`` to learn what the solution elements
are called or how the SSO settings read. ``accounts`` tells it once, at start-up
(``AccountsConfig.ready``), through the two functions below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_element_labels: dict[str, str] = {}
_settings_summary: Callable[[], dict[str, Any]] = dict


def describe_elements(labels: dict[str, str]) -> None:
    """The elements audit events may name, as ``{value: label}``."""
    _element_labels.clear()
    _element_labels.update(labels)


def element_labels() -> dict[str, str]:
    return dict(_element_labels)


def summarise_settings_with(summary: Callable[[], dict[str, Any]]) -> None:
    """The function whose result the ``settings_seen`` event records (never secrets)."""
    global _settings_summary
    _settings_summary = summary


def settings_summary() -> dict[str, Any]:
    return _settings_summary()
