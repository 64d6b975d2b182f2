"""Polls (work-group sign-ups): options with an optional cap, and one vote per (member, option).

Votes from every platform land in the same rows, so a group with a Slack and a Teams channel
counts them together. Toggling locks the option row (PostgreSQL) so a cap holds under races.

A poll's status moves pending → posted → withdrawn, each step by a conditional UPDATE, so of two
clicks (or replicas) doing the same step exactly one does it. Only a posted poll takes votes.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, Poll, PollOption, PollStatus, Vote


@dataclass(frozen=True, slots=True)
class OptionSpec:
    label: str
    responsible_text: str | None = None
    responsible_member_id: int | None = None
    cap: int | None = None


class VoteOutcome(enum.StrEnum):
    JOINED = "joined"
    LEFT = "left"
    MOVED = "moved"  # single choice: the vote moved from another option to this one
    FULL = "full"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"  # `grupper trekk`: the poll takes no more votes
    UNKNOWN = "unknown"  # no such option in this poll (or a preview nobody has posted)


@dataclass(frozen=True, slots=True)
class VoteResult:
    outcome: VoteOutcome
    option: PollOption | None = None
    previous: PollOption | None = None  # the option a single-choice vote moved away from


async def create_poll(
    session: AsyncSession,
    *,
    group_id: int,
    question: str,
    options: Sequence[OptionSpec],
    meeting_id: int | None = None,
    multiple: bool = True,
    closes_at: datetime | None = None,
    is_work_groups: bool = True,
    status: PollStatus = PollStatus.POSTED,
) -> Poll:
    poll = Poll(
        group_id=group_id,
        meeting_id=meeting_id,
        question=question,
        multiple=multiple,
        closes_at=closes_at,
        is_work_groups=is_work_groups,
        status=status,
    )
    session.add(poll)
    await session.flush()
    for position, spec in enumerate(options, start=1):
        session.add(
            PollOption(
                poll_id=poll.id,
                position=position,
                label=spec.label,
                responsible_text=spec.responsible_text,
                responsible_member_id=spec.responsible_member_id,
                cap=spec.cap,
            )
        )
    await session.flush()
    return poll


async def get_poll(session: AsyncSession, poll_id: int) -> Poll | None:
    return await session.get(Poll, poll_id)


async def options_of(session: AsyncSession, poll_id: int) -> list[PollOption]:
    stmt = (
        select(PollOption).where(PollOption.poll_id == poll_id).order_by(PollOption.position, PollOption.id)
    )
    return list((await session.execute(stmt)).scalars())


async def latest_poll(session: AsyncSession, group_id: int, *, work_groups: bool = True) -> Poll | None:
    """The group's latest poll that went out: posted, or withdrawn since (callers say so rather
    than fall back to an older poll). A pending preview is nobody's business but its author's."""
    stmt = (
        select(Poll)
        .where(
            Poll.group_id == group_id,
            Poll.is_work_groups.is_(work_groups),
            Poll.status != PollStatus.PENDING,
        )
        .order_by(Poll.created_at.desc(), Poll.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def is_closed(poll: Poll, now: datetime) -> bool:
    """Closed by hand (`grupper lukk`), or its closing time has passed."""
    return poll.closed_at is not None or (poll.closes_at is not None and now >= poll.closes_at)


async def close_poll(session: AsyncSession, poll_id: int, now: datetime) -> bool:
    """Mark a posted poll closed; True only for the one caller (of any replica) that closed it.

    A conditional UPDATE … WHERE closed_at IS NULL: two replicas racing both run it, the database
    lets exactly one of them change the row, so the closing is announced once."""
    return await _change(
        session,
        poll_id,
        (Poll.closed_at.is_(None), Poll.status == PollStatus.POSTED),
        {"closed_at": now},
    )


async def _change(
    session: AsyncSession, poll_id: int, only_if: tuple[Any, ...], values: dict[str, Any]
) -> bool:
    """UPDATE the poll WHERE `only_if` holds: True for the one caller that changed it."""
    result = await session.execute(
        update(Poll)
        .where(Poll.id == poll_id, *only_if)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    changed = int(getattr(result, "rowcount", 0) or 0) == 1
    if changed:
        poll = await session.get(Poll, poll_id)
        if poll is not None:
            await session.refresh(poll)
    return changed


async def current_status(session: AsyncSession, poll_id: int) -> PollStatus | None:
    """The poll's status as stored now (not as this session last loaded it); None when gone."""
    result = await session.execute(select(Poll.status).where(Poll.id == poll_id))
    return result.scalar_one_or_none()


async def mark_posted(session: AsyncSession, poll_id: int) -> bool:
    """A confirmed preview: pending → posted. True only for the one click that posted it."""
    return await _change(
        session, poll_id, (Poll.status == PollStatus.PENDING,), {"status": PollStatus.POSTED}
    )


async def withdraw(session: AsyncSession, poll_id: int) -> bool:
    """`grupper trekk`: posted → withdrawn (its votes stay). True only for the one that did it."""
    return await _change(
        session, poll_id, (Poll.status == PollStatus.POSTED,), {"status": PollStatus.WITHDRAWN}
    )


