"""Scoping: which group a request belongs to, and the rules of `oppsett`."""

from __future__ import annotations

from datetime import datetime

from handlers.events import ChannelTarget, EventKind
from storage.db import Database
from storage.models import (
    ChannelBinding,
    Group,
    Meeting,
    Member,
    PendingJoin,
    PlatformIdentity,
    Role,
    Submission,
)
from tests.transcript import (
    GROUP,
    KARI,
    KARI_TEAMS,
    OSLO,
    SARA,
    SARA_TEAMS,
    Channel,
    Person,
    TranscriptBot,
    count,
    rows,
    seed,
)

STRANGER = Person("U-X", "Eva Utenfor", "eva@elsewhere.example")


async def test_unbound_channel_is_told_how_to_set_up_and_nothing_is_stored(db: Database) -> None:
    bot = TranscriptBot(db)
    reply = await bot.say("runde Hei", as_=KARI)
    assert not reply.ok
    assert "oppsett" in reply.text
    assert await count(db, Group) == 0
    assert await count(db, Member) == 0


async def test_oppsett_creates_the_group_and_makes_the_creator_secretariat(db: Database) -> None:
    bot = TranscriptBot(db)
    reply = await bot.say("oppsett Næringssamarbeid | Fjordregionen", as_=SARA)
    assert reply.ok, reply.text
    assert "Næringssamarbeid" in reply.text
    (group,) = await rows(db, Group)
    assert group.name == "Næringssamarbeid" and group.organisation == "Fjordregionen"
    (member,) = await rows(db, Member)
    assert member.role == Role.SECRETARIAT and member.email == "sara.sekretaer@region.example"
    assert await count(db, PlatformIdentity) == 1
    (binding,) = await rows(db, ChannelBinding)
    assert (binding.platform, binding.workspace_id, binding.channel_id) == ("slack", "T1", "C1")


async def test_oppsett_again_changes_nothing(db: Database) -> None:
    bot = TranscriptBot(db)
    await bot.say("oppsett Næringssamarbeid", as_=SARA)
    reply = await bot.say("oppsett næringssamarbeid", as_=SARA)
    assert reply.ok and "allerede" in reply.text
    assert await count(db, ChannelBinding) == 1
    assert await count(db, Group) == 1


async def test_a_bound_channel_cannot_be_rebound_to_another_group(db: Database) -> None:
    bot = TranscriptBot(db)
    await bot.say("oppsett Næringssamarbeid", as_=SARA)
    reply = await bot.say("oppsett Klima", as_=SARA)
    assert not reply.ok
    assert "Næringssamarbeid" in reply.text
    assert await count(db, Group) == 1


async def test_binding_an_existing_group_needs_its_secretariat(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, meeting=None)
    other = Channel("slack", "T1", "C-OTHER")
    reply = await bot.say(f"oppsett {GROUP}", as_=KARI, channel=other)
    assert not reply.ok
    assert "sekretariatet" in reply.text
    assert await count(db, ChannelBinding) == 1
    # A stranger's own channel in another workspace cannot reach the group either: group names
    # belong to a workspace, so she gets a new group of her own there (the answer she would get
    # if no group of that name existed anywhere).
    reply = await bot.say(f"oppsett {GROUP}", as_=Person("U-Y", "Mallory", None, workspace_id="T9"))
    assert reply.ok, reply.text
    original, hers = await rows(db, Group)
    assert (hers.name, hers.home_workspace) == (GROUP, "T9") and original.home_workspace == "T1"
    assert await count(db, ChannelBinding, ChannelBinding.group_id == original.id) == 1


async def test_a_teams_channel_joins_the_slack_group_when_the_secretariat_approves(db: Database) -> None:
    """Another tenant: `oppsett <name>` there makes a Teams group of its own; joining the Slack
    group takes a request and the approval of its secretariat in the group's own channel."""
    bot = TranscriptBot(db)
    await seed(bot, meeting=None)
    (group,) = await rows(db, Group)
    # The same e-mail in another tenant proves nothing: a request, not a binding.
    reply = await bot.say(f"oppsett bli med {group.id}", as_=SARA_TEAMS)
    assert reply.ok and GROUP not in reply.text
    assert await count(db, ChannelBinding) == 1
    # A request for a group that does not exist gets the very same answer.
    nothing = await bot.say("oppsett bli med 999", as_=SARA_TEAMS)
    assert nothing.text == reply.text
    (pending,) = await rows(db, PendingJoin)
    # Only the group's secretariat, in the group's own channel, approves.
    assert not (await bot.say(f"oppsett godkjenn {pending.id}", as_=KARI)).ok
    assert not (await bot.say(f"oppsett godkjenn {pending.id}", as_=SARA_TEAMS)).ok
    assert await count(db, ChannelBinding) == 1
    approved = await bot.say(f"oppsett godkjenn {pending.id}", as_=SARA)
    assert approved.ok, approved.text
    assert await count(db, PendingJoin) == 0
    # Now tenant-1 is one of the group's own: Sara's e-mail there links her.
    reply = await bot.say(f"oppsett {GROUP}", as_=SARA_TEAMS)
    assert reply.ok and "allerede" in reply.text, reply.text
    platforms = sorted(b.platform.value for b in await rows(db, ChannelBinding))
    assert platforms == ["slack", "teams"]
    sara = (await rows(db, Member, Member.email == "sara.sekretaer@region.example"))[0]
    identities = await rows(db, PlatformIdentity, PlatformIdentity.member_id == sara.id)
    assert sorted(i.platform.value for i in identities) == ["slack", "teams"]


