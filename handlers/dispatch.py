"""The one entry point both adapters call: `handle(event, ctx) -> Reply`, for every EventKind.

The order of work for a command: find the group from the channel binding (or, in a 1:1 chat,
from the user's memberships) through the read cache, parse the line with today's date in the
group's time zone, then run the command in one transaction. Rules kept here, so no command can
forget them:

- nothing outside the bound group is visible: an unbound channel gets "how to set up";
- a refused command (`Reply.ok` False) rolls its transaction back, so it stores nothing;
- a redelivered event (same `event_id`) is answered again but changes nothing: the id is
  inserted in the same transaction as the write it guards;
- the adapter's bookkeeping (`ChatEvent.record`, e.g. Teams conversation references) is stored
  in that same transaction, or in one of its own when the event writes nothing;
- bad input never raises: an unexpected error is logged and answered with an apology; when the
  error was the database's (unreachable, locked, read-only), the apology is `retryable`.

The hot path (`runde <tekst>` and collection-thread replies, see round.py) reads nothing under
the write lock: it decides from the cache and hands the post to a group commit, which checks
again, in its own transaction, what the decision rested on. Anything unusual takes the full
path below, which resolves the scope again inside the transaction that acts on it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import audit
from handlers.command_table import lookup as lookup_command
from handlers.command_table import route
from handlers.commands import polls
from handlers.commands import round as round_cmd
from handlers.commands.common import usage_line
from handlers.context import HandlerContext
from handlers.events import ChatEvent, EventKind, EventRecord, Reply
from handlers.i18n import has_key, resolve_locale, t
from handlers.identity import Scope, Unresolved, lookup, platform_of, resolve
from handlers.parsed import ParseError
from handlers.parser import parse
from storage.db import is_retryable
from storage.repositories import channel_messages as message_repo
from storage.repositories import events as event_repo
from storage.repositories import groups as group_repo
from storage.repositories import meetings as meeting_repo
from storage.repositories import members as member_repo
from storage.zones import zone_or_default

log = logging.getLogger(__name__)

__all__ = ["handle", "is_retryable", "parse_error_reply", "unresolved_reply"]

SILENT = Reply(text="")

# Whether the event being handled stored its `record` in its own transaction (see handle()).
_RECORDED: ContextVar[bool] = ContextVar("referent_event_recorded", default=False)


class _Discard(Exception):
    """Roll the transaction back but still give this answer (a refusal or a duplicate)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__("discard")
        self.reply = reply


def _fallback_locale(event: ChatEvent, ctx: HandlerContext) -> str:
    return resolve_locale(event.locale, default=ctx.settings.default_locale)


def unresolved_reply(reason: Unresolved, locale: str) -> Reply:
    """ "How to set up", and nothing about any group."""
    key = "setup.direct_unknown" if reason == Unresolved.DIRECT_UNKNOWN else "setup.unbound"
    return Reply(text=t(locale, key), ok=False)


def parse_error_reply(error: ParseError, locale: str) -> Reply:
    """The parser's complaint in the user's language, with the command's usage line."""
    key = error.key
    params: dict[str, Any] = {"suggestion": None, "command": error.command or "", **error.params}
    if key == "unknown_command" and error.command:
        key = "unknown_subcommand"
        params["command"] = error.command
    if key == "missing_argument":
        argument = str(params.get("argument", ""))
        params["argument"] = (
            t(locale, f"argument.{argument}") if has_key(f"argument.{argument}") else argument
        )
    if not has_key(f"parse.{key}"):
        key = "generic"
    text = t(locale, f"parse.{key}", **params)
    if error.command and lookup_command(error.command) is not None:
        text = f"{text}\n{usage_line(locale, error.command)}"
    return Reply(text=text, ok=False)


async def _transaction(
    event: ChatEvent, ctx: HandlerContext, body: Callable[[AsyncSession, bool], Awaitable[Reply]]
) -> Reply:
    """Run `body` in one write transaction with event de-duplication; refusals roll back."""
    platform = platform_of(event)
    event_id = event.event_id
    for attempt in (1, 2):
        try:
            async with ctx.db.write() as session:
                duplicate = bool(event_id) and await event_repo.is_processed(
                    session, platform, event_id or ""
                )
                reply = await body(session, duplicate)
                if duplicate:
                    _RECORDED.set(True)  # the first delivery stored it
                    raise _Discard(dataclasses.replace(reply, effects=()))
                if not reply.ok:
                    raise _Discard(reply)
                if event_id:
                    await event_repo.mark_processed(session, platform, event_id)
                if event.record is not None:
                    await event.record(session)
            _RECORDED.set(True)
            return reply
        except _Discard as discard:
            return discard.reply
        except IntegrityError:
            # A concurrent twin of this delivery (or of this chat message) won the race; the
            # second pass sees its row and answers as for a duplicate.
            if attempt == 2:
                raise
            log.info("concurrent duplicate of %s event %s; answering again", platform, event_id)
    raise AssertionError("unreachable")  # pragma: no cover


