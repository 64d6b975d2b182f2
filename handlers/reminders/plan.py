"""Planning a reminder pass: who is reminded of what, when, and where. Pure: no I/O.

Given a meeting with its group and channels (`MeetingGroup`) and `now`, `due_now` says which
reminders are due and which log kinds the plan needs to see. Given the rows loaded for those
(`MeetingRows`: the members with their flags and identities, the meeting's reminder log, the
written input already given), `Planner.meeting` turns them into jobs (a message to claim and
send), skips (a missed reminder replaced by a later one), unreachable members and deferred
messages (one direct message per member per pass). runner.py loads the rows and runs the pass;
send.py claims and sends.

Who is reminded: roster members who are not secretariat, have not posted a round-table entry or
`runde ingen` (an `innspill` alone does not count), have no forfall and have not muted
reminders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from handlers.events import ChannelTarget, DirectTarget, Reply
from handlers.referat.deadline import submission_deadline
from handlers.reminders import kinds, messages
from handlers.reminders.report import (
    NO_EMAIL,
    Outcome,
    PassOptions,
    PlannedReminder,
    parse_unreachable,
)
from handlers.reminders.schedule import (
    ReminderRule,
    ScheduledReminder,
    close_notice_due,
    deadline_reminders,
    due_deadline_reminder,
    input_reminder_at,
    input_reminder_due,
    rule_from_settings,
)
from storage.models import ChannelBinding, Meeting, MeetingStatus, Role
from storage.repositories import reminders as repo
from storage.repositories.reminders import LogEntry, LogKey, MeetingGroup, MemberStatus


@dataclass(slots=True)
class Job:
    """A message to claim and send. Its target names the member or channel by ids only."""

    planned: PlannedReminder
    key: LogKey
    existing_id: int | None
    reply: Callable[[], Reply]  # built when the claim is won: planning 10,000 stays cheap
    direct: DirectTarget | None = None
    channel: ChannelTarget | None = None
    thread_ref: str | None = None
    # Where to try next when `direct`'s platform has no such user (one platform at a time).
    fallbacks: tuple[DirectTarget, ...] = ()


@dataclass(slots=True)
class Skip:
    planned: PlannedReminder
    key: LogKey
    existing_id: int | None
    replaced_by: str  # the later reminder that went out instead

    @property
    def reason(self) -> str:
        return f"replaced by {self.replaced_by}"

    def outcome(self) -> Outcome:
        return Outcome(self.planned, self.reason, code="replaced_by", about=self.replaced_by)


@dataclass(slots=True)
class Plan:
    jobs: list[Job] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    unreachable: list[Outcome] = field(default_factory=list)
    deferred: list[PlannedReminder] = field(default_factory=list)
    direct_members: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class PlanEnv:
    """What planning needs from the world besides the rows: which platforms can send, the
    default language, and draft links (for the secretariat's notice)."""

    available: Callable[[str], bool]
    default_locale: str = "nb"
    draft_url: Callable[[Meeting, str], str | None] | None = None


# ---------------------------------------------------------------------------------------------
# What is due


@dataclass(frozen=True, slots=True)
class Due:
    """What is due for one meeting at `now`."""

    mg: MeetingGroup
    now: datetime
    rule: ReminderRule
    deadline: datetime
    deadline_due: ScheduledReminder | None  # the deadline reminder (and channel summary) due now
    missed: tuple[ScheduledReminder, ...]  # earlier ones that passed unsent: logged as skipped
    input_due: bool
    closing_due: bool
    follow_ups_due: bool = False  # owners of follow-ups open from earlier meetings

    @property
    def anything(self) -> bool:
        return self.deadline_due is not None or self.input_due or self.closing_due or self.follow_ups_due

    def kinds(self) -> set[str]:
        """The log kinds the plan reads."""
        relevant: set[str] = set()
        if self.deadline_due is not None:
            relevant |= {self.deadline_due.kind, self.deadline_due.summary_kind}
            relevant |= {r.kind for r in self.missed} | {r.summary_kind for r in self.missed}
        if self.closing_due:
            relevant.add(kinds.SECRETARIAT_CLOSED)
        if self.input_due:
            relevant.add(kinds.INPUT_BEFORE_MEETING)
        if self.follow_ups_due:
            relevant.add(kinds.FOLLOW_UPS_OPEN)
        return relevant


def due_now(mg: MeetingGroup, now: datetime) -> Due:
    """Which of the meeting's reminders are due at `now`, from its group's settings."""
    meeting, group = mg.meeting, mg.group
    rule = rule_from_settings(
        group.reminder_offsets, group.reminder_time, group.timezone, group.reminders_enabled
    )
    deadline = submission_deadline(meeting, group)
    collecting = meeting.status != MeetingStatus.CLOSED
    due = due_deadline_reminder(deadline_reminders(deadline, rule), deadline, now) if collecting else None
    input_due = collecting and bool(mg.input_items) and input_reminder_due(meeting.starts_at, rule, now)
    return Due(
        mg,
        now,
        rule,
        deadline,
        due.due if due is not None else None,
        tuple(due.missed) if due is not None else (),
        input_due,
        close_notice_due(deadline, now),
        # The working day before the meeting, like the input reminder (even with collection
        # closed: a follow-up is owed to the meeting, not to the round).
        input_reminder_due(meeting.starts_at, rule, now),
    )


@dataclass(frozen=True, slots=True)
class MeetingRows:
    """The rows a meeting's plan reads (loaded by runner.py in one session)."""

    members: list[MemberStatus]
    entries: dict[LogKey, LogEntry]
    given: set[tuple[int, int]]  # (member id, agenda item id) with written input
    # owner member id → follow-ups open from earlier meetings (loaded when follow_ups_due)
    follow_ups: dict[int, list[repo.OpenFollowUp]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Roll:
    """The roster as the reminders see it."""

    members: list[MemberStatus]
    expected: list[MemberStatus]  # on the roster, not secretariat, no forfall
    missing: list[MemberStatus]  # expected, and no round-table entry yet

    @classmethod
    def of(cls, members: list[MemberStatus]) -> _Roll:
        expected = [m for m in members if m.on_roster and not m.is_secretariat and not m.excused]
        return cls(members, expected, [m for m in expected if not m.submitted])


def unlinked_platforms(due: Due, rows: MeetingRows) -> list[tuple[str, str]]:
    """The group's (platform, workspace) pairs on which a member about to be reminded for the
    first time is known only by e-mail: there a platform directory (Teams' member lists) is worth
    reading before the pass, so the member is reached by identity rather than looked up."""
    kinds_due = due.kinds()
    tried = {key.member_id for key in rows.entries if key.kind in kinds_due}
    waiting = [
        m for m in _Roll.of(rows.members).missing if m.email and not m.muted and m.member_id not in tried
    ]
    wanted: list[tuple[str, str]] = []
    for binding in due.mg.bindings:
        where = (str(binding.platform), binding.workspace_id)
        if where in wanted:
            continue
        if any(
            not any((i.platform, i.workspace_id) == where for i in member.identities) for member in waiting
        ):
            wanted.append(where)
    return wanted


# ---------------------------------------------------------------------------------------------
# Where


@dataclass(frozen=True, slots=True)
class Route:
    """Where to try a member, in order: one platform at a time. The first target that knows the
    member gets the message; a "no such user" (handlers.ports.NotFound) moves on to the next."""

    targets: tuple[DirectTarget, ...]
    problem: str = ""  # English, for logs: why the member cannot be tried ("" when they can)
    code: str = ""  # Outcome.code of that reason
    about: str = ""


def direct_route(
    available: Callable[[str], bool], member: MemberStatus, bindings: Sequence[ChannelBinding]
) -> Route:
    """The platforms to try a member on, in order.

    First the chat identities the member is known by, in the order of the group's bindings (the
    bot surely is installed where the group's channels live), then any other identity; then the
    roster e-mail on each platform the group is bound to that has no identity for them yet, again
    in the order of the bindings, which the messenger looks up (Slack users.lookupByEmail, Teams
    the member lists of the tenant's teams). Platforms without a configured messenger are passed
    over; if nothing else is left the first target is still returned, with the reason, so the
    dry run can show it.
    """
    bound = list(dict.fromkeys((str(b.platform), b.workspace_id) for b in bindings))
    candidates: dict[tuple[str, str], DirectTarget] = {}
    for platform, workspace in bound:
        for ident in member.identities:
            if ident.platform == platform and ident.workspace_id == workspace:
                candidates.setdefault(
                    (platform, workspace), DirectTarget(platform, workspace, ident.user_id, member.email)
                )
    for ident in member.identities:
        candidates.setdefault(
            (ident.platform, ident.workspace_id),
            DirectTarget(ident.platform, ident.workspace_id, ident.user_id, member.email),
        )
    if member.email:
        for platform, workspace in bound:
            candidates.setdefault((platform, workspace), DirectTarget(platform, workspace, "", member.email))
    everything = tuple(candidates.values())
    usable = tuple(t for t in everything if available(t.platform))
    if usable:
        return Route(usable)
    if everything:
        first = everything[0]
        return Route((first,), f"{first.platform} is not configured", "not_configured", first.platform)
    if not member.email:
        return Route((), "no e-mail on the roster", NO_EMAIL)
    return Route((), "the group has no channel on any platform", "no_channel")


def direct_target(
    available: Callable[[str], bool], member: MemberStatus, bindings: Sequence[ChannelBinding]
) -> tuple[DirectTarget | None, str]:
    """The first place to try a member (see `direct_route`), and "" or why it cannot be tried."""
    route = direct_route(available, member, bindings)
    return (route.targets[0] if route.targets else None), route.problem


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
    if entry.state in (repo.ReminderState.FAILED, repo.ReminderState.UNREACHABLE):
        return True
    return entry.state == repo.ReminderState.CLAIMED and entry.claimed_at < lease_now - options.claim_timeout


# ---------------------------------------------------------------------------------------------
# The planner


class Planner:
    """Builds the jobs of one pass from loaded rows. The dry run uses it alone."""

    def __init__(self, env: PlanEnv, lease_now: datetime, options: PassOptions) -> None:
        self.env = env
        self.lease_now = lease_now
        self.options = options
        self.plan = Plan()

    @staticmethod
    def _planned(
        mg: MeetingGroup,
        kind: str,
        member_id: int,
        recipient: str,
        platform: str | None,
        address: str,
        locale: str,
        due_at: datetime,
    ) -> PlannedReminder:
        meeting = mg.meeting
        return PlannedReminder(
            meeting.id,
            mg.group.name,
            meeting.starts_at,
            kind,
            member_id,
            recipient,
            platform,
            address,
            locale,
            due_at,
        )

    def _member_locale(self, member: MemberStatus, mg: MeetingGroup) -> str:
        return messages.recipient_locale(member.locale, mg.group.locale, self.env.default_locale)

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
            if entry is not None and entry.state == repo.ReminderState.UNREACHABLE:
                # Found nowhere by an earlier pass, not yet due for another look: still shown.
                code, about = parse_unreachable(entry.error)
                planned = self._planned(mg, kind, member.member_id, member.name, None, "", locale, due_at)
                self.plan.unreachable.append(Outcome(planned, entry.error or "", code=code, about=about))
            return
        route = direct_route(self.env.available, member, mg.bindings)
        target = route.targets[0] if route.targets else None
        platform = target.platform if target else None
        planned = self._planned(
            mg, kind, member.member_id, member.name, platform, _address(target), locale, due_at
        )
        if member.member_id in self.plan.direct_members:
            self.plan.deferred.append(planned)
            return
        if target is None or route.problem:
            about = route.about if route.code != NO_EMAIL else ""
            self.plan.unreachable.append(Outcome(planned, route.problem, code=route.code, about=about))
            return
        self.plan.direct_members.add(member.member_id)
        self.plan.jobs.append(
            Job(
                planned,
                key,
                entry.id if entry else None,
                reply,
                direct=target,
                fallbacks=route.targets[1:],
            )
        )

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
        if not self.env.available(platform):
            outcome = Outcome(planned, f"{platform} is not configured", code="not_configured", about=platform)
            self.plan.unreachable.append(outcome)
            return
        target = ChannelTarget(platform, binding.workspace_id, binding.channel_id)
        self.plan.jobs.append(
            Job(planned, key, entry.id if entry else None, reply, channel=target, thread_ref=thread_ref)
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
        self.plan.skips.append(Skip(planned, key, entry.id if entry else None, replaced_by))

    def meeting(self, due: Due, rows: MeetingRows) -> None:
        """Plan everything due for one meeting, from its loaded rows."""
        mg = due.mg
        facts = messages.MeetingFacts(
            mg.meeting.id, mg.group.name, mg.group.timezone, mg.meeting.starts_at, due.deadline, due.now
        )
        roll = _Roll.of(rows.members)
        if due.deadline_due is not None:
            self._deadline_members(mg, due.deadline_due, due.missed, facts, roll, rows.entries)
            if roll.missing:
                self._deadline_channels(mg, due.deadline_due, due.missed, facts, roll, rows.entries)
        if due.closing_due:
            self._closing(mg, facts, roll, due.deadline, rows.entries)
        if due.input_due:
            self._input(mg, due.rule, facts, roll, rows)
        if due.follow_ups_due and rows.follow_ups:
            self._follow_ups(mg, due.rule, facts, roll, rows)

    def _follow_ups(
        self,
        mg: MeetingGroup,
        rule: ReminderRule,
        facts: messages.MeetingFacts,
        roll: _Roll,
        rows: MeetingRows,
    ) -> None:
        """Before the meeting, one reminder to each owner of follow-ups still open from the
        group's earlier meetings (on the roster or not; secretariat too: they own work as well)."""
        at = input_reminder_at(mg.meeting.starts_at, rule) or mg.meeting.starts_at
        for member in roll.members:
            owned = rows.follow_ups.get(member.member_id)
            if not owned or member.muted:
                continue
            locale = self._member_locale(member, mg)
            items = [messages.FollowUpItem(f.id, f.text, f.due_date) for f in owned]
            reply = partial(messages.follow_ups_open, facts, member.first_name or member.name, items, locale)
            self.direct(mg, member, kinds.FOLLOW_UPS_OPEN, at, rows.entries, reply, locale)

    def _deadline_members(
        self,
        mg: MeetingGroup,
        now_due: ScheduledReminder,
        missed: Sequence[ScheduledReminder],
        facts: messages.MeetingFacts,
        roll: _Roll,
        entries: dict[LogKey, LogEntry],
    ) -> None:
        """The deadline reminder to each member still missing who has not muted reminders."""
        for member in roll.missing:
            if member.muted:
                continue
            locale = self._member_locale(member, mg)
            reply = partial(messages.deadline_reminder, facts, member.first_name or member.name, locale)
            self.direct(mg, member, now_due.kind, now_due.at, entries, reply, locale)
            for earlier in missed:
                key = LogKey(mg.meeting.id, member.member_id, earlier.kind)
                self.skip(mg, key, member.name, earlier.at, entries, now_due.kind)

    def _deadline_channels(
        self,
        mg: MeetingGroup,
        now_due: ScheduledReminder,
        missed: Sequence[ScheduledReminder],
        facts: messages.MeetingFacts,
        roll: _Roll,
        entries: dict[LogKey, LogEntry],
    ) -> None:
        """The summary in each of the group's channels (in the channel itself, not the
        collection thread: everyone should see it)."""
        delivered = len(roll.expected) - len(roll.missing)
        summary = partial(messages.channel_summary, facts, delivered, len(roll.expected), mg.group.locale)
        for binding in mg.bindings:
            self.channel(mg, binding, now_due.summary_kind, now_due.at, entries, summary)
            for earlier in missed:
                key = LogKey(mg.meeting.id, -binding.id, earlier.summary_kind)
                self.skip(mg, key, f"#{binding.channel_id}", earlier.at, entries, now_due.summary_kind)

    def _input(
        self,
        mg: MeetingGroup,
        rule: ReminderRule,
        facts: messages.MeetingFacts,
        roll: _Roll,
        rows: MeetingRows,
    ) -> None:
        """Before the meeting, the agenda items a member has not yet given written input to."""
        at = input_reminder_at(mg.meeting.starts_at, rule) or mg.meeting.starts_at
        for member in roll.expected:
            if member.muted:
                continue
            wanted = [i for i in mg.input_items if (member.member_id, i.id) not in rows.given]
            if not wanted:
                continue
            locale = self._member_locale(member, mg)
            items = [messages.InputItem(i.number, i.title) for i in wanted]
            reply = partial(
                messages.input_before_meeting, facts, member.first_name or member.name, items, locale
            )
            self.direct(mg, member, kinds.INPUT_BEFORE_MEETING, at, rows.entries, reply, locale)

    def _closing(
        self,
        mg: MeetingGroup,
        facts: messages.MeetingFacts,
        roll: _Roll,
        deadline: datetime,
        entries: dict[LogKey, LogEntry],
    ) -> None:
        """The secretariat's notice, to each secretariat member directly. A group without a
        secretariat sends it to its chairs (møteleder), and one without either to its channels."""
        members = roll.members
        excused = sorted(m.name for m in members if m.on_roster and not m.is_secretariat and m.excused)
        missing_names = sorted(messages.member_label(m.name, m.organisation) for m in roll.missing)
        delivered = len(roll.expected) - len(roll.missing)
        draft_url = self.env.draft_url

        def reply_in(locale: str) -> Reply:
            url = draft_url(mg.meeting, locale) if draft_url else None
            return messages.secretariat_closed(
                facts,
                delivered=delivered,
                expected=len(roll.expected),
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
