"""Meetings and their agenda items.

The agenda is kept in the order of discussion: `position` is a float, so an item can be placed
between two others (`mote sak 11 ... etter 2`) without renumbering, while `number` keeps the
invitation's numbering.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import AgendaItem, AgendaKind, Meeting, MeetingStatus

DeadlineOf = Callable[[Meeting], datetime]

_MIN_GAP = 1e-6


class AgendaItemExists(Exception):
    """An item with this number is already on the agenda."""


class NoSuchAgendaItem(Exception):
    """`etter <nr>` named an item that is not on the agenda."""


async def get_meeting(session: AsyncSession, meeting_id: int) -> Meeting | None:
    return await session.get(Meeting, meeting_id)


async def create_meeting(
    session: AsyncSession,
    group_id: int,
    starts_at: datetime,
    ends_at: datetime,
    *,
    place: str = "Teams",
    title: str = "",
    status: MeetingStatus = MeetingStatus.OPEN,
    previous_meeting_date: date | None = None,
) -> Meeting:
    meeting = Meeting(
        group_id=group_id,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        title=title,
        status=status,
        previous_meeting_date=previous_meeting_date,
    )
    session.add(meeting)
    await session.flush()
    return meeting


async def meetings_of(session: AsyncSession, group_id: int) -> list[Meeting]:
    """All of a group's meetings, earliest first."""
    stmt = select(Meeting).where(Meeting.group_id == group_id).order_by(Meeting.starts_at, Meeting.id)
    return list((await session.execute(stmt)).scalars())


async def not_closed(session: AsyncSession, group_id: int) -> list[Meeting]:
    """The group's meetings not closed by the secretariat, earliest start first: the only ones
    that can take submissions (the deadline decides among them)."""
    stmt = (
        select(Meeting)
        .where(Meeting.group_id == group_id, Meeting.status != MeetingStatus.CLOSED)
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list((await session.execute(stmt)).scalars())


async def cached_not_closed(db: Database, group_id: int) -> tuple[Meeting, ...]:
    """`not_closed` through the read cache (detached, read-only copies). A write that depends on
    it must check the meeting again in its own transaction: another replica may have closed it."""

    async def load() -> tuple[Meeting, ...]:
        async with db.session() as session:
            return tuple(await not_closed(session, group_id))

    meetings = await db.cache.get_or_load(("meetings_not_closed", group_id), load)
    return tuple(meetings)


def pick_current(meetings: Sequence[Meeting], now: datetime, deadline_of: DeadlineOf) -> Meeting | None:
    """Of not-closed meetings in start order, the first still collecting: see `current_meeting`."""
    for meeting in meetings:
        if meeting.status != MeetingStatus.CLOSED and deadline_of(meeting) > now:
            return meeting
    return None


async def collecting_meetings(
    session: AsyncSession, group_id: int, now: datetime, deadline_of: DeadlineOf
) -> list[Meeting]:
    """Meetings that take submissions now (not closed, deadline ahead), earliest start first."""
    return [m for m in await not_closed(session, group_id) if deadline_of(m) > now]


async def current_meeting(
    session: AsyncSession, group_id: int, now: datetime, deadline_of: DeadlineOf
) -> Meeting | None:
    """The meeting submissions go to: of those still collecting, the one that started first
    (the one whose deadline comes first), so a later meeting created early does not steal
    the round table of the meeting just held."""
    return pick_current(await not_closed(session, group_id), now, deadline_of)


async def latest_meeting(
    session: AsyncSession, group_id: int, *, before: datetime | None = None
) -> Meeting | None:
    """The most recent meeting by start time (optionally starting before a moment)."""
    stmt = select(Meeting).where(Meeting.group_id == group_id)
    if before is not None:
        stmt = stmt.where(Meeting.starts_at < before)
    stmt = stmt.order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def next_meeting(session: AsyncSession, group_id: int, now: datetime) -> Meeting | None:
    """The first meeting not yet over and not closed: where an agenda or attendance belongs."""
    stmt = (
        select(Meeting)
        .where(Meeting.group_id == group_id, Meeting.ends_at > now, Meeting.status != MeetingStatus.CLOSED)
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def _local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time(0, 0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)
    return start, end


async def meeting_on_date(session: AsyncSession, group_id: int, day: date, timezone: str) -> Meeting | None:
    """The meeting that starts on this local date (the first, should there be two)."""
    start, end = _local_day_bounds(day, timezone)
    stmt = (
        select(Meeting)
        .where(Meeting.group_id == group_id, Meeting.starts_at >= start, Meeting.starts_at < end)
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def revoke_links(session: AsyncSession, meeting_id: int) -> int | None:
    """Raise the meeting's link generation, so every draft link made before stops working.
    Returns the new generation, or None when there is no such meeting."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        return None
    meeting.link_generation = (meeting.link_generation or 0) + 1
    await session.flush()
    return meeting.link_generation


async def agenda_items(session: AsyncSession, meeting_id: int) -> list[AgendaItem]:
    """The agenda in the order of discussion."""
    stmt = (
        select(AgendaItem)
        .where(AgendaItem.meeting_id == meeting_id)
        .order_by(AgendaItem.position, AgendaItem.id)
    )
    return list((await session.execute(stmt)).scalars())


async def item_by_number(session: AsyncSession, meeting_id: int, number: int) -> AgendaItem | None:
    stmt = select(AgendaItem).where(AgendaItem.meeting_id == meeting_id, AgendaItem.number == number)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _renumber(items: list[AgendaItem]) -> None:
    for index, item in enumerate(items, start=1):
        item.position = float(index)


async def add_agenda_item(
    session: AsyncSession,
    meeting_id: int,
    number: int,
    title: str,
    *,
    after: int | None = None,
    kind: AgendaKind = AgendaKind.OTHER,
    description: str | None = None,
) -> AgendaItem:
    """Add an item at the end of the agenda, or right after item `after`.

    Raises AgendaItemExists when the number is taken and NoSuchAgendaItem when `after` is unknown.
    """
    items = await agenda_items(session, meeting_id)
    if any(item.number == number for item in items):
        raise AgendaItemExists(number)
    if after is None:
        position = (items[-1].position + 1.0) if items else 1.0
    else:
        index = next((i for i, item in enumerate(items) if item.number == after), None)
        if index is None:
            raise NoSuchAgendaItem(after)
        low = items[index].position
        high = items[index + 1].position if index + 1 < len(items) else low + 2.0
        if high - low < _MIN_GAP:
            await _renumber(items)
            low = items[index].position
            high = items[index + 1].position if index + 1 < len(items) else low + 2.0
        position = (low + high) / 2
    item = AgendaItem(
        meeting_id=meeting_id,
        number=number,
        position=position,
        title=title,
        kind=kind,
        description=description,
    )
    session.add(item)
    await session.flush()
    return item