async def _read(
    event: ChatEvent, ctx: HandlerContext, body: Callable[[AsyncSession], Awaitable[Reply]]
) -> Reply:
    async with ctx.db.session() as session:
        return await body(session)


def _without_storage(event: ChatEvent, ctx: HandlerContext) -> Reply | None:
    """The answer to a command that needs no storage (a parse error, `hjelp`), else None."""
    locale = _fallback_locale(event, ctx)
    command = parse(event.text, mentions=event.mentions, today=_today(ctx, ctx.settings.default_timezone))
    if isinstance(command, ParseError):
        return parse_error_reply(command, locale)
    handler = route(command)
    if handler is not None and handler.kind == "answer":
        return handler.run(command, locale, role=None, group_name=None)
    return None


def _today(ctx: HandlerContext, timezone: str) -> date:
    return ctx.now().astimezone(zone_or_default(timezone, ctx.settings.default_timezone)).date()


async def _command(event: ChatEvent, ctx: HandlerContext) -> Reply:
    try:
        view = await lookup(event, ctx)  # from the read cache: no SQL on the hot path
    except Exception as exc:
        if not is_retryable(exc):
            raise
        # Storage is down; a line the parser refuses (or asks for help) is still answered, in
        # the default language, rather than turned into a failure: bad input never is one.
        offline = _without_storage(event, ctx)
        if offline is None:
            raise
        log.warning(
            "storage unavailable for %s event %s; answered without it: %s", event.kind, event.event_id, exc
        )
        return offline
    if isinstance(view, Unresolved):
        locale, timezone = _fallback_locale(event, ctx), ctx.settings.default_timezone
    else:
        locale, timezone = view.locale, view.timezone
    command = parse(event.text, mentions=event.mentions, today=_today(ctx, timezone))
    if isinstance(command, ParseError):
        return parse_error_reply(command, locale)
    handler = route(command)
    if handler is None:  # pragma: no cover - every grammar's result has a registered handler
        log.error("no handler for %s", type(command).__name__)
        return Reply(text=t(locale, "parse.generic"), ok=False)
    if handler.kind == "answer":  # needs no storage (help)
        if isinstance(view, Unresolved):
            return handler.run(command, locale, role=None, group_name=None)
        return handler.run(command, locale, role=view.role, group_name=view.group.name)
    audited = handler.audited(command)
    if handler.kind == "unbound":  # needs no bound group (binding a channel, my data)
        run_unbound = handler.run
        if handler.reads_only(command):
            async with ctx.db.session() as session:
                return await run_unbound(command, event, session, ctx, locale)

        async def unbound(session: AsyncSession, _dup: bool) -> Reply:
            reply = await run_unbound(command, event, session, ctx, locale)
            if audited is not None and reply.ok:
                await _audit_unbound(session, event, ctx, *audited)
            return reply

        return await _transaction(event, ctx, unbound)
    if isinstance(view, Unresolved):
        return unresolved_reply(view, locale)
    if handler.fast is not None:  # the hot path (`runde <tekst>`); None: the full path answers
        fast = await handler.fast(command, view, ctx)
        if fast is not None:
            return fast
    run = handler.run
    read_only = handler.reads_only(command)
    if audited is None or read_only:
        return await _in_scope(event, ctx, lambda s: run(command, s, ctx), read_only=read_only)

    async def run_audited(scope: Scope) -> Reply:
        reply = await run(command, scope, ctx)
        if reply.ok:  # a refusal rolls back, and so would its entry: none is written
            await audit.record(scope.session, scope, *audited)
        return reply

    return await _in_scope(event, ctx, run_audited)


async def _audit_unbound(
    session: AsyncSession, event: ChatEvent, ctx: HandlerContext, action: str, detail: dict[str, Any]
) -> None:
    """The audit entry of an unbound admin command (`oppsett`): in the group the channel is bound
    to once the command has run, by the member the user is there."""
    platform = platform_of(event)
    binding = await group_repo.find_binding(session, platform, event.workspace_id, event.channel_id)
    group = await group_repo.get_group(session, binding.group_id) if binding is not None else None
    member = (
        await member_repo.by_identity(session, group.id, platform, event.workspace_id, event.user_id)
        if group is not None
        else None
    )
    await audit.record_event(session, event, action, at=ctx.now(), group=group, member=member, detail=detail)


