"""Crash proof (issue 5): an acknowledged submission survives SIGKILL, and a retried delivery is
stored once.

The real server runs as its own OS process on SQLite. After the group is set up through real
signed commands, 1,000 submissions (`/runde` slash commands and replies in the collection thread,
from many fictional users) go to it with bounded concurrency. Part-way through, the server is
killed with SIGKILL and started again on the same port and database file while the senders keep
going, the way Slack would: an Events API delivery that failed (connection dropped, no answer
within 3 s, or a non-200) is retried with the same `event_id` and an `X-Slack-Retry-Num` header;
a slash command is never retried, so a failed one is simply not acknowledged.

What must hold: every request answered 200 has its submission in the database, nothing is stored
twice, no answer was a 500, and the restarted server came up on the existing database without
migrating it again or logging errors.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import select, text

from bot.offline.fakes.slack_api import FakeSlackApi
from bot.offline.fakes.slack_requests import SignedRequest, SlackRequests
from bot.slack.blocks import word
from handlers.i18n import t
from storage.db import Database
from storage.models import ChannelMessage, ProcessedEvent, Submission
from tests.e2e.processes import BOT_TOKEN, SIGNING_SECRET, ServerProcess, process_env
from tests.e2e.slack_fixtures import BOT_USER, CHANNEL, SIRI, TEAM

pytestmark = pytest.mark.e2e

OSLO = ZoneInfo("Europe/Oslo")
REQUESTS = 1000
USERS = 150  # fictional: the fake API invents "Testperson U0K…" for every id it does not know
CONCURRENCY = 16
THREAD_SHARE = 0.4  # the rest are `/runde` slash commands
SLACK_TIMEOUT = 3.0  # Slack gives up on an answer after 3 s
RETRY_BACKOFF = (0.2, 0.5, 1.0)  # Slack waits ~0 s, 1 min, 5 min; compressed
MAX_RETRIES = len(RETRY_BACKOFF)
REDELIVER_EVERY = 10  # every tenth thread reply is delivered once more after its 200


@dataclass
class Planned:
    """One submission as Slack would deliver it, and what happened to each delivery attempt."""

    index: int
    kind: str  # "slash" or "thread"
    user: str
    text: str
    event_id: str = ""
    ts: str = ""
    outcomes: list[str] = field(default_factory=list)  # "200", "503", "conn", "timeout", …
    acked_at: float | None = None  # monotonic time of the 200
    answer: str = ""  # a slash command's answer: "saved", "working" (answer follows) or "error"
    redelivered: bool = False  # an event Slack delivered again after it had its 200

    @property
    def acked(self) -> bool:
        return self.acked_at is not None


@dataclass
class Burst:
    """Shared state of the senders and the killer."""

    server: ServerProcess
    slack: SlackRequests
    kill_after: int
    responses: int = 0
    up: asyncio.Event = field(default_factory=asyncio.Event)
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    restarted_at: float | None = None

    def count_response(self) -> None:
        self.responses += 1
        if self.responses >= self.kill_after:
            self.reached.set()


def plan(rng: random.Random, slack: SlackRequests, run: str) -> list[Planned]:
    """The 1,000 submissions: each with text no other has, so the database can be checked by it."""
    planned: list[Planned] = []
    for i in range(REQUESTS):
        user = f"U0K{rng.randrange(USERS):04d}"
        body = f"Statusrapport {run} nr {i:04d} fra {user}"
        if rng.random() < THREAD_SHARE:
            planned.append(
                Planned(i, "thread", user, body, event_id=f"Ev{run}{i:05d}".upper(), ts=slack.next_ts())
            )
        else:
            planned.append(Planned(i, "slash", user, body))
    return planned


def build(item: Planned, burst: Burst, collection_ts: str, retry: int) -> SignedRequest:
    """Signed at send time (Slack signs each delivery, retries included, with a fresh timestamp)."""
    if item.kind == "slash":
        return burst.slack.slash("/runde", item.text, user=item.user, channel=CHANNEL)
    return burst.slack.thread_reply(
        item.text,
        user=item.user,
        channel=CHANNEL,
        thread_ts=collection_ts,
        ts=item.ts,
        event_id=item.event_id,
        **({"retry_num": retry, "retry_reason": "http_timeout"} if retry else {}),
    )


def classify(body: str) -> str:
    """What a slash command's 200 said: "saved", "working" (the answer follows), or anything
    else ("error", "other"), which acknowledges no submission."""
    try:
        said = str(json.loads(body).get("text", "")) if body else ""
    except (json.JSONDecodeError, AttributeError):
        said = body
    if said.startswith((word("error", "nb"), t("nb", "common.error"))):
        return "error"
    if said.startswith(word("working", "nb")):
        return "working"
    return "saved" if said.startswith("Takk") else "other"


async def post(session: aiohttp.ClientSession, burst: Burst, request: SignedRequest) -> tuple[str, str]:
    """(outcome, body): the status as text, or "timeout" / "conn" as Slack would see them."""
    try:
        async with session.post(
            burst.server.url + request.path,
            data=request.body,
            headers=request.headers,
            timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT),
        ) as response:
            return str(response.status), await response.text()
    except TimeoutError:
        return "timeout", ""
    except aiohttp.ClientError:
        return "conn", ""


async def deliver(session: aiohttp.ClientSession, burst: Burst, item: Planned, collection_ts: str) -> None:
    """One submission, with Slack's retry policy for events; never raises."""
    attempts = 1 if item.kind == "slash" else 1 + MAX_RETRIES
    for attempt in range(attempts):
        outcome, body = await post(session, burst, build(item, burst, collection_ts, attempt))
        item.outcomes.append(outcome)
        if outcome != "conn":
            burst.count_response()
        if outcome == "200":
            if item.kind == "slash":
                item.answer = classify(body)
            if item.answer in ("", "saved", "working"):
                item.acked_at = time.monotonic()
            if item.kind == "thread" and item.index % REDELIVER_EVERY == 0:
                # Slack also redelivers when our 200 reached it late: the same event again.
                item.redelivered = True
                again, _ = await post(session, burst, build(item, burst, collection_ts, attempt + 1))
                item.outcomes.append(again)
            return
        if outcome == "conn" or attempt + 1 < attempts:
            # The server is gone: wait for it (bounded) before this sender goes on, so the
            # burst keeps going after the restart instead of burning through the queue.
            await asyncio.sleep(RETRY_BACKOFF[min(attempt, MAX_RETRIES - 1)])
            try:
                await asyncio.wait_for(burst.up.wait(), 30)
            except TimeoutError:
                return


