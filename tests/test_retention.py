"""Retention deletes old meetings with what members posted, and nothing newer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from handlers.context import HandlerContext
from handlers.retention import purge
from storage.db import Database
from storage.models import (
    ChannelMessage,
    Group,
    Meeting,
    Member,
    Platform,
    Poll,
    PollOption,
    ProcessedEvent,
    Submission,
    SubmissionKind,
    Vote,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


async def _meeting(db: Database, group_id: int, member_id: int, ended_days_ago: int) -> int:
    end = NOW - timedelta(days=ended_days_ago)
    async with db.session() as s:
        meeting = Meeting(group_id=group_id, starts_at=end - timedelta(hours=2), ends_at=end)
        s.add(meeting)
        await s.flush()
        s.add(
            Submission(
                meeting_id=meeting.id,
                member_id=member_id,
                kind=SubmissionKind.ROUND,
                text="Runde",
                source_platform=Platform.SLACK,
            )
        )
        poll = Poll(group_id=group_id, meeting_id=meeting.id, question="Arbeidsgrupper")
        s.add(poll)
        await s.flush()
        option = PollOption(poll_id=poll.id, position=1, label="Arealer")
        s.add(option)
        await s.flush()
        s.add(Vote(poll_id=poll.id, option_id=option.id, member_id=member_id))
        s.add(
            ChannelMessage(
                purpose="collection",
                subject_id=meeting.id,
                platform=Platform.SLACK,
                workspace_id="T1",
                channel_id="C1",
                message_ref=f"{meeting.id}.1",
            )
        )
        return meeting.id


async def _count(db: Database, model: type) -> int:
    async with db.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_purge_deletes_only_expired_meetings(db: Database) -> None:
    async with db.session() as s:
        kept_group = Group(name="Beholder alt")
        short = Group(name="Kort lagring", retention_days=30)
        s.add_all([kept_group, short])
        await s.flush()
        a = Member(group_id=short.id, first_name="Tove", last_name="Lien", organisation="Moss kommune")
        b = Member(group_id=kept_group.id, first_name="Arne", last_name="Dahl", organisation="Hamar kommune")
        s.add_all([a, b])
        await s.flush()
        ids = (short.id, kept_group.id, a.id, b.id)
        s.add(ProcessedEvent(platform=Platform.SLACK, event_id="old", created_at=NOW - timedelta(days=3)))
        s.add(ProcessedEvent(platform=Platform.SLACK, event_id="new", created_at=NOW - timedelta(hours=1)))
    short_id, kept_id, a_id, b_id = ids
    old = await _meeting(db, short_id, a_id, ended_days_ago=45)
    recent = await _meeting(db, short_id, a_id, ended_days_ago=5)
    ancient_kept = await _meeting(db, kept_id, b_id, ended_days_ago=900)

    report = await purge(HandlerContext(db=db), now=NOW, default_days=None)

    assert report.meetings_deleted == 1
    assert report.events_forgotten == 1
    async with db.session() as s:
        left = set((await s.execute(select(Meeting.id))).scalars())
        assert left == {recent, ancient_kept}
        assert old not in set((await s.execute(select(ChannelMessage.subject_id))).scalars())
    assert await _count(db, Submission) == 2
    assert await _count(db, Poll) == 2
    assert await _count(db, Vote) == 2
    assert await _count(db, ProcessedEvent) == 1

    # A default applies to groups without their own setting.
    again = await purge(HandlerContext(db=db), now=NOW, default_days=365)
    assert again.meetings_deleted == 1
    async with db.session() as s:
        assert set((await s.execute(select(Meeting.id))).scalars()) == {recent}
