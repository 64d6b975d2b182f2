"""When collection of round-table entries closes for a meeting.

Kept pure (no database, no clock) so the reminder scheduler, the command handlers and the
referat draft all agree on the same instant.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.models import Group, Meeting, MeetingStatus
from storage.zones import zone_or_default

DEFAULT_DEADLINE_TIME = time(23, 59)


def group_zone(group: Group) -> ZoneInfo:
    """The group's time zone; a misspelt zone falls back to Oslo rather than failing a command."""
    return zone_or_default(group.timezone)


def _parse_hhmm(value: str | None) -> time:
    try:
        hours, minutes = (value or "").strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        return DEFAULT_DEADLINE_TIME


def submission_deadline(meeting: Meeting, group: Group) -> datetime:
    """The override if the secretariat moved it; else N days after the meeting ends, at the
    group's deadline time in the group's time zone (default: 7 days, 23:59 Europe/Oslo).

    Counted in local calendar days, so a deadline across a DST change stays at 23:59 local.
    """
    zone = group_zone(group)
    if meeting.deadline_override is not None:
        return meeting.deadline_override.astimezone(zone)
    days = group.deadline_days if group.deadline_days is not None else 7
    end_day = meeting.ends_at.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(end_day, _parse_hhmm(group.deadline_time), tzinfo=zone)


def collection_open(meeting: Meeting, group: Group, now: datetime) -> bool:
    """Submissions are accepted until the meeting is closed or its deadline has passed."""
    if meeting.status == MeetingStatus.CLOSED:
        return False
    return now < submission_deadline(meeting, group)
