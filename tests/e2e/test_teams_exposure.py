"""Safe to expose: /api/messages exists only when Teams is authenticated or explicitly in the
emulator mode; the emulator mode takes local, unproxied requests only; the bot's token goes to
Microsoft's serviceUrl hosts only; channel, tenant and hostile JSON are refused with 4xx.
Real server on loopback, real HTTP, activities shaped as Teams sends them."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import create_app
from bot.cli import main as cli_main
from bot.offline.fakes.bot_connector import FakeBotConnector
from bot.offline.fakes.teams_activities import TeamsScenario
from bot.teams.adapter import check_bind_address
from bot.teams.connector import BotConnectorClient, ServiceUrlPolicy
from handlers.ports import DeliveryError
from storage.models import ConversationReference
from tests.e2e.server import RunningServer, free_port, start_server
from tests.e2e.teams_fixtures import (
    APP_ID,
    KARI,
    OTHER_TENANT,
    TENANT,
    KeyServer,
    SigningKey,
    TeamsWorld,
    teams_settings,
)

pytestmark = pytest.mark.e2e


class Recorder:
    """A loopback HTTP server that answers everything 200 and records every request: where an
    attacker's serviceUrl would point. It must receive nothing."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        self.host = host
        self.requests: list[str] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _any(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.method} {request.path_qs}")
        return web.json_response({"id": "x", "email": "siri.sekretaer@example.no"})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, self.host, port).start()
        self.url = f"http://{self.host}:{port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    server = Recorder()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _status(
    session: aiohttp.ClientSession,
    url: str,
    activity: Any,
    token: str | None = None,
    **headers: str,
) -> int:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with session.post(url + "/api/messages", json=activity, headers=headers) as resp:
        return resp.status


# -- 1. unauthenticated Teams is an explicit opt-in -------------------------------------------------


async def test_without_app_id_and_without_opt_in_api_messages_is_not_mounted(tmp_path: Path) -> None:
    settings = teams_settings(tmp_path, REFERENT_TEAMS_EMULATOR="0")
    check_bind_address(settings, "0.0.0.0")  # no Teams to protect: nothing to refuse
    server = await start_server(settings)
    scenario = TeamsScenario(service_url="http://127.0.0.1:9/", app_id=APP_ID, tenant_id=TENANT)
    try:
        async with aiohttp.ClientSession() as session:
            assert await _status(session, server.url, scenario.personal_message(KARI, "hjelp")) == 404
            async with session.get(server.url + "/healthz") as resp:
                health = await resp.json()
    finally:
        await server.stop()
    assert health["teams"] is False
    assert server.runtime.messengers.for_platform("teams") is None


async def test_emulator_mode_is_on_healthz(teams: TeamsWorld) -> None:
    async with teams.session.get(teams.server.url + "/healthz") as resp:
        assert (await resp.json())["teams"] is True