async def discard_pending(session: AsyncSession, poll_id: int) -> bool:
    """A cancelled preview is deleted with its options (it never took a vote); False when it is no
    longer pending (posted, or discarded already)."""
    result = await session.execute(
        delete(Poll)
        .where(Poll.id == poll_id, Poll.status == PollStatus.PENDING)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def due_to_close(session: AsyncSession, now: datetime) -> list[int]:
    """Posted polls whose closing time has come and that nobody has marked closed yet."""
    stmt = (
        select(Poll.id)
        .where(
            Poll.status == PollStatus.POSTED,
            Poll.closed_at.is_(None),
            Poll.closes_at.is_not(None),
            Poll.closes_at <= now,
        )
        .order_by(Poll.id)
    )
    return list((await session.execute(stmt)).scalars())


async def sign_ups(session: AsyncSession, poll_id: int) -> list[tuple[PollOption, Member, datetime]]:
    """(option, member, when) for every vote, by option order then sign-up order (for export)."""
    stmt = (
        select(PollOption, Member, Vote.created_at)
        .join(Vote, Vote.option_id == PollOption.id)
        .join(Member, Member.id == Vote.member_id)
        .where(PollOption.poll_id == poll_id)
        .order_by(PollOption.position, PollOption.id, Vote.created_at, Vote.id)
    )
    return [(o, m, at) for o, m, at in (await session.execute(stmt)).all()]


async def votes_by_option(session: AsyncSession, poll_id: int) -> dict[int, list[Member]]:
    """Each option's voters in order of sign-up."""
    stmt = (
        select(Vote.option_id, Member)
        .join(Member, Member.id == Vote.member_id)
        .where(Vote.poll_id == poll_id)
        .order_by(Vote.created_at, Vote.id)
    )
    result: dict[int, list[Member]] = {}
    for option_id, member in (await session.execute(stmt)).all():
        result.setdefault(option_id, []).append(member)
    return result


async def member_option_ids(session: AsyncSession, poll_id: int, member_id: int) -> set[int]:
    stmt = select(Vote.option_id).where(Vote.poll_id == poll_id, Vote.member_id == member_id)
    return set((await session.execute(stmt)).scalars())


async def _vote_count(session: AsyncSession, option_id: int) -> int:
    stmt = select(func.count()).select_from(Vote).where(Vote.option_id == option_id)
    return int((await session.execute(stmt)).scalar_one())


async def toggle_vote(
    session: AsyncSession, poll_id: int, option_id: int, member_id: int, now: datetime
) -> VoteResult:
    """A click on an option: join it, or leave it if already in; single choice moves the vote.

    Refuses (and changes nothing) when the poll is closed or the option is full.
    """
    poll = await session.get(Poll, poll_id)
    stmt = (
        select(PollOption).where(PollOption.id == option_id, PollOption.poll_id == poll_id).with_for_update()
    )
    option = (await session.execute(stmt)).scalar_one_or_none()
    if poll is None or option is None or poll.status == PollStatus.PENDING:
        return VoteResult(VoteOutcome.UNKNOWN)
    if poll.status == PollStatus.WITHDRAWN:
        return VoteResult(VoteOutcome.WITHDRAWN, option)
    if is_closed(poll, now):
        return VoteResult(VoteOutcome.CLOSED, option)
    mine = await member_option_ids(session, poll_id, member_id)
    if option_id in mine:
        await session.execute(delete(Vote).where(Vote.option_id == option_id, Vote.member_id == member_id))
        return VoteResult(VoteOutcome.LEFT, option)
    if option.cap is not None and await _vote_count(session, option_id) >= option.cap:
        return VoteResult(VoteOutcome.FULL, option)
    previous: PollOption | None = None
    if not poll.multiple and mine:
        previous = await session.get(PollOption, next(iter(mine)))
        await session.execute(delete(Vote).where(Vote.poll_id == poll_id, Vote.member_id == member_id))
    session.add(Vote(poll_id=poll_id, option_id=option_id, member_id=member_id, created_at=now))
    await session.flush()
    return VoteResult(VoteOutcome.MOVED if previous is not None else VoteOutcome.JOINED, option, previous)


async def votes_of_member(session: AsyncSession, member_id: int) -> list[tuple[str, str, datetime]]:
    """(question, option label, when) for each of a member's votes, for their data export."""
    stmt = (
        select(Poll.question, PollOption.label, Vote.created_at)
        .join(PollOption, PollOption.id == Vote.option_id)
        .join(Poll, Poll.id == Vote.poll_id)
        .where(Vote.member_id == member_id)
        .order_by(Vote.id)
    )
    return [(q, label, at) for q, label, at in (await session.execute(stmt)).all()]


async def forget_responsible(session: AsyncSession, member_id: int, name: str) -> None:
    """Unlink a member from the options they are responsible for (and drop their typed name)."""
    options = (
        await session.execute(select(PollOption).where(PollOption.responsible_member_id == member_id))
    ).scalars()
    for option in options:
        option.responsible_member_id = None
        if option.responsible_text and option.responsible_text.strip().casefold() == name.strip().casefold():
            option.responsible_text = None
    await session.flush()


async def delete_votes_of_member(session: AsyncSession, member_id: int) -> int:
    result = await session.execute(delete(Vote).where(Vote.member_id == member_id))
    return int(getattr(result, "rowcount", 0) or 0)
