"""Load test of the Slack path: signed `/runde` submissions at the real server, against a bare Bolt
app that only acknowledges, in one run.

    .venv/bin/python bench/slack_load.py            # the full run (about 1.5 minutes)
    .venv/bin/python bench/slack_load.py --quick    # a few seconds, for a smoke check
    .venv/bin/python bench/slack_load.py -o out/slack_load.json

Each server runs in its own process (with its own fake Slack Web API on loopback, so users.info
and auth.test are real HTTP calls), and this process drives both with the same client:

1. warm-up: a few hundred submissions (first users.info lookups, SQLite pages, Bolt's auth.test);
2. throughput: 100 concurrent connections, each sending the next request as soon as the previous
   one is answered, for a fixed time; reports requests/s;
3. latency at a fixed offered rate (open loop): 200 requests/s for 30 s, each sent on schedule
   whether or not earlier ones were answered; reports p50/p99 acknowledgement latency measured
   from the scheduled send time, so queueing shows up rather than hiding.

Referent runs on SQLite with a bound channel and an open meeting; every `/runde <text>` adds a
round-table post. At the end, the number of submissions in the database must equal the number of
acknowledged requests (an acknowledged submission is never lost). The results are JSON.

Aim: throughput at least half the baseline's, p99 under 100 ms at 200/s, no errors, and every
acknowledged submission stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
from loadgen import Phase, closed_loop, open_loop, send_one

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-bench-token"
TEAM = "T0BENCH"
CHANNEL = "C0BENCH"
USERS = 200  # distinct members posting
CONCURRENCY = 100
RATE = 200.0


# ---------------------------------------------------------------- servers (child processes)


def _quiet_logging() -> None:
    import logging

    logging.basicConfig(level=logging.ERROR)
    for name in ("slack_bolt", "slack_sdk", "aiohttp.access", "bot", "handlers", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)


async def _serve_referent(db_path: str, ready: Any, stop: Any) -> None:
    from aiohttp import web

    from bot.app import RUNTIME_KEY, create_app
    from bot.config import Settings
    from bot.offline.fakes.slack_api import FakeSlackApi

    api = FakeSlackApi(token=BOT_TOKEN, team_id=TEAM, auto_users=True)
    await api.start()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api.url,
        REFERENT_PUBLIC_URL="https://referent.example.no",
    )
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()  # migrates the empty database
    await _seed(app[RUNTIME_KEY].db)
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    ready.put(int(runner.addresses[0][1]))
    await asyncio.get_running_loop().run_in_executor(None, stop.wait)
    await runner.cleanup()
    await api.stop()


async def _seed(db: Any) -> None:
    """What `oppsett`, `roster import` and `mote ny` would leave: a group bound to the channel,
    a roster whose e-mails match the fake Slack users, and a meeting open for submissions."""
    from datetime import UTC, datetime, timedelta

    from storage.models import ChannelBinding, Group, Meeting, MeetingStatus, Member, Platform, Role

    async with db.session() as session:
        group = Group(name="Faggruppe for lasttest", organisation="Testregionen")
        session.add(group)
        await session.flush()
        session.add(
            ChannelBinding(group_id=group.id, platform=Platform.SLACK, workspace_id=TEAM, channel_id=CHANNEL)
        )
        for i in range(USERS):
            uid = _user(i)
            session.add(
                Member(
                    group_id=group.id,
                    first_name="Testperson",
                    last_name=uid,
                    organisation="Testkommune",
                    email=f"{uid.lower()}@example.no",
                    role=Role.MEMBER,
                )
            )
        start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        session.add(
            Meeting(
                group_id=group.id,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                status=MeetingStatus.OPEN,
            )
        )


async def _serve_baseline(ready: Any, stop: Any) -> None:
    """A bare Bolt app: the same signature check and aiohttp glue, a listener that only acks."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.app.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.offline.fakes.slack_api import FakeSlackApi

    api = FakeSlackApi(token=BOT_TOKEN, team_id=TEAM, auto_users=True)
    await api.start()
    bolt = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=api.url),
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
    )

    @bolt.command("/runde")
    async def _runde(ack: Any) -> None:
        await ack()

    async def endpoint(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", endpoint)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    ready.put(int(runner.addresses[0][1]))
    await asyncio.get_running_loop().run_in_executor(None, stop.wait)
    await runner.cleanup()
    await api.stop()


def _child(kind: str, db_path: str, ready: Any, stop: Any) -> None:
    _quiet_logging()
    if kind == "referent":
        asyncio.run(_serve_referent(db_path, ready, stop))
    else:
        asyncio.run(_serve_baseline(ready, stop))


# ------------------------------------------------------------------------------ the client


def _user(i: int) -> str:
    return f"U0BENCH{i:04d}"


class Signer:
    """Signed slash-command requests, built on the fly with the bot.offline.fakes builders."""

    def __init__(self) -> None:
        from bot.offline.fakes.slack_requests import SlackRequests

        self.requests = SlackRequests(signing_secret=SIGNING_SECRET, team_id=TEAM)
        self.n = 0

    def next(self) -> tuple[bytes, dict[str, str]]:
        self.n += 1
        request = self.requests.slash(
            "/runde",
            f"Lasttest-innlegg nr. {self.n}: status og planer",
            user=_user(self.n % USERS),
            channel=CHANNEL,
            response_url="http://127.0.0.1:9/response/x",
            trigger_id=f"{self.n}.bench",
        )
        return request.body, request.headers


# ---------------------------------------------------------------------------------- the run


@dataclass
class Plan:
    warmup: int
    throughput_s: float
    latency_s: float


FULL = Plan(warmup=500, throughput_s=15.0, latency_s=30.0)
QUICK = Plan(warmup=200, throughput_s=3.0, latency_s=3.0)


async def drive(name: str, url: str, plan: Plan) -> dict[str, Any]:
    signer = Signer()
    warm_phase = Phase(f"{name}-warmup", 0)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=20)) as session:
        started = time.perf_counter()
        for chunk in range(0, plan.warmup, 20):
            batch = min(20, plan.warmup - chunk)
            await asyncio.gather(
                *(
                    send_one(session, url, signer, warm_phase, time.perf_counter(), (200,))
                    for _ in range(batch)
                )
            )
        warm_phase.duration_s = time.perf_counter() - started
    throughput = await closed_loop(url, signer, CONCURRENCY, plan.throughput_s, f"{name}-throughput")
    await asyncio.sleep(1.0)  # let the server settle between phases
    latency = await open_loop(url, signer, RATE, plan.latency_s, f"{name}-latency")
    return {
        "warmup": warm_phase.summary(),
        "throughput": {
            "concurrency": CONCURRENCY,
            "requests_per_s": round(throughput.ok / throughput.duration_s, 1)
            if throughput.duration_s
            else 0.0,
            **throughput.summary(),
        },
        "latency": {"offered_rate_per_s": RATE, **latency.summary()},
        "acknowledged": warm_phase.ok + throughput.ok + latency.ok,
        "errors": warm_phase.errors + throughput.errors + latency.errors,
    }


