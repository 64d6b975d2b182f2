"""Sending a planned pass: each job is claimed in the reminder log, sent, and marked, so it goes
out once across replicas.

A bounded pool of workers takes the jobs; each one: claim in the log → wait for the platform's
gate → send → mark sent (or failed, releasing the claim for a later pass). A claim whose sender
died is taken over after the claim timeout. Nothing here raises for a delivery problem: every
result lands in the PassReport.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from handlers.context import HandlerContext
from handlers.ports import DeliveryError, Messenger
from handlers.reminders.fanout import LogWriter, RateGate
from handlers.reminders.plan import Job, Skip
from handlers.reminders.report import Outcome, PassOptions, PassReport
from storage.repositories import reminders as repo

log = logging.getLogger(__name__)

# A configured platform rate is paced at this share of it: calls that leave evenly spaced arrive
# with jitter, and exactly at the limit a sliding window would refuse some (a 429 costs a second).
RATE_HEADROOM = 0.95


class Sender:
    """Runs the jobs through a bounded pool of workers: claim → gate → send → mark."""

    def __init__(self, ctx: HandlerContext, worker: str, options: PassOptions, report: PassReport) -> None:
        self.ctx = ctx
        self.worker = worker
        self.options = options
        self.report = report
        self.gates: dict[str, RateGate] = {}

    def gate(self, platform: str) -> RateGate:
        gate = self.gates.get(platform)
        if gate is None:
            rate = self.options.rates.get(platform)
            gate = self.gates[platform] = RateGate(rate * RATE_HEADROOM if rate else None)
        return gate

    def _messenger(self, platform: str) -> Messenger | None:
        return self.ctx.messengers.for_platform(platform) if self.ctx.messengers is not None else None

    async def run(self, jobs: list[Job]) -> None:
        if not jobs:
            return
        queue: asyncio.Queue[Job] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        async with LogWriter(
            self.ctx.db,
            worker=self.worker,
            clock=self.ctx.clock,
            claim_timeout_seconds=self.options.claim_timeout.total_seconds(),
            max_attempts=self.options.max_attempts,
        ) as writer:

            async def work() -> None:
                while True:
                    try:
                        job = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    await self._one(job, writer)

            workers = [
                asyncio.create_task(work(), name=f"reminder-sender-{i}")
                for i in range(max(1, min(self.options.concurrency, len(jobs))))
            ]
            try:
                await asyncio.gather(*workers)
            except BaseException:
                for task in workers:
                    task.cancel()
                raise
        self.report.rate_limit_pauses = sum(g.pauses for g in self.gates.values())

    async def _deliver(self, job: Job) -> str:
        platform = job.planned.platform or ""
        messenger = self._messenger(platform)
        if messenger is None:
            raise DeliveryError(f"{platform} is not configured")
        if job.direct is not None:
            return await messenger.send_direct(job.direct, job.reply())
        if job.channel is None:  # pragma: no cover - the planner gives every job a target
            raise DeliveryError("a reminder without a target", permanent=True)
        return await messenger.post(job.channel, job.reply(), thread_ref=job.thread_ref)

    async def _one(self, job: Job, writer: LogWriter) -> None:
        try:
            claim = await writer.claim(job.key, job.existing_id)
        except Exception as exc:  # the database refused: nothing was claimed, a later pass retries
            self.report.failed.append(Outcome(job.planned, f"claim failed: {exc}"))
            return
        if claim is None:
            self.report.taken += 1
            return
        gate = self.gate(job.planned.platform or "")
        claimed_at = time.monotonic()
        tries = 0
        hold_limit = self.options.claim_timeout.total_seconds() * 0.8
        while True:
            # Within the pass a job waits at most `max_wait_in_pass` in all; a longer pause hands
            # the claim back with the pause's end as its retry time, which every replica honours.
            budget = max(0.0, self.options.max_wait_in_pass - (time.monotonic() - claimed_at))
            blocked = await gate.acquire(max_wait=budget)
            if blocked is not None:
                retry_at = self.ctx.now() + timedelta(seconds=blocked)
                await self._release(job, claim, writer, retry_at, "rate limited: waiting for Retry-After")
                return
            if time.monotonic() - claimed_at > hold_limit:
                # Held so long that another replica may soon take it over: hand it back.
                await self._release(job, claim, writer, self.ctx.now(), "claim held too long; released")
                return
            tries += 1
            try:
                ref = await self._deliver(job)
            except DeliveryError as exc:
                now = self.ctx.now()
                if exc.permanent:
                    await self._release(job, claim, writer, now + self.options.permanent_retry, str(exc))
                    return
                if exc.retry_after is not None:
                    pause = max(0.0, float(exc.retry_after))
                    gate.retry_after(pause)
                    if tries < self.options.max_tries_in_pass:
                        continue  # the gate decides: wait the pause out, or hand the claim back
                    await self._release(job, claim, writer, now + timedelta(seconds=pause), str(exc))
                    return
                await self._release(job, claim, writer, now + self.options.transient_retry, str(exc))
                return
            except Exception as exc:
                log.exception("sending reminder %s to %s failed", job.key.kind, job.planned.recipient)
                error = f"{type(exc).__name__}: {exc}"
                await self._release(job, claim, writer, self.ctx.now() + self.options.transient_retry, error)
                return
            try:
                await writer.sent(claim)
            except Exception as exc:
                # Delivered but not recorded: the claim will look stale after the timeout and the
                # reminder may go out again. Logged loudly; the report counts it as sent.
                log.error("reminder %s to %s sent but not recorded: %s", job.key, job.planned.recipient, exc)
            self.report.sent.append(Outcome(job.planned, ref, claim.attempt))
            return

    async def _release(
        self, job: Job, claim: repo.Claim, writer: LogWriter, retry_at: datetime, error: str
    ) -> None:
        try:
            await writer.failed(claim, retry_at, error)
        except Exception as exc:  # the claim stays and is retried after the timeout
            log.error("could not release reminder %s: %s", job.key, exc)
        self.report.failed.append(Outcome(job.planned, error, claim.attempt))


async def write_skips(ctx: HandlerContext, skips: Sequence[Skip], worker: str, options: PassOptions) -> int:
    if not skips:
        return 0
    lease_now = ctx.now()
    by_reason: dict[str, list[Skip]] = {}
    for s in skips:
        by_reason.setdefault(s.reason, []).append(s)
    written = 0
    async with ctx.db.write() as session:
        for reason, group in by_reason.items():
            written += await repo.mark_skipped(
                session,
                [s.key for s in group if s.existing_id is None],
                [s.existing_id for s in group if s.existing_id is not None],
                worker=worker,
                now=lease_now,
                stale_before=lease_now - options.claim_timeout,
                reason=reason,
            )
    return written
