"""The Teams adapter: `POST /api/messages` on the shared aiohttp app, on botbuilder.

botbuilder does what it is good at here: the activity schema, Bot Framework JWT validation through
CloudAdapter with ConfigurationBotFrameworkAuthentication, and routing by activity type through a
TeamsActivityHandler subclass. The turn's work (bot/teams_turns.py) and every outbound call
(bot/teams_connector.py, one pooled aiohttp session) need no botbuilder, so moving to the
Microsoft 365 Agents SDK replaces this module only. botbuilder is imported nowhere else.

Per request the adapter authenticates, builds a TurnContext *without* botbuilder's msrest connector
client (built per turn by CloudAdapter.process_activity, and slow), runs the handler, and answers:
200 for messages (the reply has already gone out through the pooled client), the invoke body for
`adaptiveCard/action` (serialised here, which sidesteps the reported CloudAdapter 500 on invoke
bodies), 400 for a malformed activity, 401 for a bad token, 413 for an oversized body.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from typing import Any

import jwt
from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticationConstants, JwtTokenExtractor

from bot.config import Settings
from bot.runtime import Runtime
from bot.teams import activity as ta
from bot.teams.connector import (
    BotConnectorClient,
    ClientCredentialsToken,
    ManagedIdentityToken,
    NoToken,
    TokenProvider,
    is_loopback_host,
    token_url_for,
)
from bot.teams.messenger import TeamsMessenger
from bot.teams.turns import TeamsTurns, invoke_error

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
RAW_KEY = "referent.activity"
ADAPTER_KEY = web.AppKey("teams_adapter", object)
METADATA_MAX_AGE_S = 23 * 3600.0


class TeamsConfigError(ValueError):
    """The Teams settings cannot work (said before the server starts, not on the first request)."""


class InsecureBindError(TeamsConfigError):
    """Teams runs unauthenticated (no MICROSOFT_APP_ID) and would listen beyond loopback."""


def check_bind_address(settings: Settings, host: str) -> None:
    """Refuse to serve unauthenticated Teams traffic on a non-loopback address.

    Without MICROSOFT_APP_ID anyone who can reach /api/messages could act as any Teams user, which
    is the Bot Framework Emulator's mode and fine on 127.0.0.1 only. `referent serve` calls this.
    """
    check_configuration(settings)
    if settings.teams_authenticated:
        return
    if is_loopback_host(host):
        return
    raise InsecureBindError(
        f"Refusing to listen on {host!r}: MICROSOFT_APP_ID is not set, so Teams requests are not "
        "authenticated. Set MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD (and MICROSOFT_APP_TENANT_ID "
        "for a single-tenant app), or listen on 127.0.0.1 for local testing."
    )


def check_configuration(settings: Settings) -> None:
    """Say plainly what is missing from an authenticated set-up, before botbuilder fails on it."""
    if not settings.teams_authenticated:
        return
    app_type = (settings.microsoft_app_type or "MultiTenant").lower()
    if app_type not in ("multitenant", "singletenant", "userassignedmsi"):
        raise TeamsConfigError(
            f"MICROSOFT_APP_TYPE={settings.microsoft_app_type!r}: "
            "use MultiTenant, SingleTenant or UserAssignedMSI."
        )
    if app_type != "userassignedmsi" and not settings.microsoft_app_password:
        raise TeamsConfigError(
            "MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD (the client secret) is not."
        )
    if app_type in ("singletenant", "userassignedmsi") and not settings.microsoft_app_tenant_id:
        raise TeamsConfigError(
            f"MICROSOFT_APP_TYPE={settings.microsoft_app_type} needs MICROSOFT_APP_TENANT_ID."
        )


class BotFrameworkConfig:
    """The attribute names botbuilder's configuration factory reads (as in the BotBuilder samples)."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.microsoft_app_id
        self.APP_PASSWORD = settings.microsoft_app_password
        self.APP_TYPE = settings.microsoft_app_type or "MultiTenant"
        self.APP_TENANTID = settings.microsoft_app_tenant_id


