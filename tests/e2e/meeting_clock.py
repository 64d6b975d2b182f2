"""Dates the end-to-end tests derive from today's clock, in one place.

A test that reads today's date must hold on every day of the year: the reminder schedule moves
reminders off weekends and Norwegian holidays, and two offsets can then land on the same working
day and merge (a Monday deadline moves the 1-day reminder from Sunday back to the Friday of the
3-day one). `tests/test_meeting_clock.py` runs these helpers with the clock pinned to each weekday
and to the Christmas and Easter weeks.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.reminders.schedule import ReminderRule, deadline_reminders

OSLO = ZoneInfo("Europe/Oslo")
# How long after a reminder's scheduled instant the tests run the pass.
PASS_DELAY = timedelta(minutes=5)


def meeting_next_week(now: datetime | None = None) -> date:
    """A day one week ahead, so a meeting then collects submissions now and its reminders are ahead."""
    current = (now or datetime.now(OSLO)).astimezone(OSLO)
    return (current + timedelta(days=7)).date()


def first_reminder_pass(deadline: datetime, rule: ReminderRule) -> datetime:
    """When to run the pass that sends the first deadline reminder: its instant plus PASS_DELAY.

    The first reminder is taken whatever its offset, since offsets may have merged."""
    reminders = deadline_reminders(deadline, rule)
    if not reminders:
        raise AssertionError(f"no deadline reminder is scheduled before {deadline.isoformat()}")
    return reminders[0].at + PASS_DELAY
