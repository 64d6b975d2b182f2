"""Work-group sign-up: `grupper` shows the poll here, `grupper ny` (secretariat) creates one and
posts it in every bound channel, and a click on an option joins or leaves it.

A poll that reads oddly (a group without a responsible person, none with one, only one group:
usually a missing `|` or quotes) is not posted at once. Its author gets a preview only they see,
what looks odd, and two buttons: **Legg ut** (`grupper publiser <nr>`) and **Avbryt** (`grupper
forkast <nr>`). The pending poll is stored, so the buttons work after a restart and on any
replica; it is shown nowhere, takes no votes and is not in the referat until it is posted.
`grupper trekk` withdraws the latest posted poll: its messages are taken down on every platform,
its votes are kept, and it takes no more and is left out of the referat.

A poll closes at its `frist` (`grupper frist DD.MM.YYYY HH:MM`, or `--frist` on `grupper ny`), by
the scheduler's pass (`close_due_polls`, exactly once across replicas), or at once with
`grupper lukk`; every posted copy then shows it closed with the final sign-ups. `grupper eksport`
gives the sign-ups as CSV for a spreadsheet, with formula-like cells neutralised.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from handlers import parser as grammar
from handlers.audit import record
from handlers.command_table import Subcommand, command
from handlers.commands.common import answer, contacts, current_meeting, refuse, require_secretariat
from handlers.context import HandlerContext
from handlers.dates import DateTimeError, looks_like_time, parse_date, parse_time
from handlers.effects import build_poll_view, channel_target, run_effects
from handlers.events import Button, ButtonStyle, Effect, EffectKind, FileAttachment, Reply
from handlers.i18n import format_deadline, format_short_date, t
from handlers.identity import Scope, ensure_member, platform_of
from handlers.parsed import GroupsNew, GroupsShow
from handlers.referat.deadline import DEFAULT_DEADLINE_TIME, group_zone
from handlers.text import clean, escape_markdown_inline
from storage.models import Poll, PollStatus
from storage.repositories import groups as group_repo
from storage.repositories import members as member_repo
from storage.repositories import polls as poll_repo
from storage.repositories.polls import OptionSpec, VoteOutcome

GRUPPER = command(
    "grupper",
    slash="/grupper",
    aliases=("groups",),
    usage_nb='grupper | grupper ny "Navn | Ansvarlig [| maks N]" … [--enkeltvalg] '
    '[--frist DD.MM.YYYY [HH:MM]] [--sporsmal "…"] | grupper frist DD.MM.YYYY HH:MM | '
    "grupper lukk | grupper trekk | grupper eksport",
    usage_en='grupper | grupper ny "Name | Owner [| max N]" … [--single] '
    '[--frist DD.MM.YYYY [HH:MM]] [--question "…"] | grupper frist DD.MM.YYYY HH:MM | '
    "grupper lukk | grupper trekk | grupper eksport",
    summary_nb="Vis påmeldingen til arbeidsgrupper; sekretariatet lager, stenger, trekker og eksporterer den",
    summary_en="Show the work-group sign-up; the secretariat creates, closes, withdraws and exports it",
    role="anyone",
    subcommands=(
        Subcommand("vis", ("show",)),
        Subcommand("ny", ("new", "create", "opprett"), role="secretariat"),
        Subcommand("frist", ("deadline", "stenger", "closes"), role="secretariat"),
        Subcommand("lukk", ("close", "steng"), role="secretariat"),
        Subcommand("eksport", ("export", "csv"), role="secretariat"),
        Subcommand("trekk", ("withdraw", "trekk-tilbake"), role="secretariat"),
        # the preview's two buttons (typed, they work too)
        Subcommand("publiser", ("post", "publish", "legg-ut", "leggut"), role="secretariat"),
        Subcommand("forkast", ("discard", "avbryt", "cancel"), role="secretariat"),
    ),
    grammar=lambda rest, args: _grammar(rest, args),
    position=80,
)


log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GroupsDeadline:
    """`grupper frist DD.MM.YYYY [kl.] HH:MM`: when the latest poll closes by itself."""

    day: date
    at: time | None = None


@dataclass(frozen=True, slots=True)
class GroupsClose:
    """`grupper lukk`: close the latest poll now."""


@dataclass(frozen=True, slots=True)
class GroupsExport:
    """`grupper eksport`: the latest poll's sign-ups as CSV."""


