"""Start the real Referent aiohttp server on a loopback port, as `referent serve` would."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from aiohttp import web

from bot.app import RUNTIME_KEY, create_app
from bot.config import Settings
from bot.runtime import Runtime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    runtime: Runtime
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_server(settings: Settings) -> RunningServer:
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return RunningServer(url=f"http://127.0.0.1:{port}", runtime=app[RUNTIME_KEY], runner=runner)