async def sender(
    session: aiohttp.ClientSession, burst: Burst, queue: asyncio.Queue[Planned], collection_ts: str
) -> None:
    while True:
        try:
            item = queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        await deliver(session, burst, item, collection_ts)


async def killer(burst: Burst) -> None:
    """SIGKILL after `kill_after` responses, then start again on the same port and database."""
    await asyncio.wait_for(burst.reached.wait(), 60)
    burst.up.clear()
    await burst.server.kill()
    await burst.server.start()
    burst.restarted_at = time.monotonic()
    burst.up.set()


async def set_up(api: FakeSlackApi, slack: SlackRequests, server: ServerProcess) -> str:
    """Siri binds the channel (and so becomes secretariat) and creates today's meeting; returns
    the ts of the collection message the bot posted."""
    async with aiohttp.ClientSession() as session:
        for command, line in (
            ("/referent", "oppsett Faggruppe for krasjtest | Testregionen"),
            ("/mote", f"ny {datetime.now(OSLO).strftime('%d.%m.%Y')} 10:00-12:00 Teams"),
        ):
            status, body = await slack.send(
                session, server.url, slack.slash(command, line, user=SIRI.id, channel=CHANNEL)
            )
            assert status == 200, body
    await api.wait_for("chat.postMessage", 1, timeout=10)
    [collection_ts] = [ts for (channel, ts), p in api.messages.items() if channel == CHANNEL]
    return collection_ts


async def stored(db_url: str) -> tuple[Counter[str], int, Counter[str], list[str]]:
    """Submission texts (with counts), collection messages, processed event ids, migrations."""
    db = Database(db_url)
    try:
        async with db.session() as session:
            texts = Counter((await session.execute(select(Submission.text))).scalars())
            collections = len(
                (
                    await session.execute(
                        select(ChannelMessage.id).where(ChannelMessage.purpose == "collection")
                    )
                ).all()
            )
            events = Counter((await session.execute(select(ProcessedEvent.event_id))).scalars())
            versions = list(
                (await session.execute(text("SELECT version_num FROM alembic_version"))).scalars()
            )
    finally:
        await db.close()
    return texts, collections, events, versions


