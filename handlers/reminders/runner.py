"""The reminder pass: who is due which reminder now, and sending each exactly once.

One pass (run by the scheduler every few minutes, or by `referent remind`):

1. **Plan** (plan.py, pure): for each meeting of a group with reminders on, work out from the
   group's settings which reminder is due at `now` (see schedule.py); only then load, here, the
   group's members with their submitted / forfall / muted flags and chat identities in one query,
   and the meeting's reminder log in another. At most one direct message per member per pass.
   When members about to be reminded are known only by e-mail on a platform that can list its
   users (Teams), its member lists are read first and those members linked.
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
from handlers.ports import Directory
from handlers.reminders.plan import (
    Due,
    Job,
    MeetingRows,
    PlanEnv,
    Planner,
    Skip,
    due_now,
    unlinked_platforms,
)
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
        follow_ups = await repo.open_follow_ups_before(session, meeting) if due.follow_ups_due else {}
    return MeetingRows(members, entries, given, follow_ups)


async def _read_directories(
    ctx: HandlerContext, due: Due, rows: MeetingRows, read: set[tuple[str, str]]
) -> int:
    """Before members known only by e-mail are reminded, let each platform that can list its
    users (handlers.ports.Directory: Teams) link them; once per platform and workspace a pass.
    Returns how many members were newly linked. A directory that fails is logged and passed over:
    the messenger still looks the member up by e-mail when sending."""
    messengers = ctx.messengers
    if messengers is None:
        return 0
    directories: dict[str, Directory] = {}
    for binding in due.mg.bindings:
        messenger: object = messengers.for_platform(str(binding.platform))
        if isinstance(messenger, Directory):
            directories[str(binding.platform)] = messenger
    if not directories:  # e.g. a Slack-only group: nothing to read, nothing to check
        return 0
    linked = 0
    for platform, workspace in unlinked_platforms(due, rows):
        directory = directories.get(platform)
        if directory is None or (platform, workspace) in read:
            continue
        read.add((platform, workspace))
        try:
            linked += await directory.sync_members(workspace)
        except Exception as exc:
            log.warning("reading the %s member lists of %s failed: %s", platform, workspace, exc)
    return linked


async def plan_pass(
    ctx: HandlerContext, now: datetime, options: PassOptions | None = None, *, read_directories: bool = False
) -> tuple[list[Job], list[Skip], list[Outcome], list[PlannedReminder]]:
    """Everything due at `now`: jobs, skips, unreachable and deferred. Loads a meeting's rows
    only when something is due for it. With `read_directories` (a real pass, not a dry run), it
    first lets platform directories link members known only by e-mail, which writes identities."""
    options = options or PassOptions()
    planner = Planner(_env(ctx), ctx.now(), options)
    async with ctx.db.session() as session:
        meetings = await repo.reminder_meetings(session, now - LOOKBACK)
    read: set[tuple[str, str]] = set()
    for mg in meetings:
        due = due_now(mg, now)
        if due.anything:
            rows = await _rows(ctx, due)
            if read_directories and await _read_directories(ctx, due, rows, read):
                rows = await _rows(ctx, due)
            planner.meeting(due, rows)
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
    jobs, skips, unreachable, deferred = await plan_pass(ctx, moment, options, read_directories=not dry_run)
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
