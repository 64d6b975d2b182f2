"""Loading one meeting with everything its referat draft needs, in a fixed handful of queries.

The draft of a 500-member group must not cost 500 round trips: every collection is fetched with
one query over the meeting (or the group), and rows are joined in Python through `members`.
Relationships on the returned objects are never touched, because an async session cannot
lazy-load them once it is closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    AgendaItem,
    Attendance,
    FollowUp,
    FollowUpStatus,
    Group,
    Meeting,
    Member,
    PlatformIdentity,
    Poll,
    PollOption,
    PollStatus,
    ReferatFinal,
    Submission,
    Vote,
)
from storage.repositories.groups import groups_named
from storage.repositories.reminders import unreachable_members
from storage.zones import zone_or_default

_T = TypeVar("_T")


@dataclass(frozen=True)
class ReferatData:
    """A meeting and its surroundings, as plain loaded rows in the order the referat uses."""

    meeting: Meeting
    group: Group
    agenda: tuple[AgendaItem, ...]  # order of discussion (position)
    submissions: tuple[Submission, ...]  # posting order
    attendance: tuple[Attendance, ...]  # registration order
    follow_ups: tuple[FollowUp, ...]  # creation order
    polls: tuple[Poll, ...]  # work-group polls shown in the referat, oldest first
    options: tuple[PollOption, ...]  # by poll, then position
    votes: tuple[Vote, ...]  # sign-up order
    members: dict[int, Member] = field(default_factory=dict)  # every member of the group, by id
    previous_meeting: Meeting | None = None
    next_meeting: Meeting | None = None
    # Follow-ups of the group's earlier meetings still open at this meeting (or closed in it),
    # each with the meeting it came from, oldest first.
    carried: tuple[tuple[FollowUp, Meeting], ...] = ()
    final_frozen_at: datetime | None = None  # when `referat endelig` froze this meeting's referat
    # Members the meeting's reminders found on no platform: member id → the reason the reminder
    # log recorded (handlers/reminders/report.py's "<code>:<about>").
    unreachable: dict[int, str] = field(default_factory=dict)
    linked: frozenset[int] = frozenset()  # members with a chat identity on some platform

    @property
    def roster(self) -> list[Member]:
        """The invited roster (not people who only joined by posting), in import order."""
        return [m for m in self.members.values() if m.on_roster]


async def _all(session: AsyncSession, query: Select[_T]) -> tuple[_T, ...]:
    return tuple((await session.execute(query)).scalars())


async def _neighbours(session: AsyncSession, meeting: Meeting) -> tuple[Meeting | None, Meeting | None]:
    """The group's meetings just before and just after this one by start time (id breaks ties)."""
    same_group = Meeting.group_id == meeting.group_id
    before = or_(
        Meeting.starts_at < meeting.starts_at,
        and_(Meeting.starts_at == meeting.starts_at, Meeting.id < meeting.id),
    )
    after = or_(
        Meeting.starts_at > meeting.starts_at,
        and_(Meeting.starts_at == meeting.starts_at, Meeting.id > meeting.id),
    )
    prev_q = select(Meeting).where(same_group, before).order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    next_q = select(Meeting).where(same_group, after).order_by(Meeting.starts_at, Meeting.id)
    previous = (await session.execute(prev_q.limit(1))).scalar_one_or_none()
    following = (await session.execute(next_q.limit(1))).scalar_one_or_none()
    return previous, following


async def _work_group_polls(
    session: AsyncSession, meeting: Meeting, previous: Meeting | None, following: Meeting | None
) -> list[Poll]:
    """The meeting's own work-group polls; failing that, the group's latest unattached one
    created since the previous meeting (and before the next one), as posted from chat. Only
    posted ones: a preview nobody confirmed, or a withdrawn poll, is no part of the minutes."""
    posted = Poll.status == PollStatus.POSTED
    own = select(Poll).where(Poll.meeting_id == meeting.id, Poll.is_work_groups.is_(True), posted)
    polls = list((await session.execute(own.order_by(Poll.created_at, Poll.id))).scalars())
    if polls:
        return polls
    loose = select(Poll).where(
        Poll.group_id == meeting.group_id, Poll.meeting_id.is_(None), Poll.is_work_groups.is_(True), posted
    )
    if previous is not None:
        loose = loose.where(Poll.created_at > previous.ends_at)
    if following is not None:
        loose = loose.where(Poll.created_at < following.starts_at)
    latest = (await session.execute(loose.order_by(Poll.created_at.desc(), Poll.id.desc()).limit(1))).scalar()
    return [latest] if latest is not None else []


