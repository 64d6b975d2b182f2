"""The pooled Bot Connector client against the fake connector: keep-alive reuse, id encoding,
429 Retry-After, bounded retries, cached tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.offline.fakes.bot_connector import FakeBotConnector
from bot.offline.fakes.teams_activities import fictional_user
from bot.retry_after import retry_after_from_headers, retry_after_seconds
from bot.teams.connector import BotConnectorClient, ClientCredentialsToken
from handlers.ports import DeliveryError

KARI = fictional_user("Kari", "Nordmann", "example.no")
THREAD = "19:3a7c5e9b1d2f@thread.tacv2;messageid=1768900000000"


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    fake = FakeBotConnector([KARI])
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


async def test_many_sends_share_a_few_kept_alive_connections(connector: FakeBotConnector) -> None:
    """A burst of 50 overlapping sends goes over at most the pool's per-host limit of connections
    (not one each), and 50 sends after it reuse those and open none."""
    connector.response_delay = 0.02  # the 50 sends really overlap: unpooled, they would need 50
    client = BotConnectorClient(connections_per_host=4)
    try:
        ids = await asyncio.gather(
            *(
                client.send_to_conversation(connector.url, THREAD, {"type": "message", "text": str(i)})
                for i in range(50)
            )
        )
        after_burst = set(connector.client_ports)
        for i in range(50):
            await client.reply_to_activity(
                connector.url, THREAD, "1768900000000", {"type": "message", "text": f"r{i}"}
            )
    finally:
        await client.close()
    assert len(set(ids)) == 50
    assert len(connector.activities()) == 100
    assert 1 <= len(after_burst) <= client.connections_per_host == 4
    assert connector.client_ports == after_burst  # the sequential sends opened no new connection
    assert all(a.conversation_id == THREAD for a in connector.activities())  # `;` and `@` survive
    assert connector.activities()[-1].reply_to_id == "1768900000000"


async def test_sequential_sends_reuse_one_connection(connector: FakeBotConnector) -> None:
    client = BotConnectorClient()
    try:
        for i in range(20):
            await client.send_to_conversation(connector.url, "a:1chat", {"type": "message", "text": str(i)})
    finally:
        await client.close()
    assert len(connector.client_ports) == 1


async def test_429_is_retried_after_retry_after(connector: FakeBotConnector) -> None:
    client = BotConnectorClient(max_retries=3)
    connector.throttle(2, retry_after=0.05)
    try:
        new_id = await client.send_to_conversation(connector.url, "a:1chat", {"type": "message", "text": "x"})
    finally:
        await client.close()
    assert new_id
    assert connector.throttled == 2
    assert client.stats.throttled == 2 and client.stats.retries == 2


async def test_persistent_429_raises_delivery_error_with_retry_after(connector: FakeBotConnector) -> None:
    client = BotConnectorClient(max_retries=2)
    connector.throttle(10, retry_after=0.01)
    try:
        with pytest.raises(DeliveryError) as caught:
            await client.send_to_conversation(connector.url, "a:1chat", {"type": "message", "text": "x"})
    finally:
        await client.close()
    assert caught.value.retry_after == pytest.approx(0.01)
    assert not caught.value.permanent
    assert connector.throttled == 3


async def test_long_retry_after_is_not_slept_through(connector: FakeBotConnector) -> None:
    client = BotConnectorClient(max_retry_wait=1.0)
    connector.throttle(1, retry_after=120)
    try:
        with pytest.raises(DeliveryError) as caught:
            await client.send_to_conversation(connector.url, "a:1chat", {"type": "message", "text": "x"})
    finally:
        await client.close()
    assert caught.value.retry_after == 120


async def test_client_errors_are_permanent_and_members_can_be_missing(connector: FakeBotConnector) -> None:
    client = BotConnectorClient()
    try:
        with pytest.raises(DeliveryError) as caught:
            await client.send_to_conversation(connector.url, "a:1chat", {"type": "nonsense"})
        assert caught.value.permanent
        assert await client.get_member(connector.url, "19:team", "29:unknown") is None
        member = await client.get_member(connector.url, "19:team", KARI.id)
        assert member is not None and member["email"] == KARI.email
        assert (await client.get_paged_members(connector.url, "19:team", page_size=1))[0]["id"] == KARI.id
        with pytest.raises(DeliveryError):
            await client.send_to_conversation("ftp://x", "a", {"type": "message"})
    finally:
        await client.close()


async def test_bot_token_is_fetched_once_and_sent(
    connector: FakeBotConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", connector.ca_file)  # msal trusts the fake's certificate
    tokens = ClientCredentialsToken("app-id", "secret", connector.token_url)
    client = BotConnectorClient(tokens, require_https=True)
    try:
        await asyncio.gather(
            *(
                client.send_to_conversation(connector.url, "a:1chat", {"type": "message", "text": "x"})
                for _ in range(10)
            )
        )
        with pytest.raises(DeliveryError, match="plain HTTP"):
            await client.send_to_conversation("http://bot.example.no/", "a:1chat", {"type": "message"})
    finally:
        await client.close()
    assert tokens.fetches == 1
    assert {a.authorization for a in connector.activities()} == {"Bearer fake-bot-token-1"}


def test_retry_after_parses_seconds_and_dates() -> None:
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("0.5") == 0.5
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_from_headers({"retry-after": ["3"]}) == 3.0
    assert retry_after_from_headers({"Content-Type": "x"}) is None


async def test_a_rejected_token_is_forgotten_in_msal_too(
    connector: FakeBotConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", connector.ca_file)
    tokens = ClientCredentialsToken("app-id", "secret", connector.token_url)
    async with aiohttp.ClientSession() as session:
        assert await tokens.token(session) == "fake-bot-token-1"
        assert await tokens.token(session) == "fake-bot-token-1"  # kept, no new request
        tokens.invalidate()
        assert await tokens.token(session) == "fake-bot-token-2"
    assert len(connector.token_requests) == 2
    assert connector.token_requests[0]["grant_type"] == "client_credentials"


async def test_an_unreachable_token_endpoint_is_a_delivery_error() -> None:
    tokens = ClientCredentialsToken("app-id", "secret", "https://127.0.0.1:9/botframework.com/oauth2/v2.0/token")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(DeliveryError) as caught:
            await tokens.token(session)
    assert caught.value.retry_after == 30.0 and not caught.value.permanent


async def test_an_unreachable_connector_is_retried_then_given_up() -> None:
    client = BotConnectorClient(max_retries=2, max_retry_wait=0.05)
    try:
        with pytest.raises(DeliveryError) as caught:
            await client.send_to_conversation("http://127.0.0.1:9/", "a:1chat", {"type": "message"})
    finally:
        await client.close()
    assert caught.value.retry_after == 5.0 and not caught.value.permanent
    assert client.stats.requests == 3 and client.stats.retries == 2 and client.stats.failures == 1
