"""Slack's outbound side: the Web API client, a cached user directory, and the Messenger.

One AsyncWebClient with one pooled aiohttp session serves every call (slack_sdk opens a new
session per call when it has none). Its retry handlers absorb a dropped connection, a 5xx and a
short rate limit; anything longer becomes a DeliveryError with `retry_after`, so the reminder
fan-out can reschedule instead of holding a task asleep.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
from cachetools import LRUCache, TLRUCache
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.retry_after import retry_after_from_headers
from bot.slack.blocks import message_payload
from bot.slack.text import SlackUser
from handlers.events import ChannelTarget, DirectTarget, FileAttachment, Reply
from handlers.ports import DeliveryError, NotFound

log = logging.getLogger(__name__)

# Errors that will not go away by trying again later.
PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "cannot_dm_bot",
        "cant_delete_message",
        "cant_update_message",
        "channel_not_found",
        "edit_window_closed",
        "invalid_auth",
        "invalid_blocks",
        "is_archived",
        "message_not_found",
        "missing_scope",
        "msg_too_long",
        "no_text",
        "not_authed",
        "not_in_channel",
        "restricted_action",
        "token_revoked",
        "user_disabled",
        "user_not_found",
        "user_not_visible",
        "users_not_found",
    }
)


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Waits out a 429 only when Slack asks for a short pause; a long one goes back to the caller
    as a DeliveryError(retry_after=…) so a fan-out can requeue rather than sleep."""

    def __init__(self, max_retry_count: int = 2, max_wait_seconds: float = 3.0) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_seconds = max_wait_seconds

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after_from_headers(response.headers)
        return wait is None or wait <= self.max_wait_seconds


def retry_handlers() -> list[AsyncRetryHandler]:
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ShortRateLimitRetryHandler(),
        AsyncServerErrorRetryHandler(max_retry_count=1),
    ]


def make_client(token: str, base_url: str) -> AsyncWebClient:
    """The one Web API client; its session is attached at start-up (see `open_session`)."""
    return AsyncWebClient(token=token, base_url=base_url, timeout=15, retry_handlers=retry_handlers())


async def open_session(client: AsyncWebClient) -> aiohttp.ClientSession:
    """A pooled session for the client (created inside the running loop)."""
    session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=15),
        connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=30),
    )
    client.session = session
    return session


