"""The reminder log and the queries the reminder pass needs, written so several replicas can share
one database and each reminder still goes out once.

The log protocol (one row per meeting, member and kind):

- **claim** before sending: a new row is inserted with `INSERT ... ON CONFLICT DO NOTHING`, so of
  two replicas racing for the same reminder exactly one gets the row back. An existing row can be
  claimed again only by a conditional `UPDATE ... WHERE state = ...` that re-checks the condition
  under the row lock, so again only one replica wins:
  * a `claimed` row older than the claim timeout (its sender crashed between claim and send);
  * a `failed` row whose retry time has come (and that has not used up its attempts).
- **sent** after the platform accepted the message; **failed** when it refused (the claim is
  released for a later pass); **unreachable** when no platform the group uses knows the member
  (released the same way, for a much later pass); **skipped** for a reminder that was missed and
  replaced by a later one.

For a `failed` or `unreachable` row, `claimed_at` holds the earliest time it may be claimed again
(the platform's Retry-After, or a longer pause for permanent errors): the table has no separate
column for it, and a released row has no live claim for `claimed_at` to describe.

`member_id` is the member's id for direct messages; for a channel post it is minus the channel
binding's id (one row per channel, so a summary reaches each of the group's channels once).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Select, Table, and_, bindparam, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AgendaItem,
    Attendance,
    AttendanceStatus,
    ChannelBinding,
    FollowUp,
    FollowUpStatus,
    Group,
    Meeting,
    Member,
    Platform,
    PlatformIdentity,
    ReminderLog,
    ReminderMute,
    ReminderState,
    Role,
    Submission,
    SubmissionKind,
)

# SQLite allows 32,766 bound parameters per statement; a log row takes 8.
CLAIM_BATCH = 500
# Released rows a later pass may claim again once their retry time (`claimed_at`) has come.
_RETRIED = (ReminderState.FAILED, ReminderState.UNREACHABLE)


@dataclass(frozen=True, slots=True, order=True)
class LogKey:
    """The reminder log's unique key. Ordered, so every replica locks rows in the same order."""

    meeting_id: int
    member_id: int
    kind: str


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A log row as the planner sees it."""

    id: int
    key: LogKey
    state: ReminderState
    claimed_by: str
    claimed_at: datetime
    attempts: int
    error: str | None = None  # for an `unreachable` row: why (see handlers/reminders/report.py)


@dataclass(frozen=True, slots=True)
class Claim:
    """A won claim: `attempt` is the row's attempt number, used to fence later updates."""

    log_id: int
    key: LogKey
    attempt: int


@dataclass(frozen=True, slots=True)
class IdentityRow:
    platform: str
    workspace_id: str
    user_id: str


@dataclass(slots=True)
class MemberStatus:
    """One member of a group, with what the pass must know about them for one meeting."""

    member_id: int
    first_name: str
    last_name: str
    organisation: str
    email: str | None
    role: Role
    locale: str | None
    on_roster: bool
    submitted: bool  # a round-table entry or "runde ingen"
    excused: bool  # forfall
    muted: bool  # `paminnelser av` for this meeting
    identities: list[IdentityRow] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_secretariat(self) -> bool:
        return self.role == Role.SECRETARIAT


@dataclass(frozen=True, slots=True)
class MeetingGroup:
    meeting: Meeting
    group: Group
    bindings: tuple[ChannelBinding, ...]
    input_items: tuple[AgendaItem, ...]  # agenda items that ask for written input in advance


# ---------------------------------------------------------------------------------------------
# Reading: what the pass plans from. A fixed number of queries per meeting, none per member.
# ---------------------------------------------------------------------------------------------


