"""Load test of the Teams path: `@Referent runde …` activities at the real server and, in the same
run, at two bare echo bots (the baselines), all against the same fake Bot Connector: botbuilder's
and the Microsoft 365 Agents SDK's (botbuilder's successor).

    .venv/bin/python bench/teams_load.py            # the full run (about 5 minutes)
    .venv/bin/python bench/teams_load.py --quick    # about a minute, for a smoke check
    .venv/bin/python bench/teams_load.py -o out/teams_load.json

Four child processes: the fake Bot Connector (bot/offline/fakes/bot_connector.py; the activities'
`serviceUrl`), Referent (the real aiohttp app on a temporary SQLite database with a group bound
to the Teams channel, a roster whose e-mails match the connector's members, and an open meeting),
and the two baselines:

- botbuilder ("baseline"): CloudAdapter + ConfigurationBotFrameworkAuthentication + an
  ActivityHandler that echoes through `turn_context.send_activity` (botbuilder's msrest connector
  client, which sends with `requests` in a thread pool, one new connection per reply);
- the Agents SDK ("agents_sdk"): bench/agents_echo.py, the SDK quickstart's echo agent
  (AgentApplication + CloudAdapter + start_agent_process). The SDK is no dependency of Referent:
  it runs in a bench-only venv, bench/.venv-agents, made on first use from the pinned
  bench/agents-requirements.txt (`python -m venv` + pip), as a plain subprocess.

All run unauthenticated, as the Emulator does (Referent with REFERENT_TEAMS_EMULATOR=1). This
process drives each in turn with the same activity builders:

1. warm-up (first member look-ups, SQLite pages, Python imports on first use);
2. throughput: 100 concurrent connections, each posting its next activity as soon as the previous
   one is answered, for a fixed time; reports activities/s;
3. latency at a fixed offered rate (open loop): 100 activities/s, each sent on schedule whether or
   not earlier ones were answered; p50/p99 measured from the scheduled send time, so queueing
   shows. All three bots send their reply inside the turn, so the HTTP answer comes after it.

Every Referent activity is a distinct message (its own id), so each adds a round-table post; at
the end the stored submissions must equal the answered activities, and the connector must have
received a reply for each (the echo bots are held to the same: a reply per answered activity).
The results are JSON; a one-line-per-bot summary goes to stderr.

Aims: Referent's throughput at least 5x botbuilder's and at least 2x the Agents SDK echo's;
p99 at 100/s under 150 ms and no worse than the Agents SDK echo's; no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
from loadgen import Phase, closed_loop, open_loop, send_one

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

AGENTS_VENV = BENCH / ".venv-agents"
AGENTS_REQUIREMENTS = BENCH / "agents-requirements.txt"
AGENTS_ECHO = BENCH / "agents_echo.py"

APP_ID = "3c1f6a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
TENANT = "7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d"
USERS = 200  # distinct members posting
CONCURRENCY = 100
RATE = 100.0
CLIENT_TIMEOUT_S = 60.0


def _users() -> list[Any]:
    from bot.offline.fakes.teams_activities import fictional_user

    return [fictional_user("Testperson", f"Nr{i:04d}", "example.no", n=i) for i in range(USERS)]


# ---------------------------------------------------------------- servers (child processes)


def _quiet_logging() -> None:
    import logging

    logging.basicConfig(level=logging.ERROR)
    for name in ("botbuilder", "msrest", "aiohttp.access", "bot", "handlers", "sqlalchemy", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


async def _serve_connector(ready: Any, stop: Any) -> None:
    from bot.offline.fakes.bot_connector import FakeBotConnector

    connector = FakeBotConnector(_users(), tenant_id=TENANT, record=False)
    url = await connector.start()
    ready.put(url)
    await asyncio.get_running_loop().run_in_executor(None, stop.wait)
    await connector.stop()


async def _serve_referent(db_path: str, ready: Any, stop: Any) -> None:
    from aiohttp import web

    from bot.app import RUNTIME_KEY, create_app
    from bot.config import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
        MICROSOFT_APP_ID="",
        REFERENT_TEAMS_EMULATOR=True,  # unauthenticated Teams on loopback, as the Emulator runs it
        SLACK_BOT_TOKEN="",
        SLACK_SIGNING_SECRET="",
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


async def _seed(db: Any) -> None:
    """What `oppsett`, `roster import` and `mote ny` would leave: a group bound to the Teams
    channel, a roster whose e-mails match the connector's members, an open meeting."""
    from datetime import UTC, datetime, timedelta

    from bot.offline.fakes.teams_activities import TeamsScenario
    from storage.models import ChannelBinding, Group, Meeting, MeetingStatus, Member, Platform, Role

    scenario = TeamsScenario(service_url="http://127.0.0.1/", app_id=APP_ID, tenant_id=TENANT)
    async with db.session() as session:
        group = Group(name="Faggruppe for lasttest", organisation="Testregionen")
        session.add(group)
        await session.flush()
        session.add(
            ChannelBinding(
                group_id=group.id,
                platform=Platform.TEAMS,
                workspace_id=TENANT,
                channel_id=scenario.channel_id,
            )
        )
        for user in _users():
            first, _, last = user.name.partition(" ")
            session.add(
                Member(
                    group_id=group.id,
                    first_name=first,
                    last_name=last,
                    organisation="Testkommune",
                    email=user.email,
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
    """A bare botbuilder echo bot, as the BotBuilder samples write it."""
    from aiohttp import web
    from botbuilder.core import ActivityHandler, TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

    class Config:
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    class EchoBot(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity(f"Echo: {turn_context.activity.text}")

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        response = await adapter.process(request, bot)
        return response or web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    ready.put(int(runner.addresses[0][1]))
    await asyncio.get_running_loop().run_in_executor(None, stop.wait)
    await runner.cleanup()


def agents_python() -> Path:
    """The bench-only venv's interpreter, made (or remade) when the pinned requirements change.

    The Agents SDK must not enter Referent's venv, so it gets its own; pip reads the same
    index configuration as `make install`."""
    python = AGENTS_VENV / "bin" / "python"
    stamp = AGENTS_VENV / ".requirements"
    wanted = AGENTS_REQUIREMENTS.read_text(encoding="utf-8")
    if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        return python
    print(f"teams_load: making the bench-only venv {AGENTS_VENV} ...", file=sys.stderr)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(AGENTS_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(AGENTS_REQUIREMENTS)], check=True
    )
    stamp.write_text(wanted, encoding="utf-8")
    return python


@contextmanager
def _agents_echo() -> Iterator[tuple[int, int, dict[str, Any]]]:
    """bench/agents_echo.py in the bench-only venv; yields its port, pid and the SDK's versions."""
    process = subprocess.Popen(
        [str(agents_python()), str(AGENTS_ECHO)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    try:
        line = process.stdout.readline() if process.stdout else b""
        if not line:
            raise RuntimeError(f"agents_echo.py exited before listening (status {process.wait()})")
        ready = json.loads(line)
        yield int(ready["port"]), process.pid, dict(ready["versions"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - a wedged child
            process.kill()
            process.wait()


def _child(kind: str, db_path: str, ready: Any, stop: Any) -> None:
    _quiet_logging()
    if kind == "connector":
        asyncio.run(_serve_connector(ready, stop))
    elif kind == "referent":
        asyncio.run(_serve_referent(db_path, ready, stop))
    else:
        asyncio.run(_serve_baseline(ready, stop))


# ------------------------------------------------------------------------------ the client


class Activities:
    """Real-shaped channel messages `@Referent runde …`, each with its own id."""

    def __init__(self, service_url: str) -> None:
        from bot.offline.fakes.teams_activities import TeamsScenario

        self.scenario = TeamsScenario(service_url=service_url, app_id=APP_ID, tenant_id=TENANT)
        self.users = _users()
        self.n = 0

    def next(self) -> tuple[bytes, dict[str, str]]:
        self.n += 1
        user = self.users[self.n % USERS]
        activity = self.scenario.channel_message(
            user, f"runde Lasttest-innlegg nr. {self.n}: status og planer"
        )
        return json.dumps(activity).encode(), HEADERS


HEADERS = {"Content-Type": "application/json"}
OK = (200, 201, 202)


async def _connector_stats(connector_url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(connector_url + "_fake/stats") as response:
        data = await response.json()
        assert isinstance(data, dict)
        return data


# ---------------------------------------------------------------------------------- the run


@dataclass
class Plan:
    warmup: int
    throughput_s: float
    latency_s: float


FULL = Plan(warmup=400, throughput_s=15.0, latency_s=30.0)
QUICK = Plan(warmup=200, throughput_s=3.0, latency_s=3.0)


def _cpu_s(pid: int | None) -> float | None:
    """User + system CPU seconds of a process, all its threads (Linux /proc); None elsewhere.

    CPU time per activity moves far less than throughput when other jobs share the machine."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_us_per(before: float | None, after: float | None, count: int) -> float | None:
    if before is None or after is None or not count:
        return None
    return round((after - before) * 1e6 / count, 1)


async def drive(
    name: str, url: str, connector_url: str, plan: Plan, pids: tuple[int | None, int | None] = (None, None)
) -> dict[str, Any]:
    """Warm-up, closed loop, open loop against one bot. `pids`: the bot's and the connector's
    processes, for CPU time per activity in the closed loop (bot, connector, this client)."""
    bot_pid, connector_pid = pids
    source = Activities(connector_url)
    before = await _connector_stats(connector_url)
    warm = Phase(f"{name}-warmup", 0)
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=20), timeout=timeout) as session:
        started = time.perf_counter()
        for chunk in range(0, plan.warmup, 20):
            batch = min(20, plan.warmup - chunk)
            await asyncio.gather(
                *(send_one(session, url, source, warm, time.perf_counter(), OK) for _ in range(batch))
            )
        warm.duration_s = time.perf_counter() - started
    cpu_before = (_cpu_s(bot_pid), _cpu_s(connector_pid), time.process_time())
    throughput = await closed_loop(
        url,
        source,
        CONCURRENCY,
        plan.throughput_s,
        f"{name}-throughput",
        ok_statuses=OK,
        timeout_s=CLIENT_TIMEOUT_S,
    )
    cpu_after = (_cpu_s(bot_pid), _cpu_s(connector_pid), time.process_time())
    await asyncio.sleep(1.0)  # let the server settle between phases
    latency = await open_loop(
        url, source, RATE, plan.latency_s, f"{name}-latency", ok_statuses=OK, timeout_s=CLIENT_TIMEOUT_S
    )
    await asyncio.sleep(0.5)
    after = await _connector_stats(connector_url)
    answered = warm.ok + throughput.ok + latency.ok
    return {
        "warmup": warm.summary(),
        "throughput": {
            "concurrency": CONCURRENCY,
            "activities_per_s": round(throughput.ok / throughput.duration_s, 1)
            if throughput.duration_s
            else 0.0,
            **throughput.summary(),
            "cpu_us_per_activity": {
                part: _cpu_us_per(cpu_before[i], cpu_after[i], throughput.ok)
                for i, part in enumerate(("bot", "connector", "client"))
            },
        },
        "latency": {"offered_rate_per_s": RATE, **latency.summary()},
        "answered": answered,
        "errors": warm.errors + throughput.errors + latency.errors,
        "replies_at_connector": after["activities"] - before["activities"],
        "connections_to_connector": after["connections"] - before["connections"],
    }


def _start(kind: str, db_path: str = "") -> tuple[mp.process.BaseProcess, Any, Any]:
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    process = ctx.Process(target=_child, args=(kind, db_path, ready, stop), daemon=True)
    process.start()
    return process, ready.get(timeout=90), stop


def _stop(process: mp.process.BaseProcess, stop: Any) -> None:
    stop.set()
    process.join(timeout=30)
    if process.is_alive():  # pragma: no cover - a wedged child
        process.terminate()


def _stored(db_path: str) -> int:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM submissions").fetchone()[0])


BOTS = ("baseline", "agents_sdk", "referent")  # baseline: the botbuilder echo bot


def _drive_bot(
    kind: str, db_path: str, connector: tuple[str, int | None], plan: Plan, results: dict[str, Any]
) -> None:
    connector_url, connector_pid = connector
    if kind == "agents_sdk":
        with _agents_echo() as (port, pid, versions):
            results["agents_sdk_versions"] = versions
            url = f"http://127.0.0.1:{port}/api/messages"
            results[kind] = asyncio.run(drive(kind, url, connector_url, plan, (pid, connector_pid)))
        return
    process, port, stop = _start(kind, db_path)
    try:
        url = f"http://127.0.0.1:{port}/api/messages"
        results[kind] = asyncio.run(drive(kind, url, connector_url, plan, (process.pid, connector_pid)))
    finally:
        _stop(process, stop)


def _versus(referent: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Referent against one echo bot: throughput ratio and both sides' open-loop p50/p99."""
    ours, theirs = referent["throughput"]["activities_per_s"], other["throughput"]["activities_per_s"]
    ratio = ours / max(theirs, 1e-9)
    return {
        "throughput_ratio": round(ratio, 2),
        "activities_per_s": [ours, theirs],
        "p50_ms_at_100_per_s": [referent["latency"].get("p50_ms"), other["latency"].get("p50_ms")],
        "p99_ms_at_100_per_s": [referent["latency"].get("p99_ms"), other["latency"].get("p99_ms")],
        "bot_cpu_us_per_activity": [
            referent["throughput"]["cpu_us_per_activity"]["bot"],
            other["throughput"]["cpu_us_per_activity"]["bot"],
        ],
    }


def run(plan: Plan) -> dict[str, Any]:
    results: dict[str, Any] = {
        "bench": "teams_load",
        "plan": asdict(plan),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        },
    }
    agents_python()  # make the bench-only venv before anything is timed
    with tempfile.TemporaryDirectory(prefix="referent-bench-") as tmp:
        db_path = str(Path(tmp) / "referent.db")
        connector, connector_url, connector_stop = _start("connector")
        try:
            for kind in BOTS:
                _drive_bot(kind, db_path, (str(connector_url), connector.pid), plan, results)
        finally:
            _stop(connector, connector_stop)
        stored = _stored(db_path)
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    referent, baseline, agents = results["referent"], results["baseline"], results["agents_sdk"]
    versus_botbuilder = _versus(referent, baseline)
    versus_agents = _versus(referent, agents)
    p99 = referent["latency"].get("p99_ms")
    agents_p99 = agents["latency"].get("p99_ms")
    results["versus"] = {"botbuilder_echo": versus_botbuilder, "agents_sdk_echo": versus_agents}
    results["checks"] = {
        "throughput_ratio": versus_botbuilder["throughput_ratio"],
        "throughput_at_least_5x_baseline": versus_botbuilder["throughput_ratio"] >= 5.0,
        "throughput_ratio_vs_agents_sdk": versus_agents["throughput_ratio"],
        "throughput_at_least_2x_agents_sdk": versus_agents["throughput_ratio"] >= 2.0,
        "p99_ms_at_100_per_s": p99,
        "p99_under_150ms": (p99 if p99 is not None else 1e9) < 150,
        "agents_sdk_p99_ms_at_100_per_s": agents_p99,
        "p99_no_worse_than_agents_sdk": (p99 if p99 is not None else 1e9)
        <= (agents_p99 if agents_p99 is not None else 0.0),
        "no_errors": referent["errors"] == 0,
        "baseline_errors": baseline["errors"],
        "agents_sdk_errors": agents["errors"],
        "answered_activities": referent["answered"],
        "stored_submissions": stored,
        "every_answered_submission_stored": stored == referent["answered"],
        "a_reply_for_every_activity": referent["replies_at_connector"] >= referent["answered"],
        "agents_sdk_replied_to_every_activity": agents["replies_at_connector"] >= agents["answered"] > 0,
        "baseline_replied_to_every_activity": baseline["replies_at_connector"] >= baseline["answered"] > 0,
    }
    return results


def summary(results: dict[str, Any]) -> str:
    """A few lines for people: each bot's figures, then Referent against each echo bot."""
    names = {"baseline": "botbuilder echo", "agents_sdk": "Agents SDK echo", "referent": "Referent"}
    lines = []
    for kind in BOTS:
        bot = results[kind]
        lat = bot["latency"]
        lines.append(
            f"{names[kind]:>16}: {bot['throughput']['activities_per_s']:8.1f} /s closed loop; "
            f"at {RATE:.0f}/s p50 {lat.get('p50_ms')} ms, p99 {lat.get('p99_ms')} ms; "
            f"errors {bot['errors']}; replies {bot['replies_at_connector']} for {bot['answered']} answered; "
            f"connections to the connector {bot['connections_to_connector']}; CPU µs/activity "
            f"(bot, connector, client) {tuple(bot['throughput']['cpu_us_per_activity'].values())}"
        )
    for key, label in (("botbuilder_echo", "botbuilder echo"), ("agents_sdk_echo", "Agents SDK echo")):
        v = results["versus"][key]
        lines.append(
            f"Referent vs {label}: {v['throughput_ratio']}x throughput; "
            f"p50 {v['p50_ms_at_100_per_s'][0]} vs {v['p50_ms_at_100_per_s'][1]} ms, "
            f"p99 {v['p99_ms_at_100_per_s'][0]} vs {v['p99_ms_at_100_per_s'][1]} ms; "
            f"bot CPU {v['bot_cpu_us_per_activity'][0]} vs {v['bot_cpu_us_per_activity'][1]} µs/activity"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few seconds per phase (smoke check)")
    parser.add_argument("-o", "--output", type=Path, default=None, help="write the JSON here too")
    args = parser.parse_args(argv)
    results = run(QUICK if args.quick else FULL)
    text = json.dumps(results, indent=2, ensure_ascii=False)
    print(text)
    print(summary(results), file=sys.stderr)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
    checks = results["checks"]
    keys = (
        "throughput_at_least_5x_baseline",
        "throughput_at_least_2x_agents_sdk",
        "p99_under_150ms",
        "p99_no_worse_than_agents_sdk",
        "no_errors",
        "every_answered_submission_stored",
        "agents_sdk_replied_to_every_activity",
    )
    return 0 if all(checks[k] for k in keys) else 1


if __name__ == "__main__":
    sys.exit(main())
