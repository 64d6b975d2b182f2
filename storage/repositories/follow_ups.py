"""Follow-ups (oppfølging) recorded for a meeting."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FollowUp, FollowUpStatus, Meeting


async def add_follow_up(
    session: AsyncSession,
    *,
    meeting_id: int,
    text: str,
    owner_member_id: int | None = None,
    owner_text: str | None = None,
    due_date: date | None = None,
    created_by_member_id: int | None = None,
    agenda_item_id: int | None = None,
) -> FollowUp:
    follow_up = FollowUp(
        meeting_id=meeting_id,
        text=text,
        owner_member_id=owner_member_id,
        owner_text=owner_text,
        due_date=due_date,
        created_by_member_id=created_by_member_id,
        agenda_item_id=agenda_item_id,
    )
    session.add(follow_up)
    await session.flush()
    return follow_up


async def of_meeting(session: AsyncSession, meeting_id: int) -> list[FollowUp]:
    stmt = select(FollowUp).where(FollowUp.meeting_id == meeting_id).order_by(FollowUp.id)
    return list((await session.execute(stmt)).scalars())


async def created_by(session: AsyncSession, member_id: int) -> list[FollowUp]:
    stmt = select(FollowUp).where(FollowUp.created_by_member_id == member_id).order_by(FollowUp.id)
    return list((await session.execute(stmt)).scalars())


async def owned_by(session: AsyncSession, member_id: int) -> list[FollowUp]:
    stmt = select(FollowUp).where(FollowUp.owner_member_id == member_id).order_by(FollowUp.id)
    return list((await session.execute(stmt)).scalars())


async def forget_member(session: AsyncSession, member_id: int) -> None:
    """Keep the meeting's follow-ups but drop the link to who wrote them."""
    await session.execute(
        update(FollowUp).where(FollowUp.created_by_member_id == member_id).values(created_by_member_id=None)
    )


async def get_in_group(session: AsyncSession, follow_up_id: int, group_id: int) -> FollowUp | None:
    """A follow-up by its number, only when it belongs to one of the group's meetings."""
    stmt = (
        select(FollowUp)
        .join(Meeting, Meeting.id == FollowUp.meeting_id)
        .where(FollowUp.id == follow_up_id, Meeting.group_id == group_id)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_in_group(
    session: AsyncSession, group_id: int, *, owner_member_id: int | None = None
) -> list[tuple[FollowUp, Meeting]]:
    """The group's open follow-ups with the meeting each came from, oldest meeting first."""
    stmt = (
        select(FollowUp, Meeting)
        .join(Meeting, Meeting.id == FollowUp.meeting_id)
        .where(Meeting.group_id == group_id, FollowUp.status == FollowUpStatus.OPEN)
        .order_by(Meeting.starts_at, FollowUp.id)
    )
    if owner_member_id is not None:
        stmt = stmt.where(FollowUp.owner_member_id == owner_member_id)
    return [(f, m) for f, m in (await session.execute(stmt)).all()]


async def close(
    session: AsyncSession,
    follow_up: FollowUp,
    *,
    at: datetime,
    by_member_id: int | None,
    in_meeting_id: int | None,
) -> None:
    follow_up.status = FollowUpStatus.DONE
    follow_up.closed_at = at
    follow_up.closed_by_member_id = by_member_id
    follow_up.closed_in_meeting_id = in_meeting_id
    await session.flush()


async def delete_written_by(session: AsyncSession, member_id: int) -> int:
    """`data slett`: the follow-ups a member wrote are their text, and go with them."""
    result = await session.execute(delete(FollowUp).where(FollowUp.created_by_member_id == member_id))
    return int(getattr(result, "rowcount", 0) or 0)