@dataclass(frozen=True, slots=True)
class GroupsWithdraw:
    """`grupper trekk`: withdraw the latest posted poll from every channel."""


@dataclass(frozen=True, slots=True)
class GroupsPost:
    """`grupper publiser <nr>` (the preview's **Legg ut**): post the pending poll."""

    poll_id: int


@dataclass(frozen=True, slots=True)
class GroupsDiscard:
    """`grupper forkast <nr>` (the preview's **Avbryt**): throw the pending poll away."""

    poll_id: int


# --- what makes a poll odd -----------------------------------------------------------------------


class Oddity(enum.StrEnum):
    """What makes a new poll look unintended (the key of its explanation: `poll.odd_<value>`)."""

    ONE_GROUP = "one_group"  # only one group: often several were meant, without quotes
    NO_RESPONSIBLE = "no_responsible"  # no group has a responsible person (no `|` anywhere)
    MISSING_RESPONSIBLE = "missing_responsible"  # some groups have none (their `|` forgotten)


@dataclass(frozen=True, slots=True)
class Odd:
    kind: Oddity
    labels: tuple[str, ...] = ()  # the groups it is about (MISSING_RESPONSIBLE)


def oddities(options: Sequence[OptionSpec]) -> tuple[Odd, ...]:
    """What is odd about a poll with these options, in the order it is told; () when nothing is.

    A group needs a responsible person (`"Navn | Ansvarlig"`): when none has one, that is said
    once; when only some lack one, those are named. A poll of one group is odd by itself."""
    found: list[Odd] = []
    if len(options) == 1:
        found.append(Odd(Oddity.ONE_GROUP))
    missing = tuple(o.label for o in options if not (o.responsible_text or "").strip())
    if missing and len(missing) == len(options):
        found.append(Odd(Oddity.NO_RESPONSIBLE))
    elif missing:
        found.append(Odd(Oddity.MISSING_RESPONSIBLE, missing))
    return tuple(found)


_TIME_WORDS = frozenset({"kl", "kl.", "klokka", "klokken", "at"})


def _deadline_grammar(words: list[str], today: date | None) -> GroupsDeadline:
    if not words:
        raise grammar.fail("missing_argument", "grupper", command="grupper", argument="date")
    try:
        day = parse_date(words[0].rstrip(",;"), today=today)
        rest = [w for w in words[1:] if w.casefold() not in _TIME_WORDS]
        if len(rest) > 1 or (rest and not looks_like_time(rest[0])):
            raise grammar.fail("bad_format", "grupper", value=" ".join(rest))
        return GroupsDeadline(day, parse_time(rest[0]) if rest else None)
    except DateTimeError as error:
        raise grammar.fail(error.key, "grupper", value=error.value, reason=error.reason) from None


_BARE = {"lukk": GroupsClose, "eksport": GroupsExport, "trekk": GroupsWithdraw}
_PREVIEW_ANSWERS: dict[str, type[GroupsPost] | type[GroupsDiscard]] = {
    "publiser": GroupsPost,
    "forkast": GroupsDiscard,
}


def _poll_number(words: list[str]) -> int:
    """The one number after `grupper publiser|forkast` (the preview's poll)."""
    if not words:
        raise grammar.fail("missing_argument", "grupper", command="grupper", argument="poll_number")
    if len(words) > 1:
        raise grammar.fail("bad_format", "grupper", value=words[1])
    number = words[0].lstrip("#")
    if not number.isdigit() or len(number) > 11:
        raise grammar.fail("bad_number", "grupper", value=words[0])
    return int(number)


