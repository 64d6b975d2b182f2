"""`oppfolging <tekst> [@ansvarlig] [frist DD.MM]`: a follow-up for the current meeting.

The owner is linked to a roster member when the @mention or the name points at exactly one;
otherwise it is kept as written ("Sekretariatet", someone outside the group).

Follow-ups outlive their meeting: open ones are carried into the next meetings' drafts (under
"Oppfølging fra tidligere møter") until `oppfolging ferdig N` closes them; `oppfolging status`
lists the group's open ones and `oppfolging mine` those I own. Closing is for the owner, the
secretariat and the chair; the item is closed *in* the meeting of the day (else the next one),
whose draft shows it done, and later drafts no longer carry it.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers import parser as grammar
from handlers.command_table import Subcommand, command
from handlers.commands.common import (
    answer,
    contacts,
    join_answers,
    managed_meeting,
    meeting_label,
    member_text,
    refuse,
    submission_meeting,
    upcoming_meeting,
)
from handlers.context import HandlerContext
from handlers.events import Reply
from handlers.i18n import format_day_month, format_short_date, t
from handlers.identity import Scope, ensure_member, platform_of
from handlers.parsed import FollowUpCmd
from handlers.referat.deadline import group_zone
from handlers.richtext.echo import LINE_LIMIT, echo
from handlers.text import clean
from storage.models import FollowUp, FollowUpStatus, Meeting, Member, Role
from storage.repositories import follow_ups as follow_up_repo
from storage.repositories import meetings as meeting_repo
from storage.repositories import members as member_repo

OPPFOLGING = command(
    "oppfolging",
    slash="/oppfolging",
    aliases=("oppfølging", "followup", "follow-up", "action"),
    usage_nb="oppfolging <tekst> [@ansvarlig] [frist DD.MM] | oppfolging status | oppfolging mine | "
    "oppfolging ferdig <nr>",
    usage_en="oppfolging <text> [@owner] [frist DD.MM] | oppfolging status | oppfolging mine | "
    "oppfolging ferdig <no.>",
    summary_nb="Legg til en oppfølging, se de åpne, eller meld en ferdig",
    summary_en="Add a follow-up, list the open ones, or mark one done",
    role="member",
    subcommands=(
        Subcommand("ferdig", ("done", "utfort", "utført", "lukk", "close")),
        Subcommand("status", ("list", "liste", "apne", "åpne", "open")),
        Subcommand("mine", ("my", "mine")),
    ),
    grammar=lambda rest, args: _grammar(rest, args),
    position=40,
)

@dataclass(frozen=True, slots=True)
class FollowUpDone:
    """`oppfolging ferdig N`: N is the number `oppfolging status` shows."""

    number: int


@dataclass(frozen=True, slots=True)
class FollowUpList:
    """`oppfolging status` (the group's open follow-ups) or `oppfolging mine` (mine only)."""

    mine: bool = False


def _grammar(rest: str, args: grammar.Args) -> object:
    """The subcommands only as the whole line (`oppfolging status`, `oppfolging ferdig 12`), so
    a follow-up whose text begins with such a word is still a follow-up."""
    words = rest.split()
    sub = OPPFOLGING.subcommand(words[0]) if words else None
    if sub is not None and sub.name in ("status", "mine") and len(words) == 1:
        return FollowUpList(mine=sub.name == "mine")
    if sub is not None and sub.name == "ferdig":
        if len(words) == 1:
            raise grammar.fail("missing_argument", "oppfolging", command="oppfolging", argument="follow_up")
        number = words[1].lstrip("#").rstrip(".")
        if len(words) == 2 and number.isdigit() and len(number) < 10:
            return FollowUpDone(int(number))
    return grammar.oppfolging(rest, args)


_SECRETARIAT_WORDS = frozenset({"sekretariatet", "sekretariat", "secretariat", "the secretariat", "sekr"})


async def _owner(scope: Scope, cmd: FollowUpCmd) -> tuple[Member | None, str | None]:
    if not cmd.owner and not cmd.owner_user_id:
        return None, None
    name = clean(cmd.owner or "").strip().lstrip("@")
    if name.casefold() in _SECRETARIAT_WORDS:
        return None, t(scope.locale, "follow_up.secretariat")
    event = scope.event
    if cmd.owner_user_id:
        member = await member_repo.by_identity(
            scope.session, scope.group.id, platform_of(event), event.workspace_id, cmd.owner_user_id
        )
        if member is not None:
            return member, None
    if name:
        found = await member_repo.by_name(scope.session, scope.group.id, name)
        if len(found) == 1:
            return found[0], None
    return None, name or None


@OPPFOLGING.handles(FollowUpCmd)
async def run(cmd: FollowUpCmd, scope: Scope, ctx: HandlerContext) -> Reply:
    meeting = await submission_meeting(scope)
    if isinstance(meeting, Reply):
        return meeting
    text = member_text(scope, cmd.text, "oppfolging")
    if isinstance(text, Reply):
        return text
    owner, owner_text = await _owner(scope, cmd)
    member = await ensure_member(scope)
    await follow_up_repo.add_follow_up(
        scope.session,
        meeting_id=meeting.id,
        text=text,
        owner_member_id=owner.id if owner else None,
        owner_text=owner_text,
        due_date=cmd.due,
        created_by_member_id=member.id,
    )
    return answer(
        scope,
        "follow_up.saved",
        meeting=meeting_label(scope, meeting),
        preview=echo(text),
        owner=owner.name if owner else owner_text,
        due=format_day_month(cmd.due, scope.locale) if cmd.due else None,
    )


async def closing_meeting(scope: Scope) -> Meeting | None:
    """The meeting a follow-up is closed in: today's, else the next one, else the latest."""
    today = scope.now.astimezone(group_zone(scope.group)).date()
    meeting = await meeting_repo.meeting_on_date(scope.session, scope.group.id, today, scope.timezone)
    return meeting or await upcoming_meeting(scope) or await managed_meeting(scope)


def _line(scope: Scope, follow_up: FollowUp, source: Meeting, names: dict[int, str]) -> Reply:
    owner = names.get(follow_up.owner_member_id or 0) or follow_up.owner_text or ""
    return answer(
        scope,
        "follow_up.line",
        number=follow_up.id,
        text=echo(follow_up.text, limit=LINE_LIMIT, inline=True),
        owner=owner or None,
        due=format_short_date(follow_up.due_date, scope.locale) if follow_up.due_date else None,
        meeting=meeting_label(scope, source),
    )


@OPPFOLGING.handles(FollowUpList, read_only=True)
async def listing(cmd: FollowUpList, scope: Scope, ctx: HandlerContext) -> Reply:
    owner_id: int | None = None
    if cmd.mine:
        if scope.member is None:
            return answer(scope, "follow_up.none_mine")
        owner_id = scope.member.id
    items = await follow_up_repo.open_in_group(scope.session, scope.group.id, owner_member_id=owner_id)
    if not items:
        return answer(scope, "follow_up.none_mine" if cmd.mine else "follow_up.none_open")
    names: dict[int, str] = {}
    for member_id in {f.owner_member_id for f, _ in items if f.owner_member_id is not None}:
        owner = await scope.session.get(Member, member_id)
        if owner is not None:
            names[member_id] = owner.name
    head = t(scope.locale, "follow_up.mine_header" if cmd.mine else "follow_up.open_header", count=len(items))
    lines: list[Reply | str] = [head, *(_line(scope, f, m, names) for f, m in items)]
    return join_answers([*lines, t(scope.locale, "follow_up.close_hint")])


@OPPFOLGING.handles(FollowUpDone)
async def done(cmd: FollowUpDone, scope: Scope, ctx: HandlerContext) -> Reply:
    follow_up = await follow_up_repo.get_in_group(scope.session, cmd.number, scope.group.id)
    if follow_up is None:
        return refuse(scope, "follow_up.unknown", number=cmd.number)
    member = scope.member
    allowed = member is not None and (
        member.role in (Role.SECRETARIAT, Role.CHAIR) or follow_up.owner_member_id == member.id
    )
    if not allowed:
        return refuse(scope, "follow_up.not_yours", number=cmd.number, contacts=await contacts(scope))
    preview = echo(follow_up.text, limit=80, inline=True)
    if follow_up.status == FollowUpStatus.DONE:
        return answer(scope, "follow_up.already_done", number=cmd.number, preview=preview)
    meeting = await closing_meeting(scope)
    me = await ensure_member(scope)
    await follow_up_repo.close(
        scope.session,
        follow_up,
        at=scope.now,
        by_member_id=me.id,
        in_meeting_id=meeting.id if meeting is not None else None,
    )
    return answer(
        scope,
        "follow_up.closed",
        number=cmd.number,
        preview=preview,
        meeting=meeting_label(scope, meeting) if meeting is not None else None,
    )
