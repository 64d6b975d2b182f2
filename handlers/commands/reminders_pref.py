"""`paminnelser av|på`: mute or unmute my reminders for the current meeting."""

from __future__ import annotations

from handlers import parser as grammar
from handlers.command_table import Subcommand, command
from handlers.commands.common import meeting_label, submission_meeting
from handlers.context import HandlerContext
from handlers.events import Reply
from handlers.i18n import t
from handlers.identity import Scope, ensure_member
from handlers.parsed import Reminders
from storage.repositories import reminder_mutes as mute_repo

PAMINNELSER = command(
    "paminnelser",
    aliases=("påminnelser", "reminders"),
    usage_nb="paminnelser av|på",
    usage_en="paminnelser off|on",
    summary_nb="Slå påminnelser for dette møtet av eller på",
    summary_en="Mute or unmute reminders for this meeting",
    role="member",
    subcommands=(Subcommand("pa", ("på", "on")), Subcommand("av", ("off",))),
    grammar=grammar.paminnelser,
    position=130,
)


@PAMINNELSER.handles(Reminders)
async def run(cmd: Reminders, scope: Scope, ctx: HandlerContext) -> Reply:
    meeting = await submission_meeting(scope)
    if isinstance(meeting, Reply):
        return meeting
    member = await ensure_member(scope)
    label = meeting_label(scope, meeting)
    if cmd.on:
        changed = await mute_repo.unmute(scope.session, meeting.id, member.id)
        text = t(scope.locale, "reminders.unmuted" if changed else "reminders.already_on", meeting=label)
        if not scope.group.reminders_enabled:
            text = f"{text} {t(scope.locale, 'reminders.group_off')}"
    else:
        changed = await mute_repo.mute(scope.session, meeting.id, member.id)
        text = t(scope.locale, "reminders.muted" if changed else "reminders.already_muted", meeting=label)
    return Reply(text=text)
