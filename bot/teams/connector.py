"""The Bot Connector REST client Referent sends through: one pooled aiohttp session per process.

botbuilder's own connector client builds a new msrest client per turn and sends through `requests`
in a thread pool, one new connection per reply (about 60 replies/s). This client keeps one
keep-alive `aiohttp.ClientSession` for every service URL, caches the bot's access token, and
honours 429 `Retry-After` with bounded retries. It knows only the REST shape of the Bot Connector
(`/v3/conversations/...`), not botbuilder, so the Teams adapter can move to another SDK without it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

from bot.retry_after import retry_after_seconds
from handlers.ports import DeliveryError

log = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
LOGIN_AUTHORITY = "https://login.microsoftonline.com"
MULTI_TENANT_AUTHORITY_TENANT = "botframework.com"
USER_AGENT = "Referent (aiohttp; Bot Connector v3)"


def token_url_for(app_type: str, tenant_id: str) -> str:
    """The OAuth2 token endpoint for the bot's app registration (single or multi-tenant)."""
    tenant = tenant_id if app_type.lower() == "singletenant" and tenant_id else MULTI_TENANT_AUTHORITY_TENANT
    return f"{LOGIN_AUTHORITY}/{tenant}/oauth2/v2.0/token"


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TokenProvider(Protocol):
    """Gives the bearer token for outbound Bot Connector calls, or None when unauthenticated."""

    async def token(self, session: aiohttp.ClientSession) -> str | None: ...

    def invalidate(self) -> None: ...


class NoToken:
    """Unauthenticated mode (the Bot Framework Emulator's): no Authorization header."""

    async def token(self, session: aiohttp.ClientSession) -> str | None:
        return None

    def invalidate(self) -> None:
        return None


class ClientCredentialsToken:
    """OAuth2 client-credentials token for the bot, cached until five minutes before it expires.

    One request refreshes it for all concurrent senders (a lock), so a burst of replies costs one
    token request, not one each.
    """

    def __init__(self, app_id: str, password: str, token_url: str, scope: str = BOT_FRAMEWORK_SCOPE) -> None:
        self.app_id = app_id
        self._password = password
        self.token_url = token_url
        self.scope = scope
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def token(self, session: aiohttp.ClientSession) -> str | None:
        if self._token and time.monotonic() < self._expires_at:
            return self._token
        async with self._lock:
            if self._token and time.monotonic() < self._expires_at:
                return self._token
            form = {
                "grant_type": "client_credentials",
                "client_id": self.app_id,
                "client_secret": self._password,
                "scope": self.scope,
            }
            try:
                async with session.post(self.token_url, data=form) as resp:
                    body = await resp.json(content_type=None)
                    if resp.status != 200 or not isinstance(body, dict) or "access_token" not in body:
                        detail = body.get("error") if isinstance(body, dict) else resp.status
                        raise DeliveryError(f"bot token request failed: {detail}", retry_after=30.0)
            except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
                raise DeliveryError(f"bot token endpoint unreachable: {exc}", retry_after=30.0) from exc
            self.fetches += 1
            self._token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600) or 3600)
            self._expires_at = time.monotonic() + max(60.0, lifetime - 300.0)
            return self._token

    def invalidate(self) -> None:
        self._token = None
        self._expires_at = 0.0


class ManagedIdentityToken:
    """A user-assigned managed identity's token, through botframework-connector's credentials
    (MSAL, blocking) in a worker thread, cached like ClientCredentialsToken."""

    def __init__(self, app_id: str, scope: str = BOT_FRAMEWORK_SCOPE) -> None:
        self.app_id = app_id
        self.scope = scope
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self, session: aiohttp.ClientSession) -> str | None:
        if self._token and time.monotonic() < self._expires_at:
            return self._token
        async with self._lock:
            if self._token and time.monotonic() < self._expires_at:
                return self._token
            from botframework.connector.auth import ManagedIdentityAppCredentials

            creds = ManagedIdentityAppCredentials(self.app_id, self.scope.removesuffix("/.default"))
            try:
                self._token = await asyncio.to_thread(creds.get_access_token)
            except Exception as exc:
                raise DeliveryError(f"managed identity token failed: {exc}", retry_after=30.0) from exc
            self._expires_at = time.monotonic() + 30 * 60
            return self._token

    def invalidate(self) -> None:
        self._token = None
        self._expires_at = 0.0


@dataclass
class ConnectorStats:
    """Counters for tests and the benchmark."""

    requests: int = 0
    throttled: int = 0
    retries: int = 0
    failures: int = 0


