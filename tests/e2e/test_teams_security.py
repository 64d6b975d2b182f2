"""/api/messages refuses what it must: bad tokens (401), malformed or oversized activities (4xx,
never 500), and an unauthenticated server beyond loopback. Real server, real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest

from bot.offline.fakes.bot_connector import FakeBotConnector
from bot.offline.fakes.teams_activities import TeamsScenario
from bot.teams.adapter import InsecureBindError, TeamsConfigError, check_bind_address
from storage.models import ConversationReference
from tests.e2e.server import RunningServer, start_server
from tests.e2e.teams_fixtures import (
    APP_ID,
    CHANNEL_ISSUER,
    KARI,
    TENANT,
    KeyServer,
    SigningKey,
    TeamsWorld,
    teams_settings,
)

pytestmark = pytest.mark.e2e


async def test_malformed_bodies_get_4xx_and_change_nothing(teams: TeamsWorld) -> None:
    good = teams.scenario.channel_message(KARI, "hjelp")
    cases: list[tuple[bytes, str]] = [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b'"message"', "application/json"),
        (json.dumps({"type": "message"}).encode(), "application/json"),
        (json.dumps({**good, "type": None}).encode(), "application/json"),
        (json.dumps({**good, "serviceUrl": "file:///etc/passwd"}).encode(), "application/json"),
        (json.dumps({**good, "conversation": "19:x"}).encode(), "application/json"),
        (json.dumps({**good, "from": {}}).encode(), "application/json"),
        (json.dumps({**good, "entities": {"type": "mention"}}).encode(), "application/json"),
        (json.dumps({**good, "text": 42}).encode(), "application/json"),
        (json.dumps({**good, "timestamp": "not a time"}).encode(), "application/json"),
        (
            json.dumps(
                {**good, "conversation": {**good["conversation"], "tenantId": "another-tenant"}}
            ).encode(),
            "application/json",
        ),
        (b"\xff\xfe\x00", "application/json"),
        (json.dumps(good).encode(), "text/plain"),
    ]
    for body, content_type in cases:
        answer = await teams.post_raw(body, content_type)
        assert 400 <= answer.status < 500, (body[:80], answer.status, answer.text)
    assert teams.connector.activities() == []
    assert await teams.count(ConversationReference) == 0


async def test_oversized_activity_gets_413(teams: TeamsWorld) -> None:
    activity = teams.scenario.channel_message(KARI, "runde " + "x" * 400_000)
    answer = await teams.post_raw(json.dumps(activity).encode())
    assert answer.status == 413
    assert teams.connector.activities() == []


async def test_get_is_not_allowed(teams: TeamsWorld) -> None:
    async with teams.session.get(teams.server.url + "/api/messages") as response:
        assert response.status == 405


def test_unauthenticated_teams_refuses_public_address(tmp_path: Path) -> None:
    settings = teams_settings(tmp_path)
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        check_bind_address(settings, host)
    for host in ("0.0.0.0", "", "::", "192.168.1.10", "referent.example.no"):
        with pytest.raises(InsecureBindError, match="MICROSOFT_APP_ID"):
            check_bind_address(settings, host)
    check_bind_address(
        teams_settings(tmp_path, MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="x"), "0.0.0.0"
    )


def test_incomplete_app_registration_is_refused_before_start(tmp_path: Path) -> None:
    with pytest.raises(TeamsConfigError, match="MICROSOFT_APP_PASSWORD"):
        check_bind_address(teams_settings(tmp_path, MICROSOFT_APP_ID=APP_ID), "127.0.0.1")
    single = teams_settings(
        tmp_path, MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="x", MICROSOFT_APP_TYPE="SingleTenant"
    )
    with pytest.raises(TeamsConfigError, match="MICROSOFT_APP_TENANT_ID"):
        check_bind_address(single, "127.0.0.1")
    odd = teams_settings(
        tmp_path, MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="x", MICROSOFT_APP_TYPE="Anything"
    )
    with pytest.raises(TeamsConfigError, match="MICROSOFT_APP_TYPE"):
        check_bind_address(odd, "127.0.0.1")


async def test_other_activity_types_are_accepted_quietly(teams: TeamsWorld) -> None:
    base = teams.scenario.channel_message(KARI, "hjelp")
    for kind in (
        "typing",
        "event",
        "messageReaction",
        "installationUpdate",
        "endOfConversation",
        "somethingNew",
    ):
        answer = await teams.post({**base, "type": kind, "id": f"x-{kind}"})
        assert answer.status == 200, kind
    assert teams.connector.activities() == []


# -- authenticated ---------------------------------------------------------------------------------


async def _authenticated_server(
    tmp_path: Path,
    bot_connector: FakeBotConnector,
    key_server: KeyServer,
    monkeypatch: pytest.MonkeyPatch,
    **overrides: str,
) -> RunningServer:
    monkeypatch.setenv("REFERENT_TEAMS_TOKEN_URL", bot_connector.token_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bot_connector.ca_file)
    settings = teams_settings(
        tmp_path,
        MICROSOFT_APP_ID=APP_ID,
        MICROSOFT_APP_PASSWORD="e2e-secret-value",
        REFERENT_TEAMS_OPENID_METADATA_URL=key_server.metadata_url,
        # The fake connector listens on 127.0.0.1: allowed like an operator's extra host.
        REFERENT_TEAMS_SERVICE_URL_HOSTS="127.0.0.1",
        **overrides,
    )
    return await start_server(settings)


async def _post(
    session: aiohttp.ClientSession, server: RunningServer, activity: dict[str, Any], token: str | None
) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with session.post(server.url + "/api/messages", json=activity, headers=headers) as resp:
        return resp.status


async def test_with_app_id_a_request_needs_a_valid_bot_framework_token(
    bot_connector: FakeBotConnector, key_server: KeyServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await _authenticated_server(tmp_path, bot_connector, key_server, monkeypatch)
    scenario = TeamsScenario(service_url=bot_connector.url, app_id=APP_ID, tenant_id=TENANT)
    key = key_server.keys[0]
    other_key = SigningKey(key.kid)  # same key id, another key: a forgery
    try:
        async with aiohttp.ClientSession() as session:
            refused = {
                "no token": None,
                "garbage": "not-a-jwt",
                "unsigned": jwt.encode({"iss": CHANNEL_ISSUER, "aud": APP_ID}, "", algorithm="none"),
                "wrong issuer": key.token(bot_connector.url, issuer="https://evil.example"),
                "wrong audience": key.token(bot_connector.url, audience="someone-else"),
                "wrong serviceUrl": key.token("https://elsewhere.example/"),
                "wrong key": other_key.token(bot_connector.url),
                "unknown key id": key.token(bot_connector.url, kid="never-published"),
                "expired": key.token(bot_connector.url, exp=int(time.time()) - 3600),
            }
            for label, token in refused.items():
                status = await _post(session, server, scenario.personal_message(KARI, "hjelp"), token)
                assert status == 401, label
            await server.runtime.drain()
            assert bot_connector.activities() == []

            accepted = scenario.personal_message(KARI, "hjelp")
            assert await _post(session, server, accepted, key.token(bot_connector.url)) == 200
            await server.runtime.drain()
    finally:
        await server.stop()
    replies = bot_connector.replies_to(accepted["id"])
    assert replies, "the authenticated request was answered"
    # The keys were fetched once (an unknown key id within the cooldown fetches nothing more).
    assert key_server.metadata_requests == 1 and key_server.jwks_requests == 1
    # Outbound calls carry the bot's own token from the (fake) Entra token endpoint, fetched once.
    assert all(r.authorization == "Bearer fake-bot-token-1" for r in replies)
    assert len(bot_connector.token_requests) == 1
    assert bot_connector.token_requests[0]["client_id"] == APP_ID
    assert bot_connector.token_requests[0]["scope"] == "https://api.botframework.com/.default"
    assert bot_connector.token_requests[0]["grant_type"] == "client_credentials"


async def test_signing_keys_unavailable_is_503_never_401(
    bot_connector: FakeBotConnector, key_server: KeyServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_server.down = True
    server = await _authenticated_server(tmp_path, bot_connector, key_server, monkeypatch)
    scenario = TeamsScenario(service_url=bot_connector.url, app_id=APP_ID, tenant_id=TENANT)
    token = key_server.keys[0].token(bot_connector.url)
    try:
        async with aiohttp.ClientSession() as session:
            activity = scenario.personal_message(KARI, "hjelp")
            headers = {"Authorization": f"Bearer {token}"}
            async with session.post(server.url + "/api/messages", json=activity, headers=headers) as resp:
                assert resp.status == 503
                assert resp.headers.get("Retry-After")
            # A token that fails on its own still gets 401, without waiting for keys.
            assert await _post(session, server, activity, "not-a-jwt") == 401
            await server.runtime.drain()
            assert bot_connector.activities() == []
    finally:
        await server.stop()


async def test_a_hanging_key_fetch_blocks_nothing_else(
    bot_connector: FakeBotConnector, key_server: KeyServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_server.hang.clear()
    server = await _authenticated_server(tmp_path, bot_connector, key_server, monkeypatch)
    scenario = TeamsScenario(service_url=bot_connector.url, app_id=APP_ID, tenant_id=TENANT)
    key = key_server.keys[0]
    try:
        async with aiohttp.ClientSession() as session:
            first = scenario.personal_message(KARI, "hjelp")
            second = scenario.personal_message(KARI, "hjelp")
            waiting = [
                asyncio.ensure_future(_post(session, server, a, key.token(bot_connector.url)))
                for a in (first, second)
            ]
            while key_server.metadata_requests == 0:
                await asyncio.sleep(0.01)
            # While the fetch hangs, the server answers other requests at once.
            started = time.monotonic()
            async with session.get(server.url + "/healthz") as resp:
                assert resp.status == 200
            assert await _post(session, server, scenario.personal_message(KARI, "x"), "not-a-jwt") == 401
            assert time.monotonic() - started < 2.0
            assert not any(w.done() for w in waiting)
            key_server.hang.set()
            assert await asyncio.gather(*waiting) == [200, 200]
            await server.runtime.drain()
    finally:
        await server.stop()
    assert key_server.metadata_requests == 1  # both requests waited for the one fetch
    assert bot_connector.replies_to(first["id"]) and bot_connector.replies_to(second["id"])
