"""`mote godkjenn-referat`: at a meeting, the previous meeting's referat is approved.

The meeting held today (else the one most recently held) is the meeting that approves; the
group's meeting before it is the one whose referat is marked approved, with the date and the
name of who recorded it. The approving meeting's "Godkjenning av referat" item gets the decision
line, so its own referat says it too.
"""

from __future__ import annotations

from handlers.audit import record
from handlers.commands.common import answer, managed_meeting, meeting_label, refuse, require_secretariat
from handlers.commands.meetings import MOTE
from handlers.context import HandlerContext
from handlers.events import Reply
from handlers.i18n import format_short_date, t
from handlers.identity import Scope, ensure_member
from handlers.parsed import MeetingApproveMinutes
from handlers.referat.deadline import group_zone
from storage.models import AgendaKind, Meeting, Role
from storage.repositories import meetings as meeting_repo


async def approving_meeting(scope: Scope) -> Meeting | None:
    """Today's meeting, else the one most recently held (else the first planned)."""
    today = scope.now.astimezone(group_zone(scope.group)).date()
    meeting = await meeting_repo.meeting_on_date(scope.session, scope.group.id, today, scope.timezone)
    return meeting or await managed_meeting(scope)


def _is_minutes_item(title: str) -> bool:
    folded = title.casefold()
    return "referat" in folded or "minutes" in folded


@MOTE.handles(MeetingApproveMinutes)
async def approve(cmd: MeetingApproveMinutes, scope: Scope, ctx: HandlerContext) -> Reply:
    refusal = await require_secretariat(scope, "mote godkjenn-referat", also=(Role.CHAIR,))
    if refusal is not None:
        return refusal
    at = await approving_meeting(scope)
    if at is None:
        return refuse(scope, "common.no_meetings_yet")
    previous = await meeting_repo.latest_meeting(scope.session, scope.group.id, before=at.starts_at)
    if previous is None:
        return refuse(scope, "approval.no_previous", meeting=meeting_label(scope, at))
    label = meeting_label(scope, previous)
    if previous.referat_approved_at is not None:
        return answer(
            scope,
            "approval.already",
            meeting=label,
            by=previous.referat_approved_by or "",
            date=approved_day(scope, previous),
        )
    member = await ensure_member(scope)
    previous.referat_approved_at = scope.now
    previous.referat_approved_by = member.name or scope.event.user_name
    for item in await meeting_repo.agenda_items(scope.session, at.id):
        unset = not (item.decision or "").strip()
        if item.kind == AgendaKind.APPROVAL and _is_minutes_item(item.title) and unset:
            item.decision = t(scope.group.locale or "nb", "approval.decision", meeting=label)
    await record(scope.session, scope, "referat.approve", {"meeting_id": previous.id, "at_meeting_id": at.id})
    return answer(scope, "approval.done", meeting=label, by=previous.referat_approved_by)


def approved_day(scope: Scope, meeting: Meeting) -> str:
    """The day the referat was approved, as the group writes dates."""
    approved = meeting.referat_approved_at
    if approved is None:
        return ""
    return format_short_date(approved.astimezone(group_zone(scope.group)).date(), scope.locale)
