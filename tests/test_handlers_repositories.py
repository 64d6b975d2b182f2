"""The storage repositories the handlers build on (run on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.db import Database
from storage.models import Meeting, MeetingStatus, Role
from storage.repositories import channel_messages, events, groups, meetings, members, polls, submissions
from storage.repositories.polls import OptionSpec, VoteOutcome

START = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)


async def test_group_names_match_without_regard_to_case(db: Database) -> None:
    async with db.write() as s:
        group, created = await groups.get_or_create_group(s, "Næringssamarbeid")
        assert created
    async with db.write() as s:
        again, created = await groups.get_or_create_group(s, "NÆRINGSSAMARBEID")
        assert not created and again.id == group.id


async def test_one_channel_belongs_to_one_group(db: Database) -> None:
    async with db.write() as s:
        a, _ = await groups.get_or_create_group(s, "A")
        b, _ = await groups.get_or_create_group(s, "B")
        _, new = await groups.bind_channel(s, a, "slack", "T1", "C1")
        assert new
        _, new = await groups.bind_channel(s, a, "slack", "T1", "C1")
        assert not new
        with pytest.raises(groups.ChannelAlreadyBound):
            await groups.bind_channel(s, b, "slack", "T1", "C1")
        await groups.bind_channel(s, a, "teams", "tenant", "19:c")
        assert len(await groups.bindings_of(s, a.id)) == 2
        assert [g.name for g in await groups.groups_bound_in_workspace(s, "slack", "T1")] == ["A"]
        assert await groups.find_binding(s, "slack", "T2", "C1") is None


async def test_members_by_identity_email_and_name(db: Database) -> None:
    async with db.write() as s:
        group, _ = await groups.get_or_create_group(s, "A")
        kari = await members.create_member(s, group.id, "Kari", "Nordmann", email="Kari@Asker.example")
        await members.create_member(s, group.id, "Kari", "Berg")
        assert kari.email == "kari@asker.example"
        assert (await members.by_email(s, group.id, "KARI@asker.EXAMPLE")) is kari
        await members.link_identity(s, kari, "slack", "T1", "U1", "Kari N.")
        assert (await members.by_identity(s, group.id, "slack", "T1", "U1")) is kari
        assert await members.by_identity(s, group.id, "slack", "T2", "U1") is None
        assert [m.name for m in await members.by_name(s, group.id, "kari  nordmann")] == ["Kari Nordmann"]
        assert len(await members.by_name(s, group.id, "Kari")) == 2  # ambiguous
        assert [m.name for m in await members.by_name(s, group.id, "@Kari N.")] == ["Kari Nordmann"]
        await members.link_identity(s, kari, "slack", "T1", "U9")  # re-link, one per platform
        assert len(await members.identities_of(s, kari.id)) == 1
        assert members.split_name("Anne Marie Lund") == ("Anne Marie", "Lund")


async def test_agenda_positions_and_out_of_sequence_numbers(db: Database) -> None:
    async with db.write() as s:
        group, _ = await groups.get_or_create_group(s, "A")
        meeting = await meetings.create_meeting(s, group.id, START, START + timedelta(hours=2))
        for number in (1, 2, 3):
            await meetings.add_agenda_item(s, meeting.id, number, f"Sak {number}")
        await meetings.add_agenda_item(s, meeting.id, 11, "Elleve", after=2)
        await meetings.add_agenda_item(s, meeting.id, 12, "Tolv", after=3)
        for n in range(40, 100):  # squeeze until the gap is renumbered
            await meetings.add_agenda_item(s, meeting.id, n, "x", after=1)
        items = await meetings.agenda_items(s, meeting.id)
        numbers = [i.number for i in items]
        assert numbers == [1, *range(99, 39, -1), 2, 11, 3, 12]
        assert len(set(i.position for i in items)) == len(items)
        with pytest.raises(meetings.AgendaItemExists):
            await meetings.add_agenda_item(s, meeting.id, 2, "Igjen")
        with pytest.raises(meetings.NoSuchAgendaItem):
            await meetings.add_agenda_item(s, meeting.id, 7, "Sju", after=8)


async def test_current_meeting_is_the_first_still_collecting(db: Database) -> None:
    def deadline(m: Meeting) -> datetime:
        return m.ends_at + timedelta(days=7)

    async with db.write() as s:
        group, _ = await groups.get_or_create_group(s, "A")
        january = await meetings.create_meeting(s, group.id, START, START + timedelta(hours=2))
        march = await meetings.create_meeting(
            s, group.id, START + timedelta(days=50), START + timedelta(days=50, hours=2)
        )
        now = START + timedelta(days=2)
        assert (await meetings.current_meeting(s, group.id, now, deadline)) is january
        january.status = MeetingStatus.CLOSED
        assert (await meetings.current_meeting(s, group.id, now, deadline)) is march
        assert (await meetings.latest_meeting(s, group.id, before=now)) is january
        assert (await meetings.next_meeting(s, group.id, now)) is march
        assert (await meetings.meeting_on_date(s, group.id, START.date(), "Europe/Oslo")) is january


async def test_toggle_vote_rules(db: Database) -> None:
    async with db.write() as s:
        group, _ = await groups.get_or_create_group(s, "A")
        kari = await members.create_member(s, group.id, "Kari", role=Role.MEMBER)
        ola = await members.create_member(s, group.id, "Ola")
        poll = await polls.create_poll(
            s,
            group_id=group.id,
            question="Q",
            options=[OptionSpec("En", cap=1), OptionSpec("To")],
            multiple=False,
        )
        one, two = await polls.options_of(s, poll.id)
        now = START
        assert (await polls.toggle_vote(s, poll.id, one.id, kari.id, now)).outcome == VoteOutcome.JOINED
        assert (await polls.toggle_vote(s, poll.id, one.id, ola.id, now)).outcome == VoteOutcome.FULL
        moved = await polls.toggle_vote(s, poll.id, two.id, kari.id, now)
        assert (
            moved.outcome == VoteOutcome.MOVED and moved.previous is not None and moved.previous.id == one.id
        )
        assert (await polls.toggle_vote(s, poll.id, two.id, kari.id, now)).outcome == VoteOutcome.LEFT
        assert (await polls.toggle_vote(s, poll.id, 999, kari.id, now)).outcome == VoteOutcome.UNKNOWN
        poll.closes_at = now
        assert (await polls.toggle_vote(s, poll.id, two.id, kari.id, now)).outcome == VoteOutcome.CLOSED


async def test_processed_events_and_channel_messages(db: Database) -> None:
    async with db.write() as s:
        assert not await events.is_processed(s, "slack", "Ev1")
        await events.mark_processed(s, "slack", "Ev1")
        assert await events.is_processed(s, "slack", "Ev1")
        assert not await events.is_processed(s, "teams", "Ev1")
        await channel_messages.record_message(
            s,
            purpose="poll",
            subject_id=3,
            platform="teams",
            workspace_id="t",
            channel_id="c",
            message_ref="m",
        )
        found = await channel_messages.find_message(s, "teams", "t", "c", "m")
        assert found is not None and found.subject_id == 3
        assert len(await channel_messages.messages_for(s, "poll", 3)) == 1


async def test_round_entry_replacement(db: Database) -> None:
    async with db.write() as s:
        group, _ = await groups.get_or_create_group(s, "A")
        kari = await members.create_member(s, group.id, "Kari")
        meeting = await meetings.create_meeting(s, group.id, START, START + timedelta(hours=2))
        for text in ("En", "To"):
            await submissions.add_submission(
                s,
                meeting_id=meeting.id,
                member_id=kari.id,
                kind=submissions.SubmissionKind.ROUND,
                text=text,
                platform="slack",
            )
        await submissions.replace_round_entry(
            s, meeting_id=meeting.id, member_id=kari.id, text="Ny", platform="teams"
        )
        assert [p.text for p in await submissions.of_member(s, meeting.id, kari.id)] == ["Ny"]
        assert await submissions.submitted_member_ids(s, meeting.id) == {kari.id}
