"""Work-group sign-up: `grupper` shows the poll here, `grupper ny` (secretariat) creates one and
posts it in every bound channel, and a click on an option joins or leaves it."""

from __future__ import annotations

from datetime import date, datetime

from handlers import parser as grammar
from handlers.command_table import Subcommand, command
from handlers.commands.common import answer, contacts, current_meeting, refuse, require_secretariat
from handlers.context import HandlerContext
from handlers.effects import channel_target
from handlers.events import Effect, EffectKind, Reply
from handlers.i18n import format_short_date, t
from handlers.identity import Scope, ensure_member, platform_of
from handlers.parsed import GroupsNew, GroupsShow
from handlers.referat.deadline import DEFAULT_DEADLINE_TIME, group_zone
from handlers.text import clean
from storage.models import Poll
from storage.repositories import groups as group_repo
from storage.repositories import members as member_repo
from storage.repositories import polls as poll_repo
from storage.repositories.polls import OptionSpec, VoteOutcome

GRUPPER = command(
    "grupper",
    slash="/grupper",
    aliases=("groups",),
    usage_nb='grupper | grupper ny "Navn | Ansvarlig [| maks N]" … [--enkeltvalg] '
    '[--stenger DD.MM.YYYY] [--sporsmal "…"]',
    usage_en='grupper | grupper ny "Name | Owner [| max N]" … [--single] '
    '[--closes DD.MM.YYYY] [--question "…"]',
    summary_nb="Vis påmeldingen til arbeidsgrupper, eller lag en ny (sekretariatet)",
    summary_en="Show the work-group sign-up, or create one (secretariat)",
    role="anyone",
    subcommands=(
        Subcommand("vis", ("show",)),
        Subcommand("ny", ("new", "create", "opprett"), role="secretariat"),
    ),
    grammar=grammar.grupper,
    position=80,
)


def _closes_at(scope: Scope, day: date) -> datetime:
    """A closing date means the end of that day (23:59) in the group's time zone."""
    return datetime.combine(day, DEFAULT_DEADLINE_TIME, tzinfo=group_zone(scope.group))


@GRUPPER.handles(GroupsShow, read_only=True)
async def show(cmd: GroupsShow, scope: Scope, ctx: HandlerContext) -> Reply:
    """Post the current work-group poll in this channel (a posted copy, so votes update it)."""
    poll = await poll_repo.latest_poll(scope.session, scope.group.id)
    if poll is None:
        return answer(scope, "poll.none")
    event = scope.event
    target = channel_target(platform_of(event), event.workspace_id, event.channel_id)
    return Reply(
        text=t(scope.locale, "poll.shown", question=poll.question),
        effects=(Effect(EffectKind.POST_POLL, poll.id, target=target),),
    )


@GRUPPER.handles(GroupsNew)
async def create(cmd: GroupsNew, scope: Scope, ctx: HandlerContext) -> Reply:
    refusal = await require_secretariat(scope, "grupper ny")
    if refusal is not None:
        return refusal
    closes_at = None
    if cmd.closes is not None:
        closes_at = _closes_at(scope, cmd.closes)
        if closes_at <= scope.now:
            return refuse(scope, "poll.closes_in_past", date=format_short_date(cmd.closes, scope.locale))
    options: list[OptionSpec] = []
    for spec in cmd.groups:
        responsible = clean(spec.responsible).strip() if spec.responsible else None
        member_id = None
        if responsible:
            found = await member_repo.by_name(scope.session, scope.group.id, responsible)
            member_id = found[0].id if len(found) == 1 else None
        options.append(OptionSpec(clean(spec.label).strip(), responsible or None, member_id, spec.cap))
    meeting = await current_meeting(scope)
    question = clean(cmd.question).strip() if cmd.question else t(scope.locale, "poll.default_question")
    await ensure_member(scope)
    poll = await poll_repo.create_poll(
        scope.session,
        group_id=scope.group.id,
        meeting_id=meeting.id if meeting else None,
        question=question,
        options=options,
        multiple=not cmd.single_choice,
        closes_at=closes_at,
    )
    bindings = await group_repo.bindings_of(scope.session, scope.group.id)
    return Reply(
        text=t(scope.locale, "poll.created", question=question, count=len(options), channels=len(bindings)),
        effects=(Effect(EffectKind.POST_POLL, poll.id),),
    )


async def _state(scope: Scope, poll: Poll, option_id: int, member_id: int) -> Reply:
    """For a redelivered click: say where I stand, without toggling again."""
    options = {o.id: o for o in await poll_repo.options_of(scope.session, poll.id)}
    option = options.get(option_id)
    if option is None:
        return refuse(scope, "poll.unknown")
    mine = await poll_repo.member_option_ids(scope.session, poll.id, member_id)
    key = "poll.state_in" if option_id in mine else "poll.state_out"
    return answer(scope, key, option=option.label)


async def vote(scope: Scope, ctx: HandlerContext) -> Reply:
    """A click: join, leave, or move (single choice); a full option or closed poll is refused."""
    action = scope.event.action
    poll = await poll_repo.get_poll(scope.session, action.poll_id) if action is not None else None
    if action is None or poll is None or poll.group_id != scope.group.id:
        return refuse(scope, "poll.unknown")
    member = await ensure_member(scope)
    if scope.duplicate:
        return await _state(scope, poll, action.option_id, member.id)
    result = await poll_repo.toggle_vote(scope.session, poll.id, action.option_id, member.id, scope.now)
    label = result.option.label if result.option is not None else ""
    if result.outcome == VoteOutcome.UNKNOWN:
        return refuse(scope, "poll.unknown")
    if result.outcome == VoteOutcome.CLOSED:
        return refuse(scope, "poll.closed", contacts=await contacts(scope))
    if result.outcome == VoteOutcome.FULL:
        cap = result.option.cap if result.option is not None else 0
        return refuse(scope, "poll.full", option=label, cap=cap)
    if result.outcome == VoteOutcome.MOVED:
        previous = result.previous.label if result.previous is not None else ""
        text = t(scope.locale, "poll.moved", option=label, previous=previous)
    elif result.outcome == VoteOutcome.LEFT:
        text = t(scope.locale, "poll.left", option=label)
    else:
        text = t(scope.locale, "poll.joined", option=label)
    return Reply(text=text, effects=(Effect(EffectKind.REFRESH_POLL, poll.id),))