def _grammar(rest: str, args: grammar.Args) -> object:
    """`grupper frist|lukk|trekk|eksport|publiser|forkast` here; `grupper [vis]` and
    `grupper ny …` by the parser's."""
    words = rest.split()
    sub = GRUPPER.subcommand(words[0]) if words else None
    if sub is not None and sub.name == "frist":
        return _deadline_grammar(words[1:], args.today)
    if sub is not None and sub.name in _BARE:
        if len(words) > 1:
            raise grammar.fail("bad_format", "grupper", value=words[1])
        return _BARE[sub.name]()
    if sub is not None and sub.name in _PREVIEW_ANSWERS:
        return _PREVIEW_ANSWERS[sub.name](_poll_number(words[1:]))
    return grammar.grupper(rest, args)


def _closes_at(scope: Scope, day: date, at: time | None = None) -> datetime:
    """A closing date alone means the end of that day (23:59) in the group's time zone."""
    return datetime.combine(day, at or DEFAULT_DEADLINE_TIME, tzinfo=group_zone(scope.group))


@GRUPPER.handles(GroupsShow, read_only=True)
async def show(cmd: GroupsShow, scope: Scope, ctx: HandlerContext) -> Reply:
    """Post the current work-group poll in this channel (a posted copy, so votes update it)."""
    poll = await poll_repo.latest_poll(scope.session, scope.group.id)
    if poll is None:
        return answer(scope, "poll.none")
    if poll.status == PollStatus.WITHDRAWN:
        return answer(scope, "poll.latest_withdrawn", question=poll.question)
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
        closes_at = _closes_at(scope, cmd.closes, cmd.closes_time)
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
    odd = oddities(options)
    poll = await poll_repo.create_poll(
        scope.session,
        group_id=scope.group.id,
        meeting_id=meeting.id if meeting else None,
        question=question,
        options=options,
        multiple=not cmd.single_choice,
        closes_at=closes_at,
        status=PollStatus.PENDING if odd else PollStatus.POSTED,
    )
    bindings = await group_repo.bindings_of(scope.session, scope.group.id)
    if odd:
        return await _preview(scope, poll, odd, channels=len(bindings))
    return _posted(scope, poll, count=len(options), channels=len(bindings))


def _posted(scope: Scope, poll: Poll, *, count: int, channels: int) -> Reply:
    """The answer to a poll going out, and the effect that posts it in every bound channel."""
    return Reply(
        text=t(scope.locale, "poll.created", question=poll.question, count=count, channels=channels),
        effects=(Effect(EffectKind.POST_POLL, poll.id),),
    )


def _odd_text(scope: Scope, odd: Odd) -> str:
    labels = ", ".join(f"«{label}»" for label in odd.labels)
    return t(scope.locale, f"poll.odd_{odd.kind.value}", labels=labels)


async def _preview(scope: Scope, poll: Poll, odd: Sequence[Odd], *, channels: int) -> Reply:
    """The pending poll as it will look (no vote buttons), what is odd, and Legg ut / Avbryt.
    Only the asker sees it where the platform allows (Slack); the buttons check the role."""
    view = await build_poll_view(scope.session, poll, scope.locale, scope.timezone, scope.now)
    lines = [
        t(scope.locale, "poll.preview_intro"),
        *(f"- {_odd_text(scope, o)}" for o in odd),
        "",
        t(scope.locale, "poll.preview_hint", channels=channels),
    ]
    buttons = (
        Button(
            label=t(scope.locale, "poll.post_button"),
            action_id=f"grupper:publiser:{poll.id}",
            value=f"grupper publiser {poll.id}",
            style=ButtonStyle.PRIMARY,
        ),
        Button(
            label=t(scope.locale, "poll.discard_button"),
            action_id=f"grupper:forkast:{poll.id}",
            value=f"grupper forkast {poll.id}",
        ),
    )
    return Reply(text="\n".join(lines), poll=view, buttons=buttons)


async def _own_poll(scope: Scope, poll_id: int) -> Poll | None:
    """A work-group poll of this group by its number (another group's is none of ours)."""
    poll = await poll_repo.get_poll(scope.session, poll_id)
    if poll is None or poll.group_id != scope.group.id or not poll.is_work_groups:
        return None
    return poll


