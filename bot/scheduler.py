"""Running the reminder pass: every few minutes inside `referent serve`, or once from `referent remind`.

The schedule itself (which reminder is due when) lives in handlers/reminders; this module only
decides *how often to look*. Every replica runs the same job: the reminder log's claims make sure
each reminder goes out once however many replicas look at the same moment (docs/replicas.md).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.runtime import Runtime
from handlers.commands.polls import close_due_polls
from handlers.i18n import format_moment, platform_names
from handlers.reminders import Outcome, PassOptions, PassReport, PlannedReminder, run_reminder_pass
from handlers.reminders.messages import lang, rt
from handlers.reminders.runner import default_worker_id
from handlers.retention import purge
from storage.zones import zone_or_default

log = logging.getLogger(__name__)

JOB_ID = "referent-reminder-pass"  # stable: a restart replaces the job instead of adding one
MIN_INTERVAL_SECONDS = 10
STARTUP_DELAY_SECONDS = 5.0  # let the server finish starting before the first pass


RETENTION_JOB_ID = "referent-retention"


def pass_options(runtime: Runtime) -> PassOptions:
    """Options for the server's passes: the defaults, paced at the configured platform rates."""
    return PassOptions(rates=runtime.settings.reminder_rate_map())


async def reminder_job(runtime: Runtime, worker_id: str) -> None:
    """One scheduled pass. Never raises: a failing pass is logged and the next one tries again."""
    try:
        report = await run_reminder_pass(runtime.ctx, worker_id=worker_id, options=pass_options(runtime))
    except Exception:
        log.exception("reminder pass failed; the next pass will try again")
        return
    if report.failed:
        log.warning(
            "reminder pass: %d failed, will be retried: %s", len(report.failed), report.failed[0].detail
        )
    await poll_close_job(runtime)


async def poll_close_job(runtime: Runtime) -> None:
    """Close the polls whose closing time has come (each exactly once across replicas) and
    refresh their posted copies. Never raises: the next pass tries again."""
    try:
        await close_due_polls(runtime.ctx)
    except Exception:
        log.exception("closing due polls failed; the next pass will try again")


def start_scheduler(runtime: Runtime) -> AsyncIOScheduler:
    """Start the interval job in the running event loop (call from the app's startup hook).

    `max_instances=1` keeps a slow pass from overlapping the next in this process; `coalesce`
    turns passes missed while the loop was busy into one; a little jitter keeps replicas that
    started together from querying the database at the same instant every time.
    """
    interval = max(MIN_INTERVAL_SECONDS, int(runtime.settings.reminder_interval_seconds))
    scheduler = AsyncIOScheduler(timezone=UTC, event_loop=asyncio.get_running_loop())
    scheduler.add_job(
        reminder_job,
        trigger="interval",
        seconds=interval,
        jitter=min(30, interval // 10),
        id=JOB_ID,
        name="reminder pass",
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=interval,
        next_run_time=datetime.now(UTC) + timedelta(seconds=STARTUP_DELAY_SECONDS),
        kwargs={"runtime": runtime, "worker_id": default_worker_id()},
    )
    scheduler.add_job(
        retention_job,
        trigger="interval",
        hours=6,
        jitter=600,
        id=RETENTION_JOB_ID,
        name="retention purge",
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC) + timedelta(seconds=STARTUP_DELAY_SECONDS * 2),
        kwargs={"runtime": runtime},
    )
    scheduler.start()
    log.info("reminder pass scheduled every %d s", interval)
    return scheduler


async def retention_job(runtime: Runtime) -> None:
    """Delete meetings past their retention and old delivery ids; safe on several replicas
    (deleting what another replica already deleted is a no-op)."""
    try:
        report = await purge(runtime.ctx, default_days=runtime.settings.retention_days)
    except Exception:
        log.exception("retention purge failed; the next run will try again")
        return
    if report.meetings_deleted:
        log.info("retention: deleted %d meeting(s) past their retention", report.meetings_deleted)
    others = (report.polls_deleted, report.identities_forgotten, report.references_forgotten)
    if any(others) or report.members_deleted:
        log.info(
            "retention: deleted %d poll(s) of no meeting, %d unused chat identit(ies), %d conversation "
            "reference(s), %d off-roster member(s)",
            report.polls_deleted,
            report.identities_forgotten,
            report.references_forgotten,
            report.members_deleted,
        )


