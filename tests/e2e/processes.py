"""The real `referent` command as separate OS processes, for tests that need what one process in
the test's own event loop cannot show: a server killed with SIGKILL and started again on the same
database, or two replicas sharing one PostgreSQL database.

Every process writes its output to a log file (not a pipe, which a chatty server could fill and
block on), only listens on 127.0.0.1, and runs with a clean environment: the caller's Slack,
Teams, database and Referent variables are dropped, and the working directory is the test's
temporary folder, so no `.env` from the checkout leaks in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.offline.fakes.slack_api import FakeSlackApi
from bot.offline.loopback import free_port

SIGNING_SECRET = "e2e-process-signing-secret-0123456789"
BOT_TOKEN = "xoxb-e2e-process-token"
_DROPPED_PREFIXES = ("SLACK_", "MICROSOFT_", "REFERENT_", "DATABASE_URL")


def referent_command() -> list[str]:
    """The installed console script next to this interpreter (the venv's), else `python -m`."""
    script = Path(sys.executable).with_name("referent")
    if script.exists():
        return [str(script)]
    found = shutil.which("referent")
    return [found] if found else [sys.executable, "-m", "bot.cli"]


def process_env(database_url: str, api: FakeSlackApi, **extra: str) -> dict[str, str]:
    """The environment the runtime contract names: Slack on (against the fake Web API), Teams
    unauthenticated (empty app id and the emulator opt-in; allowed because we bind to loopback)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
    env.update(
        {
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api.url,
            "MICROSOFT_APP_ID": "",
            "REFERENT_TEAMS_EMULATOR": "1",
            "REFERENT_LINK_SECRET": "e2e-process-link-secret",
            "REFERENT_PUBLIC_URL": "https://referent.example.no",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env


@dataclass
class ServerProcess:
    """`referent serve` on 127.0.0.1:`port`, started (and restarted) as its own OS process."""

    env: dict[str, str]
    workdir: Path
    name: str = "server"
    port: int = field(default_factory=free_port)
    scheduler: bool = False
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_path(self, start: int | None = None) -> Path:
        """The log of the `start`-th start (1-based; default the latest)."""
        return self.workdir / f"{self.name}-{start or self.starts}.log"

    def log(self, start: int | None = None) -> str:
        path = self.log_path(start)
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    async def start(self, timeout: float = 30.0) -> float:
        """Start the process and wait until GET /healthz answers 200; returns the seconds it took."""
        assert self.proc is None or self.proc.returncode is not None, "already running"
        self.starts += 1
        args = [*referent_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if not self.scheduler:
            args.append("--no-scheduler")
        began = time.monotonic()
        with self.log_path().open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *args,
                cwd=self.workdir,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C on the test run is not sent to it twice
            )
        await self.wait_ready(timeout)
        return time.monotonic() - began

    async def wait_ready(self, timeout: float) -> None:
        """Poll /healthz; fail early, with the log, if the process exits instead."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while True:
                if self.proc.returncode is not None:
                    raise AssertionError(
                        f"{self.name} exited with {self.proc.returncode} while starting:\n{self.log()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} not ready after {timeout} s:\n{self.log()}")
                await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing, as in a power cut or the OOM killer."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM and wait (aiohttp shuts down cleanly); SIGKILL if it does not go in time."""
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), grace)
        except TimeoutError:
            await self.kill()


async def run_cli(
    args: list[str], env: dict[str, str], workdir: Path, *, timeout: float = 60.0
) -> tuple[int, str]:
    """Run `referent <args>` to completion; returns (exit status, stdout and stderr together)."""
    proc = await asyncio.create_subprocess_exec(
        *referent_command(),
        *args,
        cwd=workdir,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except BaseException:  # timed out, or the test gave up on it (cancelled): never leave it running
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await asyncio.shield(proc.wait())
        raise
    assert proc.returncode is not None
    return proc.returncode, output.decode("utf-8", errors="replace")
