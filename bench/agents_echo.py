"""The Microsoft 365 Agents SDK echo bot (botbuilder's successor), as the SDK's quickstart sample
writes it, for bench/teams_load.py's second baseline.

It runs only in the bench-only venv bench/.venv-agents (bench/agents-requirements.txt), never in
Referent's own: the SDK is no dependency of Referent. teams_load.py starts it as a subprocess:

    bench/.venv-agents/bin/python bench/agents_echo.py [--port 0]

It prints one JSON line on stdout once it listens ({"port": …, "versions": {…}}) and serves
until SIGTERM/SIGINT. Unauthenticated, as the Bot Framework Emulator's local mode: no app id, no
client secret, anonymous requests allowed; the reply goes to the activity's serviceUrl (the fake
Bot Connector) through the SDK's own connector client.

The agent is the quickstart's: MsalConnectionManager + CloudAdapter + Authorization over a
MemoryStorage, an AgentApplication[TurnState] whose "message" route echoes the text with
`context.send_activity`, the quickstart's error handler, and `start_agent_process` behind the
SDK's `jwt_authorization_middleware` (which lets an anonymous request through only because the
connection is configured with ANONYMOUS_ALLOWED).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from importlib import metadata
from typing import Any

from aiohttp import web
from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware, start_agent_process
from microsoft_agents.hosting.core import (
    AgentApplication,
    Authorization,
    MemoryStorage,
    TurnContext,
    TurnState,
)

PACKAGES = (
    "microsoft-agents-hosting-aiohttp",
    "microsoft-agents-hosting-core",
    "microsoft-agents-activity",
    "microsoft-agents-authentication-msal",
    "aiohttp",
)

# The quickstart reads its settings with load_configuration_from_env(os.environ); the anonymous
# local mode is a service connection with no client id and anonymous requests allowed.
ENVIRONMENT = {
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED": "true",
}


def build_app() -> web.Application:
    """The quickstart's agent and server, minus its welcome and `hello` routes (never hit here)."""
    config = load_configuration_from_env(ENVIRONMENT)
    storage = MemoryStorage()
    connection_manager = MsalConnectionManager(**config)
    adapter = CloudAdapter(connection_manager=connection_manager)
    authorization = Authorization(storage, connection_manager, **config)
    agent_app = AgentApplication[TurnState](
        storage=storage, adapter=adapter, authorization=authorization, **config
    )

    @agent_app.activity("message")
    async def on_message(context: TurnContext, _state: TurnState) -> None:
        await context.send_activity(f"you said: {context.activity.text}")

    @agent_app.error
    async def on_error(context: TurnContext, error: Exception) -> None:
        print(f"[on_turn_error] unhandled error: {error!r}", file=sys.stderr)
        await context.send_activity("The bot encountered an error or bug.")

    async def entry_point(request: web.Request) -> web.Response:
        response = await start_agent_process(request, agent_app, adapter)
        if response is None:  # CloudAdapter.process always answers; say so if it ever stops
            raise RuntimeError("start_agent_process gave no response")
        return response

    app = web.Application(middlewares=[jwt_authorization_middleware])
    app.router.add_post("/api/messages", entry_point)
    app["agent_configuration"] = connection_manager.get_default_connection_configuration()
    return app


def versions() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


async def serve(port: int) -> None:
    runner = web.AppRunner(build_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(json.dumps({"port": int(runner.addresses[0][1]), "versions": versions()}), flush=True)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed on stdout)")
    parser.add_argument("--log-level", default="ERROR")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level)
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
