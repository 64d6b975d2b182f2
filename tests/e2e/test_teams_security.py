"""/api/messages refuses what it must: bad tokens (401), malformed or oversized activities (4xx,
never 500), and an unauthenticated server beyond loopback. Real server, real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.offline.fakes.bot_connector import FakeBotConnector
from bot.offline.fakes.teams_activities import TeamsScenario
from bot.teams.adapter import InsecureBindError, TeamsConfigError, check_bind_address, preload_signing_keys
from storage.models import ConversationReference
from tests.e2e.server import start_server
from tests.e2e.teams_fixtures import APP_ID, KARI, TENANT, TeamsWorld, teams_settings

pytestmark = pytest.mark.e2e

CHANNEL_ISSUER = "https://api.botframework.com"


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


@pytest.fixture
def signing_key() -> Iterator[rsa.RSAPrivateKey]:
    """A Bot Framework signing key of our own, preloaded as the channel's published keys (so no
    network is needed), and forgotten afterwards."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "referent-test-key", "use": "sig", "endorsements": ["msteams"]})
    previous = preload_signing_keys([jwk])
    try:
        yield key
    finally:
        preload_signing_keys(previous)


def channel_token(
    key: rsa.RSAPrivateKey, service_url: str, *, audience: str = APP_ID, issuer: str = CHANNEL_ISSUER
) -> str:
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "serviceurl": service_url, "nbf": now - 10, "exp": now + 600}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "referent-test-key"})


async def test_with_app_id_a_request_needs_a_valid_bot_framework_token(
    bot_connector: FakeBotConnector,
    tmp_path: Path,
    signing_key: rsa.RSAPrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REFERENT_TEAMS_TOKEN_URL", bot_connector.token_url)
    settings = teams_settings(tmp_path, MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="e2e-secret-value")
    server = await start_server(settings)
    scenario = TeamsScenario(service_url=bot_connector.url, app_id=APP_ID, tenant_id=TENANT)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    try:
        async with aiohttp.ClientSession() as session:

            async def post(activity: dict[str, Any], token: str | None) -> int:
                headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
                async with session.post(server.url + "/api/messages", json=activity, headers=headers) as resp:
                    return resp.status

            refused = {
                "no token": None,
                "garbage": "not-a-jwt",
                "unsigned": jwt.encode({"iss": CHANNEL_ISSUER, "aud": APP_ID}, "", algorithm="none"),
                "wrong issuer": channel_token(signing_key, bot_connector.url, issuer="https://evil.example"),
                "wrong audience": channel_token(signing_key, bot_connector.url, audience="someone-else"),
                "wrong serviceUrl": channel_token(signing_key, "https://elsewhere.example/"),
                "wrong key": channel_token(other_key, bot_connector.url),
            }
            for label, token in refused.items():
                status = await post(scenario.personal_message(KARI, "hjelp"), token)
                assert status == 401, label
            await server.runtime.drain()
            assert bot_connector.activities() == []

            accepted = scenario.personal_message(KARI, "hjelp")
            assert await post(accepted, channel_token(signing_key, bot_connector.url)) == 200
            await server.runtime.drain()
    finally:
        await server.stop()
    replies = bot_connector.replies_to(accepted["id"])
    assert replies, "the authenticated request was answered"
    # Outbound calls carry the bot's own token from the (fake) Entra token endpoint, fetched once.
    assert all(r.authorization == "Bearer fake-bot-token-1" for r in replies)
    assert len(bot_connector.token_requests) == 1
    assert bot_connector.token_requests[0]["client_id"] == APP_ID
    assert bot_connector.token_requests[0]["scope"] == "https://api.botframework.com/.default"
