"""What members post: round-table entries, input to agenda items, and "nothing this time".

A submission made from a chat message keeps that message's platform ref, so an edit or a delete
in chat finds it again; (platform, ref) is unique, so a redelivered message is stored once.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Platform, Submission, SubmissionKind

ROUND_KINDS = (SubmissionKind.ROUND, SubmissionKind.NOTHING)


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
