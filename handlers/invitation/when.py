"""The meeting's date and time span as invitations write them.

"Tid: 16.01.2025, kl 09:00-12:30", "tirsdag 20. januar 2026 kl. 10.00-12.00", "20.01.2026,
10:00–12:00", "kl 10-12" on the next line. Numeric dates go through `handlers.dates`.
"""

from __future__ import annotations

import re
from datetime import date, time
from functools import lru_cache

from babel.dates import get_month_names

from handlers.dates import DASHES, DateTimeError, parse_date, parse_time_range, take_time_range

_NUMERIC = re.compile(r"(?<![0-9.])([0-9]{1,2}\.[0-9]{1,2}\.(?:[0-9]{4}|[0-9]{2}))(?![0-9])")
_ISO = re.compile(r"(?<![0-9])([0-9]{4}-[0-9]{2}-[0-9]{2})(?![0-9])")
_DASH = re.escape(DASHES)
_KL = re.compile(r"\bkl(?:okka)?\.?\s*", re.IGNORECASE)
_CLOCK_RANGE = re.compile(rf"[0-9]{{1,2}}[:.][0-9]{{2}}\s*[{_DASH}]\s*[0-9]{{1,2}}[:.][0-9]{{2}}")


@lru_cache(maxsize=1)
def _months() -> dict[str, int]:
    names: dict[str, int] = {}
    for locale in ("nb", "nn", "en"):
        for number, name in get_month_names("wide", locale=locale).items():
            names[str(name).casefold()] = number
    return names


@lru_cache(maxsize=1)
def _long_date() -> re.Pattern[str]:
    months = "|".join(re.escape(m) for m in sorted(_months(), key=len, reverse=True))
    return re.compile(rf"(?<![0-9])([0-9]{{1,2}})\.?\s+({months})\s+([0-9]{{4}})(?![0-9])", re.IGNORECASE)


class BadValue(ValueError):
    """A date or time with the right shape that does not exist; `text` is what was written."""

    def __init__(self, key: str, text: str) -> None:
        super().__init__(text)
        self.key = key
        self.text = text


def find_date(text: str) -> tuple[date, str] | None:
    """The first date in the text and the text it was read from. Raises BadValue for 31.02.2026."""
    candidates: list[tuple[int, str, date | None]] = []
    for match in _long_date().finditer(text):
        day, month, year = int(match[1]), _months()[match[2].casefold()], int(match[3])
        try:
            candidates.append((match.start(), match.group(0), date(year, month, day)))
        except ValueError:
            candidates.append((match.start(), match.group(0), None))
    for pattern in (_NUMERIC, _ISO):
        for match in pattern.finditer(text):
            try:
                candidates.append((match.start(), match.group(1), parse_date(match.group(1))))
            except DateTimeError:
                candidates.append((match.start(), match.group(1), None))
    if not candidates:
        return None
    _, written, found = min(candidates, key=lambda c: c[0])
    if found is None:
        raise BadValue("bad_date", written)
    return found, written


def without_dates(text: str) -> str:
    """The text with its dates blanked out, so "16.01.2025" is not read as a time."""
    for pattern in (_long_date(), _NUMERIC, _ISO):
        text = pattern.sub(" ", text)
    return text


def find_time_range(text: str) -> tuple[time, time] | None:
    """ "kl 09:00-12:30", "kl. 10-12", "10:00–12:00" anywhere in the text. Raises BadValue."""
    text = without_dates(text)
    try:
        for match in _KL.finditer(text):
            taken = take_time_range(text[match.end() :])
            if taken is not None:
                return taken[0]
        clock = _CLOCK_RANGE.search(text)
        if clock is not None:
            return parse_time_range(clock.group(0))
    except DateTimeError as exc:
        raise BadValue("bad_time", exc.value) from None
    return None
