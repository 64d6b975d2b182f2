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
import msal
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from yarl import URL

from bot.retry_after import retry_after_seconds
from handlers.ports import DeliveryError

log = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
LOGIN_AUTHORITY = "https://login.microsoftonline.com"
TOKEN_PATH = "/oauth2/v2.0/token"
MULTI_TENANT_AUTHORITY_TENANT = "botframework.com"
USER_AGENT = "Referent (aiohttp; Bot Connector v3)"


def token_url_for(app_type: str, tenant_id: str) -> str:
    """The OAuth2 token endpoint for the bot's app registration (single or multi-tenant)."""
    tenant = tenant_id if app_type.lower() == "singletenant" and tenant_id else MULTI_TENANT_AUTHORITY_TENANT
    return f"{LOGIN_AUTHORITY}/{tenant}{TOKEN_PATH}"


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


# The Bot Connector service hosts of Microsoft Teams, from Microsoft's documentation of the
# well-known Teams service endpoints (public cloud with its regional paths /amer/, /emea/, /apac/,
# /in/, /teams/ …; GCC; GCC High; DoD). See docs/security.md, "Teams endpoint and identity".
TEAMS_SERVICE_URL_HOSTS: frozenset[str] = frozenset(
    {
        "smba.trafficmanager.net",
        "smba.infra.gcc.teams.microsoft.com",
        "smba.infra.gov.teams.microsoft.us",
        "smba.infra.dod.teams.microsoft.us",
    }
)


class ServiceUrlPolicy:
    """Where the bot may send (and so hand its token to): the one rule for inbound activities and
    every outbound call, so a forged serviceUrl can make the bot call nothing (no SSRF).

    Authenticated: https to Microsoft's Teams hosts plus the configured extra hosts (an extra
    loopback host may use http, for tests against a local fake). Emulator mode: loopback only.
    """

    def __init__(self, extra_hosts: frozenset[str] = frozenset(), *, loopback_only: bool = False) -> None:
        self.loopback_only = loopback_only
        self.hosts = frozenset() if loopback_only else TEAMS_SERVICE_URL_HOSTS | extra_hosts

    def allows(self, service_url: str) -> bool:
        try:
            parts = urlsplit(service_url)
            host = (parts.hostname or "").lower().rstrip(".")
            parts.port  # noqa: B018 - raises ValueError for a malformed port
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
            return False
        if self.loopback_only:
            return is_loopback_host(host)
        if host not in self.hosts:
            return False
        return parts.scheme == "https" or is_loopback_host(host)


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


def authority_of(token_url: str) -> str:
    """The Entra authority (`https://host/tenant`) whose token endpoint `token_url` is."""
    authority = token_url.rstrip("/").removesuffix(TOKEN_PATH)
    if authority == token_url.rstrip("/"):
        raise ValueError(f"{token_url!r} is not an Entra token endpoint (…{TOKEN_PATH})")
    return authority


