"""slack adapter (being built): mounts its route on the shared aiohttp app."""

from __future__ import annotations

from aiohttp import web

from bot.runtime import Runtime


def mount(app: web.Application, runtime: Runtime) -> None:
    """Placeholder until the slack adapter lands."""
