"""`mote ny|sak|status|lukk|apne|frist` — the secretariat runs its meetings from chat."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from handlers import parser as grammar
from handlers.agenda import agenda_kind
from handlers.command_table import Subcommand, command
from handlers.commands.common import (
    answer,
    current_meeting,
    deadline,
    deadline_clock,
    deadline_text,
    is_collecting,
    managed_meeting,
    meeting_label,
    meeting_when,
    refuse,
    require_secretariat,
    upcoming_meeting,
)
from handlers.commands.inputs import agenda_numbers
from handlers.context import HandlerContext
from handlers.events import Effect, EffectKind, Reply
from handlers.i18n import format_deadline, format_short_date, join_names, normalise_locale, t
from handlers.identity import Scope, ensure_member
from handlers.parsed import (
    MeetingClose,
    MeetingDeadline,
    MeetingItem,
    MeetingNew,
    MeetingReopen,
    MeetingStatusCmd,
)
from handlers.referat.deadline import group_zone
from handlers.text import clean
from storage.models import Meeting, MeetingStatus, Role, SubmissionKind
from storage.repositories import attendance as attendance_repo
from storage.repositories import follow_ups as follow_up_repo
from storage.repositories import groups as group_repo
from storage.repositories import meetings as meeting_repo
from storage.repositories import members as member_repo
from storage.repositories import submissions as submission_repo

MOTE = command(
    "mote",
    slash="/mote",
    aliases=("møte", "meeting"),
    usage_nb="mote ny DD.MM.YYYY HH:MM-HH:MM [sted] | mote sak <nr> <tittel> [etter <nr>] | "
    "mote status | mote lukk | mote apne | mote frist DD.MM.YYYY | mote godkjenn-referat | "
    "mote importer <innkallingen> (eller med .docx vedlagt)",
    usage_en="mote ny DD.MM.YYYY HH:MM-HH:MM [place] | mote sak <no.> <title> [etter <no.>] | "
    "mote status | mote lukk | mote apne | mote frist DD.MM.YYYY | mote godkjenn-referat | "
    "mote importer <the invitation> (or with a .docx attached)",
    summary_nb="Opprett og styr møter: saker, status, lukk, åpne igjen, flytt frist",
    summary_en="Create and run meetings: agenda items, status, close, reopen, move the deadline",
    role="secretariat",
    subcommands=(
        Subcommand("ny", ("new", "create", "opprett")),
        Subcommand("sak", ("item",)),
        Subcommand("status"),
        Subcommand("lukk", ("close", "steng")),
        Subcommand("apne", ("åpne", "reopen", "open")),
        Subcommand("frist", ("deadline", "due")),
        Subcommand("godkjenn-referat", ("godkjenn", "approve-minutes", "approve")),
        Subcommand("importer", ("import",)),
    ),
    grammar=grammar.mote,
    position=90,
)


def _deadline_for_day(scope: Scope, day: datetime) -> datetime:
    return datetime.combine(day.date(), deadline_clock(scope.group), tzinfo=group_zone(scope.group))


def _refreshing(reply: Reply, meeting: Meeting) -> Reply:
    """The answer, with the collection messages in the channels brought up to date after it."""
    return replace(reply, effects=(*reply.effects, Effect(EffectKind.REFRESH_COLLECTION, meeting.id)))


async def _guard(scope: Scope, command: str, *, also: tuple[Role, ...] = ()) -> Reply | None:
    return await require_secretariat(scope, command, also=also)


async def _managed(scope: Scope) -> Meeting | Reply:
    meeting = await managed_meeting(scope)
    if meeting is None:
        return refuse(scope, "common.no_meetings_yet")
    return meeting


@MOTE.handles(MeetingNew, audit=lambda c: ("meeting.new", {"day": c.day.isoformat()}))
async def new(cmd: MeetingNew, scope: Scope, ctx: HandlerContext) -> Reply:
    refusal = await _guard(scope, "mote ny")
    if refusal is not None:
        return refusal
    zone = group_zone(scope.group)
    starts_at = datetime.combine(cmd.day, cmd.start, tzinfo=zone)
    ends_at = datetime.combine(cmd.day, cmd.end, tzinfo=zone)
    if await meeting_repo.meeting_on_date(scope.session, scope.group.id, cmd.day, str(zone)) is not None:
        return refuse(scope, "meeting.exists", date=format_short_date(cmd.day, scope.locale))
    previous = await meeting_repo.latest_meeting(scope.session, scope.group.id, before=starts_at)
    place = clean(cmd.place).strip() or "Teams"
    await ensure_member(scope)
    meeting = await meeting_repo.create_meeting(
        scope.session,
        scope.group.id,
        starts_at,
        ends_at,
        place=place,
        previous_meeting_date=previous.starts_at.astimezone(zone).date() if previous else None,
    )
    when = meeting_when(scope, meeting)
    if deadline(scope, meeting) <= scope.now:
        return answer(
            scope, "meeting.created_past", when=when, place=place, deadline=deadline_text(scope, meeting)
        )
    channels = len(await group_repo.bindings_of(scope.session, scope.group.id))
    return Reply(
        text=t(
            scope.locale,
            "meeting.created",
            when=when,
            place=place,
            deadline=deadline_text(scope, meeting),
            channels=channels,
        ),
        effects=(Effect(EffectKind.POST_COLLECTION, meeting.id),),
    )


@MOTE.handles(MeetingItem)
async def item(cmd: MeetingItem, scope: Scope, ctx: HandlerContext) -> Reply:
    refusal = await _guard(scope, "mote sak")
    if refusal is not None:
        return refusal
    meeting = await upcoming_meeting(scope) or await managed_meeting(scope)
    if meeting is None:
        return refuse(scope, "common.no_meetings_yet")
    title = clean(cmd.title).strip()
    label = meeting_label(scope, meeting)
    kind = agenda_kind(title, normalise_locale(scope.group.locale) or "nb")
    try:
        added = await meeting_repo.add_agenda_item(
            scope.session, meeting.id, cmd.number, title, after=cmd.after, kind=kind
        )
    except meeting_repo.AgendaItemExists:
        existing = await meeting_repo.item_by_number(scope.session, meeting.id, cmd.number)
        return refuse(
            scope, "meeting.item_exists", number=cmd.number, title=existing.title if existing else ""
        )
    except meeting_repo.NoSuchAgendaItem:
        items = await meeting_repo.agenda_items(scope.session, meeting.id)
        return refuse(
            scope, "meeting.item_after_unknown", after=cmd.after, meeting=label, numbers=agenda_numbers(items)
        )
    await ensure_member(scope)
    items = await meeting_repo.agenda_items(scope.session, meeting.id)
    return answer(
        scope,
        "meeting.item_added",
        number=added.number,
        title=added.title,
        after=cmd.after,
        meeting=label,
        agenda=agenda_numbers(items),
    )


@MOTE.handles(MeetingStatusCmd, read_only=True)
async def status(cmd: MeetingStatusCmd, scope: Scope, ctx: HandlerContext) -> Reply:
    """Who has submitted ("7 av 18 har levert") and who is missing: for the meeting collecting
    now, else the one most recently held."""
    refusal = await _guard(scope, "mote status", also=(Role.CHAIR,))
    if refusal is not None:
        return refusal
    meeting = await current_meeting(scope) or await managed_meeting(scope)
    if meeting is None:
        return refuse(scope, "common.no_meetings_yet")
    session = scope.session
    members = await member_repo.members_of(session, scope.group.id)
    submitted = await submission_repo.submitted_member_ids(session, meeting.id)
    excused = await attendance_repo.excused_member_ids(session, meeting.id)
    expected = [
        m
        for m in members
        if m.id in submitted or (m.on_roster and m.role != Role.SECRETARIAT and m.id not in excused)
    ]
    missing = [m.name for m in expected if m.id not in submitted]
    lines = [t(scope.locale, "meeting.status_header", when=meeting_when(scope, meeting), place=meeting.place)]
    if meeting.status == MeetingStatus.CLOSED:
        lines.append(t(scope.locale, "meeting.status_closed", deadline=deadline_text(scope, meeting)))
    elif is_collecting(scope, meeting):
        lines.append(t(scope.locale, "meeting.status_deadline_open", deadline=deadline_text(scope, meeting)))
    else:
        lines.append(
            t(scope.locale, "meeting.status_deadline_passed", deadline=deadline_text(scope, meeting))
        )
    delivered = sum(1 for m in expected if m.id in submitted)
    lines.append(t(scope.locale, "meeting.status_count", delivered=delivered, expected=len(expected)))
    if missing:
        lines.append(t(scope.locale, "meeting.status_missing", names=join_names(missing, scope.locale)))
    elif expected:
        lines.append(t(scope.locale, "meeting.status_all_in"))
    excused_names = [m.name for m in members if m.id in excused]
    if excused_names:
        lines.append(t(scope.locale, "meeting.status_excused", names=join_names(excused_names, scope.locale)))
    items = await meeting_repo.agenda_items(session, meeting.id)
    if items:
        agenda = "; ".join(f"{i.number}. {i.title}" for i in items)
        lines.append(t(scope.locale, "meeting.status_agenda", agenda=agenda))
    else:
        lines.append(t(scope.locale, "meeting.status_no_agenda"))
    inputs = await submission_repo.count_of_kind(session, meeting.id, SubmissionKind.INPUT)
    follow_ups = await follow_up_repo.of_meeting(session, meeting.id)
    lines.append(t(scope.locale, "meeting.status_inputs", count=inputs, follow_ups=len(follow_ups)))
    return Reply(text="\n".join(lines))


@MOTE.handles(MeetingClose, audit="meeting.close")
async def close(cmd: MeetingClose, scope: Scope, ctx: HandlerContext) -> Reply:
    refusal = await _guard(scope, "mote lukk")
    if refusal is not None:
        return refusal
    meeting = await current_meeting(scope) or await managed_meeting(scope)
    if meeting is None:
        return refuse(scope, "common.no_meetings_yet")
    label = meeting_label(scope, meeting)
    if meeting.status == MeetingStatus.CLOSED:
        return answer(scope, "meeting.already_closed", meeting=label)
    meeting.status = MeetingStatus.CLOSED
    await ensure_member(scope)
    return _refreshing(answer(scope, "meeting.closed_now", meeting=label), meeting)


async def _reopen_target(scope: Scope) -> Meeting | None:
    """The most recent meeting that no longer takes submissions; else the managed one."""
    held = await meeting_repo.meetings_of(scope.session, scope.group.id)
    stopped = [m for m in held if not is_collecting(scope, m) and m.starts_at <= scope.now]
    if stopped:
        return stopped[-1]
    stopped = [m for m in held if not is_collecting(scope, m)]
    if stopped:
        return stopped[-1]
    return await managed_meeting(scope)


@MOTE.handles(MeetingReopen, audit="meeting.reopen")
async def reopen(cmd: MeetingReopen, scope: Scope, ctx: HandlerContext) -> Reply:
    """Open again; if the deadline had passed, move it as far as a new meeting would get."""
    refusal = await _guard(scope, "mote apne")
    if refusal is not None:
        return refusal
    meeting = await _reopen_target(scope)
    if meeting is None:
        return refuse(scope, "common.no_meetings_yet")
    label = meeting_label(scope, meeting)
    if is_collecting(scope, meeting):
        return answer(scope, "meeting.already_open", meeting=label, deadline=deadline_text(scope, meeting))
    meeting.status = MeetingStatus.OPEN
    await ensure_member(scope)
    if is_collecting(scope, meeting):
        return _refreshing(
            answer(scope, "meeting.reopened", meeting=label, deadline=deadline_text(scope, meeting)), meeting
        )
    days = scope.group.deadline_days if scope.group.deadline_days is not None else 7
    local_now = scope.now.astimezone(group_zone(scope.group))
    meeting.deadline_override = _deadline_for_day(scope, local_now + timedelta(days=days))
    return _refreshing(
        answer(scope, "meeting.reopened_extended", meeting=label, deadline=deadline_text(scope, meeting)),
        meeting,
    )


@MOTE.handles(MeetingDeadline, audit=lambda c: ("meeting.deadline", {"day": c.day.isoformat()}))
async def move_deadline(cmd: MeetingDeadline, scope: Scope, ctx: HandlerContext) -> Reply:
    refusal = await _guard(scope, "mote frist")
    if refusal is not None:
        return refusal
    meeting = await _managed(scope)
    if isinstance(meeting, Reply):
        return meeting
    zone = group_zone(scope.group)
    new_deadline = datetime.combine(cmd.day, deadline_clock(scope.group), tzinfo=zone)
    shown = format_deadline(new_deadline, scope.timezone, scope.locale, now=scope.now)
    if new_deadline <= scope.now:
        return refuse(scope, "meeting.deadline_in_past", deadline=shown)
    if new_deadline < meeting.starts_at:
        return refuse(scope, "meeting.deadline_before_meeting", meeting=meeting_when(scope, meeting))
    reopened = meeting.status == MeetingStatus.CLOSED
    meeting.deadline_override = new_deadline
    meeting.status = MeetingStatus.OPEN
    await ensure_member(scope)
    return _refreshing(
        answer(
            scope,
            "meeting.deadline_moved",
            meeting=meeting_label(scope, meeting),
            deadline=shown,
            reopened=reopened,
        ),
        meeting,
    )
