"""Follow-ups (oppfølging) recorded for a meeting."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FollowUp


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


async def delete_written_by(session: AsyncSession, member_id: int) -> int:
    """`data slett`: the follow-ups a member wrote are their text, and go with them."""
    result = await session.execute(delete(FollowUp).where(FollowUp.created_by_member_id == member_id))
    return int(getattr(result, "rowcount", 0) or 0)
