"""Meetings across a year for the issue-11 end-to-end tests (shared by Slack and Teams): one
held a week ago, the next in two days and one a month later, with a follow-up from the first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from storage.db import Database
from storage.models import FollowUp, Meeting, MeetingStatus

OSLO = ZoneInfo("Europe/Oslo")


@dataclass(frozen=True)
class Year:
    held: int
    next: int
    later: int
    follow_up: int


async def add_year(db: Database, group_id: int, held_id: int, owner_member_id: int) -> Year:
    """Close the seeded (past) meeting, add the next two, and give the owner a follow-up."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    async with db.session() as session:
        held = await session.get(Meeting, held_id)
        assert held is not None
        held.status = MeetingStatus.CLOSED
        nxt = Meeting(
            group_id=group_id, starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=2)
        )
        later = Meeting(
            group_id=group_id, starts_at=now + timedelta(days=30), ends_at=now + timedelta(days=30, hours=2)
        )
        session.add_all([nxt, later])
        await session.flush()
        follow_up = FollowUp(
            meeting_id=held.id,
            text="Sende høringssvar om vannforskriften",
            owner_member_id=owner_member_id,
            due_date=date.today() + timedelta(days=1),
        )
        session.add(follow_up)
        await session.flush()
        return Year(held.id, nxt.id, later.id, follow_up.id)


async def meeting_day(db: Database, meeting_id: int) -> str:
    """The meeting's date as typed in a command (DD.MM.YYYY, Oslo time)."""
    async with db.session() as session:
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        return meeting.starts_at.astimezone(OSLO).strftime("%d.%m.%Y")


async def move_to_today(db: Database, meeting_id: int) -> None:
    """Let the meeting be under way now (the meeting that approves the previous referat)."""
    now = datetime.now(UTC)
    async with db.session() as session:
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        meeting.starts_at, meeting.ends_at = now - timedelta(minutes=10), now + timedelta(hours=2)
