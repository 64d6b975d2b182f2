"""Bolt's listeners: slash commands, Events API events, button clicks and modal saves.

A thin plugin in the hcoop-meetbot sense: every payload becomes one neutral ChatEvent,
`handlers.dispatch.handle` decides (see answers.py), and the neutral Reply is rendered as Block
Kit. Which thread is ours (a collection thread) is the handler's question, asked in its own
transaction; the listeners only drop what is plainly not for the bot (its own messages, top-level
chatter, unfurls).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.answers import Answers, RetryLater, Where
from bot.slack.blocks import (
    FORM_CALLBACK_ID,
    LINK_ACTION_PREFIX,
    form_fits,
    modal_errors,
    modal_values,
    modal_view,
    parse_poll_action,
    word,
)
from bot.slack.files import fetch_shared_files
from bot.slack.text import strip_leading_mention
from bot.slack.validation import (
    BadPayload,
    dict_field,
    id_field,
    is_slack_id,
    opt_dict,
    opt_str,
    text_field,
)
from handlers.command_table import lookup, slash_commands
from handlers.commands.invitation_cmd import wants_attachments
from handlers.dispatch import handle
from handlers.events import ChatEvent, EventKind, PollAction
from storage.db import is_retryable

log = logging.getLogger(__name__)

_POSTED_SUBTYPES = (None, "thread_broadcast", "file_share")


def slash_prefix(slash: str) -> str:
    """The command word a slash command stands for: `/runde` → `runde`; `/referent` → "" (it runs
    whatever command follows it). The slash commands come from handlers/command_table.py."""
    for spec in slash_commands():
        if spec.slash == slash:
            return "" if spec.name == "hjelp" else spec.name
    return slash.lstrip("/").strip()


def button_command(action_id: str, value: str) -> str:
    """The command line a button runs: its value when that is a command (`runde ingen`), else the
    command its action id is named after (`runde:open` with the meeting id as value → `runde`)."""
    value = value.strip()
    if value and lookup(value.split(maxsplit=1)[0]) is not None:
        return value
    return action_id.split(":", 1)[0]


def _blocks(message: dict[str, Any]) -> list[Any] | None:
    """A message's blocks when it has a rich_text block (what the member formatted), else None."""
    blocks = message.get("blocks")
    if isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "rich_text" for b in blocks):
        return blocks
    return None


@dataclass(frozen=True, slots=True)
class _Origin:
    """What every message event shares: the workspace, channel, event id and the bot's own id."""

    team_id: str
    channel_id: str
    event_id: str | None
    bot_user: str | None
    user_team: str | None = None  # the author's home team, when the payload names it


def home_team(event: dict[str, Any]) -> str | None:
    """The author's home team as a Slack Connect payload names it (`user_team`, else
    `source_team`); None when the payload does not say."""
    return opt_str(event, "user_team") or opt_str(event, "source_team")


def _from_someone_else(message: dict[str, Any], bot_user: str | None) -> str | None:
    """The author's user id, unless the message is a bot's (ours or another's)."""
    user_id = message.get("user")
    if message.get("bot_id") or not isinstance(user_id, str) or user_id == bot_user:
        return None
    return user_id


def _is_thread_reply(ts: str, thread_ts: str | None) -> bool:
    return bool(thread_ts) and thread_ts != ts


def _mentions_bot(text: str, bot_user: str | None) -> bool:
    """An @mention of the bot at the start is the app_mention listener's job."""
    return bool(bot_user) and text.lstrip().startswith(f"<@{bot_user}")