@GRUPPER.handles(GroupsPost)
async def post_pending(cmd: GroupsPost, scope: Scope, ctx: HandlerContext) -> Reply:
    """**Legg ut** on a preview: the pending poll goes out exactly as a normal `grupper ny` would.
    The conditional UPDATE lets one click post it; a second (or a redelivered) click is told it
    is already out, and posts nothing."""
    refusal = await require_secretariat(scope, "grupper publiser")
    if refusal is not None:
        return refusal
    poll = await _own_poll(scope, cmd.poll_id)
    if poll is None:
        return refuse(scope, "poll.preview_gone", number=cmd.poll_id)
    if await poll_repo.mark_posted(scope.session, poll.id):
        await ensure_member(scope)
        options = await poll_repo.options_of(scope.session, poll.id)
        bindings = await group_repo.bindings_of(scope.session, scope.group.id)
        posted = _posted(scope, poll, count=len(options), channels=len(bindings))
        return dataclasses.replace(posted, settles_prompt=True)
    status = await poll_repo.current_status(scope.session, poll.id)
    if status is None:  # discarded by another click meanwhile
        return refuse(scope, "poll.preview_gone", number=cmd.poll_id)
    key = "poll.already_withdrawn" if status == PollStatus.WITHDRAWN else "poll.already_posted"
    return dataclasses.replace(answer(scope, key, question=poll.question), settles_prompt=True)


@GRUPPER.handles(GroupsDiscard)
async def discard_pending(cmd: GroupsDiscard, scope: Scope, ctx: HandlerContext) -> Reply:
    """**Avbryt** on a preview: the pending poll is deleted; nothing was ever posted. A poll that
    is out already is not taken back this way (that is `grupper trekk`)."""
    refusal = await require_secretariat(scope, "grupper forkast")
    if refusal is not None:
        return refusal
    poll = await _own_poll(scope, cmd.poll_id)
    if poll is None:
        return refuse(scope, "poll.preview_gone", number=cmd.poll_id)
    question = poll.question
    if await poll_repo.discard_pending(scope.session, poll.id):
        await ensure_member(scope)
        return dataclasses.replace(answer(scope, "poll.discarded", question=question), settles_prompt=True)
    return refuse(scope, "poll.cannot_discard", question=question)


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
    if result.outcome == VoteOutcome.WITHDRAWN:
        return refuse(scope, "poll.withdrawn", contacts=await contacts(scope))
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


async def _latest(scope: Scope, command: str, *, withdrawn_too: bool = False) -> Poll | Reply:
    """The latest poll that went out, for a secretariat command on it. A withdrawn one is
    refused (not closed or moved), except where `withdrawn_too` (its sign-ups are still kept)."""
    refusal = await require_secretariat(scope, command)
    if refusal is not None:
        return refusal
    poll = await poll_repo.latest_poll(scope.session, scope.group.id)
    if poll is None:
        return refuse(scope, "poll.none")
    if poll.status == PollStatus.WITHDRAWN and not withdrawn_too:
        return refuse(scope, "poll.already_withdrawn", question=poll.question)
    return poll


@GRUPPER.handles(GroupsDeadline)
async def set_deadline(cmd: GroupsDeadline, scope: Scope, ctx: HandlerContext) -> Reply:
    poll = await _latest(scope, "grupper frist")
    if isinstance(poll, Reply):
        return poll
    closes_at = _closes_at(scope, cmd.day, cmd.at)
    when = format_deadline(closes_at, scope.timezone, scope.locale, now=scope.now)
    if closes_at <= scope.now:
        return refuse(scope, "poll.closes_in_past", date=when)
    if poll.closed_at is not None:
        return refuse(scope, "poll.already_closed", question=poll.question)
    poll.closes_at = closes_at
    await ensure_member(scope)
    return Reply(
        text=t(scope.locale, "poll.deadline_set", question=poll.question, when=when),
        effects=(Effect(EffectKind.REFRESH_POLL, poll.id),),
    )


@GRUPPER.handles(GroupsClose)
async def close_now(cmd: GroupsClose, scope: Scope, ctx: HandlerContext) -> Reply:
    poll = await _latest(scope, "grupper lukk")
    if isinstance(poll, Reply):
        return poll
    if not await poll_repo.close_poll(scope.session, poll.id, scope.now):
        return answer(scope, "poll.already_closed", question=poll.question)
    await ensure_member(scope)
    votes = await poll_repo.sign_ups(scope.session, poll.id)
    await record(scope.session, scope, "poll.close", {"poll_id": poll.id, "sign_ups": len(votes)})
    return Reply(
        text=t(scope.locale, "poll.closed_now", question=poll.question, count=len(votes)),
        effects=(Effect(EffectKind.REFRESH_POLL, poll.id),),
    )


