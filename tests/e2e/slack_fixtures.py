"""Slack end-to-end fixtures: a fake Slack Web API on loopback and the real server against it.

`slack` is the one most tests want: the real Referent server (SQLite in tmp_path) configured with
SLACK_API_URL pointing at a `FakeSlackApi`, plus signed-request builders and a few helpers to
seed a group the way the secretariat would. Nothing of ours is mocked: requests go over HTTP,
signed as Slack signs them, and assertions look at what the bot sent to the fake API and at
what is stored.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.offline.fakes.slack_api import FakeSlackApi, FakeUser
from bot.offline.fakes.slack_requests import SignedRequest, SlackRequests
from storage.db import Database
from storage.models import (
    Base,
    Platform,
    Role,
)
from tests.e2e.seeding import RosterEntry, seed_group
from tests.e2e.server import RunningServer, start_server

SIGNING_SECRET = "e2e-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-e2e-test-token"
TEAM = "T0REFERENT"
OTHER_TEAM = "T0ANDRE"
CHANNEL = "C0FAGGRUPPE"
BOT_USER = "U0REFERENT"
PUBLIC_URL = "https://referent.example.no"

# Fictional people only.
KARI = FakeUser("U0KARI", "Kari Nordmann", "kari.nordmann@example.no", locale="nb-NO", team_id=TEAM)
OLA = FakeUser("U0OLA", "Ola Nordmann", "Ola.Nordmann@Example.no", locale="en-US", team_id=TEAM)
SIRI = FakeUser("U0SIRI", "Siri Sekretær", "siri.sekretaer@example.no", locale="nb-NO", team_id=TEAM)
PER = FakeUser("U0PER", "Per Olsen", "per.olsen@example.no", locale="nb-NO", team_id=TEAM)
ANNE = FakeUser("U0ANNE", "Anne Hansen", "anne.hansen@example.no", locale="nb-NO", team_id=TEAM)
STRANGER = FakeUser(
    "U0FREMMED", "Frida Fremmed", "frida@annen.example.no", locale="nb-NO", team_id=OTHER_TEAM
)
USERS = (KARI, OLA, SIRI, PER, ANNE, STRANGER)


@dataclass
class Answer:
    status: int
    text: str

    def json(self) -> dict[str, Any]:
        data = json.loads(self.text) if self.text else {}
        assert isinstance(data, dict), self.text
        return data


@dataclass
class Seeded:
    group_id: int
    meeting_id: int | None
    collection_ts: str | None
    members: dict[str, int] = field(default_factory=dict)  # Slack user id → member id


@dataclass
class SlackWorld:
    """The running server, the fake Slack API and the request builders, with test helpers."""

    api: FakeSlackApi
    server: RunningServer
    requests: SlackRequests
    session: aiohttp.ClientSession

    @property
    def db(self) -> Database:
        return self.server.runtime.db

    async def send(self, request: SignedRequest, *, path: str | None = None) -> Answer:
        url = self.server.url + (path or request.path)
        async with self.session.post(url, data=request.body, headers=request.headers) as response:
            return Answer(response.status, await response.text())

    async def post_raw(self, body: bytes, headers: dict[str, str]) -> Answer:
        async with self.session.post(
            self.server.url + "/slack/events", data=body, headers=headers
        ) as response:
            return Answer(response.status, await response.text())

    async def command(
        self, command: str, text: str = "", *, user: FakeUser, channel: str = CHANNEL, **kw: Any
    ) -> Answer:
        """A signed slash command; waits for the work it spawned, so assertions see it all."""
        answer = await self.send(
            self.requests.slash(command, text, user=user.id, channel=channel, user_name=user.name or "", **kw)
        )
        await self.settle()
        return answer

    async def settle(self) -> None:
        """Wait for everything the server spawned after answering (follow-ups, effects)."""
        await self.server.runtime.drain(timeout=10)

    async def count(self, model: type[Base], *where: Any) -> int:
        async with self.db.session() as session:
            return int(
                (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
            )

    async def rows(self, model: type[Base], *where: Any) -> list[Any]:
        async with self.db.session() as session:
            return list((await session.execute(select(model).where(*where))).scalars())

    async def seed(
        self,
        *,
        members: tuple[tuple[FakeUser, Role], ...] = ((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER)),
        meeting: bool = True,
        collection: bool = True,
        channel: str = CHANNEL,
        team: str = TEAM,
        starts_in: timedelta = timedelta(days=2),
    ) -> Seeded:
        """A group bound to `channel`, a roster, an open meeting and its collection message, made
        directly in storage (what `oppsett`, `roster import` and `mote ny` would leave behind)."""
        seeded = await seed_group(
            self.db,
            platform=Platform.SLACK,
            workspace_id=team,
            channel_id=channel,
            roster=[RosterEntry(user.id, user.real_name, user.email, role) for user, role in members],
            meeting=meeting,
            starts_in=starts_in,
            collection_ref=self.requests.next_ts() if collection else None,
        )
        return Seeded(seeded.group_id, seeded.meeting_id, seeded.collection_ref, seeded.members)


def slack_settings(api: FakeSlackApi, tmp_path: Path, **overrides: str) -> Settings:
    values = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'referent.db'}",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api.url,
        "REFERENT_PUBLIC_URL": PUBLIC_URL,
        "REFERENT_LINK_SECRET": "e2e-link-secret",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    """The fake Slack Web API, with the fictional users of these tests."""
    api = FakeSlackApi(token=BOT_TOKEN, team_id=TEAM, bot_user_id=BOT_USER, users=USERS)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


@pytest.fixture
async def slack(slack_api: FakeSlackApi, tmp_path: Path) -> AsyncIterator[SlackWorld]:
    """The real server on loopback (SQLite in tmp_path) talking to the fake Slack API."""
    server = await start_server(slack_settings(slack_api, tmp_path))
    # The app migrates an empty SQLite database on start-up; wait for that to have happened.
    requests = SlackRequests(
        signing_secret=SIGNING_SECRET,
        team_id=TEAM,
        bot_user_id=BOT_USER,
        response_url_base=slack_api.base + "/response",
    )
    session = aiohttp.ClientSession()
    try:
        yield SlackWorld(api=slack_api, server=server, requests=requests, session=session)
    finally:
        await session.close()
        await server.stop()
