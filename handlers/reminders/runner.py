"""The reminder pass: who is due which reminder now, and sending each exactly once.

One pass (run by the scheduler every few minutes, or by `referent remind`):

1. **Plan** (plan.py, pure): for each meeting of a group with reminders on, work out from the
   group's settings which reminder is due at `now` (see schedule.py); only then load, here, the
   group's members with their submitted / forfall / muted flags and chat identities in one query,
   and the meeting's reminder log in another. At most one direct message per member per pass.
2. **Skip** what was missed: an earlier reminder whose time passed unsent (the bot was down) is
   logged as skipped, so the member gets the later one only.
3. **Send** (send.py), bounded by a worker pool, each reminder as: claim in the log → wait for
   the platform's gate → send → mark sent (or failed, releasing the claim for a later pass).

The pass never raises for a delivery problem: everything lands in the PassReport, which the CLI
prints as a table and the scheduler logs.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import datetime, timedelta

from handlers.context import HandlerContext
from handlers.reminders.plan import Due, Job, MeetingRows, PlanEnv, Planner, Skip, due_now
from handlers.reminders.report import Outcome, PassOptions, PassReport, PlannedReminder
from handlers.reminders.send import Sender, write_skips
from storage.models import Meeting
from storage.repositories import reminders as repo

__all__ = [
    "Outcome",
    "PassOptions",
    "PassReport",
    "PlannedReminder",
    "default_worker_id",
    "plan_pass",
    "run_reminder_pass",
]

log = logging.getLogger(__name__)

# Meetings that ended longer ago than this are not looked at (their deadlines are long gone).
LOOKBACK = timedelta(days=120)


def default_worker_id() -> str:
    """Host, process and a random tag: unique per pass runner, readable in the log table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _env(ctx: HandlerContext) -> PlanEnv:
    messengers, links = ctx.messengers, ctx.links

    def available(platform: str) -> bool:
        return messengers is not None and messengers.for_platform(platform) is not None

    def draft_url(meeting: Meeting, locale: str) -> str | None:
        return links.draft_url(meeting, "html", locale) if links is not None else None

    return PlanEnv(available, ctx.settings.default_locale, draft_url if links is not None else None)


async def _rows(ctx: HandlerContext, due: Due) -> MeetingRows:
    """The rows one meeting's plan reads: a fixed number of queries, none per member."""
    meeting, group = due.mg.meeting, due.mg.group
    async with ctx.db.session() as session:
        members = await repo.member_statuses(session, meeting.id, group.id)
        entries = await repo.log_entries(session, meeting.id, due.kinds())
        given = (
            await repo.input_given(session, meeting.id, [i.id for i in due.mg.input_items])
            if due.input_due
            else set()
        )
    return MeetingRows(members, entries, given)


async def plan_pass(
    ctx: HandlerContext, now: datetime, options: PassOptions | None = None
) -> tuple[list[Job], list[Skip], list[Outcome], list[PlannedReminder]]:
    """Everything due at `now`: jobs, skips, unreachable and deferred. Reads only; loads a
    meeting's rows only when something is due for it."""
    options = options or PassOptions()
    planner = Planner(_env(ctx), ctx.now(), options)
    async with ctx.db.session() as session:
        meetings = await repo.reminder_meetings(session, now - LOOKBACK)
    for mg in meetings:
        due = due_now(mg, now)
        if due.anything:
            planner.meeting(due, await _rows(ctx, due))
    plan = planner.plan
    return plan.jobs, plan.skips, plan.unreachable, plan.deferred


async def run_reminder_pass(
    ctx: HandlerContext,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    worker_id: str | None = None,
    options: PassOptions | None = None,
) -> PassReport:
    """One reminder pass as if at `now` (default: the context's clock).

    `now` decides what is due; claims and retry times use the context's clock, so `referent
    remind --now <another day>` cannot make a live claim look stale to a running server.
    `dry_run` plans and reports, and writes nothing.
    """
    started = time.monotonic()
    options = options or PassOptions()
    moment = now or ctx.now()
    worker = worker_id or default_worker_id()
    report = PassReport(now=moment, worker_id=worker, dry_run=dry_run)
    jobs, skips, unreachable, deferred = await plan_pass(ctx, moment, options)
    report.planned = [j.planned for j in jobs]
    report.unreachable = unreachable
    report.deferred = deferred
    if not dry_run:
        await write_skips(ctx, skips, worker, options)
    report.skipped = [s.outcome() for s in skips]
    if dry_run:
        report.elapsed_seconds = time.monotonic() - started
        return report
    await Sender(ctx, worker, options, report).run(jobs)
    report.elapsed_seconds = time.monotonic() - started
    if report.sent or report.failed:
        log.info(
            "reminder pass %s: %s in %.1fs",
            worker,
            ", ".join(f"{k} {v}" for k, v in report.counts().items() if v),
            report.elapsed_seconds,
        )
    return report
