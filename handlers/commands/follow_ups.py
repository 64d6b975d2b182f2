"""`oppfolging <tekst> [@ansvarlig] [frist DD.MM]`: a follow-up for the current meeting.

The owner is linked to a roster member when the @mention or the name points at exactly one;
otherwise it is kept as written ("Sekretariatet", someone outside the group).
"""

from __future__ import annotations

from handlers import parser as grammar
from handlers.command_table import command
from handlers.commands.common import answer, meeting_label, member_text, submission_meeting
from handlers.context import HandlerContext
from handlers.events import Reply
from handlers.i18n import format_day_month, t
from handlers.identity import Scope, ensure_member, platform_of
from handlers.parsed import FollowUpCmd
from handlers.richtext import preview
from handlers.text import clean
from storage.models import Member
from storage.repositories import follow_ups as follow_up_repo
from storage.repositories import members as member_repo

OPPFOLGING = command(
    "oppfolging",
    slash="/oppfolging",
    aliases=("oppfølging", "followup", "follow-up", "action"),
    usage_nb="oppfolging <tekst> [@ansvarlig] [frist DD.MM]",
    usage_en="oppfolging <text> [@owner] [frist DD.MM]",
    summary_nb="Legg til en oppfølging",
    summary_en="Add a follow-up",
    role="member",
    grammar=grammar.oppfolging,
    position=40,
)

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
        preview=preview(text),
        owner=owner.name if owner else owner_text,
        due=format_day_month(cmd.due, scope.locale) if cmd.due else None,
    )