class ClientCredentialsToken:
    """The bot's OAuth2 client-credentials token, from msal, kept until five minutes before it
    expires.

    msal blocks (it sends through `requests`), so it runs in a worker thread; the token is also
    kept here so a send costs no thread hop, and one request refreshes it for all concurrent
    senders (a lock), so a burst of replies costs one token request, not one each.
    """

    def __init__(
        self,
        app_id: str,
        password: str,
        token_url: str,
        scope: str = BOT_FRAMEWORK_SCOPE,
        *,
        timeout: float = 10.0,
    ) -> None:
        self.app_id = app_id
        self._password = password
        self.token_url = token_url
        self.authority = authority_of(token_url)
        self.scope = scope
        self.timeout = timeout
        self._app: msal.ConfidentialClientApplication | None = None
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    def _acquire(self) -> dict[str, Any]:
        """In a worker thread: msal's token (from its cache, or from the token endpoint)."""
        if self._app is None:
            self._app = msal.ConfidentialClientApplication(
                self.app_id,
                client_credential=self._password,
                authority=self.authority,
                instance_discovery=False,  # the authority is configured, not discovered
                timeout=self.timeout,
            )
        result: dict[str, Any] = self._app.acquire_token_for_client(scopes=[self.scope])
        return result

    async def token(self, session: aiohttp.ClientSession) -> str | None:
        if self._token and time.monotonic() < self._expires_at:
            return self._token
        async with self._lock:
            if self._token and time.monotonic() < self._expires_at:
                return self._token
            self.fetches += 1
            try:
                result = await asyncio.to_thread(self._acquire)
            except Exception as exc:  # msal raises ValueError, requests' errors and RuntimeError
                raise DeliveryError(f"bot token endpoint unreachable: {exc!r}", retry_after=30.0) from exc
            if not isinstance(result.get("access_token"), str):
                raise DeliveryError(f"bot token request failed: {result.get('error')}", retry_after=30.0)
            self._token = str(result["access_token"])
            lifetime = float(result.get("expires_in") or 3600)
            self._expires_at = time.monotonic() + max(60.0, lifetime - 300.0)
            return self._token

    def invalidate(self) -> None:
        """Forget the token here and in msal's cache, so the next send fetches a new one."""
        self._token = None
        self._expires_at = 0.0
        if self._app is not None:
            cache = self._app.token_cache
            for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(item)


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
        service_urls: ServiceUrlPolicy | None = None,
    ) -> None:
        self.tokens: TokenProvider = tokens or NoToken()
        # Checked for every call; default: loopback only (the emulator's and the tests' rule).
        self.service_urls = service_urls or ServiceUrlPolicy(loopback_only=True)
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
        if not self.service_urls.allows(service_url):
            raise DeliveryError(f"service URL host {parts.hostname!r} is not allowed", permanent=True)
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
        """One Bot Connector call, retried by tenacity: 429 and 5xx after Retry-After (or a short
        backoff), no connection after a short backoff, a rejected token once at once with a new
        one; at most `max_retries` times and never for a wait above `max_retry_wait`."""
        url = self._url(service_url, path, query)
        call = _Call(method, url, payload)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.max_retries + 1) | _wait_above(self.max_retry_wait),
            wait=_asked_wait,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    result = await self._attempt(call, attempt.retry_state.attempt_number)
        except _Transient as exc:
            self.stats.failures += 1
            raise DeliveryError(str(exc), retry_after=exc.retry_after) from exc
        except DeliveryError:
            self.stats.failures += 1
            raise
        return result

    def _count_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, _Transient) and error.counted:
            self.stats.retries += 1

    async def _attempt(self, call: _Call, number: int) -> Any:
        """One request: the parsed answer, or _Transient / a permanent DeliveryError."""
        session = self.session
        headers: dict[str, str] = {}
        token = await self.tokens.token(session)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.stats.requests += 1
        try:
            async with session.request(call.method, call.url, json=call.payload, headers=headers) as resp:
                status = resp.status
                text = await resp.text()
                retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Transient(
                f"Bot Connector unreachable: {exc}",
                wait=min(0.25 * 2 ** (number - 1), self.max_retry_wait),
                retry_after=5.0,
            ) from exc
        if 200 <= status < 300:
            return _json_or_empty(text)
        if status == 401 and token and not call.refreshed_token:
            # A token revoked or rotated early: fetch a new one once.
            self.tokens.invalidate()
            call.refreshed_token = True
            raise _Transient("Bot Connector refused the bot token", wait=0.0, retry_after=0.0, counted=False)
        if status == 429 or status in (500, 502, 503, 504):
            if status == 429:
                self.stats.throttled += 1
            wait = retry_after if retry_after is not None else min(0.5 * 2 ** (number - 1), 8.0)
            raise _Transient(
                f"Bot Connector {call.method} {call.url.path} answered {status} after {number} attempts",
                wait=wait,
                retry_after=wait,
            )
        raise DeliveryError(
            f"Bot Connector {call.method} {call.url.path} answered {status}: {text[:200]}", permanent=True
        )


@dataclass
class _Call:
    """One logical call across its attempts."""

    method: str
    url: URL
    payload: Mapping[str, Any] | None
    refreshed_token: bool = False


class _Transient(DeliveryError):
    """An answer worth another try after `wait` seconds; `retry_after` is for the caller when the
    tries run out. `counted`: whether it counts in ConnectorStats.retries."""

    def __init__(self, message: str, *, wait: float, retry_after: float, counted: bool = True) -> None:
        super().__init__(message, retry_after=retry_after)
        self.wait = wait
        self.counted = counted


def _asked_wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome is not None else None
    return error.wait if isinstance(error, _Transient) else 0.0


def _wait_above(limit: float) -> Any:
    """Stop when the connector asks for a wait longer than `limit` (sleeping it through would
    hold the turn; the caller gets `retry_after` instead)."""

    def stop(state: RetryCallState) -> bool:
        return _asked_wait(state) > limit

    return stop


def _json_or_empty(text: str) -> Any:
    if not text:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return {}
