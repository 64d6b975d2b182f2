"""Bot Framework token validation against OpenID metadata and a JWKS served on loopback: key
rotation, unavailable or hanging key endpoints (503, never 401, never a blocked loop), and the
claims rules for channel and Emulator tokens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.teams.auth import BotFrameworkAuth, KeysUnavailable, Unauthorized
from tests.e2e.teams_fixtures import APP_ID, KeyServer, SigningKey

SERVICE_URL = "https://smba.trafficmanager.net/emea/"
EMULATOR_ISSUER = "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0"


@pytest.fixture
async def keys() -> AsyncIterator[KeyServer]:
    server = KeyServer(SigningKey("key-1"))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def auth_for(server: KeyServer, **options: float) -> BotFrameworkAuth:
    return BotFrameworkAuth(
        APP_ID, channel_metadata_url=server.metadata_url, emulator_metadata_url=server.metadata_url, **options
    )


async def check(auth: BotFrameworkAuth, token: str, *, channel_id: str = "msteams") -> dict[str, object]:
    identity = await auth.authenticate(f"Bearer {token}", channel_id=channel_id, service_url=SERVICE_URL)
    assert identity.is_authenticated
    return dict(identity.claims)


async def test_a_valid_channel_token_is_accepted_and_keys_are_fetched_once(keys: KeyServer) -> None:
    auth = auth_for(keys)
    key = keys.keys[0]
    claims = await asyncio.gather(*(check(auth, key.token(SERVICE_URL)) for _ in range(20)))
    assert all(c["aud"] == APP_ID and c["serviceurl"] == SERVICE_URL for c in claims)
    assert keys.metadata_requests == 1 and keys.jwks_requests == 1


async def test_a_newly_rotated_key_is_accepted_after_a_refresh(keys: KeyServer) -> None:
    auth = auth_for(keys, unknown_key_cooldown=0.0)
    await check(auth, keys.keys[0].token(SERVICE_URL))
    rotated = SigningKey("key-2")
    keys.keys = [rotated]  # the channel publishes a new key and signs with it
    await check(auth, rotated.token(SERVICE_URL))
    assert keys.jwks_requests == 2
    # A key id that is still not published after the refresh is refused, not deferred.
    with pytest.raises(Unauthorized, match="not published"):
        await check(auth, rotated.token(SERVICE_URL, kid="key-3"))


async def test_unknown_key_ids_do_not_refetch_within_the_cooldown(keys: KeyServer) -> None:
    auth = auth_for(keys)  # the default cooldown (minutes)
    await check(auth, keys.keys[0].token(SERVICE_URL))
    for i in range(5):
        with pytest.raises(Unauthorized):
            await check(auth, keys.keys[0].token(SERVICE_URL, kid=f"junk-{i}"))
    assert keys.jwks_requests == 1


async def test_metadata_down_means_unavailable_not_unauthorized(keys: KeyServer) -> None:
    keys.down = True
    auth = auth_for(keys)
    with pytest.raises(KeysUnavailable):
        await check(auth, keys.keys[0].token(SERVICE_URL))
    # Right after a failure, requests are told at once instead of each fetching again.
    with pytest.raises(KeysUnavailable):
        await check(auth, keys.keys[0].token(SERVICE_URL))
    assert keys.metadata_requests == 1


async def test_nothing_listening_means_unavailable() -> None:
    auth = BotFrameworkAuth(APP_ID, channel_metadata_url="http://127.0.0.1:9/metadata", timeout=2.0)
    key = SigningKey("key-1")
    with pytest.raises(KeysUnavailable):
        await check(auth, key.token(SERVICE_URL))


async def test_a_hanging_fetch_times_out_and_never_blocks_the_loop(keys: KeyServer) -> None:
    keys.hang.clear()
    auth = auth_for(keys, timeout=0.5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    running = asyncio.ensure_future(ticker())
    started = time.monotonic()
    try:
        results = await asyncio.gather(
            *(check(auth, keys.keys[0].token(SERVICE_URL)) for _ in range(3)), return_exceptions=True
        )
    finally:
        running.cancel()
    elapsed = time.monotonic() - started
    assert all(isinstance(r, KeysUnavailable) for r in results)
    assert elapsed < 2.0  # one shared fetch, cut at its timeout
    assert ticks >= 10  # the loop kept running meanwhile
    assert keys.metadata_requests == 1


async def test_stale_keys_still_serve_when_a_refresh_fails(keys: KeyServer) -> None:
    auth = auth_for(keys)
    await check(auth, keys.keys[0].token(SERVICE_URL))
    auth.channel_keys.max_age = 0.0  # the keys are now due for their daily refresh
    keys.down = True
    await check(auth, keys.keys[0].token(SERVICE_URL))


async def test_channel_token_rules(keys: KeyServer) -> None:
    auth = auth_for(keys)
    key = keys.keys[0]
    refused = {
        "wrong audience": key.token(SERVICE_URL, audience="another-app"),
        "wrong serviceurl": key.token("https://elsewhere.example/"),
        "wrong issuer": key.token(SERVICE_URL, issuer="https://evil.example"),
        "expired": key.token(SERVICE_URL, exp=int(time.time()) - 3600),
        "not yet valid": key.token(SERVICE_URL, nbf=int(time.time()) + 3600),
        "forged": SigningKey("key-1").token(SERVICE_URL),
    }
    for token in refused.values():
        with pytest.raises(Unauthorized):
            await check(auth, token)
    # The key endorses msteams only: a token for another channel is refused.
    with pytest.raises(Unauthorized, match="endorse"):
        await check(auth, key.token(SERVICE_URL), channel_id="webchat")
    for header in ("", "Bearer", "Basic abc", "Bearer a b", "Bearer not-a-jwt"):
        with pytest.raises(Unauthorized):
            await auth.authenticate(header, channel_id="msteams", service_url=SERVICE_URL)
    assert keys.metadata_requests == 1  # only tokens that name a trusted issuer fetch keys


async def test_emulator_tokens_name_the_app_in_appid_or_azp(keys: KeyServer) -> None:
    auth = auth_for(keys)
    key = keys.keys[0]
    v1 = key.token(SERVICE_URL, issuer=EMULATOR_ISSUER, ver="1.0", appid=APP_ID, audience=APP_ID)
    v2 = key.token(SERVICE_URL, issuer=EMULATOR_ISSUER, ver="2.0", azp=APP_ID, audience=APP_ID)
    assert (await check(auth, v1))["appid"] == APP_ID
    assert (await check(auth, v2))["azp"] == APP_ID
    for token in (
        key.token(SERVICE_URL, issuer=EMULATOR_ISSUER, appid=APP_ID),  # no ver
        key.token(SERVICE_URL, issuer=EMULATOR_ISSUER, ver="1.0", appid="another-app"),
        key.token(SERVICE_URL, issuer=EMULATOR_ISSUER, ver="3.0", appid=APP_ID),
    ):
        with pytest.raises(Unauthorized):
            await check(auth, token)


async def test_without_an_app_id_every_request_is_anonymous() -> None:
    auth = BotFrameworkAuth("", channel_metadata_url="http://127.0.0.1:9/never-fetched")
    identity = await auth.authenticate("", channel_id="msteams", service_url=SERVICE_URL)
    assert identity.is_authenticated and identity.claims == {}
