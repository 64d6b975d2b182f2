"""Slack's 3-second answer window, kept for every slash command and click in flight at once.

Bolt's `process_before_response` holds the HTTP answer until the listener returns, and a lazy
listener acknowledges at once and answers later through the response_url. Neither gives what
members see today: the answer itself in the acknowledgement when the handler is quick (almost
always), and "working on it" plus a late answer only when it is not. So the listener waits for
its handler here, up to the window, and decides.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

# Slack gives up after 3 s; leave room for the network and the response itself.
ANSWER_DEADLINE_SECONDS = 2.3


class AnswerDeadlines:
    """Waits for a handler until it is done or Slack's answer window has passed, whichever comes
    first. One sweeper for every request in flight, instead of `asyncio.wait(timeout=…)` with a
    timer each: under load those timers, pushed onto and cancelled from the event loop's heap
    thousands of times a second, cost more than the rest of the adapter. The sweeper ticks every
    `tick` seconds, so a late answer is noticed at most that much after `seconds`."""

    def __init__(self, seconds: float, tick: float = 0.05) -> None:
        self.seconds = seconds
        self.tick = tick
        # (deadline, waiter) in arrival order, which is deadline order (every wait is as long).
        self._waiting: deque[tuple[float, asyncio.Future[bool]]] = deque()
        self._sweeper: asyncio.Task[None] | None = None

    async def in_time(self, task: asyncio.Future[Any]) -> bool:
        """True when `task` finished within the window, False when the window closed first."""
        if task.done():
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()

        def finished(_task: asyncio.Future[Any]) -> None:
            if not waiter.done():
                waiter.set_result(True)

        task.add_done_callback(finished)
        self._waiting.append((loop.time() + self.seconds, waiter))
        if self._sweeper is None:
            self._sweeper = loop.create_task(self._sweep(), name="slack-answer-deadlines")
        try:
            return await waiter
        finally:
            task.remove_done_callback(finished)

    def close(self) -> None:
        """Stop the sweeper (at shutdown); whoever still waits is told the window has closed."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        while self._waiting:
            _deadline, waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(False)

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                await asyncio.sleep(self.tick)
                now = loop.time()
                while self._waiting and (self._waiting[0][1].done() or self._waiting[0][0] <= now):
                    _deadline, waiter = self._waiting.popleft()
                    if not waiter.done():
                        waiter.set_result(False)
        finally:
            self._sweeper = None
