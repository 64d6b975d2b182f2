"""The Slack adapter: Bolt's AsyncApp on `POST /slack/events` of the one aiohttp server.

A thin plugin in the hcoop-meetbot sense: every payload (slash command, Events API event, button
click, modal save) becomes one neutral ChatEvent, `handlers.dispatch.handle` decides, and the
neutral Reply is rendered as Block Kit. Bolt runs with `process_before_response=True`, so Slack's
acknowledgement goes out only after the handler has committed; slow follow-ups (ephemeral
confirmations, file uploads, effects such as updating every copy of a poll) run afterwards through
`runtime.spawn`. Slash commands and clicks that would overrun Slack's 3-second window are
acknowledged with "working on it" and answered through their `response_url` when done.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import deque
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.slack.blocks import (
    FORM_CALLBACK_ID,
    LINK_ACTION_PREFIX,
    message_payload,
    modal_errors,
    modal_values,
    modal_view,
    parse_poll_action,
    word,
)
from bot.slack.messenger import TRANSIENT, SlackMessenger, UserDirectory, make_client, open_session
from bot.slack.text import strip_leading_mention, to_plain_resolving
from handlers.command_table import lookup, slash_commands
from handlers.dispatch import handle, is_retryable
from handlers.effects import run_effects
from handlers.events import ChatEvent, EffectKind, EventKind, PollAction, Reply
from storage.repositories.channel_messages import COLLECTION, cached_message

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
# Slack gives up after 3 s; leave room for the network and the response itself.
ANSWER_DEADLINE_SECONDS = 2.3
CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")
_MESSAGE_SUBTYPES = (None, "thread_broadcast", "file_share")
_ID = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$", re.IGNORECASE)


def shape_problem(body: dict[str, Any]) -> str | None:
    """What a payload lacks that Bolt's listener matchers read without checking (they would
    raise, and Bolt answer 500): checked up front so malformed input gets a 400."""
    kind = body.get("type")
    if "event" in body or kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event"
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "actions"
        for action in actions:
            if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
                return "action_id"
            if "block_id" in action and not isinstance(action["block_id"], str):
                return "block_id"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
            return "view"
    if kind in ("shortcut", "message_action", "interactive_message", "dialog_submission") and not isinstance(
        body.get("callback_id"), str
    ):
        return "callback_id"
    if kind in ("block_suggestion",) and not isinstance(body.get("action_id"), str):
        return "action_id"
    if "command" in body and not isinstance(body["command"], str):
        return "command"
    return None


class BadPayload(Exception):
    """A signed request whose payload lacks what its type promises: answered 400, never 500."""


class RetryLater(Exception):
    """Storage was unavailable and nothing was stored: answered 503, so Slack redelivers the
    event (immediately, after a minute, after five) rather than taking it as handled."""


# Slack retries a failed Events API delivery three times; the last one is answered even when
# storage is still down, with an apology the user sees, so nothing is lost silently.
LAST_SLACK_RETRY = 3


def retry_num(request: AsyncBoltRequest) -> int:
    """Which redelivery this is (0 for the first delivery), from X-Slack-Retry-Num."""
    values = request.headers.get("x-slack-retry-num") or []
    try:
        return int(values[0]) if values else 0
    except ValueError:
        return 0


class AnswerDeadlines:
    """Waits for a handler until it is done or Slack's answer window has passed, whichever comes
    first. One sweeper for every request in flight, instead of `asyncio.wait(timeout=…)` with a
    timer each: under load those timers, pushed onto and cancelled from the event loop's heap
    thousands of times a second, cost more than the rest of the adapter. The sweeper ticks every
    `tick` seconds, so a late answer is noticed at most that much after `seconds`."""

    def __init__(self, seconds: float, tick: float = 0.05) -> None:
        self.seconds = seconds
        self.tick = tick
        # (deadline, waiter) in arrival order, which is deadline order (every wait is as long).
        self._waiting: deque[tuple[float, asyncio.Future[bool]]] = deque()
        self._sweeper: asyncio.Task[None] | None = None

    async def in_time(self, task: asyncio.Future[Any]) -> bool:
        """True when `task` finished within the window, False when the window closed first."""
        if task.done():
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()

        def finished(_task: asyncio.Future[Any]) -> None:
            if not waiter.done():
                waiter.set_result(True)

        task.add_done_callback(finished)
        self._waiting.append((loop.time() + self.seconds, waiter))
        if self._sweeper is None:
            self._sweeper = loop.create_task(self._sweep(), name="slack-answer-deadlines")
        try:
            return await waiter
        finally:
            task.remove_done_callback(finished)

    def close(self) -> None:
        """Stop the sweeper (at shutdown); whoever still waits is told the window has closed."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        while self._waiting:
            _deadline, waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(False)

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                await asyncio.sleep(self.tick)
                now = loop.time()
                while self._waiting and (self._waiting[0][1].done() or self._waiting[0][0] <= now):
                    _deadline, waiter = self._waiting.popleft()
                    if not waiter.done():
                        waiter.set_result(False)
        finally:
            self._sweeper = None