def _start(kind: str, db_path: str) -> tuple[mp.process.BaseProcess, int, Any]:
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    process = ctx.Process(target=_child, args=(kind, db_path, ready, stop), daemon=True)
    process.start()
    port = ready.get(timeout=60)
    return process, int(port), stop


def _stored(db_path: str) -> int:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM submissions").fetchone()[0])


def run(plan: Plan) -> dict[str, Any]:
    results: dict[str, Any] = {
        "bench": "slack_load",
        "plan": asdict(plan),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    with tempfile.TemporaryDirectory(prefix="referent-bench-") as tmp:
        db_path = str(Path(tmp) / "referent.db")
        for kind in ("baseline", "referent"):
            process, port, stop = _start(kind, db_path)
            try:
                results[kind] = asyncio.run(drive(kind, f"http://127.0.0.1:{port}/slack/events", plan))
            finally:
                stop.set()
                process.join(timeout=30)
                if process.is_alive():  # pragma: no cover - a wedged child
                    process.terminate()
        stored = _stored(db_path)
    referent, baseline = results["referent"], results["baseline"]
    ratio = referent["throughput"]["requests_per_s"] / max(baseline["throughput"]["requests_per_s"], 1e-9)
    results["checks"] = {
        "throughput_ratio": round(ratio, 3),
        "throughput_at_least_half_of_baseline": ratio >= 0.5,
        "p99_ms_at_200_per_s": referent["latency"].get("p99_ms"),
        "p99_under_100ms": (referent["latency"].get("p99_ms") or 1e9) < 100,
        "no_errors": referent["errors"] == 0 and baseline["errors"] == 0,
        "acknowledged_submissions": referent["acknowledged"],
        "stored_submissions": stored,
        "every_acknowledged_submission_stored": stored == referent["acknowledged"],
    }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few seconds per phase (smoke check)")
    parser.add_argument("-o", "--output", type=Path, default=None, help="write the JSON here too")
    args = parser.parse_args(argv)
    results = run(QUICK if args.quick else FULL)
    text = json.dumps(results, indent=2, ensure_ascii=False)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
    checks = results["checks"]
    ok = all(
        checks[k]
        for k in (
            "throughput_at_least_half_of_baseline",
            "p99_under_100ms",
            "no_errors",
            "every_acknowledged_submission_stored",
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
