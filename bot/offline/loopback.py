"""Run the real server on a loopback port in-process: for `referent demo`, tests and benchmarks."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from aiohttp import web

from bot.access_log import access_log_options
from bot.app import RUNTIME_KEY, create_app
from bot.config import Settings
from bot.runtime import Runtime


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    runtime: Runtime
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_server(settings: Settings, *, port: int | None = None) -> RunningServer:
    """Start `create_app(settings)` on 127.0.0.1 (startup hooks run, so SQLite is migrated)."""
    app = create_app(settings)
    runner = web.AppRunner(app, **access_log_options(settings))
    await runner.setup()
    port = port or free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return RunningServer(url=f"http://127.0.0.1:{port}", runtime=app[RUNTIME_KEY], runner=runner)