def _text_field(data: Any, key: str, *, required: bool = True) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise BadPayload(f"missing or malformed {key!r}")
    return value


def _id_field(data: Any, key: str) -> str:
    value = _text_field(data, key)
    if not _ID.match(value):
        raise BadPayload(f"malformed {key!r}")
    return value


def _opt_str(data: Any, key: str) -> str | None:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def _opt_dict(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _dict_field(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise BadPayload(f"missing or malformed {key!r}")
    return value


def slash_prefix(slash: str) -> str:
    """The command word a slash command stands for: `/runde` → `runde`; `/referent` → "" (it runs
    whatever command follows it). The slash commands come from handlers/command_table.py."""
    for spec in slash_commands():
        if spec.slash == slash:
            return "" if spec.name == "hjelp" else spec.name
    return slash.lstrip("/").strip()


def command_line(slash: str, text: str) -> str:
    """`/runde tekst` → `runde tekst`; `/referent <any command>` → that command (alone: `hjelp`)."""
    return f"{slash_prefix(slash)} {text.strip()}".strip() or "hjelp"


def button_command(action_id: str, value: str) -> str:
    """The command line a button runs: its value when that is a command (`runde ingen`), else the
    command its action id is named after (`runde:open` with the meeting id as value → `runde`)."""
    value = value.strip()
    if value and lookup(value.split(maxsplit=1)[0]) is not None:
        return value
    return action_id.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class Where:
    """Where an answer goes back to, and how (collected from the payload once)."""

    team_id: str
    channel_id: str
    user_id: str
    locale: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    is_direct: bool = False
    command: str | None = None  # the command line, so a form we cannot open can be re-requested


class SlackAdapter:
    """Owns the Bolt app, the Web API client, the user directory and the Slack messenger."""

    def __init__(self, runtime: Runtime, client: AsyncWebClient | None = None) -> None:
        settings = runtime.settings
        assert settings.slack_enabled, "Slack is not configured"
        self.runtime = runtime
        self.client = client or make_client(settings.secret("slack_bot_token"), settings.slack_api_base)
        self.users = UserDirectory(self.client)
        self.messenger = SlackMessenger(self.client, self.users)
        self.verifier = SignatureVerifier(settings.secret("slack_signing_secret"))
        self._session_lock = asyncio.Lock()
        self.deadlines = AnswerDeadlines(ANSWER_DEADLINE_SECONDS)
        self.app = AsyncApp(
            name="referent",
            client=self.client,
            signing_secret=settings.secret("slack_signing_secret"),
            process_before_response=True,
            logger=logging.getLogger("bot.slack.bolt"),
            # `handle` checks the signature (and its 5-minute window) before Bolt sees a request,
            # so it can answer 401 to a bad one; Bolt checking it again would only cost time.
            request_verification_enabled=False,
        )
        self._register()

    # ------------------------------------------------------------------ HTTP

    async def ensure_session(self) -> None:
        """Give the client one pooled session, created inside the running loop."""
        session = self.client.session
        if session is not None and not session.closed:
            return
        async with self._session_lock:
            if self.client.session is None or self.client.session.closed:
                await open_session(self.client)

    async def close(self) -> None:
        self.deadlines.close()
        session = self.client.session
        if session is not None and not session.closed:
            await session.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp → Bolt → aiohttp, answering 4xx to anything malformed before Bolt sees it."""
        if request.content_type not in CONTENT_TYPES:
            return web.json_response({"error": "unsupported content type"}, status=415)
        raw = await request.read()  # over client_max_size: aiohttp raises 413
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return web.json_response({"error": "body is not UTF-8"}, status=400)
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            valid = self.verifier.is_valid(
                body, headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
            )
        except (TypeError, ValueError):
            valid = False
        if not valid:
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
            bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=bolt_headers)
        except Exception:
            return web.json_response({"error": "malformed body"}, status=400)
        if not isinstance(bolt_request.body, dict) or not bolt_request.body:
            return web.json_response({"error": "malformed body"}, status=400)
        problem = shape_problem(bolt_request.body)
        if problem is not None:
            return web.json_response({"error": f"malformed payload: {problem}"}, status=400)
        await self.ensure_session()
        bolt_response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    # ------------------------------------------------------------- listeners

    def _register(self) -> None:
        app = self.app
        app.command(re.compile(r"^/.+"))(self._on_command)
        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.event("member_joined_channel")(self._on_member_joined)
        # Anything else subscribed later must still get its 200, or Slack retries and warns.
        app.event(re.compile(r".*"))(self._on_other_event)
        app.action(re.compile(r"^poll:"))(self._on_poll_click)
        app.action(re.compile(r".*"))(self._on_button)
        app.view(FORM_CALLBACK_ID)(self._on_form_submit)
        app.error(self._on_error)

    async def _on_error(self, error: Exception) -> BoltResponse | None:
        if isinstance(error, BadPayload):
            return BoltResponse(status=400, body=json.dumps({"error": str(error)}))
        if isinstance(error, RetryLater) or is_retryable(error):
            log.warning("storage unavailable; asking Slack to redeliver: %s", error)
            return BoltResponse(status=503, body=json.dumps({"error": "storage unavailable, retry later"}))
        log.error("Slack listener failed", exc_info=error)
        return None  # Bolt answers 500: Slack retries an event we could not commit

    async def _event(
        self,
        kind: EventKind,
        *,
        team_id: str,
        channel_id: str,
        user_id: str,
        slack_text: str = "",
        prefix: str = "",
        fallback_name: str = "",
        **fields: Any,
    ) -> ChatEvent:
        """A ChatEvent with the user resolved (users.info) and the text turned into plain text."""
        user = await self.users.get(user_id)
        plain = await to_plain_resolving(slack_text, self.users.get)
        text = f"{prefix} {plain.text}".strip() if prefix else plain.text
        return ChatEvent(
            platform="slack",
            workspace_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            user_name=user.name if user else (fallback_name or user_id),
            kind=kind,
            text=text,
            user_email=user.email if user else None,
            locale=user.locale if user else None,
            mentions=plain.mentions,
            **fields,
        )

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        slash = _text_field(body, "command")
        team_id = context.team_id or _id_field(body, "team_id")
        channel_id = _id_field(body, "channel_id")
        user_id = _id_field(body, "user_id")
        text = _text_field(body, "text", required=False)
        is_direct = body.get("channel_name") == "directmessage" or channel_id.startswith("D")
        where = Where(
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            response_url=_opt_str(body, "response_url"),
            trigger_id=_opt_str(body, "trigger_id"),
            is_direct=is_direct,
        )

        async def make_event() -> ChatEvent:
            event = await self._event(
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

        answered = await self._answer_within_deadline(make_event(), where, ack)
        if answered is not None:
            await self._answer_interactive(answered[1], answered[0], ack, as_ack_body=True)

    async def _answer_within_deadline(
        self,
        make_event: Coroutine[Any, Any, ChatEvent],
        where: Where,
        ack: AsyncAck,
        *,
        say_working: bool = True,
    ) -> tuple[Where, Reply] | None:
        """Build the event (users.info) and run the handler within Slack's window.

        Returns the reply (and `where`, now with the user's locale and command line), or None
        when it is late: then Slack has had "working on it" (or an empty ack, for a modal) and
        the reply follows through the response_url or as an ephemeral message when it is done.
        """

        async def run() -> tuple[Where, Reply]:
            event = await make_event
            command = event.text if event.kind is EventKind.COMMAND else where.command
            return replace(where, locale=event.locale, command=command), await handle(event, self.runtime.ctx)

        task = asyncio.ensure_future(run())
        if await self.deadlines.in_time(task):
            try:
                return task.result()
            except Exception:
                log.exception("handling a Slack request failed")
                return where, Reply(text=word("error", where.locale), ok=False)
        early = replace(where, locale=where.locale or self._cached_locale(where.user_id))
        if say_working:
            await ack(text=word("working", early.locale), response_type="ephemeral")
        else:
            await ack()
        self.runtime.spawn(self._late_answer(task, early), name="slack-late-answer")
        return None

    def _cached_locale(self, user_id: str) -> str | None:
        user = self.users.cached(user_id)
        return user.locale if user else None

    async def _late_answer(self, task: asyncio.Future[tuple[Where, Reply]], where: Where) -> None:
        try:
            where, reply = await task
        except Exception:
            log.exception("handling a Slack request failed after the deadline")
            reply = Reply(text=word("error", where.locale), ok=False)
        # The trigger id has expired by now: a form becomes an "open form" button.
        await self._follow_up(reply, replace(where, trigger_id=None), send_text=True)

    async def _answer_interactive(
        self, reply: Reply, where: Where, ack: AsyncAck, *, as_ack_body: bool
    ) -> None:
        """Answer a slash command (in the ack body) or a click (afterwards), open a form if the
        reply has one, then spawn the rest (files, effects)."""
        opened = False
        if reply.form is not None and where.trigger_id:
            opened = await self._open_form(reply, where)
        shown = replace(reply, form=None) if opened else reply
        if as_ack_body:
            payload = self._payload(shown, where)
            if payload["blocks"] or payload["text"]:
                await ack(
                    text=payload["text"],
                    blocks=payload["blocks"],
                    response_type="ephemeral" if reply.ephemeral or where.is_direct else "in_channel",
                )
            else:
                await ack()
            if shown.files or shown.effects:  # the rest was in the ack
                self._spawn_follow_up(
                    replace(shown, text="", buttons=(), links=(), poll=None, form=None), where
                )
        else:
            await ack()
            self._spawn_follow_up(shown, where)

    def _payload(self, reply: Reply, where: Where) -> dict[str, Any]:
        return message_payload(reply, locale=where.locale, form_command=where.command)

    async def _open_form(self, reply: Reply, where: Where) -> bool:
        assert reply.form is not None and where.trigger_id
        meta = {"team": where.team_id, "channel": where.channel_id}
        if where.thread_ts:
            meta["thread"] = where.thread_ts
        try:
            await self.client.views_open(trigger_id=where.trigger_id, view=modal_view(reply.form, meta))
            return True
        except TRANSIENT as exc:
            log.warning("views.open failed: %s", exc)
            return False

    def _spawn_follow_up(self, reply: Reply, where: Where, *, send_text: bool = True) -> None:
        if (send_text and (reply.text or reply.poll or reply.buttons or reply.links or reply.form)) or (
            reply.files or reply.effects
        ):
            self.runtime.spawn(self._follow_up(reply, where, send_text=send_text), name="slack-follow-up")

    async def _follow_up(self, reply: Reply, where: Where, *, send_text: bool) -> None:
        """After the acknowledgement: the visible answer, the files, then the effects."""
        if send_text and (reply.text or reply.poll or reply.buttons or reply.links or reply.form):
            await self._send(reply, where)
        if reply.files:
            try:
                channel = where.channel_id
                if reply.ephemeral or where.is_direct:
                    channel = await self.users.dm_channel(where.user_id)
                await self.messenger.upload(channel, reply.files, comment=None)
            except Exception:
                log.exception("uploading %d file(s) failed", len(reply.files))
        if reply.effects:
            await self._run_effects(reply)

    async def _run_effects(self, reply: Reply) -> None:
        await run_effects(reply.effects, self.runtime.ctx)

    async def _send(self, reply: Reply, where: Where) -> None:
        """Show a reply: ephemeral through the response_url or chat.postEphemeral, in a DM or
        for everyone through chat.postMessage."""
        payload = self._payload(reply, where)
        try:
            if (not reply.ephemeral and not where.is_direct) or (where.is_direct and not where.response_url):
                await self.client.chat_postMessage(
                    channel=where.channel_id,
                    thread_ts=where.thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                    **payload,
                )
            elif where.response_url:
                await self._respond(
                    where.response_url, {**payload, "response_type": "ephemeral", "replace_original": False}
                )
            else:
                await self.client.chat_postEphemeral(
                    channel=where.channel_id, user=where.user_id, thread_ts=where.thread_ts, **payload
                )
        except TRANSIENT as exc:
            log.warning("could not show the reply to %s in %s: %s", where.user_id, where.channel_id, exc)

    async def _respond(self, url: str, payload: dict[str, Any]) -> None:
        await self.ensure_session()
        session = self.client.session
        assert session is not None
        async with session.post(url, json=payload) as response:
            if response.status >= 400:
                log.warning("response_url answered %s", response.status)

    # ---------------------------------------------------------------- events

    async def _is_collection_thread(self, team_id: str, channel_id: str, thread_ts: str) -> bool:
        """For edits and deletes: the handler would take the write queue (and record the event id)
        for every edited thread message in the channel; this read keeps that to our own thread.
        With storage down it cannot tell: the handler gets the event, fails the same way, and the
        answer asks Slack to redeliver (or, on the last retry, tells the user)."""
        try:
            message = await cached_message(self.runtime.db, "slack", team_id, channel_id, thread_ts)
        except Exception as exc:
            if is_retryable(exc):
                return True
            raise
        return message is not None and message.purpose == COLLECTION

    async def _on_message(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
        request: AsyncBoltRequest,
    ) -> None:
        subtype = event.get("subtype")
        team_id = context.team_id or _id_field(body, "team_id")
        event_id = _opt_str(body, "event_id")
        bot_user = context.bot_user_id
        chat_event: ChatEvent | None = None
        thread_ts: str | None = None
        channel_id = _id_field(event, "channel")
        if subtype in _MESSAGE_SUBTYPES:
            user_id = event.get("user")
            if event.get("bot_id") or not isinstance(user_id, str) or user_id == bot_user:
                await ack()
                return
            text = _text_field(event, "text", required=False)
            if event.get("channel_type") == "im":
                chat_event = await self._event(
                    EventKind.COMMAND,
                    team_id=team_id,
                    channel_id=channel_id,
                    user_id=user_id,
                    slack_text=strip_leading_mention(text, bot_user),
                    is_direct=True,
                    message_ref=_text_field(event, "ts"),
                    event_id=event_id,
                )
                where = Where(
                    team_id, channel_id, user_id, chat_event.locale, is_direct=True, command=chat_event.text
                )
                await self._answer_event(chat_event, where, ack, request)
                return
            ts = _text_field(event, "ts")
            thread_ts = _opt_str(event, "thread_ts")
            if (
                not thread_ts
                or thread_ts == ts
                or not text.strip()
                or (bot_user and text.lstrip().startswith(f"<@{bot_user}"))  # the app_mention's job
            ):  # (whether the thread is a collection thread, the handler checks without writing)
                await ack()
                return
            chat_event = await self._event(
                EventKind.THREAD_REPLY,
                team_id=team_id,
                channel_id=channel_id,
                user_id=user_id,
                slack_text=text,
                message_ref=ts,
                thread_ref=thread_ts,
                event_id=event_id,
            )
        elif subtype == "message_changed":
            message = _dict_field(event, "message")
            previous = _opt_dict(event, "previous_message")
            user_id = message.get("user")
            ts = _text_field(message, "ts")
            thread_ts = _opt_str(message, "thread_ts")
            text = _text_field(message, "text", required=False)
            if (
                message.get("bot_id")
                or not isinstance(user_id, str)
                or user_id == bot_user
                or not thread_ts
                or thread_ts == ts
                or previous.get("text") == text  # an unfurl or a reply count, not an edit
                or not await self._is_collection_thread(team_id, channel_id, thread_ts)
            ):
                await ack()
                return
            chat_event = await self._event(
                EventKind.MESSAGE_EDITED,
                team_id=team_id,
                channel_id=channel_id,
                user_id=user_id,
                slack_text=text,
                message_ref=ts,
                thread_ref=thread_ts,
                event_id=event_id,
            )
        elif subtype == "message_deleted":
            previous = _opt_dict(event, "previous_message")
            deleted_ts = _text_field(event, "deleted_ts")
            user_id = previous.get("user")
            thread_ts = _opt_str(previous, "thread_ts")
            if (
                previous.get("bot_id")
                or not isinstance(user_id, str)
                or not thread_ts
                or thread_ts == deleted_ts
                or not await self._is_collection_thread(team_id, channel_id, thread_ts)
            ):
                await ack()
                return
            chat_event = await self._event(
                EventKind.MESSAGE_DELETED,
                team_id=team_id,
                channel_id=channel_id,
                user_id=user_id,
                message_ref=deleted_ts,
                thread_ref=thread_ts,
                event_id=event_id,
            )
        else:
            await ack()
            return
        where = Where(team_id, channel_id, chat_event.user_id, chat_event.locale, thread_ts=thread_ts)
        await self._answer_event(chat_event, where, ack, request)

    async def _answer_event(
        self, event: ChatEvent, where: Where, ack: AsyncAck, request: AsyncBoltRequest
    ) -> None:
        """Events API: commit first, acknowledge second, and show the answer afterwards. When
        storage was down (nothing stored), answer 503 so Slack redelivers; on its last retry,
        acknowledge and show the apology instead, so the user knows to post again."""
        reply = await handle(event, self.runtime.ctx)
        if reply.retryable and retry_num(request) < LAST_SLACK_RETRY:
            raise RetryLater(f"{event.kind} event {event.event_id}")
        await ack()
        self._spawn_follow_up(reply, where)

    async def _on_mention(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
        request: AsyncBoltRequest,
    ) -> None:
        user_id = event.get("user")
        if event.get("bot_id") or not isinstance(user_id, str) or user_id == context.bot_user_id:
            await ack()
            return
        team_id = context.team_id or _id_field(body, "team_id")
        channel_id = _id_field(event, "channel")
        thread_ts = _opt_str(event, "thread_ts")
        text = strip_leading_mention(_text_field(event, "text", required=False), context.bot_user_id)
        chat_event = await self._event(
            EventKind.COMMAND,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            slack_text=text,
            message_ref=_text_field(event, "ts"),
            thread_ref=thread_ts,
            event_id=_opt_str(body, "event_id"),
        )
        where = Where(
            team_id, channel_id, user_id, chat_event.locale, thread_ts=thread_ts, command=chat_event.text
        )
        await self._answer_event(chat_event, where, ack, request)

    async def _on_member_joined(
        self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """The bot was added to a channel: let the handler say how to set it up."""
        if event.get("user") != context.bot_user_id or not context.bot_user_id:
            await ack()
            return
        team_id = context.team_id or _id_field(body, "team_id")
        channel_id = _id_field(event, "channel")
        inviter = _opt_str(event, "inviter")
        chat_event = await self._event(
            EventKind.INSTALLED,
            team_id=team_id,
            channel_id=channel_id,
            user_id=inviter or context.bot_user_id,
            event_id=_opt_str(body, "event_id"),
        )
        reply = await handle(chat_event, self.runtime.ctx)
        await ack()
        if not inviter:
            reply = replace(reply, ephemeral=False)
        self._spawn_follow_up(reply, Where(team_id, channel_id, chat_event.user_id, chat_event.locale))

    async def _on_other_event(self, ack: AsyncAck) -> None:
        await ack()

    # ---------------------------------------------------------- interactivity

    def _interaction_where(self, body: dict[str, Any], context: AsyncBoltContext) -> Where:
        user = _dict_field(body, "user")
        user_id = _id_field(user, "id")
        team_id = context.team_id or _text_field(user, "team_id")
        container = _opt_dict(body, "container")
        channel = _opt_dict(body, "channel")
        channel_id = channel.get("id") or container.get("channel_id")
        if not isinstance(channel_id, str) or not _ID.match(channel_id):
            raise BadPayload("no channel")
        response_url = _opt_str(body, "response_url")
        trigger_id = _opt_str(body, "trigger_id")
        return Where(
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            response_url=response_url,
            trigger_id=trigger_id,
            is_direct=channel_id.startswith("D"),
            thread_ts=_opt_str(container, "thread_ts"),
        )

    async def _on_poll_click(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        ids = parse_poll_action(_text_field(action, "action_id"))
        if ids is None:
            raise BadPayload("malformed poll action")
        where = self._interaction_where(body, context)
        container = _opt_dict(body, "container")
        message_ts = _opt_str(container, "message_ts")
        event = self._event(
            EventKind.POLL_VOTE,
            team_id=where.team_id,
            channel_id=where.channel_id,
            user_id=where.user_id,
            action=PollAction(poll_id=ids[0], option_id=ids[1]),
            message_ref=message_ts,
        )
        answered = await self._answer_within_deadline(event, where, ack, say_working=False)
        if answered is None:
            return
        where, reply = answered
        await ack()
        self.runtime.spawn(
            self._after_vote(reply, where, message_ts, bool(container.get("is_ephemeral"))),
            name="slack-poll-vote",
        )

    async def _after_vote(
        self, reply: Reply, where: Where, message_ts: str | None, ephemeral_source: bool
    ) -> None:
        """The clicker's confirmation, the clicked message in place, then every other copy."""
        if reply.text:
            await self._send(replace(reply, poll=None, effects=(), files=()), where)
        refreshes = any(e.kind is EffectKind.REFRESH_POLL for e in reply.effects)
        if reply.poll is not None and not refreshes:
            payload = self._payload(Reply(text="", poll=reply.poll), where)
            try:
                if ephemeral_source or not message_ts:
                    if where.response_url:
                        await self._respond(where.response_url, {**payload, "replace_original": True})
                else:
                    await self.client.chat_update(channel=where.channel_id, ts=message_ts, **payload)
            except TRANSIENT as exc:
                log.warning("could not update the poll message: %s", exc)
        if reply.effects:
            await self._run_effects(reply)

    async def _on_button(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """A link button only needs its ack; any other button runs its command line (see
        `button_command`), with a trigger id so a form can open."""
        action_id = _text_field(action, "action_id")
        if action.get("url") or action_id.startswith(LINK_ACTION_PREFIX):
            await ack()
            return
        line = button_command(action_id, _opt_str(action, "value") or "")
        where = self._interaction_where(body, context)
        event = self._event(
            EventKind.COMMAND,
            team_id=where.team_id,
            channel_id=where.channel_id,
            user_id=where.user_id,
            slack_text=line,
            is_direct=where.is_direct,
        )
        answered = await self._answer_within_deadline(event, where, ack)
        if answered is not None:
            await self._answer_interactive(answered[1], answered[0], ack, as_ack_body=False)

    async def _on_form_submit(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        try:
            meta = json.loads(_text_field(view, "private_metadata"))
        except json.JSONDecodeError as exc:
            raise BadPayload("malformed private_metadata") from exc
        if not isinstance(meta, dict):
            raise BadPayload("malformed private_metadata")
        channel_id = _id_field(meta, "channel")
        form_id = _text_field(meta, "form_id")
        user_id = _id_field(_dict_field(body, "user"), "id")
        team_id = context.team_id or _text_field(meta, "team")
        values = modal_values(_opt_dict(view, "state"))
        event = self._event(
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
            thread_ts=_opt_str(meta, "thread"),
            is_direct=channel_id.startswith("D"),
        )
        answered = await self._answer_within_deadline(event, where, ack, say_working=False)
        if answered is None:
            return
        where, reply = answered
        if not reply.ok and reply.text and values:
            await ack(response_action="errors", errors=modal_errors(values.keys(), reply.text))
            return
        if reply.form is not None:
            await ack(
                response_action="update",
                view=modal_view(reply.form, {k: str(v) for k, v in meta.items() if k != "form_id"}),
            )
            reply = replace(reply, form=None)
        else:
            await ack()
        self._spawn_follow_up(reply, where)


def create_adapter(runtime: Runtime) -> SlackAdapter | None:
    """The adapter with its messenger registered, or None when Slack is not configured (used by
    `mount` and by commands that only send, such as `referent remind`)."""
    if not runtime.settings.slack_enabled:
        return None
    adapter = SlackAdapter(runtime)
    runtime.messengers.register("slack", _LazySessionMessenger(adapter))
    runtime.on_close(adapter.close)
    return adapter


class _LazySessionMessenger:
    """The Slack messenger, making sure the pooled session exists before each send."""

    def __init__(self, adapter: SlackAdapter) -> None:
        self._adapter = adapter

    async def post(self, target: Any, reply: Reply, *, thread_ref: str | None = None) -> str:
        await self._adapter.ensure_session()
        return await self._adapter.messenger.post(target, reply, thread_ref=thread_ref)

    async def update(self, target: Any, message_ref: str, reply: Reply) -> None:
        await self._adapter.ensure_session()
        await self._adapter.messenger.update(target, message_ref, reply)

    async def send_direct(self, target: Any, reply: Reply) -> str:
        await self._adapter.ensure_session()
        return await self._adapter.messenger.send_direct(target, reply)


SLACK_ADAPTER_KEY = web.AppKey("slack_adapter", SlackAdapter)


def mount(app: web.Application, runtime: Runtime) -> None:
    """Serve Slack at POST /slack/events when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set."""
    adapter = create_adapter(runtime)
    if adapter is None:
        log.info("Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on")
        return
    app[SLACK_ADAPTER_KEY] = adapter
    app.router.add_post(SLACK_PATH, adapter.handle)
