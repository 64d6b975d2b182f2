"""Work done after the user has had their answer: posting the collection message and polls in
every channel bound to the group, updating every posted copy of a poll after a vote, and taking
every copy of a withdrawn poll down again.

This is how one group spans a Slack and a Teams channel: each bound channel gets its own copy,
every copy's ref is recorded, and a vote from either platform refreshes them all. A platform
without a messenger is skipped and a failed post is logged, never raised: the user's command
has already succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import HandlerContext
from handlers.events import (
    Button,
    ButtonStyle,
    ChannelTarget,
    Effect,
    EffectKind,
    PollOptionView,
    PollView,
    Reply,
)
from handlers.i18n import format_deadline, format_meeting_time, resolve_locale, t
from handlers.ports import Messenger
from handlers.referat.deadline import collection_open, submission_deadline
from handlers.text import escape_markdown_inline
from storage.models import (
    ChannelBinding,
    Group,
    Meeting,
    MeetingStatus,
    Member,
    Poll,
    PollOption,
    PollStatus,
)
from storage.repositories import channel_messages as message_repo
from storage.repositories import groups as group_repo
from storage.repositories import meetings as meeting_repo
from storage.repositories import polls as poll_repo

log = logging.getLogger(__name__)

# The collection message's button. Adapters run a button's `value` as a command line, so the
# click is `runde` from that user in that channel: it opens the editor for their entry.
OPEN_EDITOR_ACTION = "runde:open"
OPEN_EDITOR_COMMAND = "runde"


# --- what is posted ----------------------------------------------------------------------------


def collection_reply(meeting: Meeting, group: Group, locale: str, now: datetime | None = None) -> Reply:
    """The collection message: "Runde rundt bordet — svar i tråden innen <frist>", with a button
    that opens the editor for my entry. A closed meeting's message says so and has no button."""
    timezone = group.timezone or "Europe/Oslo"
    closed = meeting.status == MeetingStatus.CLOSED
    text = t(
        locale,
        "collection.text",
        when=format_meeting_time(meeting.starts_at, meeting.ends_at, timezone, locale),
        deadline=format_deadline(submission_deadline(meeting, group), timezone, locale, now=now),
        question=meeting.round_question or None,
        closed=closed,
    )
    if closed:
        return Reply(text=text, ephemeral=False)
    button = Button(
        label=t(locale, "collection.button"),
        action_id=OPEN_EDITOR_ACTION,
        value=OPEN_EDITOR_COMMAND,
        style=ButtonStyle.PRIMARY,
    )
    return Reply(text=text, ephemeral=False, buttons=(button,))


def poll_view(
    poll: Poll,
    options: Sequence[PollOption],
    voters: dict[int, list[Member]],
    *,
    responsible_names: dict[int, str] | None = None,
    locale: str,
    timezone: str,
    now: datetime,
) -> PollView:
    """A poll as every platform shows it, with who has signed up for each option."""
    names = responsible_names or {}
    closed = poll_repo.is_closed(poll, now)
    closes_text: str | None = None
    if closed:
        closes_text = t(locale, "poll.closed_text")
    elif poll.closes_at is not None:
        closes_text = t(
            locale, "poll.closes", when=format_deadline(poll.closes_at, timezone, locale, now=now)
        )
    return PollView(
        poll_id=poll.id,
        question=poll.question,
        options=tuple(
            PollOptionView(
                option_id=option.id,
                label=option.label,
                responsible=names.get(option.id) or option.responsible_text or None,
                voters=tuple(m.name for m in voters.get(option.id, [])),
                cap=option.cap,
            )
            for option in options
        ),
        multiple=poll.multiple,
        closed=closed,
        closes_text=closes_text,
        footer=None
        if closed
        else t(locale, "poll.footer_multiple" if poll.multiple else "poll.footer_single"),
        button_join_label=t(locale, "poll.join"),
        button_leave_label=t(locale, "poll.leave"),
        preview=poll.status == PollStatus.PENDING,
    )


