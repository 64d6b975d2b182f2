"""Teams end-to-end fixtures: a fake Bot Connector on loopback and the real server against it.

`teams` is the one most tests want: the real Referent server (SQLite in tmp_path), unauthenticated
as the Bot Framework Emulator runs it, with activities shaped like Teams sends them and whose
`serviceUrl` is a `FakeBotConnector`. Nothing of ours is mocked: activities go over HTTP to
/api/messages, and assertions look at what the bot sent to the connector and at what is stored.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import func, select

from bot.config import Settings
from bot.offline.fakes.bot_connector import FakeBotConnector, FakeTeamsUser, RecordedActivity
from bot.offline.fakes.teams_activities import TeamsScenario, fictional_user, new_message_id
from storage.db import Database
from storage.models import (
    Base,
    Platform,
    Role,
)
from tests.e2e.seeding import RosterEntry, seed_group
from tests.e2e.server import RunningServer, start_server

APP_ID = "6f1c3b52-8d2e-4a7f-9b0c-1d2e3f4a5b6c"
TENANT = "0c9e7a51-3b2d-4f68-8a1e-5d4c3b2a1f00"
OTHER_TENANT = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
PUBLIC_URL = "https://referent.example.no"
CHANNEL_ISSUER = "https://api.botframework.com"

# Fictional people only.
KARI = fictional_user("Kari", "Nordmann", "example.no")
OLA = fictional_user("Ola", "Nordmann", "example.no")
SIRI = fictional_user("Siri", "Sekretær", "example.no")
PER = fictional_user("Per", "Olsen", "example.no")
STRANGER = fictional_user("Frida", "Fremmed", "annen.example.no")
TEAMS_USERS = (KARI, OLA, SIRI, PER, STRANGER)


@dataclass
class Answer:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


@dataclass
class SeededTeams:
    group_id: int
    meeting_id: int | None
    collection_id: str | None
    members: dict[str, int] = field(default_factory=dict)  # Teams user id → member id


@dataclass
class TeamsWorld:
    """The running server, the fake connector and the activity builders, with test helpers."""

    connector: FakeBotConnector
    server: RunningServer
    scenario: TeamsScenario
    session: aiohttp.ClientSession

    @property
    def db(self) -> Database:
        return self.server.runtime.db

    async def post(self, activity: dict[str, Any], *, headers: dict[str, str] | None = None) -> Answer:
        """POST an activity to /api/messages; waits for the work it spawned."""
        async with self.session.post(
            self.server.url + "/api/messages", json=activity, headers=headers or {}
        ) as response:
            answer = Answer(response.status, await response.text())
        await self.settle()
        return answer

    async def post_raw(self, body: bytes, content_type: str = "application/json", **headers: str) -> Answer:
        async with self.session.post(
            self.server.url + "/api/messages", data=body, headers={"Content-Type": content_type, **headers}
        ) as response:
            return Answer(response.status, await response.text())

    async def settle(self) -> None:
        await self.server.runtime.drain(timeout=10)

    def replies_to(self, activity: dict[str, Any]) -> list[RecordedActivity]:
        return self.connector.replies_to(str(activity["id"]))

    def reply_text(self, activity: dict[str, Any]) -> str:
        """All text the bot answered this activity with."""
        return "\n".join(r.text for r in self.replies_to(activity))

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
        members: tuple[tuple[FakeTeamsUser, Role], ...] = ((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER)),
        meeting: bool = True,
        collection: bool = True,
        starts_in: timedelta = timedelta(days=2),
    ) -> SeededTeams:
        """A group bound to the scenario's channel, a roster, an open meeting and its collection
        message, made in storage (what `oppsett`, `roster import` and `mote ny` leave behind)."""
        seeded = await seed_group(
            self.db,
            platform=Platform.TEAMS,
            workspace_id=self.scenario.tenant_id,
            channel_id=self.scenario.channel_id,
            roster=[RosterEntry(user.id, user.name, user.email, role) for user, role in members],
            meeting=meeting,
            starts_in=starts_in,
            collection_ref=new_message_id() if collection else None,
        )
        return SeededTeams(seeded.group_id, seeded.meeting_id, seeded.collection_ref, seeded.members)


def teams_settings(tmp_path: Path, **overrides: str) -> Settings:
    values = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'referent.db'}",
        "MICROSOFT_APP_ID": "",
        "REFERENT_TEAMS_EMULATOR": "1",  # unauthenticated Teams, as the Emulator runs it
        "MICROSOFT_APP_PASSWORD": "",
        "REFERENT_PUBLIC_URL": PUBLIC_URL,
        "REFERENT_LINK_SECRET": "e2e-link-secret",
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture
async def bot_connector() -> AsyncIterator[FakeBotConnector]:
    """The fake Bot Connector, knowing the fictional users of these tests."""
    connector = FakeBotConnector(TEAMS_USERS, tenant_id=TENANT)
    await connector.start()
    try:
        yield connector
    finally:
        await connector.stop()


@pytest.fixture
async def teams(bot_connector: FakeBotConnector, tmp_path: Path) -> AsyncIterator[TeamsWorld]:
    """The real server on loopback (SQLite in tmp_path), unauthenticated, and a Teams scenario
    whose serviceUrl is the fake connector."""
    server = await start_server(teams_settings(tmp_path))
    scenario = TeamsScenario(service_url=bot_connector.url, app_id=APP_ID, tenant_id=TENANT)
    session = aiohttp.ClientSession()
    try:
        yield TeamsWorld(connector=bot_connector, server=server, scenario=scenario, session=session)
    finally:
        await session.close()
        await server.stop()


# -- Bot Framework signing keys --------------------------------------------------------------------


@dataclass
class SigningKey:
    """An RSA key of our own, published by a KeyServer as the Bot Framework's would be."""

    kid: str
    private: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    endorsements: tuple[str, ...] = ("msteams",)

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "endorsements": list(self.endorsements)})
        return jwk

    def token(
        self,
        service_url: str,
        *,
        audience: str = APP_ID,
        issuer: str = CHANNEL_ISSUER,
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        """A channel token as the Bot Framework signs it (claims override the defaults)."""
        now = int(time.time())
        body = {"iss": issuer, "aud": audience, "serviceurl": service_url, "nbf": now - 10, "exp": now + 600}
        body.update(claims)
        return jwt.encode(body, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


class KeyServer:
    """OpenID metadata and a JWKS on loopback, as login.botframework.com publishes them, with
    switches for the failures the adapter must survive: down (500) and hanging (until released)."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.down = False
        self.hang = asyncio.Event()
        self.hang.set()  # set: answer at once; clear: hold every request until set again
        self.metadata_requests = 0
        self.jwks_requests = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    async def _metadata(self, request: web.Request) -> web.Response:
        self.metadata_requests += 1
        await self.hang.wait()
        if self.down:
            return web.Response(status=500)
        return web.json_response({"issuer": CHANNEL_ISSUER, "jwks_uri": f"{self.url}/v1/.well-known/keys"})

    async def _jwks(self, request: web.Request) -> web.Response:
        self.jwks_requests += 1
        if self.down:
            return web.Response(status=500)
        return web.json_response({"keys": [key.jwk() for key in self.keys]})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._jwks)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self.hang.set()
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def key_server() -> AsyncIterator[KeyServer]:
    server = KeyServer(SigningKey("referent-test-key"))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def card_text(card: dict[str, Any]) -> str:
    """Every TextRun/TextBlock text in a card, joined (to assert on what a card shows)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("TextRun", "TextBlock") and isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return " ".join(out)
