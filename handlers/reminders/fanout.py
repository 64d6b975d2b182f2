"""Sending many reminders quickly without breaking the exactly-once promise or the platform's limits.

Two pieces:

- `RateGate` (one per platform): when the platform answers 429 with Retry-After, every sender to
  that platform waits the pause out (not just the one that was refused, which would only make
  the others collect 429s of their own); optionally it also paces sends to a known rate, with
  aiolimiter's leaky bucket.
- `LogWriter`: the claims and state changes of many concurrent senders go to the database in as
  few transactions as possible, through storage's one group-commit engine (`GroupCommit`). A
  sender asks for its claim and waits; whatever queued up meanwhile goes to the database in one
  transaction. Under light load each claim is written at once; under a 10,000-member fan-out a
  transaction carries dozens, so the log keeps up with the platform instead of becoming the
  bottleneck (SQLite allows one writer at a time).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, GroupCommit
from storage.repositories import reminders as repo
from storage.repositories.reminders import Claim, LogKey

Clock = Callable[[], datetime]


class RateGate:
    """Pauses every sender to one platform while a Retry-After runs, and optionally paces sends.

    `rate` (sends per second) spaces sends evenly with a small burst allowance (aiolimiter's
    AsyncLimiter); None sends as fast as the concurrency bound allows and relies on the
    platform's 429s. The pause is ours: a limiter knows nothing of a platform's Retry-After, and
    the rule is that one refused send holds back every sender to that platform. Both use the
    monotonic clock: this is about real waiting, not the (possibly simulated) time of the pass.
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
        # A bucket of `burst` sends that drains at `rate` per second.
        self._limiter = AsyncLimiter(self.burst, self.burst / self.rate) if self.rate else None
        self._monotonic = monotonic
        self._sleep = sleep
        self._paused_until = 0.0
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
            remaining = self._paused_until - self._monotonic()
            if remaining > 0:
                if max_wait is not None and remaining > max_wait:
                    return remaining
                await self._sleep(remaining)
                continue
            if self._limiter is None:
                return None
            await self._limiter.acquire()
            if self._monotonic() >= self._paused_until:  # no pause began while it waited
                return None

    def retry_after(self, seconds: float) -> None:
        """The platform said "not before `seconds`": hold every sender to it."""
        seconds = max(0.0, float(seconds))
        now = self._monotonic()
        until = now + seconds
        if until > self._paused_until:
            if self._paused_until <= now:
                self.pauses += 1
            self.paused_seconds += until - max(self._paused_until, now)
            self._paused_until = until


@dataclass(frozen=True, slots=True)
class _Op:
    """One queued change to the reminder log."""

    kind: str  # "claim", "sent" or "failed"
    key: LogKey | None = None
    existing_id: int | None = None
    claim: Claim | None = None
    retry_at: datetime | None = None
    error: str = ""
    unreachable: bool = False  # a "failed" that found the member on no platform


class LogWriter:
    """Group commit for the reminder log: claims, sent and failed marks, batched per transaction.

    A facade over storage.db.GroupCommit (the same engine as the submission hot path), scoped to
    one pass: it supplies the log's batch body and its retries (a deadlock or serialization
    failure between replicas rolls the batch back whole, so it runs again).
    """

    RETRIES = 3  # after the first try: four in all

    def __init__(
        self,
        db: Database,
        *,
        worker: str,
        clock: Clock,
        claim_timeout_seconds: float,
        max_attempts: int,
    ) -> None:
        self._worker = worker
        self._clock = clock
        self._timeout = claim_timeout_seconds
        self._max_attempts = max_attempts
        self._queue: GroupCommit[_Op, object] = GroupCommit(
            db,
            async_body=self._write,
            max_batch=4096,
            retries=self.RETRIES,
            name="reminder-log-writer",
        )

    @property
    def transactions(self) -> int:
        return self._queue.batches

    async def __aenter__(self) -> LogWriter:
        await self._queue.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._queue.__aexit__(exc_type, exc, tb)

    async def claim(self, key: LogKey, existing_id: int | None) -> Claim | None:
        """This worker's claim on the reminder, or None when it is taken (another replica, a
        previous pass) or not yet due for a retry."""
        result = await self._queue.submit(_Op("claim", key=key, existing_id=existing_id))
        return result if isinstance(result, Claim) else None

    async def sent(self, claim: Claim) -> None:
        await self._queue.submit(_Op("sent", claim=claim))

    async def failed(
        self, claim: Claim, retry_at: datetime, error: str, *, unreachable: bool = False
    ) -> bool:
        """Release the claim until `retry_at`; whether this worker still held it. `unreachable`:
        no platform knew the member (stored as such, with `error` as the reason)."""
        op = _Op("failed", claim=claim, retry_at=retry_at, error=error, unreachable=unreachable)
        return bool(await self._queue.submit(op))

    async def _write(self, session: AsyncSession, ops: list[_Op]) -> list[object]:
        """One transaction: the claims first (in one statement per chunk), then the marks."""
        now = self._clock()
        claims = [op for op in ops if op.kind == "claim" and op.key is not None]
        won: dict[LogKey, Claim] = {}
        if claims:
            won = {
                c.key: c
                for c in await repo.claim_many(
                    session,
                    [op.key for op in claims if op.key is not None and op.existing_id is None],
                    [op.existing_id for op in claims if op.existing_id is not None],
                    worker=self._worker,
                    now=now,
                    stale_before=now - timedelta(seconds=self._timeout),
                    max_attempts=self._max_attempts,
                )
            }
        sent = [op.claim for op in ops if op.kind == "sent" and op.claim is not None]
        if sent:
            await repo.mark_sent(session, sent, now=now)
        results: list[object] = []
        for op in ops:
            if op.kind == "claim" and op.key is not None:
                results.append(won.get(op.key))
            elif op.kind == "failed" and op.claim is not None and op.retry_at is not None:
                results.append(
                    await repo.mark_failed(
                        session,
                        op.claim,
                        worker=self._worker,
                        retry_at=op.retry_at,
                        error=op.error,
                        state=repo.ReminderState.UNREACHABLE if op.unreachable else repo.ReminderState.FAILED,
                    )
                )
            else:
                results.append(None)
        return results
