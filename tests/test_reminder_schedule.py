"""When reminders are due: weekends, Norwegian holidays, daylight saving, missed reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.reminders.schedule import (
    ReminderRule,
    close_notice_due,
    deadline_reminders,
    due_deadline_reminder,
    input_reminder_at,
    input_reminder_due,
    is_working_day,
    local_instant,
    previous_working_day,
    rule_from_settings,
)

OSLO = ZoneInfo("Europe/Oslo")
DEFAULT = ReminderRule()


def oslo(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=OSLO)


def deadline_on(y: int, m: int, d: int) -> datetime:
    """The default deadline: 23:59 Oslo time on that day."""
    return oslo(y, m, d, 23, 59)


def schedule(deadline: datetime, rule: ReminderRule = DEFAULT) -> dict[str, datetime]:
    return {r.kind: r.at.astimezone(OSLO) for r in deadline_reminders(deadline, rule)}


def test_default_is_three_and_one_day_before_at_nine() -> None:
    # Deadline Friday 30 January 2026: Tuesday and Thursday at 09:00.
    assert schedule(deadline_on(2026, 1, 30)) == {
        "deadline-3d": oslo(2026, 1, 27, 9),
        "deadline-1d": oslo(2026, 1, 29, 9),
    }


def test_saturday_moves_to_friday() -> None:
    # Deadline Tuesday 27 January 2026: 3 days before is Saturday 24 → Friday 23 at 09:00.
    result = schedule(deadline_on(2026, 1, 27))
    assert result["deadline-3d"] == oslo(2026, 1, 23, 9)
    assert result["deadline-1d"] == oslo(2026, 1, 26, 9)


def test_two_reminders_on_the_same_friday_become_one() -> None:
    # Deadline Monday 2 February 2026: 3 days before is Friday; 1 day before is Sunday → Friday.
    # One message on Friday (the nearer one), not two at the same minute.
    reminders = deadline_reminders(deadline_on(2026, 2, 2), DEFAULT)
    assert [(r.kind, r.at.astimezone(OSLO)) for r in reminders] == [("deadline-1d", oslo(2026, 1, 30, 9))]


def test_easter_skips_maundy_thursday_to_easter_monday() -> None:
    # Deadline Thursday 9 April 2026: 3 days before is 2. påskedag (Monday 6 April); the days
    # before are Easter Sunday, Saturday, Langfredag and Skjærtorsdag → Wednesday 1 April.
    result = schedule(deadline_on(2026, 4, 9))
    assert result["deadline-3d"] == oslo(2026, 4, 1, 9)
    assert result["deadline-1d"] == oslo(2026, 4, 8, 9)


def test_constitution_day_is_not_a_working_day() -> None:
    # 17. mai 2028 is a Wednesday; deadline Thursday 18 May 2028.
    result = schedule(deadline_on(2028, 5, 18))
    assert result["deadline-1d"] == oslo(2028, 5, 16, 9)
    assert result["deadline-3d"] == oslo(2028, 5, 15, 9)


def test_ascension_and_whit_monday() -> None:
    assert not is_working_day(date(2026, 5, 14))  # Kristi himmelfartsdag
    assert not is_working_day(date(2026, 5, 25))  # 2. pinsedag
    assert not is_working_day(date(2026, 5, 1))  # Arbeidernes dag
    assert is_working_day(date(2026, 5, 13))


def test_christmas_skips_christmas_eve_too() -> None:
    # Deadline Tuesday 29 December 2026: 3 days before is 26 December (a Saturday and 2. juledag),
    # then 1. juledag and julaften → Wednesday 23 December.
    result = schedule(deadline_on(2026, 12, 29))
    assert result["deadline-3d"] == oslo(2026, 12, 23, 9)
    assert result["deadline-1d"] == oslo(2026, 12, 28, 9)
    assert previous_working_day(date(2027, 1, 1)) == date(2026, 12, 30)  # nyttårsaften off too


def test_spring_forward_keeps_nine_local() -> None:
    # Summer time starts Sunday 29 March 2026. Friday 27 March 09:00 is 08:00 UTC (CET);
    # Monday 30 March 09:00 is 07:00 UTC (CEST).
    reminders = {r.kind: r.at for r in deadline_reminders(deadline_on(2026, 3, 31), DEFAULT)}
    assert reminders["deadline-3d"] == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert reminders["deadline-1d"] == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_fall_back_keeps_nine_local() -> None:
    # Summer time ends Sunday 25 October 2026.
    reminders = {r.kind: r.at for r in deadline_reminders(deadline_on(2026, 10, 27), DEFAULT)}
    assert reminders["deadline-3d"] == datetime(2026, 10, 23, 7, 0, tzinfo=UTC)
    assert reminders["deadline-1d"] == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_local_instant_in_the_spring_gap_is_not_lost() -> None:
    moment = local_instant(date(2026, 3, 29), time(2, 30), OSLO)
    assert moment == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_group_settings_time_zone_and_offsets() -> None:
    rule = rule_from_settings([7, 3, 1], "08:30", "Europe/London")
    deadline = datetime(2026, 1, 30, 23, 59, tzinfo=ZoneInfo("Europe/London"))
    result = {r.kind: r.at for r in deadline_reminders(deadline, rule)}
    assert result == {
        "deadline-7d": datetime(2026, 1, 23, 8, 30, tzinfo=UTC),
        "deadline-3d": datetime(2026, 1, 27, 8, 30, tzinfo=UTC),
        "deadline-1d": datetime(2026, 1, 29, 8, 30, tzinfo=UTC),
    }


@pytest.mark.parametrize(
    ("offsets", "expected"),
    [
        ([3, 1], (3, 1)),
        ([1, 3, 3], (3, 1)),
        ([3, "x", -1, 1.0, True, None, 400], (3, 1)),
        ("3,1", (3, 1)),
        (None, (3, 1)),
        ([], ()),
    ],
)
def test_offsets_are_validated(offsets: object, expected: tuple[int, ...]) -> None:
    assert rule_from_settings(offsets, "09:00", "Europe/Oslo").offsets == expected


def test_bad_time_and_zone_fall_back() -> None:
    rule = rule_from_settings([3, 1], "nine", "Mars/Olympus")
    assert rule.at == time(9, 0)
    assert rule.zone.key == "Europe/Oslo"


def test_reminder_at_or_after_the_deadline_is_dropped() -> None:
    # A deadline at 08:00: "0 days before at 09:00" would come after it.
    rule = rule_from_settings([1, 0], "09:00", "Europe/Oslo")
    deadline = oslo(2026, 1, 29, 8, 0)
    assert [r.kind for r in deadline_reminders(deadline, rule)] == ["deadline-1d"]


def test_due_is_the_latest_passed_and_earlier_ones_are_missed() -> None:
    deadline = deadline_on(2026, 1, 30)
    reminders = deadline_reminders(deadline, DEFAULT)
    before = due_deadline_reminder(reminders, deadline, oslo(2026, 1, 27, 8, 59))
    assert before.due is None and before.missed == ()
    first = due_deadline_reminder(reminders, deadline, oslo(2026, 1, 27, 9, 0))
    assert first.due is not None and first.due.kind == "deadline-3d" and first.missed == ()
    later = due_deadline_reminder(reminders, deadline, oslo(2026, 1, 29, 15, 0))
    assert later.due is not None and later.due.kind == "deadline-1d"
    assert [m.kind for m in later.missed] == ["deadline-3d"]
    after = due_deadline_reminder(reminders, deadline, deadline)
    assert after.due is None


def test_input_reminder_the_working_day_before_the_meeting() -> None:
    # A meeting on Monday at 10:00: the input reminder goes out on Friday at 09:00.
    start = oslo(2026, 2, 2, 10)
    assert input_reminder_at(start, DEFAULT) == oslo(2026, 1, 30, 9)
    assert not input_reminder_due(start, DEFAULT, oslo(2026, 1, 30, 8, 59))
    assert input_reminder_due(start, DEFAULT, oslo(2026, 1, 31, 12))
    assert not input_reminder_due(start, DEFAULT, start)  # once the meeting starts, too late


def test_close_notice_window() -> None:
    deadline = deadline_on(2026, 1, 30)
    assert not close_notice_due(deadline, deadline - timedelta(minutes=1))
    assert close_notice_due(deadline, deadline)
    assert close_notice_due(deadline, deadline + timedelta(days=2))
    assert not close_notice_due(deadline, deadline + timedelta(days=30))


def test_every_reminder_in_a_year_lands_on_a_working_day_at_nine() -> None:
    start = date(2026, 1, 1)
    for n in range(400):
        deadline = datetime.combine(start + timedelta(days=n), time(23, 59), tzinfo=OSLO)
        for reminder in deadline_reminders(deadline, DEFAULT):
            local = reminder.at.astimezone(OSLO)
            assert local.time() == time(9, 0)
            assert is_working_day(local.date())
            assert reminder.at < deadline