@pytest.mark.parametrize(
    "header",
    [
        ("X-Forwarded-For", "203.0.113.9"),
        ("Forwarded", "for=203.0.113.9;proto=https"),
        ("X-Real-IP", "203.0.113.9"),
    ],
)
async def test_emulator_mode_refuses_a_proxied_request(
    teams: TeamsWorld, header: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A reverse proxy on the same host relays from 127.0.0.1; its forwarding header gives it away."""
    activity = teams.scenario.personal_message(KARI, "hjelp")
    with caplog.at_level(logging.INFO, logger="bot.teams.adapter"):
        answer = await teams.post(activity, headers=dict([header]))
    assert answer.status == 403
    assert teams.connector.activities() == [] and teams.connector.member_lookups == []
    assert await teams.count(ConversationReference) == 0
    why = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(why) == 1 and header[0] in why[0]


def _local_non_loopback_address() -> str | None:
    """An address of this machine that is not loopback (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


async def test_emulator_mode_refuses_a_non_loopback_peer(
    bot_connector: FakeBotConnector, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    address = _local_non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    app = create_app(teams_settings(tmp_path))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "0.0.0.0", port).start()  # what `serve` refuses; here on purpose
    scenario = TeamsScenario(service_url=bot_connector.url, app_id=APP_ID, tenant_id=TENANT)
    try:
        async with aiohttp.ClientSession() as session:
            with caplog.at_level(logging.INFO, logger="bot.teams.adapter"):
                status = await _status(
                    session, f"http://{address}:{port}", scenario.personal_message(KARI, "hjelp")
                )
            # The same request from loopback is served.
            ok = await _status(
                session, f"http://127.0.0.1:{port}", scenario.personal_message(KARI, "hjelp")
            )
    finally:
        await runner.cleanup()
    assert status == 403 and ok == 200
    assert any("not loopback" in r.getMessage() for r in caplog.records)


def test_serve_teams_emulator_refuses_a_public_bind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("MICROSOFT_APP_ID", "REFERENT_TEAMS_EMULATOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert cli_main(["serve", "--teams-emulator", "--host", "0.0.0.0", "--no-scheduler"]) == 2
    assert "REFERENT_TEAMS_EMULATOR" in capsys.readouterr().err


# -- 2. serviceUrl allow-list --------------------------------------------------------------------


async def test_emulator_mode_refuses_a_non_loopback_service_url(teams: TeamsWorld) -> None:
    for url in ("http://203.0.113.7/", "https://smba.trafficmanager.net/emea/", "http://user@127.0.0.1:1/"):
        activity = {**teams.scenario.personal_message(KARI, "hjelp"), "serviceUrl": url}
        answer = await teams.post(activity)
        assert answer.status == 403, url
    assert await teams.count(ConversationReference) == 0


async def _authenticated(
    tmp_path: Path,
    bot_connector: FakeBotConnector,
    key_server: KeyServer,
    monkeypatch: pytest.MonkeyPatch,
    **overrides: str,
) -> RunningServer:
    monkeypatch.setenv("REFERENT_TEAMS_TOKEN_URL", bot_connector.token_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bot_connector.ca_file)
    values = {
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": "e2e-secret-value",
        "REFERENT_TEAMS_EMULATOR": "0",
        "REFERENT_TEAMS_OPENID_METADATA_URL": key_server.metadata_url,
        "REFERENT_TEAMS_SERVICE_URL_HOSTS": "127.0.0.1",  # the fake connector, as an operator's extra host
        **overrides,
    }
    return await start_server(teams_settings(tmp_path, **values))


async def test_a_validly_signed_activity_for_another_service_url_calls_nothing(
    bot_connector: FakeBotConnector,
    key_server: KeyServer,
    recorder: Recorder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Even with a token whose serviceurl claim names it, a host off the list gets no call: no
    member look-up, no reply, no token."""
    server = await _authenticated(tmp_path, bot_connector, key_server, monkeypatch)
    scenario = TeamsScenario(service_url=recorder.url, app_id=APP_ID, tenant_id=TENANT)
    key = key_server.keys[0]
    try:
        async with aiohttp.ClientSession() as session:
            for activity in (
                scenario.personal_message(KARI, "hjelp"),
                scenario.channel_message(KARI, "oppsett Faggruppe"),
                scenario.bot_added_to_team(KARI),
            ):
                assert await _status(session, server.url, activity, key.token(recorder.url)) == 403
            await server.runtime.drain()
            # The allowed host is served as before.
            allowed = TeamsScenario(service_url=bot_connector.url, app_id=APP_ID, tenant_id=TENANT)
            ok = allowed.personal_message(KARI, "hjelp")
            assert await _status(session, server.url, ok, key.token(bot_connector.url)) == 200
            await server.runtime.drain()
    finally:
        await server.stop()
    assert recorder.requests == []
    assert bot_connector.replies_to(ok["id"])


async def test_the_connector_client_refuses_every_call_off_the_list(recorder: Recorder) -> None:
    """Defence in depth: a stored reference with a bad serviceUrl cannot make the client call it."""
    client = BotConnectorClient(service_urls=ServiceUrlPolicy(frozenset({"127.0.0.1"})))
    try:
        calls = (
            lambda: client.send_to_conversation(recorder.url, "a:1", {"type": "message", "text": "x"}),
            lambda: client.reply_to_activity(recorder.url, "a:1", "1", {"type": "message"}),
            lambda: client.get_paged_members(recorder.url, "a:1"),
            lambda: client.create_conversation(recorder.url, {"members": [{"id": "29:x"}]}),
            lambda: client.update_activity(recorder.url, "a:1", "1", {"type": "message"}),
            lambda: client.delete_activity(recorder.url, "a:1", "1"),
        )
        for call in calls:
            with pytest.raises(DeliveryError, match="not allowed"):
                await call()
        assert await client.get_member(recorder.url, "a:1", "29:x") is None  # "not found", no call
    finally:
        await client.close()
    assert recorder.requests == []
    loopback_only = ServiceUrlPolicy(loopback_only=True)
    assert loopback_only.allows("http://127.0.0.1:3978/") and not loopback_only.allows("https://smba.trafficmanager.net/emea/")
    teams_only = ServiceUrlPolicy()
    assert teams_only.allows("https://smba.trafficmanager.net/emea/")
    assert teams_only.allows("https://smba.infra.gcc.teams.microsoft.com/teams/")
    for bad in (
        "http://smba.trafficmanager.net/emea/",  # the token never goes in clear text
        "https://smba.trafficmanager.net.evil.example/",
        "https://evil.example/smba.trafficmanager.net/",
        "https://x@evil.example/",
        "https://127.0.0.1/",
    ):
        assert not teams_only.allows(bad), bad


# -- 4. channel, tenant, hostile JSON ------------------------------------------------------------


@pytest.fixture
async def open_key_server() -> AsyncIterator[KeyServer]:
    """A key that endorses no particular channel (the Bot Framework publishes such keys too), so
    only Referent's own channel check stands between another channel and the bot."""
    server = KeyServer(SigningKey("open-key", endorsements=()))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_authenticated_mode_serves_msteams_only(
    bot_connector: FakeBotConnector,
    open_key_server: KeyServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = await _authenticated(tmp_path, bot_connector, open_key_server, monkeypatch)
    scenario = TeamsScenario(service_url=bot_connector.url, app_id=APP_ID, tenant_id=TENANT)
    token = open_key_server.keys[0].token(bot_connector.url)
    try:
        async with aiohttp.ClientSession() as session:
            for channel in ("emulator", "webchat", "slack", "", None):
                activity = {**scenario.personal_message(KARI, "hjelp"), "channelId": channel}
                assert await _status(session, server.url, activity, token) == 403, channel
            await server.runtime.drain()
            assert bot_connector.activities() == [] and bot_connector.member_lookups == []
            ok = scenario.personal_message(KARI, "hjelp")
            assert await _status(session, server.url, ok, token) == 200
            await server.runtime.drain()
    finally:
        await server.stop()
    assert bot_connector.replies_to(ok["id"])


async def test_emulator_mode_takes_the_emulator_channel_but_no_other(teams: TeamsWorld) -> None:
    emulator = {**teams.scenario.personal_message(KARI, "hjelp"), "channelId": "emulator"}
    assert (await teams.post(emulator)).status == 200
    other = {**teams.scenario.personal_message(KARI, "hjelp"), "channelId": "slack"}
    assert (await teams.post(other)).status == 403


def _without_tenant(activity: dict[str, Any]) -> dict[str, Any]:
    activity = json.loads(json.dumps(activity))
    (activity.get("channelData") or {}).pop("tenant", None)
    activity["conversation"].pop("tenantId", None)
    return activity


async def test_a_single_tenant_bot_refuses_no_tenant_and_other_tenants(
    bot_connector: FakeBotConnector, key_server: KeyServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await _authenticated(
        tmp_path,
        bot_connector,
        key_server,
        monkeypatch,
        MICROSOFT_APP_TYPE="SingleTenant",
        MICROSOFT_APP_TENANT_ID=TENANT,
    )
    ours = TeamsScenario(service_url=bot_connector.url, app_id=APP_ID, tenant_id=TENANT)
    theirs = TeamsScenario(service_url=bot_connector.url, app_id=APP_ID, tenant_id=OTHER_TENANT)
    token = key_server.keys[0].token(bot_connector.url)
    try:
        async with aiohttp.ClientSession() as session:
            no_tenant = _without_tenant(ours.personal_message(KARI, "hjelp"))
            assert await _status(session, server.url, no_tenant, token) == 403
            assert await _status(session, server.url, theirs.personal_message(KARI, "hjelp"), token) == 403
            await server.runtime.drain()
            assert bot_connector.activities() == []
            ok = ours.personal_message(KARI, "hjelp")
            assert await _status(session, server.url, ok, token) == 200
            await server.runtime.drain()
    finally:
        await server.stop()
    assert bot_connector.replies_to(ok["id"])


async def test_hostile_json_gets_400_never_500(teams: TeamsWorld) -> None:
    good = teams.scenario.personal_message(KARI, "hjelp")
    deep = "[" * 10_000 + "]" * 10_000
    deep_object = '{"a":' * 10_000 + "1" + "}" * 10_000
    as_text = json.dumps(good)
    bodies: dict[str, bytes] = {
        "deep array": deep.encode(),
        "deep object": deep_object.encode(),
        "deep in channelData": as_text.replace(
            '"channelData": {', f'"channelData": {{"x": {deep}, ', 1
        ).encode(),
        "deep in value": as_text[:-1].encode() + b', "value": ' + deep_object.encode() + b"}",
        "huge integer": as_text[:-1].encode() + b', "x": ' + b"9" * 100_000 + b"}",
        "huge exponent": as_text[:-1].encode() + b', "text": 1e999999}',
        "NaN": as_text[:-1].encode() + b', "x": NaN}',
        "Infinity": as_text[:-1].encode() + b', "x": -Infinity}',
        "null": b"null",
        "number": b"42",
        "string": b'"hjelp"',
        "true": b"true",
        "channelId object": json.dumps({**good, "channelId": {"id": "msteams"}}).encode(),
        "channelData list": json.dumps({**good, "channelData": []}).encode(),
        "from string": json.dumps({**good, "from": "29:x"}).encode(),
        "conversation id number": json.dumps({**good, "conversation": {"id": 5}}).encode(),
        "recipient list": json.dumps({**good, "recipient": []}).encode(),
        "id object": json.dumps({**good, "id": {"x": 1}}).encode(),
    }
    assert bodies["deep in channelData"] != as_text.encode()  # the replacement found its place
    for label, body in bodies.items():
        answer = await teams.post_raw(body)
        assert answer.status == 400, (label, answer.status, answer.text[:200])
    # Odd but harmless shapes are read safely (200), never a crash.
    odd = {
        **good,
        "entities": [{"type": "mention", "mentioned": "x", "text": 5}, 7, None],
        "locale": 5,
        "value": [],
        "replyToId": {},
    }
    assert (await teams.post(odd)).status in (200, 400)
    async with teams.session.get(teams.server.url + "/healthz") as resp:
        assert resp.status == 200
