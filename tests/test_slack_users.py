"""The Slack user directory's cache (cachetools): known users kept for the TTL, unknown ones for
a shorter while, the least recently used dropped when full, concurrent lookups merged."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack.messenger import UserDirectory


class _Client:
    """Only users.info, counting calls; users whose id starts with `UX` do not exist."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def users_info(self, *, user: str, include_locale: bool) -> dict[str, Any]:
        self.calls.append(user)
        await asyncio.sleep(0.01)
        if user.startswith("UX"):
            raise SlackApiError("nope", {"ok": False, "error": "user_not_found"})  # type: ignore[arg-type]
        return {"user": {"id": user, "real_name": f"Navn {user}", "locale": "nb-NO"}}


def _directory(client: _Client, **kwargs: Any) -> UserDirectory:
    fake: Any = client  # stands in for AsyncWebClient: only users.info is called
    return UserDirectory(fake, **kwargs)


async def test_lookups_are_cached_and_merged() -> None:
    client = _Client()
    users = _directory(client)
    first, second = await asyncio.gather(users.get("U1"), users.get("U1"))
    assert first is not None and first == second and first.name == "Navn U1"
    assert await users.get("U1") == first
    assert users.cached("U1") == first
    assert client.calls == ["U1"]


async def test_unknown_users_are_remembered_for_a_shorter_while() -> None:
    client = _Client()
    users = _directory(client, ttl_seconds=3600.0)
    assert await users.get("UX1") is None
    assert await users.get("UX1") is None
    assert client.calls == ["UX1"]
    users._remember("UX2", None, ttl=0.0)  # an entry whose time is up is gone at once
    assert "UX2" not in users._cache


async def test_expired_and_least_recently_used_entries_go() -> None:
    client = _Client()
    users = _directory(client, ttl_seconds=0.05, max_size=2)
    await users.get("U1")
    await asyncio.sleep(0.06)
    assert users.cached("U1") is None
    await users.get("U1")
    assert client.calls == ["U1", "U1"]
    users2 = _directory(client, max_size=2)
    for uid in ("U2", "U3"):
        await users2.get(uid)
    await users2.get("U2")  # U3 is now the least recently used
    await users2.get("U4")
    assert users2.cached("U2") is not None and users2.cached("U4") is not None
    assert users2.cached("U3") is None