class Listeners:
    """Registers the listeners on Bolt's app; the answering is `Answers`' job."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.runtime = answers.runtime

    def register(self, app: AsyncApp) -> None:
        app.command(re.compile(r"^/.+"))(self.on_command)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.event("member_joined_channel")(self.on_member_joined)
        # Anything else subscribed later must still get its 200, or Slack retries and warns.
        app.event(re.compile(r".*"))(self.on_other_event)
        app.action(re.compile(r"^poll:"))(self.on_poll_click)
        app.action(re.compile(r".*"))(self.on_button)
        app.view(FORM_CALLBACK_ID)(self.on_form_submit)
        app.error(self.on_error)

    async def on_error(self, error: Exception) -> BoltResponse | None:
        if isinstance(error, BadPayload):
            return BoltResponse(status=400, body=json.dumps({"error": str(error)}))
        if isinstance(error, RetryLater) or is_retryable(error):
            log.warning("storage unavailable; asking Slack to redeliver: %s", error)
            return BoltResponse(status=503, body=json.dumps({"error": "storage unavailable, retry later"}))
        log.error("Slack listener failed", exc_info=error)
        return None  # Bolt answers 500: Slack retries an event we could not commit

    # -------------------------------------------------------- slash commands

    async def on_command(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond | None
    ) -> None:
        slash = text_field(body, "command")
        team_id = context.team_id or id_field(body, "team_id")
        channel_id = id_field(body, "channel_id")
        user_id = id_field(body, "user_id")
        text = text_field(body, "text", required=False)
        is_direct = body.get("channel_name") == "directmessage" or channel_id.startswith("D")
        where = Where(
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            respond=respond,
            trigger_id=opt_str(body, "trigger_id"),
            is_direct=is_direct,
        )

        async def make_event() -> ChatEvent:
            event = await self.answers.event(
                EventKind.COMMAND,
                team_id=team_id,
                channel_id=channel_id,
                user_id=user_id,
                slack_text=text,
                prefix=slash_prefix(slash),
                fallback_name=str(body.get("user_name") or ""),
                is_direct=is_direct,
            )
            return event if event.text else replace(event, text="hjelp")

        answered = await self.answers.within_deadline(make_event(), where, ack)
        if answered is not None:
            await self.answers.interactive(answered[1], answered[0], ack, as_ack_body=True)

    # ---------------------------------------------------------------- events

    async def on_message(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
        request: AsyncBoltRequest,
    ) -> None:
        """A message in a channel the bot is in, or in its DM: a command in the DM, else a reply,
        edit or deletion in a thread (the handler decides whether the thread is ours)."""
        origin = _Origin(
            team_id=context.team_id or id_field(body, "team_id"),
            channel_id=id_field(event, "channel"),
            event_id=opt_str(body, "event_id"),
            bot_user=context.bot_user_id,
            user_team=home_team(event),
        )
        subtype = event.get("subtype")
        if subtype in _POSTED_SUBTYPES:
            answer = await self._posted(event, origin)
        elif subtype == "message_changed":
            answer = await self._edited(event, origin)
        elif subtype == "message_deleted":
            answer = await self._deleted(event, origin)
        else:
            answer = None
        if answer is None:
            await ack()
            return
        await self.answers.answer_event(*answer, ack, request)

    async def _posted(self, event: dict[str, Any], origin: _Origin) -> tuple[ChatEvent, Where] | None:
        """A new message: in the DM a command, in a thread a reply; anything else is chatter."""
        user_id = _from_someone_else(event, origin.bot_user)
        if user_id is None:
            return None
        text = text_field(event, "text", required=False)
        if event.get("channel_type") == "im":
            return await self._direct_command(event, origin, user_id, text)
        ts = text_field(event, "ts")
        thread_ts = opt_str(event, "thread_ts")
        if not _is_thread_reply(ts, thread_ts) or not text.strip() or _mentions_bot(text, origin.bot_user):
            return None
        chat_event = await self._event_in(
            origin,
            EventKind.THREAD_REPLY,
            user_id,
            slack_text=text,
            slack_blocks=_blocks(event),
            message_ref=ts,
            thread_ref=thread_ts,
        )
        return chat_event, self._thread_where(origin, chat_event, thread_ts)

    async def _direct_command(
        self, event: dict[str, Any], origin: _Origin, user_id: str, text: str
    ) -> tuple[ChatEvent, Where]:
        chat_event = await self._event_in(
            origin,
            EventKind.COMMAND,
            user_id,
            slack_text=strip_leading_mention(text, origin.bot_user),
            slack_blocks=_blocks(event),
            skip_user=origin.bot_user,
            is_direct=True,
            message_ref=text_field(event, "ts"),
        )
        chat_event = await self._with_files(chat_event, event)
        where = Where(
            origin.team_id,
            origin.channel_id,
            user_id,
            chat_event.locale,
            is_direct=True,
            command=chat_event.text,
        )
        return chat_event, where

    async def _edited(self, event: dict[str, Any], origin: _Origin) -> tuple[ChatEvent, Where] | None:
        """An edit of someone's thread reply (not an unfurl or a reply count changing)."""
        message = dict_field(event, "message")
        previous = opt_dict(event, "previous_message")
        user_id = _from_someone_else(message, origin.bot_user)
        ts = text_field(message, "ts")
        thread_ts = opt_str(message, "thread_ts")
        text = text_field(message, "text", required=False)
        if user_id is None or not _is_thread_reply(ts, thread_ts) or previous.get("text") == text:
            return None
        chat_event = await self._event_in(
            origin,
            EventKind.MESSAGE_EDITED,
            user_id,
            slack_text=text,
            slack_blocks=_blocks(message),
            message_ref=ts,
            thread_ref=thread_ts,
        )
        return chat_event, self._thread_where(origin, chat_event, thread_ts)

    async def _deleted(self, event: dict[str, Any], origin: _Origin) -> tuple[ChatEvent, Where] | None:
        """A deleted thread reply."""
        previous = opt_dict(event, "previous_message")
        deleted_ts = text_field(event, "deleted_ts")
        user_id = previous.get("user")
        thread_ts = opt_str(previous, "thread_ts")
        if (
            previous.get("bot_id")
            or not isinstance(user_id, str)
            or not _is_thread_reply(deleted_ts, thread_ts)
        ):
            return None
        chat_event = await self._event_in(
            origin, EventKind.MESSAGE_DELETED, user_id, message_ref=deleted_ts, thread_ref=thread_ts
        )
        return chat_event, self._thread_where(origin, chat_event, thread_ts)

    async def _with_files(self, chat_event: ChatEvent, event: dict[str, Any]) -> ChatEvent:
        """The files shared with the message, fetched only for a command that reads them
        (`mote importer`)."""
        if not event.get("files") or not wants_attachments(chat_event.text):
            return chat_event
        return replace(chat_event, attachments=await fetch_shared_files(self.answers.client, event))

    async def _event_in(self, origin: _Origin, kind: EventKind, user_id: str, **fields: Any) -> ChatEvent:
        return await self.answers.event(
            kind,
            team_id=origin.team_id,
            channel_id=origin.channel_id,
            user_id=user_id,
            event_id=origin.event_id,
            user_team=origin.user_team,
            **fields,
        )

    @staticmethod
    def _thread_where(origin: _Origin, event: ChatEvent, thread_ts: str | None) -> Where:
        return Where(origin.team_id, origin.channel_id, event.user_id, event.locale, thread_ts=thread_ts)

    async def on_mention(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
        request: AsyncBoltRequest,
    ) -> None:
        user_id = _from_someone_else(event, context.bot_user_id)
        if user_id is None:
            await ack()
            return
        team_id = context.team_id or id_field(body, "team_id")
        channel_id = id_field(event, "channel")
        thread_ts = opt_str(event, "thread_ts")
        text = strip_leading_mention(text_field(event, "text", required=False), context.bot_user_id)
        chat_event = await self.answers.event(
            EventKind.COMMAND,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            slack_text=text,
            slack_blocks=_blocks(event),
            skip_user=context.bot_user_id,
            message_ref=text_field(event, "ts"),
            thread_ref=thread_ts,
            event_id=opt_str(body, "event_id"),
            user_team=home_team(event),
        )
        chat_event = await self._with_files(chat_event, event)
        where = Where(
            team_id, channel_id, user_id, chat_event.locale, thread_ts=thread_ts, command=chat_event.text
        )
        await self.answers.answer_event(chat_event, where, ack, request)

    async def on_member_joined(
        self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """The bot was added to a channel: let the handler say how to set it up."""
        if event.get("user") != context.bot_user_id or not context.bot_user_id:
            await ack()
            return
        team_id = context.team_id or id_field(body, "team_id")
        channel_id = id_field(event, "channel")
        inviter = opt_str(event, "inviter")
        chat_event = await self.answers.event(
            EventKind.INSTALLED,
            team_id=team_id,
            channel_id=channel_id,
            user_id=inviter or context.bot_user_id,
            event_id=opt_str(body, "event_id"),
        )
        reply = await handle(chat_event, self.runtime.ctx)
        await ack()
        if not inviter:
            reply = replace(reply, ephemeral=False)
        self.answers.spawn_follow_up(reply, Where(team_id, channel_id, chat_event.user_id, chat_event.locale))

    async def on_other_event(self, ack: AsyncAck) -> None:
        await ack()

    # ---------------------------------------------------------- interactivity

    @staticmethod
    def _interaction_where(
        body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond | None
    ) -> Where:
        user = dict_field(body, "user")
        user_id = id_field(user, "id")
        team_id = context.team_id or text_field(user, "team_id")
        container = opt_dict(body, "container")
        channel_id = opt_dict(body, "channel").get("id") or container.get("channel_id")
        if not is_slack_id(channel_id):
            raise BadPayload("no channel")
        return Where(
            team_id=team_id,
            channel_id=str(channel_id),
            user_id=user_id,
            respond=respond,
            trigger_id=opt_str(body, "trigger_id"),
            is_direct=str(channel_id).startswith("D"),
            thread_ts=opt_str(container, "thread_ts"),
            clicked=True,
        )

    async def on_poll_click(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        respond: AsyncRespond | None,
    ) -> None:
        ids = parse_poll_action(text_field(action, "action_id"))
        if ids is None:
            raise BadPayload("malformed poll action")
        where = self._interaction_where(body, context, respond)
        container = opt_dict(body, "container")
        message_ts = opt_str(container, "message_ts")
        event = self.answers.event(
            EventKind.POLL_VOTE,
            team_id=where.team_id,
            channel_id=where.channel_id,
            user_id=where.user_id,
            action=PollAction(poll_id=ids[0], option_id=ids[1]),
            message_ref=message_ts,
        )
        answered = await self.answers.within_deadline(event, where, ack, say_working=False)
        if answered is None:
            return
        where, reply = answered
        await ack()
        self.runtime.spawn(
            self.answers.after_vote(reply, where, message_ts, bool(container.get("is_ephemeral"))),
            name="slack-poll-vote",
        )

    async def on_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        respond: AsyncRespond | None,
    ) -> None:
        """A link button only needs its ack; any other button runs its command line (see
        `button_command`), with a trigger id so a form can open."""
        action_id = text_field(action, "action_id")
        if action.get("url") or action_id.startswith(LINK_ACTION_PREFIX):
            await ack()
            return
        line = button_command(action_id, opt_str(action, "value") or "")
        where = self._interaction_where(body, context, respond)
        event = self.answers.event(
            EventKind.COMMAND,
            team_id=where.team_id,
            channel_id=where.channel_id,
            user_id=where.user_id,
            slack_text=line,
            is_direct=where.is_direct,
        )
        answered = await self.answers.within_deadline(event, where, ack)
        if answered is not None:
            await self.answers.interactive(answered[1], answered[0], ack, as_ack_body=False)

    # ----------------------------------------------------------------- views

    async def on_form_submit(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        meta = _form_metadata(view)
        channel_id = id_field(meta, "channel")
        form_id = text_field(meta, "form_id")
        user_id = id_field(dict_field(body, "user"), "id")
        team_id = context.team_id or text_field(meta, "team")
        values = modal_values(opt_dict(view, "state"), meta)
        event = self.answers.event(
            EventKind.FORM_SUBMIT,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            form_values={"form_id": form_id, **values},
        )
        where = Where(
            team_id,
            channel_id,
            user_id,
            thread_ts=opt_str(meta, "thread"),
            is_direct=channel_id.startswith("D"),
        )
        answered = await self.answers.within_deadline(event, where, ack, say_working=False)
        if answered is None:
            return
        where, reply = answered
        if not reply.ok and reply.text and values:
            await ack(response_action="errors", errors=modal_errors(values.keys(), reply.text))
            return
        if reply.form is not None and not form_fits(reply.form):
            reply = replace(reply, form=None, text=word("form_too_long", where.locale), ok=False)
        if reply.form is not None:
            await ack(
                response_action="update",
                view=modal_view(
                    reply.form,
                    {k: str(v) for k, v in meta.items() if k not in ("form_id", "splits")},
                    where.locale,
                ),
            )
            reply = replace(reply, form=None)
        else:
            await ack()
        self.answers.spawn_follow_up(reply, where)


def _form_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The modal's private_metadata (ours: team, channel, thread, form id), as a dict."""
    try:
        meta = json.loads(text_field(view, "private_metadata"))
    except json.JSONDecodeError as exc:
        raise BadPayload("malformed private_metadata") from exc
    if not isinstance(meta, dict):
        raise BadPayload("malformed private_metadata")
    return meta
