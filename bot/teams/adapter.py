"""The Teams adapter: `POST /api/messages` on the shared aiohttp app, on botbuilder.

botbuilder does what it is good at here, through its public API only: the activity schema, the
turn pipeline (BotAdapter, TurnContext) and routing by activity type through a
TeamsActivityHandler subclass. Tokens are validated in bot/teams/auth.py, because botbuilder's
validation fetches the signing keys with blocking calls on the event loop. The turn's work
(bot/teams/turns.py) and every outbound call (bot/teams/connector.py, one pooled aiohttp session)
need no botbuilder, so moving to the Microsoft 365 Agents SDK replaces this module and auth.py.

Per request the adapter authenticates, builds a TurnContext *without* botbuilder's msrest connector
client (built per turn by CloudAdapter.process_activity, and slow), runs the handler, and answers:
200 for messages (the reply has already gone out through the pooled client), the invoke body for
`adaptiveCard/action` (serialised here, which sidesteps the reported CloudAdapter 500 on invoke
bodies), 400 for a malformed activity, 401 for a bad token, 503 while the signing keys cannot be
fetched, 413 for an oversized body.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from aiohttp import web
from botbuilder.core import BotAdapter, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    ResourceResponse,
)

from bot.config import Settings
from bot.runtime import Runtime
from bot.teams import activity as ta
from bot.teams.auth import BotFrameworkAuth, KeysUnavailable, Unauthorized
from bot.teams.connector import (
    BotConnectorClient,
    ClientCredentialsToken,
    ManagedIdentityToken,
    NoToken,
    ServiceUrlPolicy,
    TokenProvider,
    is_loopback_host,
    token_url_for,
)
from bot.teams.messenger import TeamsMessenger
from bot.teams.turns import TeamsTurns, invoke_error

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
MAX_JSON_DEPTH = 64  # real activities nest about 8 deep; deeper is hostile, refused before use
RAW_KEY = "referent.activity"
INVOKE_KEY = "referent.invoke_response"
ADAPTER_KEY = web.AppKey("teams_adapter", object)


class TeamsConfigError(ValueError):
    """The Teams settings cannot work (said before the server starts, not on the first request)."""


class InsecureBindError(TeamsConfigError):
    """Teams runs unauthenticated (no MICROSOFT_APP_ID) and would listen beyond loopback."""


def check_bind_address(settings: Settings, host: str) -> None:
    """Refuse to serve unauthenticated Teams traffic on a non-loopback address.

    Unauthenticated Teams (REFERENT_TEAMS_EMULATOR=1 without MICROSOFT_APP_ID) lets anyone who
    reaches /api/messages act as any Teams user: the Bot Framework Emulator's mode, fine on
    127.0.0.1 only. Without the opt-in and without an app id, /api/messages is not mounted at all.
    `referent serve` calls this.
    """
    check_configuration(settings)
    if not settings.teams_emulator_mode:
        return
    if is_loopback_host(host):
        return
    raise InsecureBindError(
        f"Refusing to listen on {host!r}: REFERENT_TEAMS_EMULATOR is on and MICROSOFT_APP_ID is not "
        "set, so Teams requests are not authenticated. Set MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD "
        "(and MICROSOFT_APP_TENANT_ID for a single-tenant app), or listen on 127.0.0.1 for local "
        "testing."
    )


def check_configuration(settings: Settings) -> None:
    """Say plainly what is missing from an authenticated set-up, before the first request fails."""
    if not settings.teams_authenticated:
        return
    app_type = (settings.microsoft_app_type or "MultiTenant").lower()
    if app_type not in ("multitenant", "singletenant", "userassignedmsi"):
        raise TeamsConfigError(
            f"MICROSOFT_APP_TYPE={settings.microsoft_app_type!r}: "
            "use MultiTenant, SingleTenant or UserAssignedMSI."
        )
    if app_type != "userassignedmsi" and not settings.secret("microsoft_app_password"):
        raise TeamsConfigError(
            "MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD (the client secret) is not."
        )
    if app_type in ("singletenant", "userassignedmsi") and not settings.microsoft_app_tenant_id:
        raise TeamsConfigError(
            f"MICROSOFT_APP_TYPE={settings.microsoft_app_type} needs MICROSOFT_APP_TENANT_ID."
        )


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
            response = InvokeResponse(status=int(HTTPStatus.OK), body=await self.turns.on_card_action(raw))
        else:
            response = InvokeResponse(
                status=int(HTTPStatus.BAD_REQUEST),
                body=invoke_error(400, f"unsupported invoke {raw.get('name')!r}"),
            )
        turn_context.turn_state[INVOKE_KEY] = response  # the HTTP answer, read by ReferentAdapter
        return response


class ReferentAdapter(BotAdapter):
    """Authenticates, builds a TurnContext and runs botbuilder's pipeline; sending is left to
    BotConnectorClient, so the adapter's own send methods only take the invoke answer."""

    def __init__(
        self, settings: Settings, bot: ReferentTeamsBot, auth: BotFrameworkAuth | None = None
    ) -> None:
        async def on_error(context: TurnContext, error: Exception) -> None:
            log.error("Teams turn failed: %s", error, exc_info=error)
            raise error

        super().__init__(on_turn_error=on_error)
        self.settings = settings
        self.bot = bot
        self.auth = auth or BotFrameworkAuth(
            settings.microsoft_app_id if settings.teams_authenticated else "",
            channel_metadata_url=settings.teams_openid_metadata_url or None,
        )
        self.service_urls = service_url_policy(settings)
        # The Bot Framework Emulator says "emulator"; it is served only in the emulator mode.
        self.channels = ("msteams", "emulator") if settings.teams_emulator_mode else ("msteams",)

    async def handle(self, request: web.Request) -> web.Response:
        """The /api/messages endpoint."""
        if self.settings.teams_emulator_mode:
            refused = _emulator_refusal(request)
            if refused is not None:
                log.warning("Teams request refused (emulator mode): %s", refused)
                return _problem(403, "unauthenticated Teams accepts local requests only")
        read = await _read_activity(request)
        if isinstance(read, web.Response):
            return read
        raw, activity = read
        try:
            identity = await self.auth.authenticate(
                request.headers.get("Authorization", ""),
                channel_id=str(raw.get("channelId") or ""),
                service_url=str(raw["serviceUrl"]),
            )
        except KeysUnavailable as exc:
            log.warning("Teams request deferred: %s", exc)
            return _problem(503, "cannot validate Bot Framework tokens right now", retry_after=5)
        except Unauthorized as exc:
            log.info("Teams request refused: %s", exc)
            return _problem(401, "unauthorized")
        channel = raw.get("channelId")
        if channel not in self.channels:
            log.info("Teams request refused: channelId %r is not served", channel)
            return _problem(403, "this bot serves Microsoft Teams only")
        if not self._tenant_allowed(raw):
            log.info("Teams request refused: tenant %r is not this bot's", ta.tenant_of(raw))
            return _problem(403, "this bot serves another tenant")
        if not self.service_urls.allows(str(raw["serviceUrl"])):
            log.warning("Teams request refused: serviceUrl host not allowed: %.200r", raw["serviceUrl"])
            return _problem(403, "serviceUrl is not a Bot Framework service")

        context = TurnContext(self, activity)
        context.turn_state[self.BOT_IDENTITY_KEY] = identity
        context.turn_state[self.BOT_CALLBACK_HANDLER_KEY] = self.bot.on_turn
        context.turn_state[RAW_KEY] = raw
        await self.run_pipeline(context, self.bot.on_turn)

        if activity.type == ActivityTypes.invoke:
            value = context.turn_state.get(INVOKE_KEY)
            if not isinstance(value, InvokeResponse):
                return web.json_response(invoke_error(501, "not implemented"), status=400)
            return web.json_response(value.body if value.body is not None else {}, status=value.status or 200)
        return web.Response(status=200)

    def _tenant_allowed(self, raw: dict[str, Any]) -> bool:
        """A single-tenant registration answers its own tenant only."""
        if (self.settings.microsoft_app_type or "").lower() != "singletenant":
            return True
        tenant = ta.tenant_of(raw)
        return bool(tenant) and tenant == self.settings.microsoft_app_tenant_id

    # -- BotAdapter: replies go through BotConnectorClient, never through the TurnContext ------

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        for activity in activities:
            if activity.type != ActivityTypes.invoke_response:
                raise NotImplementedError("Referent sends through BotConnectorClient, not the TurnContext")
        return [ResourceResponse() for _ in activities]

    async def update_activity(self, context: TurnContext, activity: Activity) -> None:
        raise NotImplementedError("Referent updates through BotConnectorClient")

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        raise NotImplementedError("Referent deletes through BotConnectorClient")


