"""Draft links (issue 10, items 8 and 9): what a token names, revocation, deletion, expiry, and
where the signing key comes from. Links are fetched from the real server on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import time_machine
from sqlalchemy import delete, select

from bot.config import Settings
from bot.links import DraftLinks
from bot.offline.fakes.slack_api import FakeSlackApi
from bot.runtime import Runtime
from storage.models import AppKey, Group, Meeting
from storage.repositories import meetings as meeting_repo
from tests.e2e.server import start_server
from tests.e2e.slack_fixtures import KARI, PUBLIC_URL, SIGNING_SECRET, SlackWorld, slack_settings

pytestmark = pytest.mark.e2e


def _urls(body: dict[str, object]) -> list[str]:
    blocks = body.get("blocks", [])
    assert isinstance(blocks, list)
    return [e["url"] for b in blocks if b["type"] == "actions" for e in b["elements"] if "url" in e]


async def _html_link(slack: SlackWorld) -> str:
    answer = await slack.command("/referat", "html", user=KARI)
    [url] = _urls(answer.json())
    assert url.startswith(PUBLIC_URL + "/drafts/")
    return slack.server.url + url.removeprefix(PUBLIC_URL)


async def _status(slack: SlackWorld, url: str) -> int:
    async with slack.session.get(url) as page:
        return page.status


async def test_revoking_a_meetings_links_stops_the_old_ones(slack: SlackWorld) -> None:
    seeded = await slack.seed()
    old = await _html_link(slack)
    assert await _status(slack, old) == 200
    async with slack.db.write() as session:
        assert await meeting_repo.revoke_links(session, seeded.meeting_id) == 1
    assert await _status(slack, old) == 404
    fresh = await _html_link(slack)
    assert fresh != old and await _status(slack, fresh) == 200


async def test_a_link_stops_when_its_meeting_is_deleted(slack: SlackWorld) -> None:
    seeded = await slack.seed()
    url = await _html_link(slack)
    async with slack.db.write() as session:
        await session.execute(delete(Meeting).where(Meeting.id == seeded.meeting_id))
    assert await _status(slack, url) == 404


async def test_a_token_names_its_group(slack: SlackWorld) -> None:
    """A correctly signed token whose meeting now sits in another group (or names another group)
    is refused: the token binds group and meeting together."""
    seeded = await slack.seed()
    async with slack.db.session() as session:
        meeting = await session.get(Meeting, seeded.meeting_id)
    assert meeting is not None
    links = DraftLinks(PUBLIC_URL, secret="e2e-link-secret")
    good = links.token(meeting, "html", "nb")
    meeting.group_id = seeded.group_id + 1000
    other_group = links.token(meeting, "html", "nb")
    assert await _status(slack, f"{slack.server.url}/drafts/{good}") == 200
    assert await _status(slack, f"{slack.server.url}/drafts/{other_group}") == 404
    # another key (e.g. the Slack signing secret) signs nothing the server accepts
    meeting.group_id = seeded.group_id
    foreign = DraftLinks(PUBLIC_URL, secret=SIGNING_SECRET).token(meeting, "html", "nb")
    assert await _status(slack, f"{slack.server.url}/drafts/{foreign}") == 404
    assert await _status(slack, f"{slack.server.url}/drafts/{'x' * 5000}") == 404


def test_links_expire_after_their_lifetime() -> None:
    meeting = Meeting(id=7, group_id=3, link_generation=0)
    links = DraftLinks(PUBLIC_URL, secret="k", ttl_seconds=3600)
    with time_machine.travel(datetime(2026, 3, 1, 12, tzinfo=UTC), tick=False):
        token = links.token(meeting, "docx", "en")
        read = links.read(token)
        assert read is not None and (read.group_id, read.meeting_id, read.fmt, read.locale) == (
            3,
            7,
            "docx",
            "en",
        )
    with time_machine.travel(datetime(2026, 3, 1, 12, 59, tzinfo=UTC), tick=False):
        assert links.read(token) is not None
    with time_machine.travel(datetime(2026, 3, 1, 13, 1, tzinfo=UTC), tick=False):
        assert links.read(token) is None


def test_link_lifetime_is_configurable() -> None:
    settings = Settings(_env_file=None, REFERENT_LINK_TTL_DAYS="2")  # type: ignore[call-arg]
    runtime = Runtime(settings)
    assert runtime.links.ttl_seconds == 2 * 86400
    assert Settings(_env_file=None).link_ttl_days == 7  # type: ignore[call-arg]


async def test_without_a_link_secret_a_random_key_is_made_once_and_shared(
    slack_api: FakeSlackApi, tmp_path: Path
) -> None:
    """No REFERENT_LINK_SECRET: the key is random, stored in the database, and a second server on
    the same database (a replica) accepts the first one's links. It is never a platform secret."""
    settings = slack_settings(slack_api, tmp_path, REFERENT_LINK_SECRET="")
    first = await start_server(settings)
    try:
        async with first.runtime.db.write() as session:
            group = Group(name="Nøkkelgruppen")
            session.add(group)
            await session.flush()
            meeting = Meeting(
                group_id=group.id,
                starts_at=datetime.now(UTC) + timedelta(days=1),
                ends_at=datetime.now(UTC) + timedelta(days=1, hours=2),
            )
            session.add(meeting)
            await session.flush()
            meeting_id = meeting.id
        async with first.runtime.db.session() as session:
            [key] = (await session.execute(select(AppKey))).scalars()
            stored = await session.get(Meeting, meeting_id)
        assert stored is not None
        assert len(key.value) >= 60 and key.value not in (SIGNING_SECRET, "e2e-link-secret")
        url = first.runtime.links.draft_url(stored, "html", "nb")
        assert url is not None
        path = url.removeprefix(PUBLIC_URL)
        second = await start_server(settings)
        try:
            async with aiohttp.ClientSession() as http:
                for server in (first, second):
                    async with http.get(server.url + path) as page:
                        assert page.status == 200, server.url
        finally:
            await second.stop()
        async with first.runtime.db.session() as session:
            assert len(list((await session.execute(select(AppKey))).scalars())) == 1
    finally:
        await first.stop()
