"""Members who asked not to be reminded about one meeting (`paminnelser av`)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ReminderMute


async def is_muted(session: AsyncSession, meeting_id: int, member_id: int) -> bool:
    stmt = select(ReminderMute.id).where(
        ReminderMute.meeting_id == meeting_id, ReminderMute.member_id == member_id
    )
    return (await session.execute(stmt)).first() is not None


async def mute(session: AsyncSession, meeting_id: int, member_id: int) -> bool:
    """True when newly muted, False when it already was."""
    if await is_muted(session, meeting_id, member_id):
        return False
    session.add(ReminderMute(meeting_id=meeting_id, member_id=member_id))
    await session.flush()
    return True


async def unmute(session: AsyncSession, meeting_id: int, member_id: int) -> bool:
    """True when a mute was lifted, False when there was none."""
    result = await session.execute(
        delete(ReminderMute).where(ReminderMute.meeting_id == meeting_id, ReminderMute.member_id == member_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def forget_member(session: AsyncSession, member_id: int) -> None:
    await session.execute(delete(ReminderMute).where(ReminderMute.member_id == member_id))