async def build_poll_view(
    session: AsyncSession, poll: Poll, locale: str, timezone: str, now: datetime
) -> PollView:
    options = await poll_repo.options_of(session, poll.id)
    voters = await poll_repo.votes_by_option(session, poll.id)
    names: dict[int, str] = {}
    for option in options:
        if option.responsible_member_id is not None:
            member = await session.get(Member, option.responsible_member_id)
            if member is not None and member.name:
                names[option.id] = member.name
    return poll_view(
        poll, options, voters, responsible_names=names, locale=locale, timezone=timezone, now=now
    )


async def load_poll_view(ctx: HandlerContext, poll_id: int, locale: str | None = None) -> PollView | None:
    """The current view of a poll (in the group's language unless `locale` is given)."""
    async with ctx.db.session() as session:
        poll = await poll_repo.get_poll(session, poll_id)
        if poll is None:
            return None
        group = await group_repo.get_group(session, poll.group_id)
        if group is None:  # pragma: no cover - the foreign key forbids it
            return None
        lang = resolve_locale(locale, group_locale=group.locale, default=ctx.settings.default_locale)
        return await build_poll_view(session, poll, lang, group.timezone, ctx.now())


def poll_reply(view: PollView) -> Reply:
    """A poll message as posted in a channel (everyone sees it)."""
    return Reply(text=f"**{escape_markdown_inline(view.question)}**", ephemeral=False, poll=view)


# --- where it goes -----------------------------------------------------------------------------


def channel_target(platform: str, workspace_id: str, channel_id: str) -> ChannelTarget:
    """A channel by its ids: how to reach it is the platform messenger's business."""
    return ChannelTarget(platform=platform, workspace_id=workspace_id, channel_id=channel_id)


def _binding_targets(bindings: Sequence[ChannelBinding]) -> list[ChannelTarget]:
    return [channel_target(b.platform.value, b.workspace_id, b.channel_id) for b in bindings]


def _messenger(ctx: HandlerContext, platform: str) -> Messenger | None:
    if ctx.messengers is None:
        return None
    return ctx.messengers.for_platform(platform)


@dataclass(frozen=True, slots=True)
class _Posted:
    target: ChannelTarget
    ref: str


async def _post_all(ctx: HandlerContext, targets: Sequence[ChannelTarget], reply: Reply) -> list[_Posted]:
    posted: list[_Posted] = []
    for target in targets:
        messenger = _messenger(ctx, target.platform)
        if messenger is None:
            log.info("no messenger for %s: not posting in %s", target.platform, target.channel_id)
            continue
        try:
            ref = await messenger.post(target, reply)
        except Exception:
            log.exception("posting in %s channel %s failed", target.platform, target.channel_id)
            continue
        if ref:
            posted.append(_Posted(target, ref))
    return posted


async def _record(ctx: HandlerContext, purpose: str, subject_id: int, posted: Sequence[_Posted]) -> None:
    if not posted:
        return
    async with ctx.db.write() as session:
        for item in posted:
            await message_repo.record_message(
                session,
                purpose=purpose,
                subject_id=subject_id,
                platform=item.target.platform,
                workspace_id=item.target.workspace_id,
                channel_id=item.target.channel_id,
                message_ref=item.ref,
            )


# --- the effects ---------------------------------------------------------------------------------


async def _effect_targets(session: AsyncSession, effect: Effect, group_id: int) -> list[ChannelTarget]:
    """The one channel the effect names, or every channel bound to the group."""
    if effect.target is not None:
        return [effect.target]
    return _binding_targets(await group_repo.bindings_of(session, group_id))


async def _posted_copies(
    session: AsyncSession, purpose: str, subject_id: int
) -> list[tuple[ChannelTarget, str]]:
    """Every message the bot posted for this subject (a poll, a meeting's collection), as
    (where, its platform message id)."""
    return [
        (channel_target(m.platform.value, m.workspace_id, m.channel_id), m.message_ref)
        for m in await message_repo.messages_for(session, purpose, subject_id)
    ]