class ReferentTeamsBot(TeamsActivityHandler):
    """Routes each activity type to TeamsTurns with the activity JSON as Teams sent it."""

    def __init__(self, turns: TeamsTurns) -> None:
        self.turns = turns

    @staticmethod
    def _raw(turn_context: TurnContext) -> dict[str, Any]:
        raw = turn_context.turn_state.get(RAW_KEY)
        return raw if isinstance(raw, dict) else {}

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.turns.on_message(self._raw(turn_context))

    async def on_message_update_activity(self, turn_context: TurnContext) -> None:
        raw = self._raw(turn_context)
        event_type = (raw.get("channelData") or {}).get("eventType")
        if event_type in ("editMessage", None):
            await self.turns.on_edit(raw)

    async def on_message_delete_activity(self, turn_context: TurnContext) -> None:
        raw = self._raw(turn_context)
        event_type = (raw.get("channelData") or {}).get("eventType")
        if event_type in ("softDeleteMessage", None):
            await self.turns.on_delete(raw)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        # Not TeamsActivityHandler's: it looks every added member up through botbuilder's connector.
        raw = self._raw(turn_context)
        if ta.bot_was_added(raw):
            await self.turns.on_installed(raw)
        elif raw.get("membersAdded"):
            await self.turns.remember(raw)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        return None  # conversationUpdate already says hello; answering both would say it twice

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        raw = self._raw(turn_context)
        if raw.get("name") == "adaptiveCard/action":
            return InvokeResponse(status=int(HTTPStatus.OK), body=await self.turns.on_card_action(raw))
        return InvokeResponse(
            status=int(HTTPStatus.BAD_REQUEST),
            body=invoke_error(400, f"unsupported invoke {raw.get('name')!r}"),
        )


class ReferentAdapter(CloudAdapter):
    """CloudAdapter that authenticates and routes, and leaves sending to BotConnectorClient."""

    def __init__(self, settings: Settings, bot: ReferentTeamsBot) -> None:
        super().__init__(ConfigurationBotFrameworkAuthentication(BotFrameworkConfig(settings)))
        self.settings = settings
        self.bot = bot
        self._metadata_lock = asyncio.Lock()

        async def on_error(context: TurnContext, error: Exception) -> None:
            log.error("Teams turn failed: %s", error, exc_info=error)
            raise error

        self.on_turn_error = on_error

    async def handle(self, request: web.Request) -> web.Response:
        """The /api/messages endpoint."""
        if "json" not in (request.content_type or ""):
            return _problem(415, "expected application/json")
        try:
            body = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            return _problem(413, "activity too large")
        except (ValueError, UnicodeDecodeError):
            return _problem(400, "body is not JSON")
        try:
            raw = ta.validate(body)
            ta.tenant_of(raw)
            activity = Activity().deserialize(raw)
        except ta.ActivityError as exc:
            return _problem(400, str(exc))
        except Exception:  # msrest refuses shapes it cannot map
            return _problem(400, "not a Bot Framework activity")

        auth_header = request.headers.get("Authorization", "")
        unavailable = await self._ensure_signing_keys(auth_header)
        if unavailable:
            return _problem(503, unavailable)
        try:
            result = await self.bot_framework_authentication.authenticate_request(activity, auth_header)
        except Exception as exc:  # PermissionError, and jwt/ValueError for garbage tokens
            log.info("Teams request refused: %s", exc)
            return _problem(401, "unauthorized")
        if not self._tenant_allowed(raw):
            return _problem(403, "this bot serves another tenant")

        context = TurnContext(self, activity)
        context.turn_state[self.BOT_IDENTITY_KEY] = result.claims_identity
        context.turn_state[self.BOT_CALLBACK_HANDLER_KEY] = self.bot.on_turn
        context.turn_state[RAW_KEY] = raw
        await self.run_pipeline(context, self.bot.on_turn)

        if activity.type == "invoke":
            invoke = context.turn_state.get(self._INVOKE_RESPONSE_KEY)
            value = getattr(invoke, "value", None)
            if not isinstance(value, InvokeResponse):
                return web.json_response(invoke_error(501, "not implemented"), status=400)
            return web.json_response(value.body if value.body is not None else {}, status=value.status or 200)
        return web.Response(status=200)

    def _tenant_allowed(self, raw: dict[str, Any]) -> bool:
        """A single-tenant registration answers its own tenant only."""
        if (self.settings.microsoft_app_type or "").lower() != "singletenant":
            return True
        tenant = ta.tenant_of(raw)
        return (
            not tenant
            or not self.settings.microsoft_app_tenant_id
            or tenant == self.settings.microsoft_app_tenant_id
        )

    async def _ensure_signing_keys(self, auth_header: str) -> str | None:
        """botbuilder fetches the Bot Framework signing keys with blocking `requests` inside the
        event loop. Fetch them in a worker thread first, and only for a token whose (unverified)
        issuer is one botbuilder would fetch keys for, so junk tokens never cause a fetch."""
        if not auth_header.startswith("Bearer ") or not self.settings.teams_authenticated:
            return None
        try:
            issuer = jwt.decode(auth_header[7:], options={"verify_signature": False}).get("iss")
        except Exception:
            return None  # authentication refuses it without fetching anything
        if issuer == AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER:
            url = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
        elif isinstance(issuer, str) and (
            "sts.windows.net" in issuer or "login.microsoftonline.com" in issuer
        ):
            url = AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
        else:
            return None
        metadata = JwtTokenExtractor.get_open_id_metadata(url)
        if _fresh(metadata):
            return None
        async with self._metadata_lock:
            if _fresh(metadata):
                return None
            try:
                await asyncio.wait_for(asyncio.to_thread(metadata._refresh), timeout=10.0)
            except Exception as exc:
                log.warning("could not fetch Bot Framework signing keys from %s: %s", url, exc)
                return "cannot validate Bot Framework tokens right now"
        return None


