"""Sending many reminders quickly without breaking the exactly-once promise or the platform's limits.

Two pieces:

- `RateGate` (one per platform): when the platform answers 429 with Retry-After, every sender to
  that platform waits the pause out (not just the one that was refused, which would only make
  the others collect 429s of their own); optionally it also paces sends to a known rate.
- `LogWriter`: the claims and state changes of many concurrent senders are written in as few
  transactions as possible (group commit). A sender asks for its claim and waits; whatever
  queued up meanwhile goes to the database in one transaction. Under light load each claim is
  written at once; under a 10,000-member fan-out a transaction carries dozens, so the log keeps
  up with the platform instead of becoming the bottleneck (SQLite allows one writer at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy.exc import DBAPIError, OperationalError

from storage.db import Database
from storage.repositories import reminders as repo
from storage.repositories.reminders import Claim, LogKey

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class RateGate:
    """Pauses every sender to one platform while a Retry-After runs, and optionally paces sends.

    `rate` (sends per second) spaces sends evenly with a small burst allowance; None sends as fast
    as the concurrency bound allows and relies on the platform's 429s. Uses the monotonic clock:
    it is about real waiting, not the (possibly simulated) time of the pass.
    """

    def __init__(
        self,
        rate: float | None = None,
        *,
        burst: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.rate = rate if rate and rate > 0 else None
        self.burst = max(1.0, burst if burst is not None else (self.rate or 0) * 0.01)
        self._monotonic = monotonic
        self._sleep = sleep
        self._paused_until = 0.0
        self._tokens = 1.0  # no burst at the start: a fresh window may already hold others' calls
        self._refilled_at = monotonic()
        self.pauses = 0
        self.paused_seconds = 0.0

    @property
    def paused_until(self) -> float:
        return self._paused_until

    async def acquire(self, max_wait: float | None = None) -> float | None:
        """Wait until a send is allowed: after any Retry-After pause, and within the pace.

        Returns None when the caller may send; or, when a pause would outlast `max_wait`, the
        seconds the pause still has to run, without waiting (the caller hands its claim back).
        """
        while True:
            now = self._monotonic()
            if now < self._paused_until:
                remaining = self._paused_until - now
                if max_wait is not None and remaining > max_wait:
                    return remaining
                await self._sleep(remaining)
                continue
            if self.rate is None:
                return None
            self._tokens = min(self.burst, self._tokens + (now - self._refilled_at) * self.rate)
            self._refilled_at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            await self._sleep((1.0 - self._tokens) / self.rate)

    def retry_after(self, seconds: float) -> None:
        """The platform said "not before `seconds`": hold every sender to it."""
        seconds = max(0.0, float(seconds))
        until = self._monotonic() + seconds
        if until > self._paused_until:
            if self._paused_until <= self._monotonic():
                self.pauses += 1
            self.paused_seconds += until - max(self._paused_until, self._monotonic())
            self._paused_until = until
            self._tokens = 0.0


@dataclass
class _Pending:
    claims: list[tuple[LogKey, int | None, asyncio.Future[Claim | None]]] = field(default_factory=list)
    sent: list[tuple[Claim, asyncio.Future[None]]] = field(default_factory=list)
    failed: list[tuple[Claim, datetime, str, asyncio.Future[bool]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.claims or self.sent or self.failed)


class LogWriter:
    """Group commit for the reminder log: claims, sent and failed marks, batched per transaction."""

    RETRIES = 4

    def __init__(
        self,
        db: Database,
        *,
        worker: str,
        clock: Clock,
        claim_timeout_seconds: float,
        max_attempts: int,
    ) -> None:
        self._db = db
        self._worker = worker
        self._clock = clock
        self._timeout = claim_timeout_seconds
        self._max_attempts = max_attempts
        self._pending = _Pending()
        self._wake = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self.transactions = 0

    async def __aenter__(self) -> LogWriter:
        self._task = asyncio.create_task(self._run(), name="reminder-log-writer")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closed = True
        self._wake.set()
        if self._task is not None:
            if exc_type is not None and not issubclass(exc_type, Exception):
                # A crash (cancellation, interrupt) must not write anything more: that is the
                # case the claim timeout exists for.
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def claim(self, key: LogKey, existing_id: int | None) -> Claim | None:
        """This worker's claim on the reminder, or None when it is taken (another replica, a
        previous pass) or not yet due for a retry."""
        future: asyncio.Future[Claim | None] = asyncio.get_running_loop().create_future()
        self._pending.claims.append((key, existing_id, future))
        self._wake.set()
        return await future

    async def sent(self, claim: Claim) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.sent.append((claim, future))
        self._wake.set()
        await future

    async def failed(self, claim: Claim, retry_at: datetime, error: str) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.failed.append((claim, retry_at, error, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, _Pending()
            if batch:
                await self._flush(batch)
            if self._closed and not self._pending:
                return

    async def _flush(self, batch: _Pending) -> None:
        for attempt in range(self.RETRIES):
            try:
                won, fenced = await self._write(batch)
            except (OperationalError, DBAPIError) as exc:
                # Deadlock or serialisation failure between replicas, or a dropped connection:
                # the transaction rolled back as a whole, so it is safe to run it again.
                if attempt + 1 == self.RETRIES:
                    log.error("reminder log write failed %d times: %s", self.RETRIES, exc)
                    self._fail(batch, exc)
                    return
                await asyncio.sleep(0.05 * 2**attempt)
                continue
            except Exception as exc:
                log.exception("reminder log write failed")
                self._fail(batch, exc)
                return
            self.transactions += 1
            by_key = {c.key: c for c in won}
            for key, _, future in batch.claims:
                if not future.done():
                    future.set_result(by_key.get(key))
            for _, sent_future in batch.sent:
                if not sent_future.done():
                    sent_future.set_result(None)
            for claim, _, _, failed_future in batch.failed:
                if not failed_future.done():
                    failed_future.set_result(claim.log_id in fenced)
            return

    async def _write(self, batch: _Pending) -> tuple[list[Claim], set[int]]:
        now = self._clock()
        stale_before = now - timedelta(seconds=self._timeout)
        won: list[Claim] = []
        released: set[int] = set()
        async with self._db.write() as session:
            if batch.claims:
                new_keys = [k for k, existing, _ in batch.claims if existing is None]
                existing_ids = [existing for _, existing, _ in batch.claims if existing is not None]
                won = await repo.claim_many(
                    session,
                    new_keys,
                    existing_ids,
                    worker=self._worker,
                    now=now,
                    stale_before=stale_before,
                    max_attempts=self._max_attempts,
                )
            if batch.sent:
                await repo.mark_sent(session, [c for c, _ in batch.sent], now=now)
            for claim, retry_at, error, _ in batch.failed:
                if await repo.mark_failed(
                    session, claim, worker=self._worker, retry_at=retry_at, error=error
                ):
                    released.add(claim.log_id)
        return won, released

    @staticmethod
    def _fail(batch: _Pending, exc: BaseException) -> None:
        futures: list[asyncio.Future[object]] = []
        futures += [f for _, _, f in batch.claims]  # type: ignore[misc]
        futures += [f for _, f in batch.sent]  # type: ignore[misc]
        futures += [f for _, _, _, f in batch.failed]  # type: ignore[misc]
        for future in futures:
            if not future.done():
                future.set_exception(exc)
