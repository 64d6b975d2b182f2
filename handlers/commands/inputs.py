"""`innspill <saknr> <tekst>`: written input to an agenda item of the current meeting."""

from __future__ import annotations

from handlers import parser as grammar
from handlers.command_table import command
from handlers.commands.common import (
    answer,
    collecting_meetings,
    meeting_label,
    member_text,
    refuse,
    submission_meeting,
)
from handlers.context import HandlerContext
from handlers.events import Reply
from handlers.identity import Scope, ensure_member, platform_of
from handlers.parsed import Input
from handlers.richtext.echo import echo
from storage.models import AgendaItem, Meeting, SubmissionKind
from storage.repositories import meetings as meeting_repo
from storage.repositories import submissions as submission_repo

INNSPILL = command(
    "innspill",
    slash="/innspill",
    aliases=("input",),
    usage_nb="innspill <saknr> <tekst>",
    usage_en="innspill <item no.> <text>",
    summary_nb="Skriftlig innspill til en sak",
    summary_en="Written input to an agenda item",
    role="member",
    grammar=grammar.innspill,
    position=30,
)


def agenda_numbers(items: list[AgendaItem]) -> str:
    """ "1, 2, 11, 3": the numbers in the order of discussion."""
    return ", ".join(str(item.number) for item in items)


async def _find_item(scope: Scope, number: int) -> tuple[Meeting, AgendaItem] | None:
    """The first collecting meeting whose agenda has this number (input may come before or after)."""
    for meeting in await collecting_meetings(scope):
        item = await meeting_repo.item_by_number(scope.session, meeting.id, number)
        if item is not None:
            return meeting, item
    return None


@INNSPILL.handles(Input)
async def run(cmd: Input, scope: Scope, ctx: HandlerContext) -> Reply:
    meeting = await submission_meeting(scope)
    if isinstance(meeting, Reply):
        return meeting
    found = await _find_item(scope, cmd.item_number)
    if found is None:
        items = await meeting_repo.agenda_items(scope.session, meeting.id)
        label = meeting_label(scope, meeting)
        if not items:
            return refuse(scope, "input.no_items", meeting=label)
        return refuse(
            scope, "input.unknown_item", number=cmd.item_number, meeting=label, numbers=agenda_numbers(items)
        )
    meeting, item = found
    text = member_text(scope, cmd.text, "innspill")
    if isinstance(text, Reply):
        return text
    member = await ensure_member(scope)
    await submission_repo.add_submission(
        scope.session,
        meeting_id=meeting.id,
        member_id=member.id,
        kind=SubmissionKind.INPUT,
        text=text,
        platform=platform_of(scope.event),
        agenda_item_id=item.id,
    )
    return answer(
        scope,
        "input.saved",
        number=item.number,
        title=item.title,
        meeting=meeting_label(scope, meeting),
        preview=echo(text),
    )