def delivery_error(exc: Exception, what: str) -> DeliveryError:
    """A Web API failure as the handlers' DeliveryError (rate limits carry retry_after)."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        error = str(response.get("error", "")) if response is not None else ""
        status = getattr(response, "status_code", 0)
        if status == 429 or error == "ratelimited":
            wait = retry_after_from_headers(getattr(response, "headers", None))
            return DeliveryError(f"{what}: rate limited", retry_after=wait if wait is not None else 1.0)
        return DeliveryError(f"{what}: {error or status}", permanent=error in PERMANENT_ERRORS)
    return DeliveryError(f"{what}: {type(exc).__name__}: {exc}")


def _time_to_use(_user_id: str, entry: tuple[float, SlackUser | None], now: float) -> float:
    """When a user directory entry expires: its own lifetime after it was stored."""
    return now + entry[0]


TRANSIENT = (SlackApiError, SlackRequestError, aiohttp.ClientError, asyncio.TimeoutError)


class UserDirectory:
    """users.info (with e-mail and locale), cached, with concurrent lookups of one user merged.

    Known users are kept for `ttl_seconds`, users Slack does not know for five minutes (in one
    cachetools TLRUCache, which takes a lifetime per entry); the least recently used go first
    when it is full. DM channel ids never change, so they are only bounded (an LRUCache)."""

    def __init__(
        self, client: AsyncWebClient, *, ttl_seconds: float = 3600.0, max_size: int = 20_000
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        # user id → (lifetime, user or None); the lifetime rides along so `ttu` can read it.
        self._cache: TLRUCache[str, tuple[float, SlackUser | None]] = TLRUCache(
            maxsize=max_size, ttu=_time_to_use, timer=time.monotonic
        )
        self._inflight: dict[str, asyncio.Future[SlackUser | None]] = {}
        self._dm_channels: LRUCache[str, str] = LRUCache(maxsize=max_size)

    def cached(self, user_id: str) -> SlackUser | None:
        hit = self._cache.get(user_id)
        return hit[1] if hit is not None else None

    async def get(self, user_id: str) -> SlackUser | None:
        """The user, or None when Slack does not know them or cannot be asked right now."""
        hit = self._cache.get(user_id)
        if hit is not None:
            return hit[1]
        pending = self._inflight.get(user_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[SlackUser | None] = asyncio.get_running_loop().create_future()
        self._inflight[user_id] = future
        try:
            user = await self._fetch(user_id)
            future.set_result(user)
            return user
        except BaseException:
            # Waiters look the user up again rather than share a cancellation or a bug.
            future.set_result(None)
            raise
        finally:
            self._inflight.pop(user_id, None)

    async def _fetch(self, user_id: str) -> SlackUser | None:
        try:
            response = await self._client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            if error in ("user_not_found", "user_not_visible"):
                self._remember(user_id, None, ttl=300.0)
            else:
                log.warning("users.info %s failed: %s", user_id, error or exc)
            return None
        except (TimeoutError, SlackRequestError, aiohttp.ClientError) as exc:
            log.warning("users.info %s failed: %s", user_id, exc)
            return None
        data = response.get("user")
        user = parse_user(data) if isinstance(data, dict) else None
        self._remember(user_id, user)
        return user

    def _remember(self, user_id: str, user: SlackUser | None, ttl: float | None = None) -> None:
        self._cache[user_id] = (ttl if ttl is not None else self._ttl, user)

    async def by_email(self, email: str) -> str:
        """users.lookupByEmail → user id. Raises NotFound when the workspace has nobody with that
        e-mail (the reminder then tries the group's next platform), DeliveryError otherwise."""
        try:
            response = await self._client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            if error == "users_not_found":
                raise NotFound("users.lookupByEmail: users_not_found") from exc
            raise delivery_error(exc, "users.lookupByEmail") from exc
        except TRANSIENT as exc:
            raise delivery_error(exc, "users.lookupByEmail") from exc
        data = response.get("user")
        if not isinstance(data, dict) or not data.get("id"):
            raise NotFound("users.lookupByEmail: no user")
        user = parse_user(data)
        if user is not None:
            self._remember(user.id, user)
        return str(data["id"])

    async def dm_channel(self, user_id: str) -> str:
        """conversations.open → the DM channel id (cached: it never changes)."""
        known = self._dm_channels.get(user_id)
        if known:
            return known
        try:
            response = await self._client.conversations_open(users=user_id)
        except TRANSIENT as exc:
            raise delivery_error(exc, "conversations.open") from exc
        channel = response.get("channel")
        channel_id = channel.get("id") if isinstance(channel, dict) else None
        if not channel_id:
            raise DeliveryError("conversations.open: no channel", permanent=True)
        self._dm_channels[user_id] = str(channel_id)
        return str(channel_id)


def parse_user(data: dict[str, Any]) -> SlackUser | None:
    uid = data.get("id")
    if not isinstance(uid, str) or not uid:
        return None
    raw = data.get("profile")
    profile: dict[str, Any] = raw if isinstance(raw, dict) else {}
    name = next(
        (
            str(v).strip()
            for v in (
                profile.get("real_name"),
                data.get("real_name"),
                profile.get("display_name"),
                data.get("name"),
            )
            if isinstance(v, str) and v.strip()
        ),
        uid,
    )
    email = profile.get("email")
    locale = data.get("locale")
    return SlackUser(
        id=uid,
        name=name,
        email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
        locale=locale if isinstance(locale, str) and locale else None,
        team_id=data.get("team_id") if isinstance(data.get("team_id"), str) else None,
        is_bot=bool(data.get("is_bot")),
        is_stranger=data.get("is_stranger") is True,
    )


class SlackMessenger:
    """Implements handlers.ports.Messenger for Slack."""

    def __init__(self, client: AsyncWebClient, users: UserDirectory) -> None:
        self.client = client
        self.users = users

    async def post(self, target: ChannelTarget, reply: Reply, *, thread_ref: str | None = None) -> str:
        payload = message_payload(reply)
        try:
            response = await self.client.chat_postMessage(
                channel=target.channel_id,
                thread_ts=thread_ref,
                unfurl_links=False,
                unfurl_media=False,
                **payload,
            )
        except TRANSIENT as exc:
            raise delivery_error(exc, "chat.postMessage") from exc
        ts = str(response.get("ts") or "")
        if reply.files:
            await self.upload(
                str(response.get("channel") or target.channel_id), reply.files, thread_ts=ts or None
            )
        return ts

    async def update(self, target: ChannelTarget, message_ref: str, reply: Reply) -> None:
        try:
            await self.client.chat_update(channel=target.channel_id, ts=message_ref, **message_payload(reply))
        except TRANSIENT as exc:
            raise delivery_error(exc, "chat.update") from exc

    async def delete(self, target: ChannelTarget, message_ref: str) -> None:
        """chat.delete of a message the bot posted (a withdrawn poll)."""
        try:
            await self.client.chat_delete(channel=target.channel_id, ts=message_ref)
        except TRANSIENT as exc:
            raise delivery_error(exc, "chat.delete") from exc

    async def send_direct(self, target: DirectTarget, reply: Reply) -> str:
        user_id = target.user_id
        if not user_id:
            if not target.email:
                raise NotFound("no Slack user id or e-mail to reach")
            user_id = await self.users.by_email(target.email)
        channel = await self.users.dm_channel(user_id)
        return await self.post(ChannelTarget("slack", target.workspace_id, channel), reply)

    async def upload(
        self,
        channel_id: str,
        files: tuple[FileAttachment, ...],
        *,
        thread_ts: str | None = None,
        comment: str | None = None,
    ) -> None:
        """files.getUploadURLExternal → upload → files.completeUploadExternal (files upload v2)."""
        uploads = [
            {"filename": f.filename, "content": f.content, "title": f.title or f.filename} for f in files
        ]
        try:
            await self.client.files_upload_v2(
                file_uploads=uploads, channel=channel_id, thread_ts=thread_ts, initial_comment=comment
            )
        except TRANSIENT as exc:
            raise delivery_error(exc, "files.upload v2") from exc
