"""Attendance per meeting and member: present, excused (forfall) or substitute (vara)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Attendance, AttendanceStatus


async def get_attendance(session: AsyncSession, meeting_id: int, member_id: int) -> Attendance | None:
    stmt = select(Attendance).where(Attendance.meeting_id == meeting_id, Attendance.member_id == member_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def set_attendance(
    session: AsyncSession,
    meeting_id: int,
    member_id: int,
    status: AttendanceStatus,
    *,
    substitute_for_member_id: int | None = None,
    now: datetime | None = None,
) -> Attendance:
    """Record (or change) one member's attendance; the last word counts."""
    row = await get_attendance(session, meeting_id, member_id)
    if row is None:
        row = Attendance(meeting_id=meeting_id, member_id=member_id, status=status)
        session.add(row)
    row.status = status
    row.substitute_for_member_id = substitute_for_member_id if status == AttendanceStatus.SUBSTITUTE else None
    if now is not None:
        row.updated_at = now
    await session.flush()
    return row


async def of_meeting(session: AsyncSession, meeting_id: int) -> list[Attendance]:
    stmt = select(Attendance).where(Attendance.meeting_id == meeting_id).order_by(Attendance.id)
    return list((await session.execute(stmt)).scalars())


async def excused_member_ids(session: AsyncSession, meeting_id: int) -> set[int]:
    """Members with forfall, and members a substitute stands in for: they are not expected to
    submit, get no reminders, and the referat lists them as excused."""
    stmt = select(Attendance.member_id).where(
        Attendance.meeting_id == meeting_id, Attendance.status == AttendanceStatus.EXCUSED
    )
    excused = set((await session.execute(stmt)).scalars())
    return excused | set((await substitutes_for(session, meeting_id)).keys())


async def substitutes_for(session: AsyncSession, meeting_id: int) -> dict[int, int]:
    """Who stands in for whom at a meeting: the replaced member's id → the substitute's id."""
    stmt = select(Attendance.substitute_for_member_id, Attendance.member_id).where(
        Attendance.meeting_id == meeting_id,
        Attendance.status == AttendanceStatus.SUBSTITUTE,
        Attendance.substitute_for_member_id.is_not(None),
    )
    rows = (await session.execute(stmt)).all()
    return {replaced: sub for replaced, sub in rows if replaced is not None}


async def all_of_member(session: AsyncSession, member_id: int) -> list[Attendance]:
    stmt = select(Attendance).where(Attendance.member_id == member_id).order_by(Attendance.id)
    return list((await session.execute(stmt)).scalars())


async def forget_member(session: AsyncSession, member_id: int) -> int:
    """Delete a member's attendance and unlink them where others stood in for them."""
    await session.execute(
        update(Attendance)
        .where(Attendance.substitute_for_member_id == member_id)
        .values(substitute_for_member_id=None)
    )
    result = await session.execute(delete(Attendance).where(Attendance.member_id == member_id))
    return int(getattr(result, "rowcount", 0) or 0)
