"""Deleting what is no longer needed: old meetings (with everything hanging off them) and the
de-duplication ledger."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, ChannelMessage, Group, Meeting, Poll, ProcessedEvent, ReminderLog


async def expired_meeting_ids(session: AsyncSession, now: datetime, default_days: int | None) -> list[int]:
    """Meetings that ended longer ago than their group's retention (or the default) allows."""
    rows = (
        await session.execute(
            select(Meeting.id, Meeting.ends_at, Group.retention_days).join(
                Group, Group.id == Meeting.group_id
            )
        )
    ).all()
    expired: list[int] = []
    for meeting_id, ends_at, group_days in rows:
        days = group_days if group_days is not None else default_days
        if days is not None and ends_at < now - timedelta(days=days):
            expired.append(int(meeting_id))
    return expired


async def delete_meetings(session: AsyncSession, meeting_ids: list[int]) -> None:
    """Delete meetings; agenda items, submissions, attendance, follow-ups, mutes and the reminder
    log cascade. Polls of the meeting go too (their votes cascade), and the records of messages
    the bot posted for them, which point at them without a foreign key."""
    if not meeting_ids:
        return
    poll_ids = list(
        (await session.execute(select(Poll.id).where(Poll.meeting_id.in_(meeting_ids)))).scalars()
    )
    await session.execute(
        delete(ChannelMessage).where(
            ((ChannelMessage.purpose == "collection") & ChannelMessage.subject_id.in_(meeting_ids))
            | ((ChannelMessage.purpose == "poll") & ChannelMessage.subject_id.in_(poll_ids or [-1]))
        )
    )
    await session.execute(delete(Poll).where(Poll.meeting_id.in_(meeting_ids)))
    await session.execute(delete(ReminderLog).where(ReminderLog.meeting_id.in_(meeting_ids)))
    await session.execute(delete(Meeting).where(Meeting.id.in_(meeting_ids)))


async def forget_processed_events(session: AsyncSession, older_than: datetime) -> int:
    """Platforms retry a delivery within minutes; ids older than this can no longer come back."""
    result = await session.execute(delete(ProcessedEvent).where(ProcessedEvent.created_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_audit_log(session: AsyncSession, now: datetime, default_days: int | None) -> int:
    """The audit log is kept as long as the meetings it is about: a group's own retention for its
    entries, the default for the rest (entries of deleted groups, the CLI's). Neither: kept."""
    own = (
        await session.execute(select(Group.id, Group.retention_days).where(Group.retention_days.is_not(None)))
    ).all()
    purged = 0
    for group_id, days in own:
        result = await session.execute(
            delete(AuditEntry).where(
                AuditEntry.group_id == group_id, AuditEntry.at < now - timedelta(days=int(days or 0))
            )
        )
        purged += int(getattr(result, "rowcount", 0) or 0)
    if default_days is not None:
        exempt = [int(group_id) for group_id, _ in own]
        query = delete(AuditEntry).where(AuditEntry.at < now - timedelta(days=default_days))
        if exempt:
            query = query.where(AuditEntry.group_id.is_(None) | AuditEntry.group_id.not_in(exempt))
        result = await session.execute(query)
        purged += int(getattr(result, "rowcount", 0) or 0)
    return purged
