"""The reminder pass: who is due which reminder now, and sending each exactly once.

One pass (run by the scheduler every few minutes, or by `referent remind`):

1. **Plan** (read only): for each meeting of a group with reminders on, work out from the group's
   settings which reminder is due at `now` (see schedule.py), load the group's members with their
   submitted / forfall / muted flags and chat identities in one query, and the meeting's reminder
   log in another. Who is reminded: roster members who are not secretariat, have not posted a
   round-table entry or `runde ingen` (an `innspill` alone does not count), have no forfall and
   have not muted reminders. At most one direct message per member per pass.
2. **Skip** what was missed: an earlier reminder whose time passed unsent (the bot was down) is
   logged as skipped, so the member gets the later one only.
3. **Send**, bounded by a worker pool, each reminder as: claim in the log → wait for the
   platform's gate → send → mark sent (or failed, releasing the claim for a later pass). A claim
   whose sender died is taken over after the claim timeout.

The pass never raises for a delivery problem: everything lands in the PassReport, which the CLI
prints as a table and the scheduler logs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from handlers.context import HandlerContext
from handlers.events import ChannelTarget, DirectTarget, Reply
from handlers.ports import DeliveryError, Messenger
from handlers.referat.deadline import submission_deadline
from handlers.reminders import kinds, messages
from handlers.reminders.fanout import LogWriter, RateGate
from handlers.reminders.schedule import (
    ReminderRule,
    close_notice_due,
    deadline_reminders,
    due_deadline_reminder,
    input_reminder_at,
    input_reminder_due,
    rule_from_settings,
)
from storage.models import ChannelBinding, MeetingStatus, Role
from storage.repositories import reminders as repo
from storage.repositories.reminders import LogEntry, LogKey, MeetingGroup, MemberStatus

log = logging.getLogger(__name__)

# A configured platform rate is paced at this share of it: calls that leave evenly spaced arrive
# with jitter, and exactly at the limit a sliding window would refuse some (a 429 costs a second).
RATE_HEADROOM = 0.95
# Meetings that ended longer ago than this are not looked at (their deadlines are long gone).
LOOKBACK = timedelta(days=120)


@dataclass(frozen=True, slots=True)
class PassOptions:
    """Knobs of a pass; the defaults suit production, tests and the benchmark tune them."""

    concurrency: int = 32  # senders at once, over all platforms
    # A claim older than this is presumed dead (its sender crashed) and may be taken over. Must be
    # well above the longest a single send can take, Retry-After waits included.
    claim_timeout: timedelta = timedelta(minutes=10)
    max_attempts: int = 8  # then a failing reminder is given up (it stays `failed` in the log)
    # A Retry-After up to this long is waited out within the pass; a longer one (or the sum of
    # several) releases the claim, and a later pass retries after the pause.
    max_wait_in_pass: float = 30.0
    max_tries_in_pass: int = 6
    permanent_retry: timedelta = timedelta(hours=6)  # e.g. no Slack user with that e-mail (yet)
    transient_retry: timedelta = timedelta(0)  # next pass
    # Known send rates per platform (messages per second, e.g. {"slack": 50.0}), to pace rather
    # than provoke 429s; paced at RATE_HEADROOM of it. Without one, sends go as fast as the
    # concurrency allows and a 429's Retry-After pauses every sender to that platform.
    rates: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    """One message the pass means to send (or, in a dry run, would send)."""

    meeting_id: int
    group: str
    meeting_start: datetime
    kind: str
    member_id: int  # the member; for a channel post, minus the channel binding's id
    recipient: str  # the member's name, or "#<channel id>"
    platform: str | None
    address: str  # Slack/Teams user id, the e-mail to look up, or the channel id
    locale: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    reminder: PlannedReminder
    detail: str = ""  # message ref, error, or why skipped (English, for logs and the log table)
    attempts: int = 0
    # Why, as a code the CLI can put in the user's language: "replaced_by" (then `about` is the
    # later kind), "not_configured" (`about` is the platform), "no_address".
    code: str = ""
    about: str = ""


@dataclass
class PassReport:
    """What a pass did. `planned` is everything it tried (or would try, in a dry run)."""

    now: datetime
    worker_id: str
    dry_run: bool = False
    planned: list[PlannedReminder] = field(default_factory=list)
    sent: list[Outcome] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)
    unreachable: list[Outcome] = field(default_factory=list)  # no address, or platform not set up
    deferred: list[PlannedReminder] = field(default_factory=list)  # one message per member per pass
    taken: int = 0  # claims another replica (or an overlapping pass) held first
    elapsed_seconds: float = 0.0
    rate_limit_pauses: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "planned": len(self.planned),
            "sent": len(self.sent),
            "skipped": len(self.skipped),
            "failed": len(self.failed),
            "unreachable": len(self.unreachable),
            "deferred": len(self.deferred),
            "taken": self.taken,
        }


def default_worker_id() -> str:
    """Host, process and a random tag: unique per pass runner, readable in the log table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(slots=True)