async def load_referat(session: AsyncSession, meeting_id: int) -> ReferatData | None:
    """Everything the draft shows, or None when the meeting does not exist (about a dozen queries,
    however many members, posts and votes there are)."""
    frozen = (
        select(func.min(ReferatFinal.frozen_at))
        .where(ReferatFinal.meeting_id == Meeting.id)
        .correlate(Meeting)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(Meeting, Group, frozen)
            .join(Group, Group.id == Meeting.group_id)
            .where(Meeting.id == meeting_id)
        )
    ).first()
    if row is None:
        return None
    meeting, group, frozen_at = row
    if frozen_at is not None and frozen_at.tzinfo is None:  # SQLite keeps no zone in an aggregate
        frozen_at = frozen_at.replace(tzinfo=UTC)

    agenda_t = await _all(
        session,
        select(AgendaItem)
        .where(AgendaItem.meeting_id == meeting.id)
        .order_by(AgendaItem.position, AgendaItem.id),
    )
    # With each member, whether a chat identity links them (for the unreachable in the draft box).
    has_identity = exists().where(PlatformIdentity.member_id == Member.id)
    member_rows = (
        await session.execute(
            select(Member, has_identity).where(Member.group_id == group.id).order_by(Member.id)
        )
    ).all()
    members_t = tuple(member for member, _ in member_rows)
    linked = frozenset(member.id for member, identified in member_rows if identified)
    submissions_t = await _all(
        session,
        select(Submission)
        .where(Submission.meeting_id == meeting.id)
        .order_by(Submission.created_at, Submission.id),
    )
    attendance_t = await _all(
        session, select(Attendance).where(Attendance.meeting_id == meeting.id).order_by(Attendance.id)
    )
    follow_ups_t = await _all(
        session,
        select(FollowUp).where(FollowUp.meeting_id == meeting.id).order_by(FollowUp.created_at, FollowUp.id),
    )

    previous, following = await _neighbours(session, meeting)
    carried = await carried_follow_ups(session, meeting)
    polls = await _work_group_polls(session, meeting, previous, following)
    options: tuple[PollOption, ...] = ()
    votes: tuple[Vote, ...] = ()
    if polls:
        poll_ids = [p.id for p in polls]
        options = await _all(
            session,
            select(PollOption)
            .where(PollOption.poll_id.in_(poll_ids))
            .order_by(PollOption.poll_id, PollOption.position, PollOption.id),
        )
        votes = await _all(
            session, select(Vote).where(Vote.poll_id.in_(poll_ids)).order_by(Vote.created_at, Vote.id)
        )
    return ReferatData(
        meeting=meeting,
        group=group,
        agenda=agenda_t,
        submissions=submissions_t,
        attendance=attendance_t,
        follow_ups=follow_ups_t,
        polls=tuple(polls),
        options=options,
        votes=votes,
        members={m.id: m for m in members_t},
        previous_meeting=previous,
        next_meeting=following,
        carried=carried,
        final_frozen_at=frozen_at,
        unreachable=await unreachable_members(session, meeting.id),
        linked=linked,
    )


async def carried_follow_ups(session: AsyncSession, meeting: Meeting) -> tuple[tuple[FollowUp, Meeting], ...]:
    """Follow-ups from the group's meetings before `meeting` that were still open when it was
    held: open now, closed in this meeting (shown as done), or closed in a later one."""
    source = aliased(Meeting)
    closed_in = aliased(Meeting)
    query = (
        select(FollowUp, source)
        .join(source, source.id == FollowUp.meeting_id)
        .outerjoin(closed_in, closed_in.id == FollowUp.closed_in_meeting_id)
        .where(
            source.group_id == meeting.group_id,
            source.starts_at < meeting.starts_at,
            or_(
                FollowUp.status == FollowUpStatus.OPEN,
                FollowUp.closed_in_meeting_id == meeting.id,
                closed_in.starts_at > meeting.starts_at,
            ),
        )
        .order_by(source.starts_at, FollowUp.created_at, FollowUp.id)
    )
    return tuple((f, m) for f, m in (await session.execute(query)).all())


async def latest_meeting_id(session: AsyncSession, group_name: str | None) -> int | None:
    """The most recent meeting by start time, in one group (matched case-insensitively) or any."""
    query = select(Meeting.id).order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(1)
    if group_name is not None:
        # Names are unique per workspace/tenant only: the latest of any group of that name.
        named = await groups_named(session, group_name)
        if not named:
            return None
        query = query.where(Meeting.group_id.in_([group.id for group in named]))
    return (await session.execute(query)).scalar()


async def meeting_id_by_date(session: AsyncSession, group_id: int, day: date) -> int | None:
    """The group's (first) meeting that starts on `day` in the group's own time zone, since
    `referat 20.01.2026` means the local date, not the UTC one."""
    tz_name = (await session.execute(select(Group.timezone).where(Group.id == group_id))).scalar()
    if tz_name is None:
        return None
    zone = zone_or_default(tz_name)
    start = datetime.combine(day, time(0, 0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
    query = (
        select(Meeting.id)
        .where(Meeting.group_id == group_id, Meeting.starts_at >= start, Meeting.starts_at < end)
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(1)
    )
    return (await session.execute(query)).scalar()
