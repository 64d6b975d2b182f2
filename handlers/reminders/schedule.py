"""When reminders are due: pure functions of a deadline, the group's settings and `now`.

No database and no clock, so the rules (working-day shift, Norwegian public holidays, local time
and daylight saving) can be tested exhaustively and the dry run shows exactly what the pass does.

The rules:
- a deadline reminder goes out N days before the deadline (for each N in the group's offsets,
  default 3 and 1), at the group's reminder time (default 09:00) in the group's time zone;
- when that day is a Saturday, Sunday or Norwegian public holiday, it moves to the previous
  working day (the `holidays` package's Norway calendar, without counting every Sunday as one).
  Christmas Eve and New Year's Eve count as days off too: they are not public holidays in law,
  but the public sector's agreements give them off, and a 09:00 reminder on julaften is not
  what a secretariat would send;
- a reminder that would fall at or after the deadline is dropped;
- at `now`, the due deadline reminder is the latest one whose time has come (while the deadline is
  ahead); earlier ones not yet sent are *missed* and get skipped, so a member who was not reminded
  while the bot was down gets one message, not two;
- the "input before the meeting" reminder goes out the working day before the meeting starts;
- the secretariat's closing notice is due from the deadline until CLOSE_NOTICE_WINDOW after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from handlers.reminders.kinds import deadline_kind, summary_kind
from storage.zones import DEFAULT_ZONE, zone_or_default

DEFAULT_OFFSETS: tuple[int, ...] = (3, 1)
DEFAULT_TIME = time(9, 0)
OSLO = zone_or_default(DEFAULT_ZONE)
MAX_OFFSET_DAYS = 60
# How long after the deadline the secretariat's closing notice may still go out (for a bot that
# was down over the deadline). Later than that the notice is stale, and an old database brought
# under a new version must not flood the secretariat with notices about meetings long closed.
CLOSE_NOTICE_WINDOW = timedelta(days=3)
# The input reminder goes out this many days before the meeting (then moved to a working day).
INPUT_DAYS_BEFORE = 1


@dataclass(frozen=True, slots=True)
class ReminderRule:
    """A group's reminder settings, validated: offsets in days (largest first), local time, zone."""

    offsets: tuple[int, ...] = DEFAULT_OFFSETS
    at: time = DEFAULT_TIME
    zone: ZoneInfo = OSLO
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ScheduledReminder:
    """One deadline reminder: its kind, its offset and the UTC instant it is due."""

    kind: str
    summary_kind: str
    offset_days: int
    at: datetime


@dataclass(frozen=True, slots=True)
class DueDeadlineReminder:
    """What the deadline rule asks for at `now`: the reminder to send (if any), the ones missed."""

    due: ScheduledReminder | None
    missed: tuple[ScheduledReminder, ...]


def _parse_time(value: str | None) -> time:
    try:
        hours, minutes = (value or "").strip().replace(".", ":").split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        return DEFAULT_TIME


def _parse_offsets(value: object) -> tuple[int, ...]:
    """Whole days from 0 to MAX_OFFSET_DAYS, unique, largest first; junk falls back to the default.

    Stored as JSON, so a hand-edited row could hold anything; a bad value must not stop the pass.
    """
    if not isinstance(value, list | tuple):
        return DEFAULT_OFFSETS
    days: set[int] = set()
    for item in value:
        if isinstance(item, bool):
            continue
        if isinstance(item, int | float) and float(item).is_integer() and 0 <= item <= MAX_OFFSET_DAYS:
            days.add(int(item))
    return tuple(sorted(days, reverse=True))


def rule_from_settings(
    offsets: object, reminder_time: str | None, timezone: str | None, enabled: bool = True
) -> ReminderRule:
    """A rule from a group's stored settings (`Group.reminder_offsets`, `.reminder_time`, ...)."""
    return ReminderRule(
        _parse_offsets(offsets), _parse_time(reminder_time), zone_or_default(timezone), bool(enabled)
    )


@lru_cache(maxsize=64)
def _norway(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("NO", years=year)


# Days off that are not public holidays: julaften and nyttårsaften (month, day).
EXTRA_DAYS_OFF: frozenset[tuple[int, int]] = frozenset({(12, 24), (12, 31)})


def is_working_day(day: date) -> bool:
    """Monday to Friday, not a Norwegian public holiday (1. mai, 17. mai, Easter, Christmas …),
    and not Christmas Eve or New Year's Eve."""
    return day.weekday() < 5 and (day.month, day.day) not in EXTRA_DAYS_OFF and day not in _norway(day.year)


def previous_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the closest working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time in `zone`, correct on both sides of a DST change.

    A time that does not exist (skipped by spring-forward) is read with the offset before the
    change, i.e. lands one hour later on the wall clock; an ambiguous one takes the first.
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def deadline_reminders(deadline: datetime, rule: ReminderRule) -> list[ScheduledReminder]:
    """All deadline reminders for this deadline, earliest first.

    Two offsets that land on the same instant after the working-day shift (3 days before a
    Tuesday after Easter, and 1 day before it) become one: the one closer to the deadline.
    """
    if deadline.tzinfo is None:
        raise ValueError("deadline must be time-zone aware")
    local_deadline_day = deadline.astimezone(rule.zone).date()
    by_instant: dict[datetime, ScheduledReminder] = {}
    for offset in rule.offsets:
        day = previous_working_day(local_deadline_day - timedelta(days=offset))
        at = local_instant(day, rule.at, rule.zone)
        if at >= deadline:
            continue
        current = by_instant.get(at)
        if current is None or offset < current.offset_days:
            by_instant[at] = ScheduledReminder(deadline_kind(offset), summary_kind(offset), offset, at)
    return sorted(by_instant.values(), key=lambda r: r.at)


def due_deadline_reminder(
    reminders: Sequence[ScheduledReminder], deadline: datetime, now: datetime
) -> DueDeadlineReminder:
    """The reminder to send at `now` (the latest whose time has come) and the ones it replaces.

    Nothing is due once the deadline has passed: what is missing then goes to the secretariat.
    """
    if now >= deadline:
        return DueDeadlineReminder(None, ())
    passed = [r for r in reminders if r.at <= now]
    if not passed:
        return DueDeadlineReminder(None, ())
    return DueDeadlineReminder(passed[-1], tuple(passed[:-1]))


def input_reminder_at(meeting_start: datetime, rule: ReminderRule) -> datetime | None:
    """When to ask for written input to agenda items: the working day before the meeting, at the
    reminder time; None when that is not before the meeting starts."""
    start_day = meeting_start.astimezone(rule.zone).date()
    day = previous_working_day(start_day - timedelta(days=INPUT_DAYS_BEFORE))
    at = local_instant(day, rule.at, rule.zone)
    return at if at < meeting_start else None


def input_reminder_due(meeting_start: datetime, rule: ReminderRule, now: datetime) -> bool:
    at = input_reminder_at(meeting_start, rule)
    return at is not None and at <= now < meeting_start


def close_notice_due(deadline: datetime, now: datetime, window: timedelta = CLOSE_NOTICE_WINDOW) -> bool:
    """The secretariat's notice goes out once the deadline has passed, within `window`."""
    return deadline <= now < deadline + window
