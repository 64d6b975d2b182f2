"""What members post: round-table entries, input to agenda items, and "nothing this time".

A submission made from a chat message keeps that message's platform ref, so an edit or a delete
in chat finds it again; (platform, ref) is unique, so a redelivered message is stored once.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import (
    Group,
    Meeting,
    MeetingStatus,
    Member,
    Platform,
    PlatformIdentity,
    ProcessedEvent,
    Submission,
    SubmissionKind,
    utcnow,
)

log = logging.getLogger(__name__)

ROUND_KINDS = (SubmissionKind.ROUND, SubmissionKind.NOTHING)

# Says, inside the write transaction, whether a post still goes where it was aimed: given its
# group and that group's not-closed meetings as they are now. (The rule is the handlers'.)
StillAccepted = Callable[[Group, Sequence[Meeting]], bool]


async def add_submission(
    session: AsyncSession,
    *,
    meeting_id: int,
    member_id: int,
    kind: SubmissionKind,
    text: str,
    platform: str,
    source_ref: str | None = None,
    source_channel: str | None = None,
    agenda_item_id: int | None = None,
) -> Submission:
    submission = Submission(
        meeting_id=meeting_id,
        member_id=member_id,
        kind=kind,
        text=text,
        source_platform=Platform(platform),
        source_ref=source_ref,
        source_channel=source_channel,
        agenda_item_id=agenda_item_id,
    )
    session.add(submission)
    await session.flush()
    return submission


async def by_source(session: AsyncSession, platform: str, source_ref: str) -> Submission | None:
    stmt = select(Submission).where(
        Submission.source_platform == Platform(platform), Submission.source_ref == source_ref
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def of_member(
    session: AsyncSession, meeting_id: int, member_id: int, kinds: Iterable[SubmissionKind] = ROUND_KINDS
) -> list[Submission]:
    """A member's submissions of these kinds for a meeting, in the order they were made."""
    stmt = (
        select(Submission)
        .where(
            Submission.meeting_id == meeting_id,
            Submission.member_id == member_id,
            Submission.kind.in_(list(kinds)),
        )
        .order_by(Submission.created_at, Submission.id)
    )
    return list((await session.execute(stmt)).scalars())


