"""Retention: meetings older than the configured number of days are deleted with everything
members posted for them; so are polls of no meeting, chat identities and conversation references
unused for that long, and off-roster members with nothing left in a kept meeting. The audit log
is kept as long, and delivery ids are forgotten once no retry can bring them back. See
docs/security.md ("What is kept, and for how long")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.context import HandlerContext
from storage.repositories.retention import (
    delete_meetings,
    delete_off_roster_members,
    delete_orphan_polls,
    expired_meeting_ids,
    forget_processed_events,
    forget_unused_identities,
    forget_unused_references,
    purge_audit_log,
)

# Slack retries an event for about an hour at most, Teams redelivers within minutes.
PROCESSED_EVENT_TTL = timedelta(days=2)


@dataclass(frozen=True)
class PurgeReport:
    meetings_deleted: int
    events_forgotten: int
    audit_entries_deleted: int = 0
    polls_deleted: int = 0
    identities_forgotten: int = 0
    references_forgotten: int = 0
    members_deleted: int = 0


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
        polls = await delete_orphan_polls(session, moment, default_days)
        # references first: whether a user's is in use depends on their identities' last use
        references = await forget_unused_references(session, moment, default_days)
        identities = await forget_unused_identities(session, moment, default_days)
        members = await delete_off_roster_members(session, moment, default_days)
    return PurgeReport(
        meetings_deleted=len(expired),
        events_forgotten=forgotten,
        audit_entries_deleted=audit,
        polls_deleted=polls,
        identities_forgotten=identities,
        references_forgotten=references,
        members_deleted=members,
    )
