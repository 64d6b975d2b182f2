"""Reminder fan-out: 10,000 members reminded through a fake Slack Web API that enforces a rate limit.

    .venv/bin/python bench/reminder_fanout.py            # 10,000 members at 1,000/s (about 12 s)
    .venv/bin/python bench/reminder_fanout.py --quick    # 1,000 members at 500/s (a few seconds)
    .venv/bin/python bench/reminder_fanout.py --unpaced  # without a configured rate: 429s only
    .venv/bin/python bench/reminder_fanout.py --database postgresql://postgres@127.0.0.1/test
                                                         # (runs in a scratch database it drops)
    .venv/bin/python bench/reminder_fanout.py -o out/reminder_fanout.json

What runs: the real reminder pass (handlers/reminders) with the real Slack messenger
(bot/slack_messenger.py: one pooled AsyncWebClient, conversations.open cached per user, then
chat.postMessage), against bot/offline/fakes/slack_api.py in its own process, over HTTP on loopback.
The group has N members who have not posted (most seen in chat, so their Slack id is known; a
share known only by e-mail, so users.lookupByEmail runs first), one Slack channel, and a meeting
whose "3 days before" reminder is due.

The limit: the fake accepts at most RATE calls per second on each of chat.postMessage,
conversations.open and users.lookupByEmail (a sliding one-second window) and answers the rest
with HTTP 429 and `Retry-After: 1`, as Slack does. Every member costs one call of the first two
methods, so the floor is N ÷ RATE seconds. (Real Slack is far stricter for conversations.open and
users.lookupByEmail, Tier 3, about 50 a minute; the same mechanism then simply runs slower.)

Reported: wall time of the pass against the floor, 429s per method, messages lost (members who
got no DM) and duplicated (more than one), and whether the reminder log agrees. The pass is given
the platform's rate (PassOptions.rates, as an operator would configure it); `--unpaced` shows the
purely reactive behaviour (Retry-After honoured, no pacing) for comparison.

Aim: within 1.2 × the floor, zero lost, zero duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing as mp
import platform
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOKEN = "xoxb-bench-token"
TEAM = "T0BENCH"
CHANNEL = "C0BENCH"
OSLO = ZoneInfo("Europe/Oslo")
MEETING_START = datetime(2026, 1, 20, 10, 0, tzinfo=OSLO)
NOW = datetime(2026, 1, 23, 9, 5, tzinfo=OSLO)  # deadline Tuesday 27 January: "3 days before" is due
LIMITED = ("chat.postMessage", "conversations.open", "users.lookupByEmail")


# ---------------------------------------------------------------- the fake Slack API (child process)


def _fake_main(conn: Any, rate: int, email_users: list[tuple[str, str]]) -> None:
    """Serve the fake until told to stop; then send back what it saw."""
    logging.disable(logging.CRITICAL)

    async def serve() -> None:
        from bot.offline.fakes.slack_api import FakeSlackApi, FakeUser

        api = FakeSlackApi(
            token=TOKEN,
            team_id=TEAM,
            auto_users=True,
            users=[FakeUser(uid, f"Deltaker {uid}", email, team_id=TEAM) for uid, email in email_users],
        )
        for method in LIMITED:
            api.rate_limit(method, rate, retry_after=1)
        await api.start()
        conn.send(api.url)
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "reset":
                api.reset()
                conn.send("ok")
                continue
            break
        channels = Counter(str(p.get("channel")) for p in api.params("chat.postMessage"))
        conn.send(
            {
                "calls": api.summary(),
                "rate_limited": dict(api.rate_limited),
                "post_channels": dict(channels),
            }
        )
        await api.stop()

    asyncio.run(serve())


# ---------------------------------------------------------------- the database


async def _seed(db: Any, members: int, email_share: float) -> list[tuple[str, str]]:
    """A group with `members` members who have not posted; returns the e-mail-only ones."""
    from sqlalchemy import insert

    from storage.models import ChannelBinding, Group, Meeting, Member, Platform, PlatformIdentity

    email_only = int(members * email_share)
    async with db.write() as s:
        group = Group(name="Benchmarkgruppen")
        s.add(group)
        await s.flush()
        s.add(
            ChannelBinding(group_id=group.id, platform=Platform.SLACK, workspace_id=TEAM, channel_id=CHANNEL)
        )
        s.add(Meeting(group_id=group.id, starts_at=MEETING_START, ends_at=MEETING_START + timedelta(hours=2)))
        rows = [
            {
                "group_id": group.id,
                "first_name": f"Deltaker{i:05d}",
                "last_name": "Testesen",
                "organisation": "Eksempel kommune",
                "email": f"d{i:05d}@kommune.example",
            }
            for i in range(members)
        ]
        for start in range(0, members, 2000):
            await s.execute(insert(Member), rows[start : start + 2000])
        ids = list((await s.execute(Member.__table__.select().with_only_columns(Member.id))).scalars())
        ids.sort()
        identities = [
            {"member_id": mid, "platform": Platform.SLACK, "workspace_id": TEAM, "user_id": f"U{i:05d}"}
            for i, mid in enumerate(ids)
            if i >= email_only
        ]
        for start in range(0, len(identities), 2000):
            await s.execute(insert(PlatformIdentity), identities[start : start + 2000])
    return [(f"U{i:05d}", f"d{i:05d}@kommune.example") for i in range(email_only)]


async def _log_states(db: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from storage.models import ReminderLog

    async with db.session() as s:
        rows = (await s.execute(select(ReminderLog.state, func.count()).group_by(ReminderLog.state))).all()
    return {str(state.value if hasattr(state, "value") else state): int(n) for state, n in rows}


async def _scratch_database(server_url: str) -> tuple[str, Any]:
    """Create `referent_bench_<random>` on the server of `server_url`; returns its URL and a
    coroutine function that drops it."""
    import uuid

    import asyncpg

    plain = server_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"referent_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(plain)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()

    async def drop() -> None:
        conn = await asyncpg.connect(plain)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    return plain.rsplit("/", 1)[0] + "/" + name, drop


# ---------------------------------------------------------------- the run


class _Registry:
    def __init__(self, messenger: Any) -> None:
        self.messenger = messenger

    def for_platform(self, name: str) -> Any:
        return self.messenger if name == "slack" else None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bot.slack.messenger import SlackMessenger, UserDirectory, make_client, open_session
    from handlers.context import HandlerContext
    from handlers.reminders import PassOptions, run_reminder_pass
    from storage.db import Database

    tmp = tempfile.TemporaryDirectory(prefix="referent-bench-")
    scratch = None
    if args.database:
        # A throwaway database on that server, never the one named: the bench must not touch data.
        url, scratch = await _scratch_database(args.database)
    else:
        url = f"sqlite+aiosqlite:///{tmp.name}/bench.db"
    db = Database(url)
    await db.migrate()
    email_users = await _seed(db, args.members, args.email_share)

    ctx_mp = mp.get_context("spawn")
    parent, child = ctx_mp.Pipe()
    fake = ctx_mp.Process(target=_fake_main, args=(child, args.rate, email_users), daemon=True)
    fake.start()
    api_url = parent.recv()

    client = make_client(TOKEN, api_url)
    session = await open_session(client)
    messenger = SlackMessenger(client, UserDirectory(client))
    clock = {"now": NOW}
    ctx = HandlerContext(db=db, clock=lambda: clock["now"], messengers=_Registry(messenger))
    options = PassOptions(
        concurrency=args.concurrency,
        rates={} if args.unpaced else {"slack": float(args.rate)},
    )

    started = time.perf_counter()
    report = await run_reminder_pass(ctx, options=options, worker_id="bench")
    first_pass = time.perf_counter() - started
    passes, failed_first = 1, len(report.failed)
    sent_total = len(report.sent)
    while report.failed and passes < 4:  # a failed send is retried by a later pass, not dropped
        clock["now"] += timedelta(minutes=5)
        report = await run_reminder_pass(ctx, options=options, worker_id="bench")
        passes += 1
        sent_total += len(report.sent)
    total = time.perf_counter() - started

    parent.send("stop")
    seen = parent.recv()
    fake.join(timeout=10)
    await session.close()
    states = await _log_states(db)
    await db.close()
    tmp.cleanup()
    if scratch is not None:
        await scratch()

    dms = {ch: n for ch, n in seen["post_channels"].items() if ch != CHANNEL}
    expected = {f"D{i:05d}" for i in range(args.members)}
    lost = len(expected - set(dms))
    duplicates = sum(n - 1 for n in dms.values() if n > 1) + max(0, seen["post_channels"].get(CHANNEL, 0) - 1)
    floor = args.members / args.rate
    return {
        "benchmark": "reminder_fanout",
        "members": args.members,
        "rate_limit_per_second": args.rate,
        "limited_methods": list(LIMITED),
        "paced": not args.unpaced,
        "concurrency": args.concurrency,
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "email_only_members": len(email_users),
        "floor_seconds": round(floor, 3),
        "wall_seconds_first_pass": round(first_pass, 3),
        "ratio_to_floor": round(first_pass / floor, 3),
        "wall_seconds_all_passes": round(total, 3),
        "passes": passes,
        "failed_in_first_pass": failed_first,
        "sent": sent_total,
        "lost": lost,
        "duplicates": duplicates,
        "http_429": seen["rate_limited"],
        "api_calls": seen["calls"],
        "reminder_log": states,
        "log_agrees": states.get("sent", 0) == args.members + 1,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1_000, help="calls per second per limited method")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--email-share", type=float, default=0.02, help="share of members known only by e-mail"
    )
    parser.add_argument(
        "--database",
        default=None,
        help="a PostgreSQL server URL: the bench creates and drops its own database there "
        "(default: a temporary SQLite file)",
    )
    parser.add_argument("--unpaced", action="store_true", help="do not tell the pass the platform's rate")
    parser.add_argument("--quick", action="store_true", help="1,000 members at 500/s")
    parser.add_argument("-o", "--output", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.rate = 1_000, 500
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
    ok = result["lost"] == 0 and result["duplicates"] == 0 and result["ratio_to_floor"] <= 1.2
    print(
        f"\n{result['members']} members at {result['rate_limit_per_second']}/s: "
        f"{result['wall_seconds_first_pass']} s (floor {result['floor_seconds']} s, "
        f"{result['ratio_to_floor']}×), lost {result['lost']}, duplicates {result['duplicates']}, "
        f"429s {sum(result['http_429'].values())} — {'OK' if ok else 'MISSED THE AIM'}",
        file=sys.stderr,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
