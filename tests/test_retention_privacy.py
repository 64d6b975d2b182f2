"""Retention also purges polls of no meeting, chat identities and conversation references unused
for the period, and members no longer on the roster (issue 10, item 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from handlers.context import HandlerContext
from handlers.retention import purge
from storage.db import Database
from storage.models import (
    ChannelBinding,
    ChannelMessage,
    ConversationReference,
    Group,
    Meeting,
    Member,
    Platform,
    PlatformIdentity,
    Poll,
    Submission,
    SubmissionKind,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=60)
RECENT = NOW - timedelta(days=5)


async def _ids(db: Database, model: type, column: object = None) -> set[object]:
    async with db.session() as s:
        return set((await s.execute(select(column if column is not None else model.id))).scalars())  # type: ignore[attr-defined]


async def test_retention_purges_polls_identities_references_and_off_roster_members(db: Database) -> None:
    async with db.session() as s:
        group = Group(name="Kort lagring", retention_days=30, created_at=OLD)
        forever = Group(name="Beholder alt", created_at=OLD)
        s.add_all([group, forever])
        await s.flush()
        s.add(
            ChannelBinding(group_id=group.id, platform=Platform.TEAMS, workspace_id="TEN", channel_id="19:c")
        )
        roster = Member(group_id=group.id, first_name="Rita", created_at=OLD)
        quiet = Member(group_id=group.id, first_name="Stille", created_at=OLD)
        poster = Member(group_id=group.id, first_name="Poster", created_at=OLD)
        guest = Member(group_id=group.id, first_name="Gjest", on_roster=False, created_at=OLD)
        new_guest = Member(group_id=group.id, first_name="Ny", on_roster=False, created_at=RECENT)
        posting_guest = Member(group_id=group.id, first_name="Skriver", on_roster=False, created_at=OLD)
        anonymised = Member(group_id=group.id, first_name="Slettet", on_roster=False, created_at=OLD)
        kept_guest = Member(group_id=forever.id, first_name="Evig", on_roster=False, created_at=OLD)
        s.add_all([roster, quiet, poster, guest, new_guest, posting_guest, anonymised, kept_guest])
        await s.flush()

        def identity(member: Member, user: str, seen: datetime | None) -> PlatformIdentity:
            return PlatformIdentity(
                member_id=member.id,
                platform=Platform.TEAMS,
                workspace_id="TEN",
                user_id=user,
                created_at=OLD,
                last_seen_at=seen,
            )

        s.add_all(
            [
                identity(roster, "u-rita", RECENT),  # in use
                identity(quiet, "u-quiet", OLD),  # unused for the period
                identity(poster, "u-poster", None),  # never seen since, but posts (hot path)
                identity(kept_guest, "u-evig", OLD),  # a group that keeps everything
            ]
        )
        meeting = Meeting(group_id=group.id, starts_at=RECENT, ends_at=RECENT + timedelta(hours=2))
        s.add(meeting)
        await s.flush()
        for member in (poster, posting_guest):
            s.add(
                Submission(
                    meeting_id=meeting.id,
                    member_id=member.id,
                    kind=SubmissionKind.ROUND,
                    text="Runde",
                    source_platform=Platform.TEAMS,
                    created_at=RECENT,
                    updated_at=RECENT,
                )
            )
        lone_old = Poll(group_id=group.id, meeting_id=None, question="Gammel", created_at=OLD)
        lone_new = Poll(group_id=group.id, meeting_id=None, question="Ny", created_at=RECENT)
        lone_kept = Poll(group_id=forever.id, meeting_id=None, question="Evig", created_at=OLD)
        of_meeting = Poll(group_id=group.id, meeting_id=meeting.id, question="Møtets", created_at=OLD)
        s.add_all([lone_old, lone_new, lone_kept, of_meeting])
        await s.flush()
        s.add(
            ChannelMessage(
                purpose="poll",
                subject_id=lone_old.id,
                platform=Platform.TEAMS,
                workspace_id="TEN",
                channel_id="19:c",
                message_ref="m1",
            )
        )

        def reference(key: str, updated: datetime) -> ConversationReference:
            return ConversationReference(
                platform=Platform.TEAMS, workspace_id="TEN", key=key, reference={}, updated_at=updated
            )

        s.add_all(
            [
                reference("user:u-rita", OLD),  # unchanged, but Rita was seen lately: kept
                reference("user:u-quiet", OLD),  # gone
                reference("user:u-gone", OLD),  # nobody's any more: gone
                reference("user:u-fresh", RECENT),  # kept
                reference("channel:19:c", OLD),  # a bound channel: kept
                reference("channel:19:old", OLD),  # no longer bound: gone
            ]
        )
        ids = {m.first_name: m.id for m in (guest, new_guest, posting_guest, anonymised, kept_guest, quiet)}
        polls = (lone_old.id, lone_new.id, lone_kept.id, of_meeting.id)

    report = await purge(HandlerContext(db=db), now=NOW, default_days=None)

    assert await _ids(db, Poll) == set(polls[1:])
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(ChannelMessage))).scalar_one() == 0
    assert await _ids(db, PlatformIdentity, PlatformIdentity.user_id) == {"u-rita", "u-poster", "u-evig"}
    assert await _ids(db, ConversationReference, ConversationReference.key) == {
        "user:u-rita",
        "user:u-fresh",
        "channel:19:c",
    }
    members = await _ids(db, Member, Member.first_name)
    assert {"Gjest", "Slettet"}.isdisjoint(members)
    assert {"Ny", "Skriver", "Evig", "Stille", "Rita", "Poster"} <= members  # roster members stay
    assert (report.polls_deleted, report.identities_forgotten, report.references_forgotten) == (1, 1, 3)
    assert report.members_deleted == 2 and ids


async def test_the_default_period_applies_and_none_keeps_everything(db: Database) -> None:
    async with db.session() as s:
        group = Group(name="Standard")
        s.add(group)
        await s.flush()
        s.add(Member(group_id=group.id, first_name="Gjest", on_roster=False, created_at=OLD))
        s.add(Poll(group_id=group.id, question="Gammel", created_at=OLD))
    kept = await purge(HandlerContext(db=db), now=NOW, default_days=None)
    assert (kept.members_deleted, kept.polls_deleted) == (0, 0)
    purged = await purge(HandlerContext(db=db), now=NOW, default_days=30)
    assert (purged.members_deleted, purged.polls_deleted) == (1, 1)


async def test_acting_in_chat_marks_the_identity_as_used_at_most_daily(db: Database) -> None:
    """What retention reads: a linked member's command refreshes `last_seen_at` (once a day)."""
    from tests.transcript import KARI, TranscriptBot, seed

    bot = TranscriptBot(db)
    await seed(bot)
    assert (await bot.say("tilstede", as_=KARI)).ok
    first = bot.clock.now
    async with db.session() as s:
        [seen] = (
            await s.execute(
                select(PlatformIdentity.last_seen_at).where(PlatformIdentity.user_id == KARI.user_id)
            )
        ).scalars()
    assert seen is not None and abs((seen - first).total_seconds()) < 5
    bot.clock.advance(hours=3)
    assert (await bot.say("forfall", as_=KARI)).ok
    bot.clock.advance(days=2)
    assert (await bot.say("tilstede", as_=KARI)).ok
    async with db.session() as s:
        [later] = (
            await s.execute(
                select(PlatformIdentity.last_seen_at).where(PlatformIdentity.user_id == KARI.user_id)
            )
        ).scalars()
    assert later is not None and abs((later - bot.clock.now).total_seconds()) < 1
