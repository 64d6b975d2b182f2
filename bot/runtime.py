"""The long-lived parts of a running Referent: database, handler context, messengers, tasks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.config import Settings
from bot.links import DraftLinks
from handlers.context import HandlerContext, HandlerSettings, system_clock
from handlers.ports import Messenger
from storage.db import Database

log = logging.getLogger(__name__)


class MessengerRegistry:
    """Implements handlers.ports.Messengers: each adapter registers its outbound side here."""

    def __init__(self) -> None:
        self._by_platform: dict[str, Messenger] = {}

    def register(self, platform: str, messenger: Messenger) -> None:
        self._by_platform[platform] = messenger

    def for_platform(self, platform: str) -> Messenger | None:
        return self._by_platform.get(platform)


class Runtime:
    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.database_url)
        self.messengers = MessengerRegistry()
        self.links = DraftLinks(
            settings.public_url, secret=settings.link_key(), ttl_seconds=int(settings.link_ttl_days * 86400)
        )
        self.ctx = HandlerContext(
            db=self.db,
            settings=HandlerSettings(
                default_locale=settings.locale,
                default_timezone=settings.timezone,
                public_url=settings.public_url,
            ),
            clock=system_clock,
            messengers=self.messengers,
            links=self.links,
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closers: list[Any] = []

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str = "") -> asyncio.Task[Any]:
        """Run work after a request has been answered; logged if it fails, awaited at shutdown."""
        task = asyncio.create_task(coro, name=name or None)
        self._tasks.add(task)

        def _done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background task %s failed", t.get_name(), exc_info=t.exception())

        task.add_done_callback(_done)
        return task

    def on_close(self, closer: Any) -> None:
        """Register an async callable to run at shutdown (HTTP sessions and the like)."""
        self._closers.append(closer)

    async def drain(self, timeout: float = 10.0) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        await self.drain()
        for closer in reversed(self._closers):
            try:
                await closer()
            except Exception:  # pragma: no cover - shutdown is best effort
                log.exception("error while closing")
        await self.db.close()