class _Job:
    planned: PlannedReminder
    key: LogKey
    existing_id: int | None
    reply: Callable[[], Reply]  # built when the claim is won: planning 10,000 stays cheap
    direct: DirectTarget | None = None
    channel: ChannelTarget | None = None
    thread_ref: str | None = None


@dataclass(slots=True)
class _Skip:
    planned: PlannedReminder
    key: LogKey
    existing_id: int | None
    replaced_by: str  # the later reminder that went out instead

    @property
    def reason(self) -> str:
        return f"replaced by {self.replaced_by}"


def _skipped(skip: _Skip) -> Outcome:
    return Outcome(skip.planned, skip.reason, code="replaced_by", about=skip.replaced_by)


@dataclass(slots=True)
class _Plan:
    jobs: list[_Job] = field(default_factory=list)
    skips: list[_Skip] = field(default_factory=list)
    unreachable: list[Outcome] = field(default_factory=list)
    deferred: list[PlannedReminder] = field(default_factory=list)
    direct_members: set[int] = field(default_factory=set)


# ---------------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------------


def _available(ctx: HandlerContext, platform: str) -> bool:
    return ctx.messengers is not None and ctx.messengers.for_platform(platform) is not None


def direct_target(
    ctx: HandlerContext, member: MemberStatus, bindings: Sequence[ChannelBinding]
) -> tuple[DirectTarget | None, str]:
    """Where to reach a member, and "" or why not.

    Preference: an identity in a workspace the group's channels live in (the bot surely is
    installed there), then any identity, then the roster e-mail on the platform of the group's
    channel, which the messenger looks up (Slack users.lookupByEmail, Teams the team's member
    list). Platforms without a configured messenger are passed over; if nothing else is left the
    target is still returned, with the reason, so the dry run can show it.
    """
    candidates: list[DirectTarget] = []
    bound = [(str(b.platform), b.workspace_id) for b in bindings]
    for platform, workspace in bound:
        for ident in member.identities:
            if ident.platform == platform and ident.workspace_id == workspace:
                candidates.append(
                    DirectTarget(
                        ident.platform, ident.workspace_id, ident.user_id, member.email, ident.reference
                    )
                )
    for ident in member.identities:
        candidates.append(
            DirectTarget(ident.platform, ident.workspace_id, ident.user_id, member.email, ident.reference)
        )
    if member.email:
        for platform, workspace in bound:
            candidates.append(DirectTarget(platform, workspace, "", member.email, None))
    for target in candidates:
        if _available(ctx, target.platform):
            return target, ""
    if candidates:
        return candidates[0], f"{candidates[0].platform} is not configured"
    return None, "no chat identity and no e-mail"


def _address(target: DirectTarget | None) -> str:
    if target is None:
        return ""
    return target.user_id or (target.email or "")


def _claimable(entry: LogEntry | None, lease_now: datetime, options: PassOptions) -> bool:
    return repo.is_claimable(
        entry,
        now=lease_now,
        stale_before=lease_now - options.claim_timeout,
        max_attempts=options.max_attempts,
    )


