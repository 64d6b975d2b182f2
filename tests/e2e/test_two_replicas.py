"""Two replicas on one PostgreSQL (issue 5): two `referent serve` processes share the database and
the fake Slack Web API, and take concurrent traffic the way a load balancer would hand it out.

- `/runde` commands and collection-thread replies, half to each replica; some thread replies are
  the same Events API delivery sent to both replicas at once (Slack's retry racing the original):
  each is stored once.
- Clicks on one work-group poll from many members, split across the replicas: the option capped
  at 5 never gets a sixth sign-up, however the clicks interleave.
- Then `referent remind --now <the first deadline reminder, 09:05 Oslo>` run as two processes at
  the same moment: every roster member who has not submitted gets exactly one direct message, and
  the channel exactly one summary; the poll, whose closing time has passed by then, is closed
  (and its message updated) exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.offline.fakes.slack_api import FakeSlackApi, FakeUser
from bot.offline.fakes.slack_requests import SignedRequest, SlackRequests
from bot.slack.blocks import poll_action_id
from handlers.referat.deadline import submission_deadline
from handlers.reminders.schedule import rule_from_settings
from storage.db import Database
from storage.models import (
    ChannelBinding,
    ChannelMessage,
    Group,
    Meeting,
    Member,
    Poll,
    PollOption,
    ProcessedEvent,
    ReminderLog,
    ReminderState,
    Role,
    Submission,
    Vote,
)
from tests.conftest import _pg_available, _truncate
from tests.e2e.meeting_clock import OSLO, first_reminder_pass, meeting_next_week
from tests.e2e.processes import BOT_TOKEN, SIGNING_SECRET, ServerProcess, process_env, run_cli
from tests.e2e.slack_fixtures import BOT_USER, CHANNEL, SIRI, TEAM

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

GROUP = "Faggruppe for replikatest"
CONCURRENCY = 16
CAP = 5
# Fictional roster members; the first 20 submit, the other 100 must be reminded (more than one
# reminder process sends at once, so both passes have work left when the other one starts).
ROSTER = [
    FakeUser(f"U0R{i:03d}", f"Deltaker{i:03d} Testesen", f"deltaker{i:03d}@kommune.example", team_id=TEAM)
    for i in range(120)
]
SUBMITTERS, SILENT = ROSTER[:20], ROSTER[20:]
# Chat users not on the roster (the fake API invents "Testperson U0X…" for them).
GUESTS = [f"U0X{i:02d}" for i in range(50)]


class GatedSlackApi(FakeSlackApi):
    """The fake Web API, able to hold every chat.postMessage while `gate` is clear: the reminder
    processes then block after their first claims, so both are mid-pass at the same time."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = asyncio.Event()
        self.gate.set()

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "chat.postMessage":
            await asyncio.wait_for(self.gate.wait(), 60)
        return await super()._api(request)


@dataclass
class Sent:
    """One request and how it was answered."""

    label: str
    replica: str
    status: int
    body: str


@dataclass
class World:
    api: FakeSlackApi
    slack: SlackRequests
    replicas: dict[str, ServerProcess]
    session: aiohttp.ClientSession
    db: Database

    async def send(self, replica: str, request: SignedRequest, label: str = "") -> Sent:
        url = self.replicas[replica].url + request.path
        timeout = aiohttp.ClientTimeout(total=10)
        async with self.session.post(url, data=request.body, headers=request.headers, timeout=timeout) as r:
            return Sent(label, replica, r.status, await r.text())

    async def command(self, replica: str, command: str, line: str, user: str = SIRI.id) -> str:
        sent = await self.send(replica, self.slack.slash(command, line, user=user, channel=CHANNEL))
        assert sent.status == 200, sent
        return str(json.loads(sent.body).get("text", ""))


def replica_for(i: int) -> str:
    return "a" if i % 2 == 0 else "b"


async def seed_roster(db: Database) -> int:
    """The roster as `roster import` would leave it, in the group `oppsett` created."""
    async with db.write() as session:
        group_id = (await session.execute(select(Group.id).where(Group.name == GROUP))).scalar_one()
        for user in ROSTER:
            first, _, last = user.real_name.partition(" ")
            session.add(
                Member(
                    group_id=group_id,
                    first_name=first,
                    last_name=last,
                    organisation="Testkommune",
                    email=user.email,
                    role=Role.MEMBER,
                )
            )
    return int(group_id)