class BotConnectorClient:
    """POST/PUT/GET against `{serviceUrl}/v3/conversations/...` through one shared session.

    Errors surface as `handlers.ports.DeliveryError`: `permanent=True` for 4xx answers that a
    retry will not fix (the bot was removed, the conversation is gone), `retry_after` when the
    connector kept throttling after our bounded retries.
    """

    def __init__(
        self,
        tokens: TokenProvider | None = None,
        *,
        max_retries: int = 3,
        max_retry_wait: float = 20.0,
        timeout: float = 15.0,
        connections_per_host: int = 64,
        require_https: bool = False,
    ) -> None:
        self.tokens: TokenProvider = tokens or NoToken()
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(5.0, timeout))
        self.connections_per_host = connections_per_host
        # With a real token, refuse to send it in clear text anywhere but loopback.
        self.require_https = require_https
        self.stats = ConnectorStats()
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """Created lazily, inside the running loop, and reused for the life of the process."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=0, limit_per_host=self.connections_per_host, keepalive_timeout=60, ttl_dns_cache=300
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self.timeout,
                headers={"User-Agent": USER_AGENT},
                json_serialize=lambda obj: json.dumps(obj, ensure_ascii=False, separators=(",", ":")),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    # -- the Bot Connector operations -------------------------------------------------------

    async def send_to_conversation(
        self, service_url: str, conversation_id: str, activity: Mapping[str, Any]
    ) -> str:
        """Post a new message (in a Teams channel: a new thread). Returns the new activity id."""
        body = await self._call(
            "POST", service_url, ("v3", "conversations", conversation_id, "activities"), activity
        )
        return str(body.get("id") or "") if isinstance(body, dict) else ""

    async def reply_to_activity(
        self, service_url: str, conversation_id: str, reply_to_id: str, activity: Mapping[str, Any]
    ) -> str:
        """Reply to an activity (in a Teams channel: in its thread). Returns the new activity id."""
        payload = dict(activity)
        payload.setdefault("replyToId", reply_to_id)
        path = ("v3", "conversations", conversation_id, "activities", reply_to_id)
        body = await self._call("POST", service_url, path, payload)
        return str(body.get("id") or "") if isinstance(body, dict) else ""

    async def update_activity(
        self, service_url: str, conversation_id: str, activity_id: str, activity: Mapping[str, Any]
    ) -> None:
        payload = dict(activity)
        payload["id"] = activity_id
        await self._call(
            "PUT", service_url, ("v3", "conversations", conversation_id, "activities", activity_id), payload
        )

    async def delete_activity(self, service_url: str, conversation_id: str, activity_id: str) -> None:
        await self._call(
            "DELETE", service_url, ("v3", "conversations", conversation_id, "activities", activity_id)
        )

    async def create_conversation(self, service_url: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """POST /v3/conversations: a 1:1 chat with a user, or a new thread in a channel."""
        body = await self._call("POST", service_url, ("v3", "conversations"), parameters)
        if not isinstance(body, dict) or not body.get("id"):
            raise DeliveryError("create conversation returned no id", permanent=True)
        return body

    async def get_member(self, service_url: str, conversation_id: str, user_id: str) -> dict[str, Any] | None:
        """One member of a conversation or team (with e-mail and UPN), or None if not found."""
        try:
            body = await self._call(
                "GET", service_url, ("v3", "conversations", conversation_id, "members", user_id)
            )
        except DeliveryError as exc:
            if exc.permanent:
                return None
            raise
        return body if isinstance(body, dict) else None

    async def get_paged_members(
        self, service_url: str, conversation_id: str, page_size: int = 500
    ) -> list[dict[str, Any]]:
        """Every member of a team or chat (to find roster members who never talked to the bot)."""
        members: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(200):  # a bound, not a expected page count
            query: dict[str, str] = {"pageSize": str(page_size)}
            if token:
                query["continuationToken"] = token
            body = await self._call(
                "GET", service_url, ("v3", "conversations", conversation_id, "pagedmembers"), query=query
            )
            if not isinstance(body, dict):
                break
            page = body.get("members") or []
            members.extend(m for m in page if isinstance(m, dict))
            token = body.get("continuationToken") or None
            if not token:
                break
        return members

    # -- transport ---------------------------------------------------------------------------

    def _url(self, service_url: str, path: tuple[str, ...], query: Mapping[str, str] | None = None) -> URL:
        parts = urlsplit(service_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise DeliveryError(f"invalid service URL {service_url!r}", permanent=True)
        if self.require_https and parts.scheme != "https" and not is_loopback_host(parts.hostname):
            raise DeliveryError("refusing to send a bot token over plain HTTP", permanent=True)
        base = service_url if service_url.endswith("/") else service_url + "/"
        # Conversation ids hold `:`, `@` and `;`: encode every segment as botbuilder does.
        encoded = "/".join(quote(p, safe="") for p in path)
        url = URL(base + encoded, encoded=True)
        return url.with_query(dict(query)) if query else url

    async def _call(
        self,
        method: str,
        service_url: str,
        path: tuple[str, ...],
        payload: Mapping[str, Any] | None = None,
        *,
        query: Mapping[str, str] | None = None,
    ) -> Any:
        url = self._url(service_url, path, query)
        session = self.session
        refreshed_token = False
        attempt = 0
        while True:
            attempt += 1
            headers: dict[str, str] = {}
            token = await self.tokens.token(session)
            if token:
                headers["Authorization"] = f"Bearer {token}"
            self.stats.requests += 1
            try:
                async with session.request(method, url, json=payload, headers=headers) as resp:
                    status = resp.status
                    text = await resp.text()
                    retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                if attempt <= self.max_retries:
                    self.stats.retries += 1
                    await asyncio.sleep(min(0.25 * 2 ** (attempt - 1), self.max_retry_wait))
                    continue
                self.stats.failures += 1
                raise DeliveryError(f"Bot Connector unreachable: {exc}", retry_after=5.0) from exc

            if 200 <= status < 300:
                if not text:
                    return {}
                try:
                    return json.loads(text)
                except json.JSONDecodeError:
                    return {}
            if status == 401 and token and not refreshed_token:
                # A token revoked or rotated early: fetch a new one once.
                self.tokens.invalidate()
                refreshed_token = True
                continue
            if status == 429 or status in (500, 502, 503, 504):
                if status == 429:
                    self.stats.throttled += 1
                wait = retry_after if retry_after is not None else min(0.5 * 2 ** (attempt - 1), 8.0)
                if attempt <= self.max_retries and wait <= self.max_retry_wait:
                    self.stats.retries += 1
                    await asyncio.sleep(wait)
                    continue
                self.stats.failures += 1
                raise DeliveryError(
                    f"Bot Connector {method} {url.path} answered {status} after {attempt} attempts",
                    retry_after=wait,
                )
            self.stats.failures += 1
            raise DeliveryError(
                f"Bot Connector {method} {url.path} answered {status}: {text[:200]}", permanent=True
            )

