"""The one time-zone fallback: a group's (or a setting's) zone name → a ZoneInfo, never an error.

A zone name comes from the database or the configuration; a misspelt one must not fail a command,
a reminder pass or a draft, so it falls back (to the given default, then to Oslo, the product's
home zone). Lives in storage because storage/repositories/referat.py needs it and storage never
imports handlers.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Europe/Oslo"


@cache
def zone_or_default(name: str | None, default: str = DEFAULT_ZONE) -> ZoneInfo:
    """`name` as a ZoneInfo; an empty, unknown or malformed name gives `default` (then Oslo)."""
    for candidate in (name, default):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo(DEFAULT_ZONE)
