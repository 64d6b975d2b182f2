"""How a Slack request is answered: the neutral ChatEvent built from it, the handler run, and the
Reply shown, in the acknowledgement when there is time, else afterwards.

Why not Bolt's lazy listeners: they acknowledge at once and answer later through the response_url,
so every answer would arrive as a second message after an empty or "working on it" one. Members
see the answer itself in the acknowledgement today (the handler is almost always quick), so the
listener waits for the handler up to the window (`asyncio.wait` with a timeout) and only falls
back to "working on it" plus a late answer when it must.

Bolt runs with `process_before_response=True`, so Slack's acknowledgement goes out only after the
handler has committed; slow follow-ups (ephemeral confirmations, file uploads, effects such as
updating every copy of a poll) run afterwards through `runtime.spawn`. Slash commands and clicks
that would overrun Slack's 3-second window are acknowledged with "working on it" and answered
through Bolt's `respond()` (their response_url) when done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.slack.blocks import form_fits, message_payload, modal_view, word
from bot.slack.messenger import TRANSIENT, SlackMessenger, UserDirectory
from bot.slack.richtext import member_text, user_ids_in_blocks
from bot.slack.text import SlackUser, user_ids_in
from handlers.dispatch import handle
from handlers.effects import run_effects
from handlers.events import ChatEvent, EffectKind, EventKind, Reply

log = logging.getLogger(__name__)

# Slack gives up after 3 s; leave room for the network and the response itself.
ANSWER_DEADLINE_SECONDS = 2.3
# Slack retries a failed Events API delivery three times; the last one is answered even when
# storage is still down, with an apology the user sees, so nothing is lost silently.
LAST_SLACK_RETRY = 3


class RetryLater(Exception):
    """Storage was unavailable and nothing was stored: answered 503, so Slack redelivers the
    event (immediately, after a minute, after five) rather than taking it as handled."""


def retry_num(request: AsyncBoltRequest) -> int:
    """Which redelivery this is (0 for the first delivery), from X-Slack-Retry-Num."""
    values = request.headers.get("x-slack-retry-num") or []
    try:
        return int(values[0]) if values else 0
    except ValueError:
        return 0


@dataclass(frozen=True, slots=True)
class Where:
    """Where an answer goes back to, and how (collected from the payload once)."""

    team_id: str
    channel_id: str
    user_id: str
    locale: str | None = None
    thread_ts: str | None = None
    respond: AsyncRespond | None = None  # Bolt's, when the payload has a response_url
    trigger_id: str | None = None
    is_direct: bool = False
    command: str | None = None  # the command line, so a form we cannot open can be re-requested
    clicked: bool = False  # the answer is to a button of the message `respond` refers to


def is_external(team_id: str, user: SlackUser | None, user_team: str | None = None) -> bool:
    """A Slack Connect external user: their home team (users.info `team_id`, the event's
    `user_team`) is not the workspace the request came from, or Slack calls them a stranger."""
    if user_team and user_team != team_id:
        return True
    if user is None:
        return False
    return user.is_stranger or bool(user.team_id and user.team_id != team_id)


def _has_visible(reply: Reply) -> bool:
    return bool(reply.text or reply.poll or reply.buttons or reply.links or reply.form)


class Answers:
    """Builds events, runs the handler and shows its replies; shared by every listener."""

    def __init__(
        self, runtime: Runtime, client: AsyncWebClient, users: UserDirectory, messenger: SlackMessenger
    ) -> None:
        self.runtime = runtime
        self.client = client
        self.users = users
        self.messenger = messenger

    async def event(
        self,
        kind: EventKind,
        *,
        team_id: str,
        channel_id: str,
        user_id: str,
        slack_text: str = "",
        slack_blocks: list[Any] | None = None,
        skip_user: str | None = None,
        prefix: str = "",
        fallback_name: str = "",
        user_team: str | None = None,
        **fields: Any,
    ) -> ChatEvent:
        """A ChatEvent with the user resolved (users.info) and the message (its rich_text blocks
        when it has them, else its mrkdwn text) in the stored rich-text form. `user_team`: the
        user's home team as the event payload names it (`user_team`)."""
        user = await self.users.get(user_id)
        users: dict[str, SlackUser] = {}
        for uid in dict.fromkeys([*user_ids_in(slack_text), *user_ids_in_blocks(slack_blocks)]):
            if uid != skip_user and (found := await self.users.get(uid)) is not None:
                users[uid] = found
        plain = member_text(
            slack_text, slack_blocks, users, locale=user.locale if user else None, skip_user=skip_user
        )
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
            is_external=is_external(team_id, user, user_team),
            locale=user.locale if user else None,
            mentions=plain.mentions,
            **fields,
        )

    # ------------------------------------------------------------ Events API

    async def answer_event(
        self, event: ChatEvent, where: Where, ack: AsyncAck, request: AsyncBoltRequest
    ) -> None:
        """Events API: commit first, acknowledge second, and show the answer afterwards. When
        storage was down (nothing stored), answer 503 so Slack redelivers; on its last retry,
        acknowledge and show the apology instead, so the user knows to post again."""
        reply = await handle(event, self.runtime.ctx)
        if reply.retryable and retry_num(request) < LAST_SLACK_RETRY:
            raise RetryLater(f"{event.kind} event {event.event_id}")
        await ack()
        self.spawn_follow_up(reply, where)

    # --------------------------------------------------- commands and clicks

    async def within_deadline(
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
        the reply follows through `respond()` or as an ephemeral message when it is done.
        """

        async def run() -> tuple[Where, Reply]:
            event = await make_event
            command = event.text if event.kind is EventKind.COMMAND else where.command
            return replace(where, locale=event.locale, command=command), await handle(event, self.runtime.ctx)

        task = asyncio.ensure_future(run())
        done, _pending = await asyncio.wait({task}, timeout=ANSWER_DEADLINE_SECONDS)
        if done:
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
        await self.follow_up(reply, replace(where, trigger_id=None), send_text=True)

    async def interactive(self, reply: Reply, where: Where, ack: AsyncAck, *, as_ack_body: bool) -> None:
        """Answer a slash command (in the ack body) or a click (afterwards), open a form if the
        reply has one, then spawn the rest (files, effects)."""
        opened = False
        if reply.form is not None and not form_fits(reply.form):
            # Never a form that cannot hold the whole entry: say so, and how to edit instead.
            reply = replace(reply, form=None, text=word("form_too_long", where.locale), ok=False)
        if reply.form is not None and where.trigger_id:
            opened = await self.open_form(reply, where)
        shown = replace(reply, form=None) if opened else reply
        if not as_ack_body:
            await ack()
            self.spawn_follow_up(shown, where)
            return
        payload = self.payload(shown, where)
        if payload["blocks"] or payload["text"]:
            await ack(
                text=payload["text"],
                blocks=payload["blocks"],
                response_type="ephemeral" if reply.ephemeral or where.is_direct else "in_channel",
            )
        else:
            await ack()
        if shown.files or shown.effects:  # the rest was in the ack
            self.spawn_follow_up(replace(shown, text="", buttons=(), links=(), poll=None, form=None), where)

    def payload(self, reply: Reply, where: Where) -> dict[str, Any]:
        return message_payload(reply, locale=where.locale, form_command=where.command)

    async def open_form(self, reply: Reply, where: Where) -> bool:
        """views.open with the reply's form; False when Slack would not (the trigger expired)."""
        if reply.form is None or not where.trigger_id:
            return False
        meta = {"team": where.team_id, "channel": where.channel_id}
        if where.thread_ts:
            meta["thread"] = where.thread_ts
        try:
            view = modal_view(reply.form, meta, where.locale)
            await self.client.views_open(trigger_id=where.trigger_id, view=view)
            return True
        except TRANSIENT as exc:
            log.warning("views.open failed: %s", exc)
            return False

    async def after_vote(
        self, reply: Reply, where: Where, message_ts: str | None, ephemeral_source: bool
    ) -> None:
        """The clicker's confirmation, the clicked message in place, then every other copy."""
        if reply.text:
            await self.send(replace(reply, poll=None, effects=(), files=()), where)
        refreshes = any(e.kind is EffectKind.REFRESH_POLL for e in reply.effects)
        if reply.poll is not None and not refreshes:
            await self._update_poll(reply, where, message_ts, ephemeral_source)
        if reply.effects:
            await run_effects(reply.effects, self.runtime.ctx)

    async def _update_poll(
        self, reply: Reply, where: Where, message_ts: str | None, ephemeral_source: bool
    ) -> None:
        payload = self.payload(Reply(text="", poll=reply.poll), where)
        try:
            if ephemeral_source or not message_ts:
                if where.respond is not None:
                    await _respond(where.respond, replace_original=True, **payload)
            else:
                await self.client.chat_update(channel=where.channel_id, ts=message_ts, **payload)
        except TRANSIENT as exc:
            log.warning("could not update the poll message: %s", exc)

    # ------------------------------------------------------------ afterwards

    def spawn_follow_up(self, reply: Reply, where: Where, *, send_text: bool = True) -> None:
        if (send_text and _has_visible(reply)) or reply.files or reply.effects:
            self.runtime.spawn(self.follow_up(reply, where, send_text=send_text), name="slack-follow-up")

    async def follow_up(self, reply: Reply, where: Where, *, send_text: bool) -> None:
        """After the acknowledgement: the visible answer, the files, then the effects."""
        if send_text and _has_visible(reply):
            await self.send(reply, where)
        if reply.files:
            try:
                channel = where.channel_id
                if reply.ephemeral or where.is_direct:
                    channel = await self.users.dm_channel(where.user_id)
                await self.messenger.upload(channel, reply.files, comment=None)
            except Exception:
                log.exception("uploading %d file(s) failed", len(reply.files))
        if reply.effects:
            await run_effects(reply.effects, self.runtime.ctx)

    async def send(self, reply: Reply, where: Where) -> None:
        """Show a reply: ephemeral through `respond()` or chat.postEphemeral, in a DM or for
        everyone through chat.postMessage."""
        payload = self.payload(reply, where)
        try:
            if (not reply.ephemeral and not where.is_direct) or (where.is_direct and where.respond is None):
                await self.client.chat_postMessage(
                    channel=where.channel_id,
                    thread_ts=where.thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                    **payload,
                )
            elif where.respond is not None:
                # An answer that settles a clicked preview replaces it, so its buttons are gone.
                settles = reply.settles_prompt and where.clicked
                await _respond(where.respond, response_type="ephemeral", replace_original=settles, **payload)
            else:
                await self.client.chat_postEphemeral(
                    channel=where.channel_id, user=where.user_id, thread_ts=where.thread_ts, **payload
                )
        except TRANSIENT as exc:
            log.warning("could not show the reply to %s in %s: %s", where.user_id, where.channel_id, exc)


async def _respond(respond: AsyncRespond, **message: Any) -> None:
    """Bolt's respond(); a refusal from the response_url is logged, as Slack gives no retry."""
    response = await respond(**message)
    if response.status_code >= 400:
        log.warning("response_url answered %s", response.status_code)