def _emulator_refusal(request: web.Request) -> str | None:
    """Why an unauthenticated request is refused: it came through a proxy (a forwarding header)
    or from beyond loopback. None: a local request, as the Emulator sends it."""
    for header in PROXY_HEADERS:
        if header in request.headers:
            return f"a {header} header says a proxy relayed it"
    if not is_loopback_host(request.remote):
        return f"the peer {request.remote!r} is not loopback"
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the parsed JSON nests deeper than `limit` (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


async def _read_activity(request: web.Request) -> tuple[dict[str, Any], Activity] | web.Response:
    """The request's activity (checked JSON and botbuilder's model of it), or the 4xx answer.
    Hostile JSON (nesting beyond any real activity, NaN, numbers beyond Python's digit limit,
    wrong types) is a 400, never a 500."""
    if "json" not in (request.content_type or ""):
        return _problem(415, "expected application/json")
    try:
        body = json.loads(await request.read(), parse_constant=_refuse_constant)
    except web.HTTPRequestEntityTooLarge:
        return _problem(413, "activity too large")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _problem(400, "body is not JSON")
    if _too_deep(body):
        return _problem(400, "activity nests too deeply")
    try:
        raw = ta.validate(body)
        ta.tenant_of(raw)
    except ta.ActivityError as exc:
        return _problem(400, str(exc))
    return raw, turn_activity(raw)


def turn_activity(raw: dict[str, Any]) -> Activity:
    """botbuilder's Activity for the TurnContext, with only what its routing reads.

    Every handler here reads the activity JSON itself (validated by `ta.validate`); botbuilder
    needs the type (ActivityHandler.on_turn routes on it), and the name, value, ids and channel
    data that TeamsActivityHandler's defaults look at. `Activity().deserialize(raw)` would map the
    whole payload through msrest: 590 µs of the ~1.3 ms of CPU a Teams message costs (measured),
    for fields nothing reads.
    """

    def account(key: str) -> ChannelAccount:
        value = raw.get(key)
        return ChannelAccount(id=value.get("id") if isinstance(value, dict) else None)

    conversation = raw.get("conversation")
    return Activity(
        type=raw.get("type"),
        id=raw.get("id"),
        name=raw.get("name"),
        value=raw.get("value"),
        channel_id=raw.get("channelId"),
        service_url=raw.get("serviceUrl"),
        channel_data=raw.get("channelData"),
        conversation=ConversationAccount(
            id=conversation.get("id") if isinstance(conversation, dict) else None
        ),
        from_property=account("from"),
        recipient=account("recipient"),
    )


def _problem(status: int, message: str, *, retry_after: int | None = None) -> web.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return web.json_response({"error": message}, status=status, headers=headers)


def token_provider(settings: Settings, token_url: str | None = None) -> TokenProvider:
    """The outbound token source for the configured app registration (none when unauthenticated)."""
    if not settings.teams_authenticated:
        return NoToken()
    app_type = (settings.microsoft_app_type or "MultiTenant").lower()
    if app_type == "userassignedmsi":
        return ManagedIdentityToken(settings.microsoft_app_id)
    url = token_url or token_url_for(app_type, settings.microsoft_app_tenant_id)
    return ClientCredentialsToken(settings.microsoft_app_id, settings.secret("microsoft_app_password"), url)


def service_url_policy(settings: Settings) -> ServiceUrlPolicy:
    """Where the bot may send: Microsoft's Teams hosts (+ REFERENT_TEAMS_SERVICE_URL_HOSTS), or in
    the emulator mode loopback only."""
    if settings.teams_authenticated:
        return ServiceUrlPolicy(settings.extra_service_url_hosts())
    return ServiceUrlPolicy(loopback_only=True)


def connector_client(settings: Settings) -> BotConnectorClient:
    """The one pooled Bot Connector client of this process, with the bot's token source."""
    token_url = settings.teams_token_url or None
    return BotConnectorClient(
        token_provider(settings, token_url),
        require_https=settings.teams_authenticated,
        service_urls=service_url_policy(settings),
    )


def register_messenger(runtime: Runtime, client: BotConnectorClient | None = None) -> TeamsMessenger:
    """Register Teams' outbound side with the runtime (also without the web server, for
    `referent remind`); the client's session is closed with the runtime."""
    client = client or connector_client(runtime.settings)
    runtime.on_close(client.close)
    messenger = TeamsMessenger(client, runtime.db, app_id=runtime.settings.microsoft_app_id)
    runtime.messengers.register("teams", messenger)
    return messenger


def mount(app: web.Application, runtime: Runtime) -> None:
    """Add POST /api/messages and register the Teams messenger; nothing at all when Teams is
    neither authenticated (MICROSOFT_APP_ID) nor explicitly in the emulator mode."""
    if not runtime.settings.teams_enabled:
        log.info("Teams is off: no MICROSOFT_APP_ID and REFERENT_TEAMS_EMULATOR is not set")
        return
    client = connector_client(runtime.settings)
    register_messenger(runtime, client)
    turns = TeamsTurns(runtime, client)
    adapter = ReferentAdapter(runtime.settings, ReferentTeamsBot(turns))
    app[ADAPTER_KEY] = adapter

    async def messages(request: web.Request) -> web.Response:
        return await adapter.handle(request)

    app.router.add_post(ROUTE, messages)