async def _update_all(
    ctx: HandlerContext, copies: Sequence[tuple[ChannelTarget, str]], reply: Reply, what: str
) -> None:
    """Replace each posted copy with `reply`; one platform failing does not stop the others."""
    for target, ref in copies:
        messenger = _messenger(ctx, target.platform)
        if messenger is None:
            continue
        try:
            await messenger.update(target, ref, reply)
        except Exception:
            log.exception("updating %s in %s channel %s failed", what, target.platform, target.channel_id)


async def _remove_all(
    ctx: HandlerContext, copies: Sequence[tuple[ChannelTarget, str]], notice: Reply, what: str
) -> None:
    """Delete each posted copy; where the platform refuses (an old message, a missing right),
    replace it with `notice` instead. One platform failing does not stop the others."""
    for target, ref in copies:
        messenger = _messenger(ctx, target.platform)
        if messenger is None:
            continue
        try:
            await messenger.delete(target, ref)
            continue
        except Exception as exc:
            log.warning(
                "deleting %s in %s channel %s failed (%s); replacing it with a notice",
                what,
                target.platform,
                target.channel_id,
                exc,
            )
        try:
            await messenger.update(target, ref, notice)
        except Exception:
            log.exception("replacing %s in %s channel %s failed", what, target.platform, target.channel_id)


async def _post_collection(effect: Effect, ctx: HandlerContext) -> None:
    async with ctx.db.session() as session:
        meeting = await meeting_repo.get_meeting(session, effect.subject_id)
        if meeting is None:
            return
        group = await group_repo.get_group(session, meeting.group_id)
        if group is None:  # pragma: no cover
            return
        locale = resolve_locale(effect.locale, group_locale=group.locale, default=ctx.settings.default_locale)
        reply = collection_reply(meeting, group, locale, ctx.now())
        targets = await _effect_targets(session, effect, group.id)
    await _record(ctx, message_repo.COLLECTION, meeting.id, await _post_all(ctx, targets, reply))


async def _post_poll(effect: Effect, ctx: HandlerContext) -> None:
    """A posted poll, in every bound channel (or the effect's one); a preview that nobody has
    confirmed, or a withdrawn poll, is never posted."""
    async with ctx.db.session() as session:
        poll = await poll_repo.get_poll(session, effect.subject_id)
        if poll is None or poll.status != PollStatus.POSTED:
            return
        group = await group_repo.get_group(session, poll.group_id)
        if group is None:  # pragma: no cover
            return
        locale = resolve_locale(effect.locale, group_locale=group.locale, default=ctx.settings.default_locale)
        view = await build_poll_view(session, poll, locale, group.timezone, ctx.now())
        targets = await _effect_targets(session, effect, group.id)
    await _record(ctx, message_repo.POLL, poll.id, await _post_all(ctx, targets, poll_reply(view)))


async def _refresh_poll(effect: Effect, ctx: HandlerContext) -> None:
    async with ctx.db.session() as session:
        poll = await poll_repo.get_poll(session, effect.subject_id)
        if poll is None or poll.status != PollStatus.POSTED:
            return  # a withdrawn poll's copies are gone (or show the notice): leave them so
        group = await group_repo.get_group(session, poll.group_id)
        if group is None:  # pragma: no cover
            return
        locale = resolve_locale(effect.locale, group_locale=group.locale, default=ctx.settings.default_locale)
        reply = poll_reply(await build_poll_view(session, poll, locale, group.timezone, ctx.now()))
        copies = await _posted_copies(session, message_repo.POLL, poll.id)
    await _update_all(ctx, copies, reply, f"poll {poll.id}")