async def remove_of_member(
    session: AsyncSession, meeting_id: int, member_id: int, kinds: Iterable[SubmissionKind]
) -> int:
    stmt = delete(Submission).where(
        Submission.meeting_id == meeting_id,
        Submission.member_id == member_id,
        Submission.kind.in_(list(kinds)),
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def replace_round_entry(
    session: AsyncSession, *, meeting_id: int, member_id: int, text: str, platform: str
) -> Submission | None:
    """Replace a member's whole round-table entry (the editor's save); empty text removes it."""
    await remove_of_member(session, meeting_id, member_id, ROUND_KINDS)
    if not text.strip():
        return None
    return await add_submission(
        session,
        meeting_id=meeting_id,
        member_id=member_id,
        kind=SubmissionKind.ROUND,
        text=text,
        platform=platform,
    )


async def submitted_member_ids(session: AsyncSession, meeting_id: int) -> set[int]:
    """Members who have a round-table entry or said "nothing this time" (input alone does not count)."""
    stmt = select(Submission.member_id).where(
        Submission.meeting_id == meeting_id, Submission.kind.in_(list(ROUND_KINDS))
    )
    return set((await session.execute(stmt)).scalars())


async def count_of_kind(session: AsyncSession, meeting_id: int, kind: SubmissionKind) -> int:
    stmt = (
        select(func.count())
        .select_from(Submission)
        .where(Submission.meeting_id == meeting_id, Submission.kind == kind)
    )
    return int((await session.execute(stmt)).scalar_one())


async def all_of_member(session: AsyncSession, member_id: int) -> list[Submission]:
    stmt = select(Submission).where(Submission.member_id == member_id).order_by(Submission.id)
    return list((await session.execute(stmt)).scalars())


async def delete_all_of_member(session: AsyncSession, member_id: int) -> int:
    result = await session.execute(delete(Submission).where(Submission.member_id == member_id))
    return int(getattr(result, "rowcount", 0) or 0)


# --- the hot path: round-table posts by group commit ----------------------------------------


class PostOutcome(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # this delivery (event id) or chat message (ref) is already stored
    STALE = "stale"  # what the post was based on has changed: the caller takes the full path


@dataclass(slots=True)
class PendingPost:
    """A round-table post decided on from cached reads. The batch re-checks, in its own
    transaction, everything those reads said: the member still holds this chat identity in
    this group, the meeting still takes the post (`accepted`), the delivery is not a repeat."""

    group_id: int
    meeting_id: int
    member_id: int
    text: str
    platform: str
    workspace_id: str
    user_id: str
    accepted: StillAccepted
    source_ref: str | None = None
    source_channel: str | None = None
    event_id: str | None = None
    # Set by `post`: False when the member is known to have a round-table entry for the meeting
    # already (so no "nothing to report" to remove: the two never stand together).
    may_have_nothing: bool = True


_SUBMISSIONS = cast(Table, Submission.__table__)
_PROCESSED_EVENTS = cast(Table, ProcessedEvent.__table__)
_GROUPS = cast(Table, Group.__table__)
_MEETINGS = cast(Table, Meeting.__table__)
_MEMBERS = cast(Table, Member.__table__)
_IDENTITIES = cast(Table, PlatformIdentity.__table__)
_GROUP_COLUMNS = ("id", "name", "organisation", "locale", "timezone", "deadline_days", "deadline_time")
_MEETING_COLUMNS = ("id", "group_id", "title", "starts_at", "ends_at", "place", "status", "deadline_override")


def store_posts(session: Session, posts: list[PendingPost]) -> list[PostOutcome]:
    """One transaction for a batch of posts (the group-commit body): three or four Core
    statements whatever the batch size. Never raises for one post's sake: a post that no
    longer holds is answered STALE or DUPLICATE and left out."""
    conn = session.connection()
    group_ids = sorted({p.group_id for p in posts})
    groups, meetings = _groups_and_open_meetings(conn, group_ids)
    identities: set[tuple[Any, ...]] = {
        tuple(row)
        for row in conn.execute(
            select(
                _IDENTITIES.c.member_id,
                _MEMBERS.c.group_id,
                _IDENTITIES.c.platform,
                _IDENTITIES.c.workspace_id,
                _IDENTITIES.c.user_id,
            )
            .join(_MEMBERS, _MEMBERS.c.id == _IDENTITIES.c.member_id)
            .where(_IDENTITIES.c.member_id.in_(sorted({p.member_id for p in posts})))
        )
    }
    seen_events = _existing_events(conn, posts)
    seen_refs = _existing_refs(conn, posts)
    outcome: list[PostOutcome] = []
    for post in posts:
        event_key = (post.platform, post.event_id)
        ref_key = (post.platform, post.source_ref)
        if (post.event_id and event_key in seen_events) or (post.source_ref and ref_key in seen_refs):
            outcome.append(PostOutcome.DUPLICATE)
            continue
        group = groups.get(post.group_id)
        identity = (post.member_id, post.group_id, Platform(post.platform), post.workspace_id, post.user_id)
        if group is None or identity not in identities or not _accepts(post, group, meetings[group.id]):
            outcome.append(PostOutcome.STALE)
            continue
        if post.event_id:
            seen_events.add(event_key)
        if post.source_ref:
            seen_refs.add(ref_key)
        outcome.append(PostOutcome.STORED)
    stored = [p for p, o in zip(posts, outcome, strict=True) if o is PostOutcome.STORED]
    if stored:
        _give_way(conn, stored)
        events = [{"platform": Platform(p.platform), "event_id": p.event_id} for p in stored if p.event_id]
        if events:
            conn.execute(insert(_PROCESSED_EVENTS), events)
        now = utcnow()
        conn.execute(
            insert(_SUBMISSIONS),
            [
                {
                    "meeting_id": p.meeting_id,
                    "member_id": p.member_id,
                    "kind": SubmissionKind.ROUND,
                    "agenda_item_id": None,
                    "text": p.text,
                    "source_platform": Platform(p.platform),
                    "source_ref": p.source_ref,
                    "source_channel": p.source_channel,
                    "created_at": now,
                    "updated_at": now,
                }
                for p in stored
            ],
        )
    return outcome


def _accepts(post: PendingPost, group: Group, meetings: list[Meeting]) -> bool:
    """The caller's rule; should it fail, only its own post goes the long way (and fails there)."""
    try:
        return post.accepted(group, meetings)
    except Exception:
        log.exception("checking a pending post failed; it takes the full path")
        return False


def _groups_and_open_meetings(
    conn: Connection, group_ids: list[int]
) -> tuple[dict[int, Group], dict[int, list[Meeting]]]:
    """The groups' not-closed meetings (start order) as they are now, with their groups, in one
    query, as plain instances that belong to no session (what the handlers' rules read). A group
    with no such meeting is left out: nothing can be posted to it."""
    g_cols = [_GROUPS.c[name].label(f"g_{name}") for name in _GROUP_COLUMNS]
    m_cols = [_MEETINGS.c[name] for name in _MEETING_COLUMNS]
    stmt = (
        select(*g_cols, *m_cols)
        .join_from(_MEETINGS, _GROUPS, _GROUPS.c.id == _MEETINGS.c.group_id)
        .where(_MEETINGS.c.group_id.in_(group_ids), _MEETINGS.c.status != MeetingStatus.CLOSED)
        .order_by(_MEETINGS.c.group_id, _MEETINGS.c.starts_at, _MEETINGS.c.id)
        # On PostgreSQL, `mote lukk` on another replica waits for this commit rather than
        # slipping between the check and the insert (on SQLite the writer began IMMEDIATE).
        .with_for_update(read=True, of=_MEETINGS)
    )
    groups: dict[int, Group] = {}
    meetings: dict[int, list[Meeting]] = {}
    for row in conn.execute(stmt).mappings():
        gid = row["g_id"]
        if gid not in groups:
            groups[gid] = Group(**{name: row[f"g_{name}"] for name in _GROUP_COLUMNS})
            meetings[gid] = []
        meetings[gid].append(Meeting(**{name: row[name] for name in _MEETING_COLUMNS}))
    return groups, meetings


def _give_way(conn: Connection, stored: list[PendingPost]) -> None:
    """ "Nothing to report" gives way to an entry (as `runde` does one at a time); looked for
    first, since it is rarely there, and only for members with no entry yet (the lookup reads
    every post of the member in the meeting)."""
    pairs = {(p.meeting_id, p.member_id) for p in stored if p.may_have_nothing}
    if not pairs:
        return
    found = conn.execute(
        select(_SUBMISSIONS.c.id, _SUBMISSIONS.c.meeting_id, _SUBMISSIONS.c.member_id).where(
            _SUBMISSIONS.c.kind == SubmissionKind.NOTHING,
            _SUBMISSIONS.c.meeting_id.in_(sorted({m for m, _ in pairs})),
            _SUBMISSIONS.c.member_id.in_(sorted({u for _, u in pairs})),
        )
    ).all()
    ids = [row.id for row in found if (row.meeting_id, row.member_id) in pairs]
    if ids:
        conn.execute(delete(_SUBMISSIONS).where(_SUBMISSIONS.c.id.in_(ids)))


def _existing_events(conn: Connection, posts: Sequence[PendingPost]) -> set[tuple[str, str | None]]:
    keys = sorted({(p.platform, p.event_id) for p in posts if p.event_id})
    if not keys:
        return set()
    table = _PROCESSED_EVENTS
    stmt = select(table.c.platform, table.c.event_id).where(
        tuple_(table.c.platform, table.c.event_id).in_([(Platform(pl), e) for pl, e in keys])
    )
    return {(Platform(row.platform).value, row.event_id) for row in conn.execute(stmt)}


def _existing_refs(conn: Connection, posts: Sequence[PendingPost]) -> set[tuple[str, str | None]]:
    keys = sorted({(p.platform, p.source_ref) for p in posts if p.source_ref})
    if not keys:
        return set()
    table = _SUBMISSIONS
    stmt = select(table.c.source_platform, table.c.source_ref).where(
        tuple_(table.c.source_platform, table.c.source_ref).in_([(Platform(pl), r) for pl, r in keys])
    )
    return {(Platform(row.source_platform).value, row.source_ref) for row in conn.execute(stmt)}


async def post(db: Database, pending: PendingPost) -> PostOutcome:
    """Store one post through the database's group commit; returns after the commit."""
    key = ("has_round_entry", pending.meeting_id, pending.member_id)
    pending.may_have_nothing = db.cache.get(key) is not True
    generation = db.cache.generation
    try:
        outcome = await db.group_commit(store_posts).submit(pending)
    except IntegrityError:
        # A twin delivery or a removed member committed by another connection since the checks:
        # the full path sorts out which (and answers a duplicate as one).
        return PostOutcome.STALE
    if outcome is PostOutcome.STORED:
        db.cache.put(key, True, generation)
    return outcome