async def set_up(world: World) -> tuple[str, str, int, dict[str, int]]:
    """Through the real commands: bind the channel (replica a), the roster (storage), a meeting
    (replica b, which posts the collection message), a work-group poll (replica a).
    Returns (collection ts, poll message ts, poll id, option id by label)."""
    said = await world.command("a", "/referent", f"oppsett {GROUP} | Testregionen")
    assert GROUP in said, said
    await seed_roster(world.db)
    said = await world.command("b", "/mote", f"ny {meeting_next_week():%d.%m.%Y} 10:00-12:00 Teams")
    assert "Teams" in said, said
    said = await world.command(
        "a", "/grupper", f'ny "Gruppe A | Kari Nordmann" "Gruppe B | Per Olsen | maks {CAP}"'
    )
    # The bot records where it posted once Slack has answered: wait for both records.
    deadline = time.monotonic() + 10
    while True:
        async with world.db.session() as session:
            messages = {m.purpose: m for m in (await session.execute(select(ChannelMessage))).scalars()}
            poll = (await session.execute(select(Poll))).scalar_one()
            options = {
                o.label: o.id
                for o in (
                    await session.execute(select(PollOption).where(PollOption.poll_id == poll.id))
                ).scalars()
            }
        if len(messages) == 2 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert set(messages) == {"collection", "poll"}, (messages, said)
    assert options.keys() == {"Gruppe A", "Gruppe B"}, options
    return messages["collection"].message_ref, messages["poll"].message_ref, poll.id, options


async def traffic(
    world: World, collection_ts: str, poll_ts: str, poll_id: int, options: dict[str, int]
) -> tuple[list[Sent], dict[str, str], list[str]]:
    """Everything at once, shuffled, with bounded concurrency. Returns the answers, the unique
    texts (text → label) and the texts of the deliveries sent to both replicas."""
    slack = world.slack
    jobs: list[Callable[[], Awaitable[list[Sent]]]] = []
    texts: dict[str, str] = {}
    twins: list[str] = []

    def one(replica: str, make: Callable[[], SignedRequest], label: str) -> None:
        async def job() -> list[Sent]:
            return [await world.send(replica, make(), label)]

        jobs.append(job)

    def runde(user: str, text: str) -> Callable[[], SignedRequest]:
        return partial(slack.slash, "/runde", text, user=user, channel=CHANNEL)

    def reply(user: str, text: str) -> Callable[[], SignedRequest]:
        return partial(slack.thread_reply, text, user=user, channel=CHANNEL, thread_ts=collection_ts)

    for i, user in enumerate(SUBMITTERS):
        text = f"Runde fra {user.real_name} nr {i}"
        texts[text] = f"{'slash' if i < 10 else 'thread'} {user.id}"
        if i < 10:
            one(replica_for(i), runde(user.id, text), "slash")
        else:
            one(replica_for(i), reply(user.id, text), "thread")
    for i, guest in enumerate(GUESTS[:30]):
        slash_text, thread_text = f"Gjest {guest} melder status", f"Gjest {guest} svarer i tråden"
        texts[slash_text], texts[thread_text] = f"slash {guest}", f"thread {guest}"
        one(replica_for(i), runde(guest, slash_text), "slash")
        one(replica_for(i + 1), reply(guest, thread_text), "thread")
    for i, guest in enumerate(GUESTS[30:]):
        # The same delivery to both replicas at the same moment: the original and Slack's retry.
        text = f"Gjest {guest} sitt svar kom to ganger"
        twins.append(text)
        event_id, ts = f"EvTWIN{i:04d}", slack.next_ts()

        async def twin(u: str = guest, t: str = text, e: str = event_id, s: str = ts) -> list[Sent]:
            first = slack.thread_reply(t, user=u, channel=CHANNEL, thread_ts=collection_ts, ts=s, event_id=e)
            retry = slack.thread_reply(
                t, user=u, channel=CHANNEL, thread_ts=collection_ts, ts=s, event_id=e, retry_num=1
            )
            return list(await asyncio.gather(world.send("a", first, "twin"), world.send("b", retry, "twin")))

        jobs.append(twin)

    def click(i: int, user: str, label: str) -> tuple[str, Callable[[], SignedRequest]]:
        make = partial(
            slack.block_actions,
            user=user,
            channel=CHANNEL,
            action_id=poll_action_id(poll_id, options[label]),
            message_ts=poll_ts,
            response_url=world.api.response_url(f"vote-{label[-1]}-{user}"),
        )
        return replica_for(i), make

    # 30 want the capped group B, all in one volley across both replicas (past the semaphore,
    # so the clicks around the fifth sign-up really race); 30 join group A, one by one.
    volley = [click(i, user.id, "Gruppe B") for i, user in enumerate(ROSTER[:30])]

    async def rush() -> list[Sent]:
        return list(await asyncio.gather(*(world.send(r, make(), "vote Gruppe B") for r, make in volley)))

    jobs.append(rush)
    for i, who in enumerate([u.id for u in ROSTER[10:30]] + GUESTS[:10]):
        one(*click(i + 1, who, "Gruppe A"), "vote Gruppe A")

    random.Random(5).shuffle(jobs)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def gated(job: Callable[[], Awaitable[list[Sent]]]) -> list[Sent]:
        async with gate:
            return await job()

    results = await asyncio.wait_for(asyncio.gather(*(gated(j) for j in jobs)), 60)
    return [s for batch in results for s in batch], texts, twins