@GRUPPER.handles(GroupsWithdraw)
async def withdraw(cmd: GroupsWithdraw, scope: Scope, ctx: HandlerContext) -> Reply:
    """`grupper trekk`: the latest posted poll is withdrawn (once: typed twice, the second is
    told so and withdraws no older poll). Its messages come down on every platform, its votes
    stay stored, and it takes no more and is left out of the referat. Audited."""
    poll = await _latest(scope, "grupper trekk", withdrawn_too=True)
    if isinstance(poll, Reply):
        return poll
    if not await poll_repo.withdraw(scope.session, poll.id):
        return answer(scope, "poll.already_withdrawn", question=poll.question)
    await ensure_member(scope)
    votes = await poll_repo.sign_ups(scope.session, poll.id)
    await record(scope.session, scope, "poll.withdraw", {"poll_id": poll.id, "sign_ups": len(votes)})
    return Reply(
        text=t(scope.locale, "poll.withdrawn_now", question=poll.question, count=len(votes)),
        effects=(Effect(EffectKind.WITHDRAW_POLL, poll.id),),
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would read as a formula (=, +, -, @, tab, CR first) gets a leading
    single quote, so opening the export runs nothing (OWASP's CSV-injection advice)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def sign_ups_csv(rows: list[tuple[str, ...]]) -> bytes:
    """CSV with a BOM (Excel reads it as UTF-8), every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@GRUPPER.handles(GroupsExport)  # not read-only: the export of personal data is audited
async def export(cmd: GroupsExport, scope: Scope, ctx: HandlerContext) -> Reply:
    poll = await _latest(scope, "grupper eksport", withdrawn_too=True)
    if isinstance(poll, Reply):
        return poll
    zone = group_zone(scope.group)
    columns = ("group", "responsible", "name", "organisation", "email", "at")
    header = tuple(t(scope.locale, f"poll.csv_{c}") for c in columns)
    rows: list[tuple[str, ...]] = [header]
    by_option: dict[str, list[str]] = {}
    for option, member, at in await poll_repo.sign_ups(scope.session, poll.id):
        by_option.setdefault(option.label, []).append(member.name)
        rows.append(
            (
                option.label,
                option.responsible_text or "",
                member.name,
                member.organisation or "",
                member.email or "",
                at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            )
        )
    await record(scope.session, scope, "poll.export", {"poll_id": poll.id, "rows": len(rows) - 1})
    attachment = FileAttachment(
        filename=f"pamelding-{poll.id}.csv", content=sign_ups_csv(rows), mime_type="text/csv"
    )
    # The sign-ups in the text too: Teams cannot take a file from a bot.
    summary = [
        f"- {escape_markdown_inline(label)}: {escape_markdown_inline(', '.join(names))}"
        for label, names in by_option.items()
    ]
    head = t(scope.locale, "poll.exported", question=poll.question, count=len(rows) - 1)
    return Reply(text="\n".join([head, *summary]), files=(attachment,))


async def close_due_polls(ctx: HandlerContext, now: datetime | None = None) -> list[int]:
    """The scheduler's part (and `referent remind`'s): close every poll whose time has come (at
    `now`, default the context's clock) and refresh its posted copies.

    Each poll is closed in its own short transaction by a conditional UPDATE, so of several
    replicas running this at once exactly one closes (and announces) each poll."""
    now = now or ctx.now()
    async with ctx.db.session() as session:
        due = await poll_repo.due_to_close(session, now)
    closed: list[int] = []
    for poll_id in due:
        async with ctx.db.write() as session:
            won = await poll_repo.close_poll(session, poll_id, now)
        if won:
            closed.append(poll_id)
            await run_effects((Effect(EffectKind.REFRESH_POLL, poll_id),), ctx)
    if closed:
        log.info("closed %d poll(s) at their deadline: %s", len(closed), closed)
    return closed