def _skippable(entry: LogEntry | None, lease_now: datetime, options: PassOptions) -> bool:
    """A missed reminder is recorded as skipped unless it went out, was skipped, or is in flight."""
    if entry is None:
        return True
    if entry.state == repo.ReminderState.FAILED:
        return True
    return entry.state == repo.ReminderState.CLAIMED and entry.claimed_at < lease_now - options.claim_timeout


class _Planner:
    """Builds the jobs of one pass. Read-only: the dry run uses it alone."""

    def __init__(self, ctx: HandlerContext, now: datetime, lease_now: datetime, options: PassOptions) -> None:
        self.ctx = ctx
        self.now = now
        self.lease_now = lease_now
        self.options = options
        self.plan = _Plan()

    def _planned(
        self,
        mg: MeetingGroup,
        kind: str,
        member_id: int,
        recipient: str,
        platform: str | None,
        address: str,
        locale: str,
        due_at: datetime,
    ) -> PlannedReminder:
        return PlannedReminder(
            mg.meeting.id,
            mg.group.name,
            mg.meeting.starts_at,
            kind,
            member_id,
            recipient,
            platform,
            address,
            locale,
            due_at,
        )

    def _member_locale(self, member: MemberStatus, mg: MeetingGroup) -> str:
        return messages.recipient_locale(member.locale, mg.group.locale, self.ctx.settings.default_locale)

    def direct(
        self,
        mg: MeetingGroup,
        member: MemberStatus,
        kind: str,
        due_at: datetime,
        entries: dict[LogKey, LogEntry],
        reply: Callable[[], Reply],
        locale: str,
    ) -> None:
        """Plan one direct message, unless it is done, in flight, or the member already has one."""
        key = LogKey(mg.meeting.id, member.member_id, kind)
        entry = entries.get(key)
        if not _claimable(entry, self.lease_now, self.options):
            return
        target, problem = direct_target(self.ctx, member, mg.bindings)
        code = "" if not problem else ("no_address" if target is None else "not_configured")
        planned = self._planned(
            mg,
            kind,
            member.member_id,
            member.name,
            target.platform if target else None,
            _address(target),
            locale,
            due_at,
        )
        if member.member_id in self.plan.direct_members:
            self.plan.deferred.append(planned)
            return
        if target is None or problem:
            about = target.platform if target is not None else ""
            self.plan.unreachable.append(Outcome(planned, problem, code=code, about=about))
            return
        self.plan.direct_members.add(member.member_id)
        self.plan.jobs.append(_Job(planned, key, entry.id if entry else None, reply, direct=target))

    def channel(
        self,
        mg: MeetingGroup,
        binding: ChannelBinding,
        kind: str,
        due_at: datetime,
        entries: dict[LogKey, LogEntry],
        reply: Callable[[], Reply],
        thread_ref: str | None = None,
    ) -> None:
        key = LogKey(mg.meeting.id, -binding.id, kind)
        entry = entries.get(key)
        if not _claimable(entry, self.lease_now, self.options):
            return
        platform = str(binding.platform)
        planned = self._planned(
            mg,
            kind,
            -binding.id,
            f"#{binding.channel_id}",
            platform,
            binding.channel_id,
            messages.lang(mg.group.locale),
            due_at,
        )
        if not _available(self.ctx, platform):
            outcome = Outcome(planned, f"{platform} is not configured", code="not_configured", about=platform)
            self.plan.unreachable.append(outcome)
            return
        target = ChannelTarget(platform, binding.workspace_id, binding.channel_id, binding.reference)
        self.plan.jobs.append(
            _Job(planned, key, entry.id if entry else None, reply, channel=target, thread_ref=thread_ref)
        )

    def skip(
        self,
        mg: MeetingGroup,
        key: LogKey,
        recipient: str,
        due_at: datetime,
        entries: dict[LogKey, LogEntry],
        replaced_by: str,
    ) -> None:
        entry = entries.get(key)
        if not _skippable(entry, self.lease_now, self.options):
            return
        planned = self._planned(mg, key.kind, key.member_id, recipient, None, "", "", due_at)
        self.plan.skips.append(_Skip(planned, key, entry.id if entry else None, replaced_by))

    async def meeting(self, mg: MeetingGroup) -> None:
        """Plan everything due for one meeting (no queries when nothing is due)."""
        ctx, now = self.ctx, self.now
        meeting, group = mg.meeting, mg.group
        rule: ReminderRule = rule_from_settings(
            group.reminder_offsets, group.reminder_time, group.timezone, group.reminders_enabled
        )
        deadline = submission_deadline(meeting, group)
        collecting = meeting.status != MeetingStatus.CLOSED
        due = due_deadline_reminder(deadline_reminders(deadline, rule), deadline, now) if collecting else None
        deadline_due = due.due if due is not None else None
        missed = due.missed if due is not None else ()
        input_due = collecting and bool(mg.input_items) and input_reminder_due(meeting.starts_at, rule, now)
        closing_due = close_notice_due(deadline, now)
        if deadline_due is None and not input_due and not closing_due:
            return

        relevant: set[str] = set()
        if deadline_due is not None:
            relevant |= {deadline_due.kind, deadline_due.summary_kind}
            relevant |= {r.kind for r in missed} | {r.summary_kind for r in missed}
        if closing_due:
            relevant.add(kinds.SECRETARIAT_CLOSED)
        if input_due:
            relevant.add(kinds.INPUT_BEFORE_MEETING)
        async with ctx.db.session() as session:
            members = await repo.member_statuses(session, meeting.id, group.id)
            entries = await repo.log_entries(session, meeting.id, relevant)
            given = (
                await repo.input_given(session, meeting.id, [i.id for i in mg.input_items])
                if input_due
                else set()
            )

        facts = messages.MeetingFacts(
            meeting.id, group.name, group.timezone, meeting.starts_at, deadline, now
        )
        expected = [m for m in members if m.on_roster and not m.is_secretariat and not m.excused]
        missing = [m for m in expected if not m.submitted]
        to_remind = [m for m in missing if not m.muted]

        if deadline_due is not None:
            for member in to_remind:
                locale = self._member_locale(member, mg)
                reply = partial(messages.deadline_reminder, facts, member.first_name or member.name, locale)
                self.direct(mg, member, deadline_due.kind, deadline_due.at, entries, reply, locale)
                for earlier in missed:
                    self.skip(
                        mg,
                        LogKey(meeting.id, member.member_id, earlier.kind),
                        member.name,
                        earlier.at,
                        entries,
                        deadline_due.kind,
                    )
            if missing:
                delivered = len(expected) - len(missing)
                summary = partial(messages.channel_summary, facts, delivered, len(expected), group.locale)
                for binding in mg.bindings:
                    # In the channel itself, not the collection thread: everyone should see it.
                    self.channel(mg, binding, deadline_due.summary_kind, deadline_due.at, entries, summary)
                    for earlier in missed:
                        self.skip(
                            mg,
                            LogKey(meeting.id, -binding.id, earlier.summary_kind),
                            f"#{binding.channel_id}",
                            earlier.at,
                            entries,
                            deadline_due.summary_kind,
                        )

        if closing_due:
            self._closing(mg, facts, members, expected, missing, deadline, entries)

        if input_due:
            at = input_reminder_at(meeting.starts_at, rule) or meeting.starts_at
            for member in expected:
                if member.muted:
                    continue
                wanted = [i for i in mg.input_items if (member.member_id, i.id) not in given]
                if not wanted:
                    continue
                locale = self._member_locale(member, mg)
                items = [messages.InputItem(i.number, i.title) for i in wanted]
                reply = partial(
                    messages.input_before_meeting, facts, member.first_name or member.name, items, locale
                )
                self.direct(mg, member, kinds.INPUT_BEFORE_MEETING, at, entries, reply, locale)

    def _closing(
        self,
        mg: MeetingGroup,
        facts: messages.MeetingFacts,
        members: list[MemberStatus],
        expected: list[MemberStatus],
        missing: list[MemberStatus],
        deadline: datetime,
        entries: dict[LogKey, LogEntry],
    ) -> None:
        """The secretariat's notice, to each secretariat member directly. A group without a
        secretariat sends it to its chairs (møteleder), and one without either to its channels."""
        excused = sorted(m.name for m in members if m.on_roster and not m.is_secretariat and m.excused)
        missing_names = sorted(messages.member_label(m.name, m.organisation) for m in missing)
        delivered = len(expected) - len(missing)

        def reply_in(locale: str) -> Reply:
            url = self.ctx.links.draft_url(mg.meeting, "html", locale) if self.ctx.links else None
            return messages.secretariat_closed(
                facts,
                delivered=delivered,
                expected=len(expected),
                missing=missing_names,
                excused=excused,
                draft_url=url,
                locale=locale,
            )

        recipients = [m for m in members if m.is_secretariat] or [m for m in members if m.role == Role.CHAIR]
        for member in recipients:
            locale = self._member_locale(member, mg)
            self.direct(
                mg, member, kinds.SECRETARIAT_CLOSED, deadline, entries, partial(reply_in, locale), locale
            )
        if not recipients:
            reply = partial(reply_in, messages.lang(mg.group.locale))
            for binding in mg.bindings:
                self.channel(mg, binding, kinds.SECRETARIAT_CLOSED, deadline, entries, reply)


