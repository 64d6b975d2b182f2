"""The end-to-end tests' own date logic, with the clock pinned to every weekday and to the
Christmas and Easter weeks: `make test` must pass on any day of the year.

The two-replica test once asked for "the 3-day reminder" and failed every Monday, when the 1-day
reminder moved from Sunday back to Friday and the two merged into one. Here the helpers it uses
read a pinned clock, the way they read the real one in CI.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from handlers.referat.deadline import collection_open, submission_deadline
from handlers.reminders.schedule import (
    deadline_reminders,
    due_deadline_reminder,
    is_working_day,
    rule_from_settings,
)
from storage.models import Group, Meeting, MeetingStatus
from tests.e2e.meeting_clock import OSLO, PASS_DELAY, first_reminder_pass, meeting_next_week


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# One ordinary week (Monday to Sunday), the weeks around Christmas and New Year, and the weeks
# around Easter 2027 (Easter Sunday is 28 March): each day is "today" once.
PINNED_DAYS = [
    *_days(date(2026, 11, 30), date(2026, 12, 6)),
    *_days(date(2026, 12, 14), date(2027, 1, 3)),
    *_days(date(2027, 3, 13), date(2027, 4, 4)),
]


def _group() -> Group:
    """A group with the defaults `oppsett` stores (column defaults apply only on insert)."""
    return Group(
        name="Faggruppe for klokker",
        timezone="Europe/Oslo",
        deadline_days=7,
        deadline_time="23:59",
        reminder_offsets=[3, 1],
        reminder_time="09:00",
        reminders_enabled=True,
    )


def test_the_pinned_days_cover_every_weekday() -> None:
    assert {d.weekday() for d in PINNED_DAYS} == set(range(7))


@pytest.mark.parametrize("today", PINNED_DAYS, ids=lambda d: f"{d:%a-%Y-%m-%d}")
@pytest.mark.parametrize("hour", [0, 11, 23])
def test_next_weeks_meeting_has_a_first_reminder_that_sends(today: date, hour: int) -> None:
    now_local = datetime.combine(today, time(hour, 30), tzinfo=OSLO)
    with time_machine.travel(now_local, tick=False):
        now = datetime.now(UTC)
        day = meeting_next_week()
        assert day == today + timedelta(days=7)
        meeting = Meeting(
            starts_at=datetime.combine(day, time(10), tzinfo=OSLO),
            ends_at=datetime.combine(day, time(12), tzinfo=OSLO),
            status=MeetingStatus.OPEN,
        )
        group = _group()
        deadline = submission_deadline(meeting, group)
        rule = rule_from_settings(
            group.reminder_offsets, group.reminder_time, group.timezone, group.reminders_enabled
        )
        at = first_reminder_pass(deadline, rule)

    # Collection is open now, and the pass the test runs lies between now and the deadline.
    assert collection_open(meeting, group, now)
    assert now < at < deadline
    # It falls on a working day at 09:05 local time, and the pass then has exactly that reminder
    # due, with nothing earlier missed: so it sends one reminder to each silent member.
    local = at.astimezone(OSLO)
    assert is_working_day(local.date()) and local.time() == time(9, 5)
    reminders = deadline_reminders(deadline, rule)
    due = due_deadline_reminder(reminders, deadline, at)
    assert due.due == reminders[0] and due.missed == ()
    assert due.due.at == at - PASS_DELAY


def test_a_monday_deadline_merges_its_reminders_into_one_on_friday() -> None:
    """The case that broke the suite: the meeting a week after a Monday has a Monday deadline."""
    with time_machine.travel(datetime(2026, 11, 30, 11, tzinfo=OSLO), tick=False):
        day = meeting_next_week()
    meeting = Meeting(
        starts_at=datetime.combine(day, time(10), tzinfo=OSLO),
        ends_at=datetime.combine(day, time(12), tzinfo=OSLO),
        status=MeetingStatus.OPEN,
    )
    group = _group()
    deadline = submission_deadline(meeting, group)
    assert deadline.date() == date(2026, 12, 14) and deadline.weekday() == 0
    rule = rule_from_settings([3, 1], "09:00", "Europe/Oslo")
    [only] = deadline_reminders(deadline, rule)
    assert only.offset_days == 1 and only.at.astimezone(OSLO).date() == date(2026, 12, 11)
    assert first_reminder_pass(deadline, rule) == only.at + PASS_DELAY