def preload_signing_keys(keys: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Install Bot Framework signing keys (JWKS entries) where botbuilder keeps the fetched ones,
    so tokens validate without fetching them; returns the keys that were there. `None` forgets
    them (the next token fetches afresh). For tests and offline demos of the authenticated mode."""
    from datetime import datetime

    metadata = JwtTokenExtractor.get_open_id_metadata(
        AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    )
    previous = list(metadata.keys) if metadata.keys else None
    metadata.keys = list(keys) if keys else []
    metadata.last_updated = datetime.now() if keys else datetime.min
    return previous


def _fresh(metadata: Any) -> bool:
    from datetime import datetime, timedelta

    last = getattr(metadata, "last_updated", None)
    return isinstance(last, datetime) and last > datetime.now() - timedelta(seconds=METADATA_MAX_AGE_S)


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def token_provider(settings: Settings, token_url: str | None = None) -> TokenProvider:
    """The outbound token source for the configured app registration (none when unauthenticated)."""
    if not settings.teams_authenticated:
        return NoToken()
    app_type = (settings.microsoft_app_type or "MultiTenant").lower()
    if app_type == "userassignedmsi":
        return ManagedIdentityToken(settings.microsoft_app_id)
    url = token_url or token_url_for(app_type, settings.microsoft_app_tenant_id)
    return ClientCredentialsToken(settings.microsoft_app_id, settings.microsoft_app_password, url)


def connector_client(settings: Settings) -> BotConnectorClient:
    """The one pooled Bot Connector client of this process, with the bot's token source."""
    token_url = (
        settings.teams_token_url or None
    )
    return BotConnectorClient(token_provider(settings, token_url), require_https=settings.teams_authenticated)


def register_messenger(runtime: Runtime, client: BotConnectorClient | None = None) -> TeamsMessenger:
    """Register Teams' outbound side with the runtime (also without the web server, for
    `referent remind`); the client's session is closed with the runtime."""
    client = client or connector_client(runtime.settings)
    runtime.on_close(client.close)
    messenger = TeamsMessenger(client, runtime.db, app_id=runtime.settings.microsoft_app_id)
    runtime.messengers.register("teams", messenger)
    return messenger


def mount(app: web.Application, runtime: Runtime) -> None:
    """Add POST /api/messages and register the Teams messenger."""
    client = connector_client(runtime.settings)
    register_messenger(runtime, client)
    turns = TeamsTurns(runtime, client)
    adapter = ReferentAdapter(runtime.settings, ReferentTeamsBot(turns))
    app[ADAPTER_KEY] = adapter

    async def messages(request: web.Request) -> web.Response:
        return await adapter.handle(request)

    app.router.add_post(ROUTE, messages)