async def _in_scope(
    event: ChatEvent,
    ctx: HandlerContext,
    body: Callable[[Scope], Awaitable[Reply]],
    *,
    read_only: bool = False,
    unresolved: Reply | None = None,
) -> Reply:
    """Resolve the scope inside the session that runs `body` (so its objects can be changed)."""

    async def run(session: AsyncSession, duplicate: bool) -> Reply:
        scope = await resolve(session, event, ctx)
        if isinstance(scope, Unresolved):
            return (
                unresolved
                if unresolved is not None
                else unresolved_reply(scope, _fallback_locale(event, ctx))
            )
        scope.duplicate = duplicate
        reply = await body(scope)
        if not read_only and reply.ok and scope.linked and scope.member is not None:
            # retention forgets chat identities unused for its period: this one is in use
            await member_repo.touch_identity(session, scope.member.id, platform_of(event), scope.now)
        return reply

    if read_only:
        return await _read(event, ctx, lambda s: run(s, False))
    return await _transaction(event, ctx, run)


async def _thread_reply(event: ChatEvent, ctx: HandlerContext) -> Reply:
    """A reply in a collection thread is a round-table post; any other thread is not ours."""
    if not event.thread_ref:
        return SILENT
    platform = platform_of(event)
    message = await message_repo.cached_message(
        ctx.db, platform, event.workspace_id, event.channel_id, event.thread_ref
    )
    if message is None or message.purpose != message_repo.COLLECTION:
        return SILENT
    meeting_id = message.subject_id
    view = await lookup(event, ctx)
    if isinstance(view, Unresolved):
        return SILENT
    fast = await round_cmd.fast_thread_reply(view, ctx, meeting_id)
    if fast is not None:
        return fast

    async def save(scope: Scope) -> Reply:
        meeting = await meeting_repo.get_meeting(scope.session, meeting_id)
        if meeting is None:
            return SILENT
        return await round_cmd.save_thread_reply(scope, meeting)

    return await _in_scope(event, ctx, save, unresolved=SILENT)


async def _thread_change(
    event: ChatEvent, ctx: HandlerContext, body: Callable[[Scope], Awaitable[Reply]]
) -> Reply:
    """An edit or deletion in a thread changes a round-table post only in a collection thread
    (no other thread holds one); any other thread is answered SILENT from the read cache, without
    taking the write queue or recording the event."""
    if event.thread_ref:
        message = await message_repo.cached_message(
            ctx.db, platform_of(event), event.workspace_id, event.channel_id, event.thread_ref
        )
        if message is None or message.purpose != message_repo.COLLECTION:
            return SILENT
    return await _in_scope(event, ctx, body, unresolved=SILENT)


async def _form_submit(event: ChatEvent, ctx: HandlerContext) -> Reply:
    form_id = event.form_values.get("form_id", "")
    values = {k: v for k, v in event.form_values.items() if k != "form_id"}
    return await _in_scope(event, ctx, lambda scope: round_cmd.save_form(scope, form_id, values))


async def _handle(event: ChatEvent, ctx: HandlerContext) -> Reply:
    kind = event.kind
    if kind == EventKind.COMMAND:
        return await _command(event, ctx)
    if kind == EventKind.THREAD_REPLY:
        return await _thread_reply(event, ctx)
    if kind == EventKind.MESSAGE_EDITED:
        return await _thread_change(event, ctx, round_cmd.edit_post)
    if kind == EventKind.MESSAGE_DELETED:
        return await _thread_change(event, ctx, round_cmd.delete_post)
    if kind == EventKind.POLL_VOTE:
        return await _in_scope(event, ctx, lambda scope: polls.vote(scope, ctx))
    if kind == EventKind.FORM_SUBMIT:
        return await _form_submit(event, ctx)
    if kind == EventKind.INSTALLED:
        return Reply(text=t(_fallback_locale(event, ctx), "setup.installed"), ephemeral=False)
    return SILENT


async def handle(event: ChatEvent, ctx: HandlerContext) -> Reply:
    """Answer one chat event. Never raises: an unexpected failure is logged, rolled back and
    answered with a short apology. When the database could not be reached, the apology is
    marked `retryable` and nothing is stored, so an adapter can ask the platform to redeliver
    (Slack's Events API: a 503) instead of acknowledging a submission that was lost."""
    token = _RECORDED.set(False)
    try:
        reply = await _handle(event, ctx)
        if event.record is not None and not _RECORDED.get():
            await _record(event.record, ctx)
        return reply
    except Exception as exc:
        retryable = is_retryable(exc)
        if retryable:
            log.warning("storage unavailable for %s event %s: %s", event.kind, event.event_id, exc)
        else:
            log.exception("handling %s event %s failed", event.kind, event.event_id)
        return Reply(text=t(_fallback_locale(event, ctx), "common.error"), ok=False, retryable=retryable)
    finally:
        _RECORDED.reset(token)


async def _record(record: EventRecord, ctx: HandlerContext) -> None:
    """The event's platform bookkeeping, for an event that committed no write of its own. Its
    failure does not change the answer (the command's work is done): it is logged, and the
    adapter offers it again with a later event."""
    try:
        async with ctx.db.write() as session:
            await record(session)
    except Exception as exc:
        log.warning("platform bookkeeping not stored: %s", exc)
