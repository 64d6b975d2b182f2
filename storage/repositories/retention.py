"""Deleting what is no longer needed: old meetings (with everything hanging off them), polls of
no meeting, chat identities and conversation references no longer used, members no longer on the
roster, the audit log past its period, and the de-duplication ledger."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Attendance,
    AuditEntry,
    ChannelBinding,
    ChannelMessage,
    ConversationReference,
    FollowUp,
    Group,
    Meeting,
    Member,
    Platform,
    PlatformIdentity,
    Poll,
    ProcessedEvent,
    ReminderLog,
    Submission,
    Vote,
)


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


async def _group_periods(session: AsyncSession, default_days: int | None) -> dict[int, timedelta]:
    """Each group's retention period (its own, else the default); groups with neither keep all."""
    periods: dict[int, timedelta] = {}
    for group_id, days in (await session.execute(select(Group.id, Group.retention_days))).all():
        chosen = days if days is not None else default_days
        if chosen is not None:
            periods[int(group_id)] = timedelta(days=int(chosen))
    return periods


async def delete_orphan_polls(session: AsyncSession, now: datetime, default_days: int | None) -> int:
    """Polls that belong to no meeting (made on their own, or whose meeting went) once older than
    their group's retention; votes and options cascade, the bot's poll messages go too."""
    periods = await _group_periods(session, default_days)
    rows = (
        await session.execute(
            select(Poll.id, Poll.group_id, Poll.created_at).where(Poll.meeting_id.is_(None))
        )
    ).all()
    expired = [
        int(poll_id)
        for poll_id, group_id, created_at in rows
        if group_id in periods and created_at < now - periods[group_id]
    ]
    if expired:
        await session.execute(
            delete(ChannelMessage).where(
                ChannelMessage.purpose == "poll", ChannelMessage.subject_id.in_(expired)
            )
        )
        await session.execute(delete(Poll).where(Poll.id.in_(expired)))
    return len(expired)


async def _last_posted(session: AsyncSession) -> dict[int, datetime]:
    """When each member last posted (submissions are written by the hot path, which does not
    touch the identity's last_seen_at)."""
    rows = (
        await session.execute(
            select(Submission.member_id, func.max(Submission.updated_at)).group_by(Submission.member_id)
        )
    ).all()
    return {int(member_id): at for member_id, at in rows if at is not None}


async def forget_unused_identities(session: AsyncSession, now: datetime, default_days: int | None) -> int:
    """Chat identities neither seen nor posting for their group's retention period are unlinked
    (the member row stays; the person is linked again when they next write, by the usual rules)."""
    periods = await _group_periods(session, default_days)
    posted = await _last_posted(session)
    rows = (
        await session.execute(
            select(
                PlatformIdentity.id,
                PlatformIdentity.member_id,
                PlatformIdentity.last_seen_at,
                PlatformIdentity.created_at,
                Member.group_id,
            ).join(Member, Member.id == PlatformIdentity.member_id)
        )
    ).all()
    unused = []
    for identity_id, member_id, seen, created, group_id in rows:
        if group_id not in periods:
            continue
        used = max(at for at in (seen, created, posted.get(int(member_id))) if at is not None)
        if used < now - periods[group_id]:
            unused.append(int(identity_id))
    if unused:
        await session.execute(delete(PlatformIdentity).where(PlatformIdentity.id.in_(unused)))
    return len(unused)


async def forget_unused_references(session: AsyncSession, now: datetime, default_days: int | None) -> int:
    """Conversation references unchanged for the retention period and no longer in use: a user's
    when no chat identity with that user id was seen within the period; a channel's when the
    channel is bound to no group (a bound channel's reference is how the bot reaches it). The
    period is the longest of the groups bound in that workspace (else the default; neither: kept)."""
    periods = await _group_periods(session, default_days)
    bindings = (
        await session.execute(
            select(
                ChannelBinding.platform,
                ChannelBinding.workspace_id,
                ChannelBinding.channel_id,
                ChannelBinding.group_id,
            )
        )
    ).all()
    bound = {(p, w, f"channel:{c}") for p, w, c, _ in bindings}
    workspace_period: dict[tuple[Platform, str], timedelta] = {}
    for platform, workspace_id, _, group_id in bindings:
        period = periods.get(int(group_id))
        if period is None:
            continue
        where = (platform, workspace_id)
        workspace_period[where] = max(period, workspace_period.get(where, period))
    fallback = timedelta(days=default_days) if default_days is not None else None
    seen_users: dict[tuple[Platform, str, str], datetime] = {}
    for platform, workspace_id, user_id, seen, created in (
        await session.execute(
            select(
                PlatformIdentity.platform,
                PlatformIdentity.workspace_id,
                PlatformIdentity.user_id,
                PlatformIdentity.last_seen_at,
                PlatformIdentity.created_at,
            )
        )
    ).all():
        at = seen or created
        user = (platform, workspace_id, f"user:{user_id}")
        if at is not None and (user not in seen_users or at > seen_users[user]):
            seen_users[user] = at
    rows = (
        await session.execute(
            select(
                ConversationReference.id,
                ConversationReference.platform,
                ConversationReference.workspace_id,
                ConversationReference.key,
                ConversationReference.updated_at,
            )
        )
    ).all()
    stale = []
    for reference_id, platform, workspace_id, key, updated_at in rows:
        period = workspace_period.get((platform, workspace_id), fallback)
        if period is None:
            continue
        cutoff = now - period
        if updated_at >= cutoff or (platform, workspace_id, key) in bound:
            continue
        seen = seen_users.get((platform, workspace_id, key))
        if seen is not None and seen >= cutoff:
            continue
        stale.append(int(reference_id))
    if stale:
        await session.execute(delete(ConversationReference).where(ConversationReference.id.in_(stale)))
    return len(stale)


async def delete_off_roster_members(session: AsyncSession, now: datetime, default_days: int | None) -> int:
    """Members not on the roster (guests who joined by posting, members anonymised by `data
    slett`) are deleted once older than their group's retention period, when nothing of theirs
    is left in a kept meeting (no submission, attendance, vote or follow-up they own or wrote)
    and no chat identity of theirs remains (identities unused for the period go first, above)."""
    periods = await _group_periods(session, default_days)
    rows = (
        await session.execute(
            select(Member.id, Member.group_id, Member.created_at).where(Member.on_roster.is_(False))
        )
    ).all()
    candidates = [
        int(member_id)
        for member_id, group_id, created_at in rows
        if group_id in periods and created_at < now - periods[group_id]
    ]
    if not candidates:
        return 0
    busy: set[int] = set()
    for column in (
        Submission.member_id,
        Attendance.member_id,
        Vote.member_id,
        PlatformIdentity.member_id,
        FollowUp.owner_member_id,
        FollowUp.created_by_member_id,
    ):
        busy.update(
            int(v)
            for v in (
                await session.execute(select(column).where(column.in_(candidates)).distinct())
            ).scalars()
            if v is not None
        )
    gone = [m for m in candidates if m not in busy]
    if gone:
        await session.execute(delete(Member).where(Member.id.in_(gone)))
    return len(gone)