async def _withdraw_poll(effect: Effect, ctx: HandlerContext) -> None:
    """After `grupper trekk`: every posted copy of the poll is deleted, or, where the platform
    will not delete it, replaced with "the poll is withdrawn" (so no copy takes a click)."""
    async with ctx.db.session() as session:
        poll = await poll_repo.get_poll(session, effect.subject_id)
        if poll is None or poll.status != PollStatus.WITHDRAWN:
            return
        group = await group_repo.get_group(session, poll.group_id)
        if group is None:  # pragma: no cover
            return
        locale = resolve_locale(effect.locale, group_locale=group.locale, default=ctx.settings.default_locale)
        notice = Reply(text=t(locale, "poll.withdrawn_notice", question=poll.question), ephemeral=False)
        copies = await _posted_copies(session, message_repo.POLL, poll.id)
    await _remove_all(ctx, copies, notice, f"poll {poll.id}")


async def _refresh_collection(effect: Effect, ctx: HandlerContext) -> None:
    """After `mote frist|lukk|apne`: every posted collection message shows the new deadline and
    state. A meeting whose message was never posted (created with a past deadline) gets it now,
    if it takes submissions."""
    async with ctx.db.session() as session:
        meeting = await meeting_repo.get_meeting(session, effect.subject_id)
        if meeting is None:
            return
        group = await group_repo.get_group(session, meeting.group_id)
        if group is None:  # pragma: no cover
            return
        locale = resolve_locale(effect.locale, group_locale=group.locale, default=ctx.settings.default_locale)
        now = ctx.now()
        reply = collection_reply(meeting, group, locale, now)
        copies = await _posted_copies(session, message_repo.COLLECTION, meeting.id)
        targets = [] if copies else await _effect_targets(session, effect, group.id)
        post_now = not copies and collection_open(meeting, group, now)
    if post_now:
        await _record(ctx, message_repo.COLLECTION, meeting.id, await _post_all(ctx, targets, reply))
        return
    await _update_all(ctx, copies, reply, f"the collection message of meeting {meeting.id}")


async def _join_requested(effect: Effect, ctx: HandlerContext) -> None:
    """Tell the group's own channels that a channel elsewhere asks to join, with the button that
    approves it (the click runs `oppsett godkjenn <nr>`, which checks the secretariat)."""
    async with ctx.db.session() as session:
        pending = await group_repo.get_pending_join(session, effect.subject_id)
        if pending is None:
            return
        group = await group_repo.get_group(session, pending.group_id)
        if group is None:  # pragma: no cover - the foreign key forbids it
            return
        locale = resolve_locale(effect.locale, group_locale=group.locale, default=ctx.settings.default_locale)
        targets = _binding_targets(await group_repo.bindings_of(session, group.id))
        text = t(
            locale,
            "setup.join_notice",
            who=escape_markdown_inline(pending.requested_by_name or pending.requested_by),
            where=f"{pending.platform.value.capitalize()} {escape_markdown_inline(pending.workspace_id)}",
            group=group.name,
            number=str(pending.id),
        )
        command = f"oppsett godkjenn {pending.id}"
        button = Button(
            label=t(locale, "setup.join_button"), action_id="oppsett:godkjenn", value=command,
            style=ButtonStyle.PRIMARY,
        )
    await _post_all(ctx, targets, Reply(text=text, ephemeral=False, buttons=(button,)))


_RUNNERS = {
    EffectKind.JOIN_REQUESTED: _join_requested,
    EffectKind.POST_COLLECTION: _post_collection,
    EffectKind.POST_POLL: _post_poll,
    EffectKind.REFRESH_POLL: _refresh_poll,
    EffectKind.REFRESH_COLLECTION: _refresh_collection,
    EffectKind.WITHDRAW_POLL: _withdraw_poll,
}


async def run_effects(effects: Sequence[Effect], ctx: HandlerContext) -> None:
    """Carry out a Reply's effects in order; each failure is logged and the rest still run."""
    for effect in effects:
        runner = _RUNNERS.get(effect.kind)
        if runner is None:
            log.warning("unknown effect %s", effect.kind)
            continue
        try:
            await runner(effect, ctx)
        except Exception:
            log.exception("effect %s for %s failed", effect.kind, effect.subject_id)