async def test_oppsett_in_a_direct_chat_is_refused(db: Database) -> None:
    bot = TranscriptBot(db)
    reply = await bot.say("oppsett Klima", as_=SARA, direct=True)
    assert not reply.ok
    assert await count(db, Group) == 0


async def test_other_workspace_with_the_same_channel_id_sees_nothing(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("runde Hemmelig nytt fra Asker", as_=KARI)
    intruder = Person("U-KARI", "Kari Nordmann", "kari.nordmann@asker.example", workspace_id="T-OTHER")
    for line in ("referat", "mote status", "grupper", "runde Hei", "hjelp"):
        reply = await bot.say(line, as_=intruder)
        assert GROUP not in reply.text, line
        assert "Hemmelig" not in reply.text, line
    assert await count(db, Submission) == 1


async def test_direct_chat_finds_the_members_group(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("runde Fra privat samtale", as_=KARI, direct=True)
    assert reply.ok, reply.text
    assert await count(db, Submission) == 1


async def test_direct_chat_from_a_stranger_gets_how_to_set_up(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("runde Hei", as_=STRANGER, direct=True)
    assert not reply.ok
    assert GROUP not in reply.text
    assert await count(db, Submission) == 0


async def test_direct_chat_from_another_tenant_sees_nothing_even_with_a_roster_email(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)  # bound only in Slack workspace T1
    reply = await bot.say("referat", as_=KARI_TEAMS, direct=True)
    assert not reply.ok
    assert GROUP not in reply.text


async def test_direct_chat_picks_the_group_with_the_most_recent_meeting(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("oppsett Klima", as_=SARA, channel=Channel("slack", "T1", "C-KLIMA"))
    await bot.say("mote ny 03.03.2026 09:00-11:00", as_=SARA, channel=Channel("slack", "T1", "C-KLIMA"))
    bot.clock.set(datetime(2026, 3, 3, 12, 0, tzinfo=OSLO))
    reply = await bot.say("runde Nytt om klima", as_=SARA, direct=True)
    assert reply.ok, reply.text
    (submission,) = await rows(db, Submission)
    klima = (await rows(db, Group, Group.name == "Klima"))[0]
    meeting = (await rows(db, Meeting, Meeting.id == submission.meeting_id))[0]
    assert meeting.group_id == klima.id


async def test_installed_says_how_to_set_up(db: Database) -> None:
    bot = TranscriptBot(db)
    reply = await bot.send(bot.event(EventKind.INSTALLED, as_=SARA))
    assert "oppsett" in reply.text and "Referent" in reply.text
    english = await bot.send(bot.event(EventKind.INSTALLED, as_=SARA, locale="en-US"))
    assert "To get started" in english.text


async def test_help_works_in_an_unbound_channel(db: Database) -> None:
    bot = TranscriptBot(db)
    reply = await bot.say("hjelp", as_=STRANGER)
    assert reply.ok
    assert "oppsett" in reply.text and "runde" in reply.text


async def test_a_teams_channel_is_posted_to_by_its_ids_and_its_reference_is_kept_once(db: Database) -> None:
    """The binding holds no copy of the channel's conversation reference, and the handler names
    the channel by its ids: the Teams messenger resolves it from the one stored reference."""
    from storage.models import ConversationReference, Platform

    reference = {
        "serviceUrl": "https://smba.example/emea/",
        "conversation": {"id": "19:faggruppe@thread.tacv2"},
    }
    async with db.write() as s:
        s.add(
            ConversationReference(
                platform=Platform.TEAMS,
                workspace_id="tenant-1",
                key="channel:19:faggruppe@thread.tacv2",
                reference=reference,
            )
        )
    bot = TranscriptBot(db)
    await seed(bot, meeting=None, teams=True)
    teams_binding = (await rows(db, ChannelBinding, ChannelBinding.platform == Platform.TEAMS))[0]
    assert not hasattr(teams_binding, "reference")
    await bot.say("mote ny 20.01.2026 10:00-12:00", as_=SARA)
    (post,) = bot.messengers.teams.posts
    assert post.target == ChannelTarget("teams", teams_binding.workspace_id, teams_binding.channel_id)
    assert not hasattr(post.target, "reference")
    [stored] = await rows(db, ConversationReference)
    assert (stored.key, stored.reference) == ("channel:19:faggruppe@thread.tacv2", reference)
