"""The one time-zone fallback every layer uses (storage/zones.py)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from storage.zones import DEFAULT_ZONE, zone_or_default


def test_a_valid_zone_is_used() -> None:
    assert zone_or_default("America/New_York") == ZoneInfo("America/New_York")


@pytest.mark.parametrize("name", [None, "", "Europe/Osloo", "../etc/passwd", "Not a zone"])
def test_a_missing_or_bad_zone_falls_back_to_oslo(name: str | None) -> None:
    assert zone_or_default(name) == ZoneInfo(DEFAULT_ZONE) == ZoneInfo("Europe/Oslo")


def test_the_configured_default_comes_before_oslo() -> None:
    assert zone_or_default("Mars/Base", "UTC") == ZoneInfo("UTC")
    assert zone_or_default("Mars/Base", "Moon/Base") == ZoneInfo("Europe/Oslo")