# --- `referent remind` -------------------------------------------------------------------------


def _why(outcome: Outcome, lc: str) -> str:
    """The reason in the reader's language when there is a code for it, else the detail."""
    if outcome.code == "not_found":
        names = platform_names(outcome.about, lc) or rt(lc, "table.any_platform")
        return rt(lc, "table.why_not_found", about=names)
    if outcome.code:
        return rt(lc, f"table.why_{outcome.code}", about=outcome.about)
    return outcome.detail


def _rows(report: PassReport, lc: str = "nb") -> list[tuple[PlannedReminder, str, str]]:
    """(reminder, status key, detail) for every line of the table, in a stable order."""
    rows: list[tuple[PlannedReminder, str, str]] = []

    def add(items: list[Outcome], status: str) -> None:
        rows.extend((o.reminder, status, _why(o, lc)) for o in items)

    if report.dry_run:
        rows.extend((p, "planned", "") for p in report.planned)
    else:
        add(report.sent, "sent")
        add(report.failed, "failed")
    add(report.skipped, "skipped")
    add(report.unreachable, "unreachable")
    rows.extend((p, "deferred", "") for p in report.deferred)
    return sorted(rows, key=lambda r: (r[0].group, r[0].meeting_start, r[0].kind, r[0].recipient))


def render_report(report: PassReport, *, locale: str, timezone: str) -> Table | str:
    """The report as a table (or a one-line "nothing to send")."""
    lc = lang(locale)
    zone = zone_or_default(timezone)
    when = format_moment(report.now, zone.key, lc)
    rows = _rows(report, lc)
    if not rows:
        return rt(lc, "table.nothing", when=when)
    title = rt(lc, "table.dry_title" if report.dry_run else "table.title", when=when)
    table = Table(title=Text(title), title_justify="left")
    for key in ("due", "group", "meeting", "kind", "recipient", "platform", "address", "locale", "status"):
        table.add_column(rt(lc, f"table.{key}"), overflow="fold")
    for planned, status, detail in rows:
        cells = (
            planned.due_at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
            planned.group,
            planned.meeting_start.astimezone(zone).strftime("%d.%m.%Y"),
            planned.kind,
            planned.recipient,
            planned.platform or "",
            planned.address,
            planned.locale,
            rt(lc, f"table.{status}") + (f": {detail}" if detail and status != "sent" else ""),
        )
        table.add_row(*(Text(c) for c in cells))  # Text: names are data, never rich markup
    return table


def summary_line(report: PassReport, *, locale: str) -> str:
    lc = lang(locale)
    if report.dry_run:
        return rt(
            lc,
            "table.dry_summary",
            planned=len(report.planned),
            skipped=len(report.skipped),
            unreachable=len(report.unreachable),
        )
    return rt(
        lc,
        "table.summary",
        sent=len(report.sent),
        skipped=len(report.skipped),
        failed=len(report.failed),
        unreachable=len(report.unreachable),
        deferred=len(report.deferred),
    )


async def remind_command(
    runtime: Runtime, now: datetime | None, dry_run: bool, *, console: Console | None = None
) -> int:
    """`referent remind [--now ISO] [--dry-run]`: one pass, printed as a table.

    Exit status 0 when the pass ran and nothing failed (a dry run always), also when some
    members are unreachable (found on none of the group's platforms, or no e-mail on the roster:
    listed with why, and no failure); 1 when some sends still failed after their retries (they
    stay in the log and a later pass retries them), so cron and CI notice. (2, a usage or
    configuration error, is bot/cli.py's.)
    """
    console = console or Console(width=None if Console().is_terminal else 160)
    report = await run_reminder_pass(runtime.ctx, now=now, dry_run=dry_run, options=pass_options(runtime))
    locale, timezone = runtime.settings.locale, runtime.settings.timezone
    console.print(render_report(report, locale=locale, timezone=timezone))
    if _rows(report):
        console.print(summary_line(report, locale=locale))
    if not dry_run:  # deployments without the scheduler (`serve --no-scheduler`, cron) close polls here
        closed = await close_due_polls(runtime.ctx, now=now)
        if closed:
            console.print(rt(lang(locale), "table.polls_closed", count=len(closed)))
    return 1 if report.failed and not dry_run else 0