async def reminder_meetings(session: AsyncSession, since: datetime) -> list[MeetingGroup]:
    """Meetings that may need a reminder: of groups with reminders on, ending after `since`.

    The caller works out deadlines (which may be overridden) and drops what is not due.
    """
    stmt = (
        select(Meeting, Group)
        .join(Group, Group.id == Meeting.group_id)
        .where(
            Group.reminders_enabled.is_(True),
            or_(Meeting.ends_at >= since, Meeting.deadline_override >= since),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    pairs = [(m, g) for m, g in (await session.execute(stmt)).all()]
    if not pairs:
        return []
    group_ids = sorted({g.id for _, g in pairs})
    meeting_ids = [m.id for m, _ in pairs]
    bindings: dict[int, list[ChannelBinding]] = {}
    for binding in (
        await session.execute(
            select(ChannelBinding).where(ChannelBinding.group_id.in_(group_ids)).order_by(ChannelBinding.id)
        )
    ).scalars():
        bindings.setdefault(binding.group_id, []).append(binding)
    items: dict[int, list[AgendaItem]] = {}
    for item in (
        await session.execute(
            select(AgendaItem)
            .where(AgendaItem.meeting_id.in_(meeting_ids), AgendaItem.wants_input.is_(True))
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    ).scalars():
        items.setdefault(item.meeting_id, []).append(item)
    return [MeetingGroup(m, g, tuple(bindings.get(g.id, ())), tuple(items.get(m.id, ()))) for m, g in pairs]


@dataclass(frozen=True, slots=True)
class OpenFollowUp:
    """A follow-up still open from one of the group's earlier meetings, for its owner's reminder."""

    id: int
    owner_member_id: int
    text: str
    due_date: date | None


async def open_follow_ups_before(session: AsyncSession, meeting: Meeting) -> dict[int, list[OpenFollowUp]]:
    """Owner member id → the open follow-ups they own from the group's meetings before this one."""
    stmt = (
        select(FollowUp.id, FollowUp.owner_member_id, FollowUp.text, FollowUp.due_date)
        .join(Meeting, Meeting.id == FollowUp.meeting_id)
        .where(
            Meeting.group_id == meeting.group_id,
            Meeting.starts_at < meeting.starts_at,
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.owner_member_id.is_not(None),
        )
        .order_by(Meeting.starts_at, FollowUp.id)
    )
    owners: dict[int, list[OpenFollowUp]] = {}
    for fid, owner, text, due in (await session.execute(stmt)).all():
        if owner is not None:
            owners.setdefault(owner, []).append(OpenFollowUp(fid, owner, text, due))
    return owners


def _member_status_query(meeting_id: int, group_id: int) -> Select[*tuple[Any, ...]]:
    submitted = exists().where(
        Submission.meeting_id == meeting_id,
        Submission.member_id == Member.id,
        Submission.kind.in_([SubmissionKind.ROUND, SubmissionKind.NOTHING]),
    )
    # forfall, or a substitute stands in for them (as attendance.excused_member_ids says)
    excused = or_(
        exists().where(
            Attendance.meeting_id == meeting_id,
            Attendance.member_id == Member.id,
            Attendance.status == AttendanceStatus.EXCUSED,
        ),
        exists().where(
            Attendance.meeting_id == meeting_id,
            Attendance.substitute_for_member_id == Member.id,
            Attendance.status == AttendanceStatus.SUBSTITUTE,
        ),
    )
    muted = exists().where(ReminderMute.meeting_id == meeting_id, ReminderMute.member_id == Member.id)
    return (
        select(
            Member.id,
            Member.first_name,
            Member.last_name,
            Member.organisation,
            Member.email,
            Member.role,
            Member.locale,
            Member.on_roster,
            submitted.label("submitted"),
            excused.label("excused"),
            muted.label("muted"),
            PlatformIdentity.platform,
            PlatformIdentity.workspace_id,
            PlatformIdentity.user_id,
        )
        .select_from(Member)
        .outerjoin(PlatformIdentity, PlatformIdentity.member_id == Member.id)
        .where(Member.group_id == group_id)
        .order_by(Member.last_name, Member.first_name, Member.id, PlatformIdentity.id)
    )


async def member_statuses(session: AsyncSession, meeting_id: int, group_id: int) -> list[MemberStatus]:
    """Every member of the group with submitted / forfall / muted flags and chat identities.

    One query (a row per identity), so 10,000 members cost one round trip, not 10,000.
    """
    by_id: dict[int, MemberStatus] = {}
    result = await session.execute(_member_status_query(meeting_id, group_id))
    for row in result.all():
        (mid, first, last, org, email, role, locale, on_roster, sub, exc, mut, platform, ws, uid) = row
        status = by_id.get(mid)
        if status is None:
            status = MemberStatus(
                mid,
                first,
                last,
                org or "",
                email,
                Role(role),
                locale,
                bool(on_roster),
                bool(sub),
                bool(exc),
                bool(mut),
            )
            by_id[mid] = status
        if platform is not None and uid:
            status.identities.append(IdentityRow(str(Platform(platform)), ws, uid))
    return list(by_id.values())


async def input_given(
    session: AsyncSession, meeting_id: int, item_ids: Sequence[int]
) -> set[tuple[int, int]]:
    """(member id, agenda item id) for every written input already given to these items."""
    if not item_ids:
        return set()
    stmt = (
        select(Submission.member_id, Submission.agenda_item_id)
        .where(
            Submission.meeting_id == meeting_id,
            Submission.kind == SubmissionKind.INPUT,
            Submission.agenda_item_id.in_(list(item_ids)),
        )
        .distinct()
    )
    return {(m, i) for m, i in (await session.execute(stmt)).all() if i is not None}


async def log_entries(session: AsyncSession, meeting_id: int, kinds: Iterable[str]) -> dict[LogKey, LogEntry]:
    """The log rows of one meeting for these kinds."""
    kinds = sorted(set(kinds))
    if not kinds:
        return {}
    stmt = select(
        ReminderLog.id,
        ReminderLog.member_id,
        ReminderLog.kind,
        ReminderLog.state,
        ReminderLog.claimed_by,
        ReminderLog.claimed_at,
        ReminderLog.attempts,
        ReminderLog.error,
    ).where(ReminderLog.meeting_id == meeting_id, ReminderLog.kind.in_(kinds))
    entries: dict[LogKey, LogEntry] = {}
    for log_id, member_id, kind, state, by, at, attempts, error in (await session.execute(stmt)).all():
        key = LogKey(meeting_id, member_id, kind)
        state = ReminderState(state)
        entries[key] = LogEntry(
            log_id, key, state, by, at, attempts, error if state == ReminderState.UNREACHABLE else None
        )
    return entries


async def unreachable_members(session: AsyncSession, meeting_id: int) -> dict[int, str]:
    """Members the meeting's reminders could not reach, with the recorded reason: those with an
    `unreachable` row and no reminder sent since (for the draft's box for the secretariat)."""
    stmt = (
        select(ReminderLog.member_id, ReminderLog.state, ReminderLog.error)
        .where(
            ReminderLog.meeting_id == meeting_id,
            ReminderLog.member_id > 0,
            ReminderLog.state.in_([ReminderState.UNREACHABLE, ReminderState.SENT]),
        )
        .order_by(ReminderLog.id)
    )
    found: dict[int, str] = {}
    reached: set[int] = set()
    for member_id, state, error in (await session.execute(stmt)).all():
        if ReminderState(state) == ReminderState.SENT:
            reached.add(member_id)
        else:
            found[member_id] = error or ""
    return {m: why for m, why in found.items() if m not in reached}


def is_claimable(entry: LogEntry | None, *, now: datetime, stale_before: datetime, max_attempts: int) -> bool:
    """Whether a claim on this key can succeed now (the same test `claim_many` makes atomically)."""
    if entry is None:
        return True
    if entry.state == ReminderState.CLAIMED:
        return entry.claimed_at < stale_before
    if entry.state in _RETRIED:
        return entry.claimed_at <= now and entry.attempts < max_attempts
    return False


# ---------------------------------------------------------------------------------------------
# Writing: claims and state changes. Each function runs inside the caller's transaction.
# ---------------------------------------------------------------------------------------------


# The write path runs Core statements on the table (not ORM-enabled ones): the statements are
# compiled once and cached, and a batch of claims is one executemany. This is the hot path of a
# 10,000-member fan-out, where ORM bookkeeping per row would cost more than the database itself.
LOG: Table = cast(Table, ReminderLog.__table__)
_KEY_COLUMNS = ["meeting_id", "member_id", "kind"]


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING (SQLite 3.24+, PostgreSQL 9.5+)."""
    name = session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


def _reclaimable() -> Any:
    """The claim-again condition, with `now`, `stale_before` and `max_attempts` as parameters."""
    return or_(
        and_(LOG.c.state == ReminderState.CLAIMED, LOG.c.claimed_at < bindparam("stale_before")),
        and_(
            LOG.c.state.in_(_RETRIED),
            LOG.c.claimed_at <= bindparam("now"),
            LOG.c.attempts < bindparam("max_attempts"),
        ),
    )


def _rows(keys: Sequence[LogKey], **values: Any) -> list[dict[str, Any]]:
    return [{"meeting_id": k.meeting_id, "member_id": k.member_id, "kind": k.kind, **values} for k in keys]


async def claim_many(
    session: AsyncSession,
    new_keys: Iterable[LogKey],
    existing_ids: Iterable[int],
    *,
    worker: str,
    now: datetime,
    stale_before: datetime,
    max_attempts: int,
) -> list[Claim]:
    """Claim reminders; returns only the claims this worker won.

    `new_keys` had no row when the pass looked (inserted, ON CONFLICT DO NOTHING: a row another
    replica inserted meanwhile is simply not won); `existing_ids` are rows that looked claimable
    (re-claimed by a conditional UPDATE, which re-checks the condition under the row lock).
    Keys are inserted in sorted order, so two replicas lock rows in the same order.
    """
    won: list[Claim] = []
    keys = sorted(set(new_keys))
    if keys:
        stmt = (
            _insert(session)(LOG)
            .on_conflict_do_nothing(index_elements=_KEY_COLUMNS)
            .returning(LOG.c.id, LOG.c.meeting_id, LOG.c.member_id, LOG.c.kind)
        )
        rows = _rows(
            keys,
            state=ReminderState.CLAIMED,
            claimed_by=worker,
            claimed_at=now,
            attempts=1,
            sent_at=None,
            error=None,
        )
        for log_id, meeting_id, member_id, kind in (await session.execute(stmt, rows)).all():
            won.append(Claim(log_id, LogKey(meeting_id, member_id, kind), 1))
    ids = sorted(set(existing_ids))
    for start in range(0, len(ids), CLAIM_BATCH):
        upd = (
            update(LOG)
            .where(LOG.c.id.in_(ids[start : start + CLAIM_BATCH]), _reclaimable())
            .values(
                state=ReminderState.CLAIMED, claimed_by=worker, claimed_at=now, attempts=LOG.c.attempts + 1
            )
            .returning(LOG.c.id, LOG.c.meeting_id, LOG.c.member_id, LOG.c.kind, LOG.c.attempts)
        )
        params = {"now": now, "stale_before": stale_before, "max_attempts": max_attempts}
        for log_id, meeting_id, member_id, kind, attempts in (await session.execute(upd, params)).all():
            won.append(Claim(log_id, LogKey(meeting_id, member_id, kind), attempts))
    return won


async def mark_sent(session: AsyncSession, claims: Sequence[Claim], *, now: datetime) -> None:
    """Record delivery. Unconditional: the message went out, so the log must say so even if the
    claim was meanwhile taken as stale (then the log is right and the duplicate is on record)."""
    ids = sorted({c.log_id for c in claims})
    for start in range(0, len(ids), CLAIM_BATCH):
        await session.execute(
            update(LOG)
            .where(LOG.c.id.in_(ids[start : start + CLAIM_BATCH]))
            .values(state=ReminderState.SENT, sent_at=now, error=None)
        )


async def mark_failed(
    session: AsyncSession,
    claim: Claim,
    *,
    worker: str,
    retry_at: datetime,
    error: str,
    state: ReminderState = ReminderState.FAILED,
) -> bool:
    """Release a claim after a failed send; it may be claimed again from `retry_at`.

    Fenced on worker and attempt, so a slow replica cannot overwrite a newer claim's outcome.
    `state` is FAILED, or UNREACHABLE when no platform knew the member (`error` says why).
    """
    result = await session.execute(
        update(LOG)
        .where(
            LOG.c.id == claim.log_id,
            LOG.c.state == ReminderState.CLAIMED,
            LOG.c.claimed_by == worker,
            LOG.c.attempts == claim.attempt,
        )
        .values(state=state, claimed_at=retry_at, error=error[:2000])
    )
    return bool(getattr(result, "rowcount", 0))


async def mark_skipped(
    session: AsyncSession,
    new_keys: Iterable[LogKey],
    existing_ids: Iterable[int],
    *,
    worker: str,
    now: datetime,
    stale_before: datetime,
    reason: str,
) -> int:
    """Record missed reminders as skipped: new rows for ones never tried; failed rows and stale
    claims of earlier reminders too, so they are not retried after the later one went out."""
    count = 0
    keys = sorted(set(new_keys))
    if keys:
        stmt = _insert(session)(LOG).on_conflict_do_nothing(index_elements=_KEY_COLUMNS).returning(LOG.c.id)
        rows = _rows(
            keys,
            state=ReminderState.SKIPPED,
            claimed_by=worker,
            claimed_at=now,
            attempts=0,
            sent_at=None,
            error=reason,
        )
        count += len((await session.execute(stmt, rows)).all())
    ids = sorted(set(existing_ids))
    for start in range(0, len(ids), CLAIM_BATCH):
        upd = (
            update(LOG)
            .where(
                LOG.c.id.in_(ids[start : start + CLAIM_BATCH]),
                or_(
                    LOG.c.state.in_(_RETRIED),
                    and_(LOG.c.state == ReminderState.CLAIMED, LOG.c.claimed_at < stale_before),
                ),
            )
            .values(state=ReminderState.SKIPPED, claimed_by=worker, claimed_at=now, error=reason)
            .returning(LOG.c.id)
        )
        count += len((await session.execute(upd)).all())
    return count