# ---------------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------------


class _Sender:
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

    async def run(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        queue: asyncio.Queue[_Job] = asyncio.Queue()
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

    async def _deliver(self, job: _Job) -> str:
        platform = job.planned.platform or ""
        messenger = self._messenger(platform)
        if messenger is None:
            raise DeliveryError(f"{platform} is not configured")
        if job.direct is not None:
            return await messenger.send_direct(job.direct, job.reply())
        assert job.channel is not None
        return await messenger.post(job.channel, job.reply(), thread_ref=job.thread_ref)

    async def _one(self, job: _Job, writer: LogWriter) -> None:
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
        self, job: _Job, claim: repo.Claim, writer: LogWriter, retry_at: datetime, error: str
    ) -> None:
        try:
            await writer.failed(claim, retry_at, error)
        except Exception as exc:  # the claim stays and is retried after the timeout
            log.error("could not release reminder %s: %s", job.key, exc)
        self.report.failed.append(Outcome(job.planned, error, claim.attempt))


async def _write_skips(ctx: HandlerContext, skips: Sequence[_Skip], worker: str, options: PassOptions) -> int:
    if not skips:
        return 0
    lease_now = ctx.now()
    by_reason: dict[str, list[_Skip]] = {}
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


async def plan_pass(
    ctx: HandlerContext, now: datetime, options: PassOptions | None = None
) -> tuple[list[_Job], list[_Skip], list[Outcome], list[PlannedReminder]]:
    """Everything due at `now`: jobs, skips, unreachable and deferred. Reads only."""
    options = options or PassOptions()
    planner = _Planner(ctx, now, ctx.now(), options)
    async with ctx.db.session() as session:
        meetings = await repo.reminder_meetings(session, now - LOOKBACK)
    for mg in meetings:
        await planner.meeting(mg)
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
    if dry_run:
        report.skipped = [_skipped(s) for s in skips]
        report.elapsed_seconds = time.monotonic() - started
        return report
    await _write_skips(ctx, skips, worker, options)
    report.skipped = [_skipped(s) for s in skips]
    await _Sender(ctx, worker, options, report).run(jobs)
    report.elapsed_seconds = time.monotonic() - started
    if report.sent or report.failed:
        log.info(
            "reminder pass %s: %s in %.1fs",
            worker,
            ", ".join(f"{k} {v}" for k, v in report.counts().items() if v),
            report.elapsed_seconds,
        )
    return report


def summarise(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """Count outcomes per kind (for logs and the bench)."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.reminder.kind] = counts.get(outcome.reminder.kind, 0) + 1
    return counts
