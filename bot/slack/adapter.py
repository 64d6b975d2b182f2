"""The Slack adapter: Bolt's AsyncApp on `POST /slack/events` of the one aiohttp server.

The parts, one job each: http_glue.py (aiohttp ↔ Bolt), validation.py (what a signed payload
must hold), listeners.py (Bolt's listeners: commands, events, clicks, modal saves), answers.py
(the handler run and its reply shown), messenger.py (the Web API and the user directory). Bolt
checks every request's signature and timestamp itself (401 when they are wrong).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.slack.answers import Answers
from bot.slack.http_glue import SLACK_PATH, async_dispatch
from bot.slack.listeners import Listeners
from bot.slack.messenger import SlackMessenger, UserDirectory, make_client, open_session
from bot.slack.validation import PayloadCheck
from handlers.events import Reply

log = logging.getLogger(__name__)


class SlackAdapter:
    """Owns the Bolt app, the Web API client, the user directory and the Slack messenger."""

    def __init__(self, runtime: Runtime, client: AsyncWebClient | None = None) -> None:
        settings = runtime.settings
        token, secret = settings.secret("slack_bot_token"), settings.secret("slack_signing_secret")
        if not token or not secret:
            raise ValueError("Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET")
        self.runtime = runtime
        self.client = client or make_client(token, settings.slack_api_base)
        self.users = UserDirectory(self.client)
        self.messenger = SlackMessenger(self.client, self.users)
        self._session_lock = asyncio.Lock()
        self.answers = Answers(runtime, self.client, self.users, self.messenger)
        self.app = AsyncApp(
            name="referent",
            client=self.client,
            signing_secret=secret,
            process_before_response=True,
            logger=logging.getLogger("bot.slack.bolt"),
            # Right after Bolt's signature check, before its authorisation: a signed payload
            # that Bolt's matchers would trip over is answered 400.
            before_authorize=PayloadCheck(),
        )
        Listeners(self.answers).register(self.app)

    async def ensure_session(self) -> None:
        """Give the client one pooled session, created inside the running loop."""
        session = self.client.session
        if session is not None and not session.closed:
            return
        async with self._session_lock:
            if self.client.session is None or self.client.session.closed:
                await open_session(self.client)

    async def close(self) -> None:
        session = self.client.session
        if session is not None and not session.closed:
            await session.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """POST /slack/events."""
        await self.ensure_session()
        return await async_dispatch(self.app, request)


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

    async def delete(self, target: Any, message_ref: str) -> None:
        await self._adapter.ensure_session()
        await self._adapter.messenger.delete(target, message_ref)

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