async def test_acknowledged_submissions_survive_sigkill(tmp_path: Path) -> None:
    seed = int(os.environ.get("REFERENT_CRASH_SEED", str(time.time_ns() % 1_000_000)))
    rng = random.Random(seed)
    run = f"r{seed:06d}"
    kill_after = rng.randrange(250, 400)
    where = f"(seed {seed}, killed after {kill_after} responses; REFERENT_CRASH_SEED={seed} repeats it)"

    db_url = f"sqlite+aiosqlite:///{tmp_path / 'referent.db'}"
    api = FakeSlackApi(token=BOT_TOKEN, team_id=TEAM, bot_user_id=BOT_USER, users=[SIRI], auto_users=True)
    await api.start()
    server = ServerProcess(process_env(db_url, api), tmp_path, name="crash")
    slack = SlackRequests(
        signing_secret=SIGNING_SECRET,
        team_id=TEAM,
        bot_user_id=BOT_USER,
        response_url_base=api.base + "/response",
    )
    try:
        await server.start()
        collection_ts = await set_up(api, slack, server)
        planned = plan(rng, slack, run)
        queue: asyncio.Queue[Planned] = asyncio.Queue()
        for item in planned:
            queue.put_nowait(item)
        burst = Burst(server=server, slack=slack, kill_after=kill_after)
        burst.up.set()
        began = time.monotonic()
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector) as session:
            kill_task = asyncio.create_task(killer(burst))
            await asyncio.wait_for(
                asyncio.gather(*(sender(session, burst, queue, collection_ts) for _ in range(CONCURRENCY))),
                120,
            )
            await asyncio.wait_for(kill_task, 60)
        elapsed = time.monotonic() - began
        await server.stop()
    finally:
        await server.kill()
        await api.stop()

    texts, collections, events, versions = await stored(db_url)
    outcomes = Counter(o for item in planned for o in item.outcomes)
    acked = [item for item in planned if item.acked]
    after_restart = [i for i in acked if burst.restarted_at and (i.acked_at or 0) > burst.restarted_at]
    answers = Counter(item.answer for item in planned if item.kind == "slash" and item.answer)
    redelivered = [item for item in planned if item.redelivered]
    summary = (
        f"{where}: {len(acked)} acknowledged of {REQUESTS} ({len(after_restart)} after the restart), "
        f"outcomes {dict(outcomes)}, slash answers {dict(answers)}, {len(redelivered)} redelivered, "
        f"{sum(texts.values())} stored, {elapsed:.1f} s"
    )
    print(summary)

    # The server never answered 500, before or after the crash, and never apologised.
    assert outcomes.get("500", 0) == 0, summary
    assert set(answers) <= {"saved", "working"}, summary
    sent = api.all_text()
    assert word("error", "nb") not in sent and t("nb", "common.error") not in sent, summary
    # Any answer that arrived was a 200 (a redelivery may have met the dead server: "conn").
    assert set(outcomes) <= {"200", "conn", "timeout"}, summary
    # Every acknowledged submission is stored: an ack comes only after the commit.
    lost = [item for item in acked if texts[item.text] == 0]
    assert not lost, f"acknowledged but lost {summary}: {[(i.kind, i.text, i.outcomes) for i in lost[:10]]}"
    # Nothing is stored twice, retried events included; nothing is stored that was not sent.
    twice = {t: n for t, n in texts.items() if n > 1}
    assert not twice, f"stored more than once {summary}: {list(twice.items())[:10]}"
    assert set(texts) <= {item.text for item in planned}, summary
    assert all(n == 1 for n in events.values()), summary
    # Slack's retries got every thread reply through in the end (the restart was well within them).
    unacked_events = [(i.text, i.outcomes) for i in planned if i.kind == "thread" and not i.acked]
    assert not unacked_events, f"{summary}: {unacked_events[:10]}"
    # The crash really happened mid-burst, and the restarted server took over the traffic.
    assert burst.restarted_at is not None and outcomes["conn"] > 0, summary
    assert len(after_restart) >= 100, summary

    # The restart found the existing SQLite database: one schema version, no second migration,
    # one collection message (the meeting was not created again), and nothing logged as an error.
    first, second = server.log(1), server.log(2)
    assert "empty SQLite database: migrating" in first
    assert "migrating" not in second and "Running upgrade" not in second, second
    for marker in ("Traceback", " ERROR ", " CRITICAL "):
        assert marker not in second, f"restarted server logged {marker.strip()}:\n{second[-4000:]}"
        assert marker not in first, f"first server logged {marker.strip()}:\n{first[-4000:]}"
    assert len(versions) == 1 and collections == 1, (versions, collections)
