"""Sending a planned pass: each job is claimed in the reminder log, sent, and marked, so it goes
out once across replicas.

A bounded pool of workers takes the jobs; each one: claim in the log → wait for the platform's
gate → send → mark sent (or failed, releasing the claim for a later pass). A direct message is
tried one platform at a time, in the order the plan gives: a platform that has no such user
(handlers.ports.NotFound) passes it on to the next, and a member no platform knows is marked
unreachable, which is no failure. A claim whose sender died is taken over after the claim
timeout. Nothing here raises for a delivery problem: every result lands in the PassReport.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from handlers.context import HandlerContext
from handlers.events import DirectTarget
from handlers.ports import DeliveryError, Messenger, NotFound
from handlers.reminders.fanout import LogWriter, RateGate
from handlers.reminders.plan import Job, Skip
from handlers.reminders.report import (
    NOT_FOUND,
    Outcome,
    PassOptions,
    PassReport,
    PlannedReminder,
    unreachable_reason,
)
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

    async def _deliver(self, job: Job, target: DirectTarget | None) -> str:
        if target is not None:
            messenger = self._messenger(target.platform)
            if messenger is None:
                raise DeliveryError(f"{target.platform} is not configured")
            return await messenger.send_direct(target, job.reply())
        platform = job.planned.platform or ""
        messenger = self._messenger(platform)
        if messenger is None:
            raise DeliveryError(f"{platform} is not configured")
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
        claimed_at = time.monotonic()
        # A direct message is tried one platform at a time; "no such user" moves on to the next.
        targets: tuple[DirectTarget | None, ...] = (
            (job.direct, *job.fallbacks) if job.direct is not None else (None,)
        )
        not_found: list[tuple[str, str]] = []  # (platform, why) of each platform that said so
        for target in targets:
            platform = target.platform if target is not None else job.planned.platform or ""
            try:
                ref = await self._attempt(job, target, platform, claim, writer, claimed_at)
            except NotFound as exc:
                not_found.append((platform, str(exc)))
                continue
            if ref is None:  # released (failed, or handed back): the report has it
                return
            try:
                await writer.sent(claim)
            except Exception as exc:
                # Delivered but not recorded: the claim will look stale after the timeout and the
                # reminder may go out again. Logged loudly; the report counts it as sent.
                log.error("reminder %s to %s sent but not recorded: %s", job.key, job.planned.recipient, exc)
            self.report.sent.append(Outcome(_on_platform(job.planned, target), ref, claim.attempt))
            return
        await self._unreachable(job, claim, writer, not_found)

    async def _attempt(
        self,
        job: Job,
        target: DirectTarget | None,
        platform: str,
        claim: repo.Claim,
        writer: LogWriter,
        claimed_at: float,
    ) -> str | None:
        """Send to one target, waiting out the platform's pauses within the pass. The message ref;
        None when the claim was released (the report has the outcome). Raises NotFound."""
        gate = self.gate(platform)
        tries = 0
        hold_limit = self.options.claim_timeout.total_seconds() * 0.8
        while True:
            # Within the pass a job waits at most `max_wait_in_pass` in all; a longer pause hands
            # the claim back with the pause's end as its retry time, which every replica honours.
            budget = max(0.0, self.options.max_wait_in_pass - (time.monotonic() - claimed_at))
            blocked = await gate.acquire(max_wait=budget)
            if blocked is not None:
                retry_at = self.ctx.now() + timedelta(seconds=blocked)
                await self._release(
                    job, claim, writer, retry_at, "rate limited: waiting for Retry-After", target
                )
                return None
            if time.monotonic() - claimed_at > hold_limit:
                # Held so long that another replica may soon take it over: hand it back.
                await self._release(
                    job, claim, writer, self.ctx.now(), "claim held too long; released", target
                )
                return None
            tries += 1
            try:
                return await self._deliver(job, target)
            except NotFound:
                raise
            except DeliveryError as exc:
                now = self.ctx.now()
                if exc.permanent:
                    await self._release(
                        job, claim, writer, now + self.options.permanent_retry, str(exc), target
                    )
                    return None
                if exc.retry_after is not None:
                    pause = max(0.0, float(exc.retry_after))
                    gate.retry_after(pause)
                    if tries < self.options.max_tries_in_pass:
                        continue  # the gate decides: wait the pause out, or hand the claim back
                    await self._release(job, claim, writer, now + timedelta(seconds=pause), str(exc), target)
                    return None
                await self._release(job, claim, writer, now + self.options.transient_retry, str(exc), target)
                return None
            except Exception as exc:
                log.exception("sending reminder %s to %s failed", job.key.kind, job.planned.recipient)
                error = f"{type(exc).__name__}: {exc}"
                await self._release(
                    job, claim, writer, self.ctx.now() + self.options.transient_retry, error, target
                )
                return None

    async def _unreachable(
        self, job: Job, claim: repo.Claim, writer: LogWriter, not_found: list[tuple[str, str]]
    ) -> None:
        """No platform knew the member: recorded as unreachable (no failure), and looked for again
        after `permanent_retry` (they may have joined a platform meanwhile)."""
        platforms = ",".join(dict.fromkeys(p for p, _ in not_found))
        reason = unreachable_reason(NOT_FOUND, platforms)
        retry_at = self.ctx.now() + self.options.permanent_retry
        try:
            await writer.failed(claim, retry_at, reason, unreachable=True)
        except Exception as exc:  # the claim stays and is retried after the timeout
            log.error("could not release reminder %s: %s", job.key, exc)
        detail = "; ".join(why for _, why in not_found)
        self.report.unreachable.append(
            Outcome(job.planned, detail, claim.attempt, code=NOT_FOUND, about=platforms)
        )

    async def _release(
        self,
        job: Job,
        claim: repo.Claim,
        writer: LogWriter,
        retry_at: datetime,
        error: str,
        target: DirectTarget | None = None,
    ) -> None:
        try:
            await writer.failed(claim, retry_at, error)
        except Exception as exc:  # the claim stays and is retried after the timeout
            log.error("could not release reminder %s: %s", job.key, exc)
        # Reported on the platform that refused (a later one, after a "not found").
        self.report.failed.append(Outcome(_on_platform(job.planned, target), error, claim.attempt))


def _on_platform(planned: PlannedReminder, target: DirectTarget | None) -> PlannedReminder:
    """The reminder as it went out (or was refused): on the platform of that target."""
    if target is None or target.platform == planned.platform:
        return planned
    return replace(planned, platform=target.platform, address=target.user_id or target.email or "")


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
