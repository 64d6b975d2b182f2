"""Dates and times as Norwegians type them in chat, parsed without a clock.

`20.01.2026`, `5.1.2026`, `20.01.26`, `20.01` (the year is inferred from a reference date the
caller passes in), `10:00`, `10.00`, `10:00-12:00` and `10.00 – 12.00`. ISO `2026-01-20` is
accepted too, for people pasting from calendars.

Every parser returns a value or raises `DateTimeError`, whose `key` is one of the chat message
keys (`bad_date`, `bad_time`, `bad_time_range`) so the command parser can hand it on unchanged.
"""

from __future__ import annotations

import re
from datetime import date, time

# Only ASCII digits: `\d` would also match Arabic-Indic or fullwidth digits.
_DATE = re.compile(r"(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})(?:\.(?P<y>[0-9]{2}|[0-9]{4}))?\.?")
_ISO_DATE = re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})")
_TIME = re.compile(r"(?P<h>[0-9]{1,2})[:.](?P<m>[0-9]{2})")
# Hyphen-minus, hyphen, non-breaking hyphen, figure dash, en dash, em dash, minus sign.
DASHES = "-‐‑‒–—−"
_DASH = re.escape(DASHES)
_RANGE = re.compile(rf"(?P<a>[^\s{_DASH}]+)\s*[{_DASH}]\s*(?P<b>[^\s{_DASH}]+)")
# In a range a bare hour is clear enough: Norwegians write "kl. 10-12".
_RANGE_TIME = r"[0-9]{1,2}(?:[:.][0-9]{2})?"
_LEADING_RANGE = re.compile(
    rf"\s*(?P<a>{_RANGE_TIME})\s*[{_DASH}]\s*(?P<b>{_RANGE_TIME})(?=\s|$|[,;]|\.(?![0-9]))"
)
_LOOKS_LIKE_DATE = re.compile(r"[0-9]{1,4}[.\-][0-9]{1,2}([.\-][0-9]{0,4})?\.?")

MIN_YEAR = 1900
MAX_YEAR = 2199


class DateTimeError(ValueError):
    """A date or time that could not be read. `key` is the chat message key; `reason` says why
    in a word (for logs and tests): format, no_such_day, no_year, year_range, end_before_start."""

    def __init__(self, key: str, value: str, reason: str = "format") -> None:
        super().__init__(f"{key}: {value!r} ({reason})")
        self.key = key
        self.value = value
        self.reason = reason


def looks_like_date(text: str) -> bool:
    """True for anything shaped like a date (`31.02`, `5.1.`, `2026-01-20`), valid or not.

    Lets the command parser tell "a date with a typo" (an error) from ordinary words (text).
    """
    return _LOOKS_LIKE_DATE.fullmatch(text.strip()) is not None


def looks_like_time(text: str) -> bool:
    """True for `HH:MM`/`HH.MM` shapes, valid or not (`25:00` looks like a time)."""
    return _TIME.fullmatch(text.strip()) is not None


def _build_date(year: int, month: int, day: int, value: str) -> date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateTimeError("bad_date", value, "year_range")
    if not 1 <= month <= 12:
        raise DateTimeError("bad_date", value, "no_such_day")
    try:
        return date(year, month, day)
    except ValueError:
        raise DateTimeError("bad_date", value, "no_such_day") from None


def _next_occurrence(month: int, day: int, today: date, value: str) -> date:
    """The first `day.month` on or after `today`; 29.02 waits for the next leap year."""
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise DateTimeError("bad_date", value, "no_such_day")
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue  # 29.02 in a common year, or 31.04 (then no year fits)
        if candidate >= today:
            return candidate
    raise DateTimeError("bad_date", value, "no_such_day")


def parse_date(text: str, *, today: date | None = None) -> date:
    """`DD.MM.YYYY`, `D.M.YYYY`, `DD.MM.YY` (20YY), `DD.MM` and ISO `YYYY-MM-DD`.

    `DD.MM` means its next occurrence on or after `today`; without `today` it is refused
    (reason `no_year`) rather than guessed from a hidden clock.
    """
    value = text.strip()
    match = _DATE.fullmatch(value)
    if match:
        day, month = int(match["d"]), int(match["m"])
        year_text = match["y"]
        if year_text is None:
            if today is None:
                raise DateTimeError("bad_date", value, "no_year")
            return _next_occurrence(month, day, today, value)
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        return _build_date(year, month, day, value)
    match = _ISO_DATE.fullmatch(value)
    if match:
        return _build_date(int(match["y"]), int(match["m"]), int(match["d"]), value)
    raise DateTimeError("bad_date", value, "format")


def parse_time(text: str) -> time:
    """`HH:MM` or `HH.MM` (one-digit hours too), 00:00 to 23:59."""
    value = text.strip()
    match = _TIME.fullmatch(value)
    if not match:
        raise DateTimeError("bad_time", value, "format")
    hour, minute = int(match["h"]), int(match["m"])
    if hour > 23 or minute > 59:
        raise DateTimeError("bad_time", value, "no_such_time")
    return time(hour, minute)


def _range_time(text: str) -> time:
    """One end of a range: `HH:MM`, `HH.MM` or a bare hour `HH`."""
    if text.isascii() and text.isdigit() and len(text) <= 2:
        if int(text) > 23:
            raise DateTimeError("bad_time", text, "no_such_time")
        return time(int(text))
    return parse_time(text)


def parse_time_range(text: str) -> tuple[time, time]:
    """`HH:MM-HH:MM`, with any dash (en dash too) and optional spaces around it; `10-12` too.

    The end must be after the start: a meeting does not run past midnight.
    """
    value = text.strip()
    match = _RANGE.fullmatch(value)
    if not match or not all(re.fullmatch(_RANGE_TIME, match[part]) for part in "ab"):
        raise DateTimeError("bad_time_range", value, "format")
    start, end = _range_time(match["a"]), _range_time(match["b"])
    if end <= start:
        raise DateTimeError("bad_time_range", value, "end_before_start")
    return start, end


def take_time_range(text: str) -> tuple[tuple[time, time], str] | None:
    """A time range at the start of `text`, and the text after it; None when it starts otherwise.

    The range may hold spaces (`10:00 - 12:00`), so a caller working on words cannot find it;
    this works on the raw text instead. Raises DateTimeError when the shape is right but the
    times are not (`25:00-26:00`, `12:00-10:00`).
    """
    match = _LEADING_RANGE.match(text)
    if not match:
        return None
    start, end = _range_time(match["a"]), _range_time(match["b"])
    if end <= start:
        raise DateTimeError("bad_time_range", match.group(0).strip(), "end_before_start")
    return (start, end), text[match.end() :]
