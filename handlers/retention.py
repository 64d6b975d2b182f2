"""Retention: meetings older than the configured number of days are deleted with everything
members posted for them, the audit log is kept as long, and delivery ids are forgotten once no
retry can bring them back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.context import HandlerContext
from storage.repositories.retention import (
    delete_meetings,
    expired_meeting_ids,
    forget_processed_events,
    purge_audit_log,
)

# Slack retries an event for about an hour at most, Teams redelivers within minutes.
PROCESSED_EVENT_TTL = timedelta(days=2)


@dataclass(frozen=True)
class PurgeReport:
    meetings_deleted: int
    events_forgotten: int
    audit_entries_deleted: int = 0


async def purge(
    ctx: HandlerContext, *, now: datetime | None = None, default_days: int | None = None
) -> PurgeReport:
    """Delete expired meetings (group setting, else `default_days`; neither: keep everything)."""
    moment = now or ctx.now()
    async with ctx.db.write() as session:
        expired = await expired_meeting_ids(session, moment, default_days)
        await delete_meetings(session, expired)
        forgotten = await forget_processed_events(session, moment - PROCESSED_EVENT_TTL)
        audit = await purge_audit_log(session, moment, default_days)
    return PurgeReport(meetings_deleted=len(expired), events_forgotten=forgotten, audit_entries_deleted=audit)