async def answers_to_clicks(api: FakeSlackApi, option: str, count: int) -> list[str]:
    """What the clickers on `option` were told (through their response_url), once all are told."""
    deadline = time.monotonic() + 10
    while True:
        told = [
            str(p.get("text", ""))
            for p in api.params("response_url")
            if str(p.get("_name", "")).startswith(f"vote-{option}-")
        ]
        if len(told) >= count or time.monotonic() > deadline:
            return told
        await asyncio.sleep(0.05)


async def reminder_time(db: Database) -> str:
    """When the first deadline reminder is due (3 days before the deadline at 09:00, moved to a
    working day, or merged with the 1-day one), plus 5 minutes, as ISO-8601 in Oslo time."""
    async with db.session() as session:
        meeting = (await session.execute(select(Meeting))).scalar_one()
        group = await session.get(Group, meeting.group_id)
        assert group is not None
        deadline = submission_deadline(meeting, group)
        rule = rule_from_settings(
            group.reminder_offsets, group.reminder_time, group.timezone, group.reminders_enabled
        )
    return first_reminder_pass(deadline, rule).astimezone(OSLO).isoformat()


async def both_claiming(db: Database, processes: asyncio.Future[Any], timeout: float) -> bool:
    """Wait until reminder claims from two different processes are in the log (each process is
    then stuck at its first sends, held by the gate); False when that did not happen in time, or
    the processes ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not processes.done():
        async with db.session() as session:
            workers = (
                await session.execute(select(func.count(ReminderLog.claimed_by.distinct())))
            ).scalar_one()
        if workers >= 2:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_two_replicas_share_postgresql(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if not _pg_available():
        pytest.skip(
            "two replicas need PostgreSQL on 127.0.0.1:5432 (the pg_url fixture, tests/conftest.py); "
            "SQLite is for one process only"
        )
    pg_url: str = request.getfixturevalue("pg_url")
    began = time.monotonic()
    db = Database(pg_url)
    await _truncate(db)
    api = GatedSlackApi(
        token=BOT_TOKEN, team_id=TEAM, bot_user_id=BOT_USER, users=[SIRI, *ROSTER], auto_users=True
    )
    await api.start()
    env = process_env(pg_url, api)
    replicas = {
        "a": ServerProcess(env, tmp_path, name="replica-a"),
        "b": ServerProcess(env, tmp_path, name="replica-b"),
    }
    slack = SlackRequests(
        signing_secret=SIGNING_SECRET,
        team_id=TEAM,
        bot_user_id=BOT_USER,
        response_url_base=api.base + "/response",
    )
    remind: asyncio.Future[Any] | None = None
    try:
        await asyncio.gather(*(r.start() for r in replicas.values()))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2 * CONCURRENCY)) as session:
            world = World(api, slack, replicas, session, db)
            collection_ts, poll_ts, poll_id, options = await set_up(world)
            sent, texts, twins = await traffic(world, collection_ts, poll_ts, poll_id, options)
        # Every click is answered to the clicker after the ack (joined, or "full").
        told = await answers_to_clicks(api, "B", 30)

        # Reminders: two `referent remind` processes at the same moment.
        now = await reminder_time(db)
        async with db.session() as s:  # the poll's closing time has passed at that moment
            poll_row = await s.get(Poll, poll_id)
            assert poll_row is not None
            poll_row.closes_at = datetime.fromisoformat(now) - timedelta(minutes=1)
        updates_before = len(api.params("chat.update"))
        before = len(api.params("chat.postMessage"))
        api.gate.clear()
        processes = asyncio.gather(
            run_cli(["remind", "--now", now], env, tmp_path, timeout=60),
            run_cli(["remind", "--now", now], env, tmp_path, timeout=60),
        )
        remind = processes
        racing = await both_claiming(db, processes, timeout=30)
        api.gate.set()
        reminded = await processes
        logs = {name: r.log() for name, r in replicas.items()}
        await asyncio.gather(*(r.stop() for r in replicas.values()))
    finally:
        if remind is not None and not remind.done():
            remind.cancel()  # run_cli kills its process when cancelled
            with contextlib.suppress(BaseException):
                await remind
        await asyncio.gather(*(r.kill() for r in replicas.values()))
        await api.stop()

    try:
        async with db.session() as s:
            stored = Counter((await s.execute(select(Submission.text))).scalars())
            events = Counter(
                (
                    await s.execute(
                        select(ProcessedEvent.event_id).where(ProcessedEvent.event_id.like("EvTWIN%"))
                    )
                ).scalars()
            )
            votes: dict[int, int] = {
                option: count
                for option, count in await s.execute(
                    select(Vote.option_id, func.count()).group_by(Vote.option_id)
                )
            }
            log_rows = list((await s.execute(select(ReminderLog))).scalars())
            closed_poll = await s.get(Poll, poll_id)
            binding_id = (await s.execute(select(ChannelBinding.id))).scalar_one()
            identities = {
                m.email: m.on_roster for m in (await s.execute(select(Member))).scalars() if m.email
            }
    finally:
        await db.close()

    statuses = Counter((s.label, s.status) for s in sent)
    # Every request answered 200 on whichever replica took it; never a 500.
    assert all(s.status == 200 for s in sent), statuses
    assert all(json.loads(s.body).get("text", "").startswith("Takk") for s in sent if s.label == "slash"), [
        s.body for s in sent if s.label == "slash"
    ][:5]
    assert {s.replica for s in sent} == {"a", "b"}

    # Each submission stored exactly once; the twins (one delivery, both replicas) once each.
    missing = [t for t in texts if stored[t] == 0]
    assert not missing, missing
    twice = {t: n for t, n in stored.items() if n > 1}
    assert not twice, twice
    assert all(stored[t] == 1 for t in twins), {t: stored[t] for t in twins}
    assert sum(stored.values()) == len(texts) + len(twins), stored
    assert len(events) == len(twins) and set(events.values()) == {1}, events
    # Roster members were linked by e-mail, not added again as guests.
    assert all(identities[u.email] for u in ROSTER if u.email), identities

    # The cap held across replicas: exactly 5 of the 30 got into group B; group A took all 30.
    assert votes.get(options["Gruppe B"]) == CAP, votes
    assert votes.get(options["Gruppe A"]) == 30, votes
    outcomes = Counter(
        "joined" if t.startswith("Du er med") else "full" if "er full" in t else t for t in told
    )
    assert outcomes == {"joined": CAP, "full": 30 - CAP}, outcomes

    # Reminders: both passes succeeded; each silent member got exactly one DM, nobody else any,
    # and the channel exactly one summary.
    for status, output in reminded:
        assert status == 0, output
    after = api.params("chat.postMessage")[before:]
    dms = Counter("D" + str(p["channel"])[1:] for p in after if str(p["channel"]).startswith(("D", "U")))
    expected = {"D" + u.id[1:]: 1 for u in SILENT}
    assert dict(dms) == expected, f"DMs per member: {dict(dms)}"
    summaries = [p for p in after if p["channel"] == CHANNEL]
    assert len(summaries) == 1, summaries
    assert len(log_rows) == len(SILENT) + 1, [(r.member_id, r.kind, r.state) for r in log_rows]
    assert {r.state for r in log_rows} == {ReminderState.SENT}, [
        (r.member_id, r.state, r.error) for r in log_rows
    ]
    assert {r.member_id for r in log_rows if r.member_id < 0} == {-binding_id}
    # The poll was closed once, by one of the two processes, and its message updated once.
    assert closed_poll is not None and closed_poll.closed_at is not None
    poll_updates = [u for u in api.params("chat.update")[updates_before:] if u.get("ts") == poll_ts]
    assert len(poll_updates) == 1, poll_updates
    assert "stengt" in json.dumps(poll_updates[0].get("blocks"), ensure_ascii=False)
    # Both processes really raced (each held claims while the other was claiming) and both sent.
    workers = Counter(r.claimed_by for r in log_rows)
    assert racing and len(workers) == 2, workers

    for name, log in logs.items():
        for marker in ("Traceback", " ERROR ", " CRITICAL "):
            assert marker not in log, f"replica {name} logged {marker.strip()}:\n{log[-4000:]}"
    print(
        f"{len(sent)} requests {dict(statuses)}; votes {votes}; reminders by process {dict(workers)}; "
        f"{time.monotonic() - began:.1f} s"
    )
