"""Work-group sign-up: creating, toggling, caps, closing, single choice, and one poll shown in a
Slack and a Teams channel whose votes count together."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from handlers.commands.polls import Odd, Oddity, close_due_polls, oddities
from handlers.effects import load_poll_view
from handlers.events import EffectKind, PollView
from storage.db import Database
from storage.models import ChannelMessage, Poll, PollOption, PollStatus, Vote
from storage.repositories.polls import OptionSpec
from tests.transcript import (
    KARI,
    KARI_TEAMS,
    OLA,
    OSLO,
    PER,
    PER_TEAMS,
    SARA,
    SARA_TEAMS,
    Channel,
    Posted,
    TranscriptBot,
    count,
    rows,
    seed,
)

NEW_POLL = (
    'grupper ny "Gruppe 1 – Rekruttering | Kari Nordmann" '
    '"Gruppe 2 – Sirkulærøkonomi | Trine Utenfor | maks 2"'
)


async def _poll(db: Database) -> tuple[Poll, list[PollOption]]:
    (poll,) = await rows(db, Poll)
    return poll, await rows(db, PollOption, order_by=PollOption.position)


def _voters(view: PollView) -> list[tuple[str, ...]]:
    return [o.voters for o in view.options]


async def test_only_the_secretariat_creates_a_poll(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say(NEW_POLL, as_=KARI)
    assert not reply.ok
    assert await count(db, Poll) == 0


async def test_a_new_poll_is_posted_in_every_bound_channel(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, teams=True)
    reply = await bot.say(NEW_POLL, as_=SARA)
    assert reply.ok, reply.text
    assert "2 grupper" in reply.text and "2 kanaler" in reply.text
    poll, options = await _poll(db)
    assert poll.multiple is True
    assert [o.label for o in options] == ["Gruppe 1 – Rekruttering", "Gruppe 2 – Sirkulærøkonomi"]
    assert options[0].responsible_member_id is not None  # Kari is on the roster
    assert options[1].responsible_member_id is None and options[1].responsible_text == "Trine Utenfor"
    assert options[1].cap == 2
    slack_poll = bot.messengers.slack.posts[-1].reply.poll
    teams_poll = bot.messengers.teams.posts[-1].reply.poll
    assert slack_poll is not None and teams_poll is not None
    assert slack_poll.options[0].responsible == "Kari Nordmann"
    assert slack_poll.button_join_label == "Bli med"
    assert await count(db, ChannelMessage, ChannelMessage.purpose == "poll") == 2


async def test_click_joins_and_a_second_click_leaves(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say(NEW_POLL, as_=SARA)
    poll, options = await _poll(db)
    reply = await bot.click(poll.id, options[0].id, as_=KARI)
    assert reply.ok and "Du er med i «Gruppe 1 – Rekruttering»" in reply.text
    assert [e.kind for e in reply.effects] == [EffectKind.REFRESH_POLL]
    await bot.click(poll.id, options[1].id, as_=KARI)  # multiple choice: both
    assert await count(db, Vote) == 2
    reply = await bot.click(poll.id, options[0].id, as_=KARI)
    assert reply.ok and "meldt av" in reply.text
    assert await count(db, Vote) == 1


async def test_votes_from_slack_and_teams_count_together_and_both_copies_update(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, teams=True)
    await bot.say(NEW_POLL, as_=SARA)
    poll, options = await _poll(db)
    await bot.click(poll.id, options[0].id, as_=KARI)  # Slack
    reply = await bot.click(poll.id, options[0].id, as_=PER_TEAMS)  # Teams, matched to Per by e-mail
    assert reply.ok, reply.text
    view = await load_poll_view(bot.ctx, poll.id)
    assert view is not None
    assert _voters(view)[0] == ("Kari Nordmann", "Per Berg")
    slack_update = bot.messengers.slack.updates[-1]
    teams_update = bot.messengers.teams.updates[-1]
    assert slack_update.message_ref == bot.messengers.slack.posts[-1].ref
    assert teams_update.message_ref == bot.messengers.teams.posts[-1].ref
    for update in (slack_update, teams_update):
        assert update.reply.poll is not None
        assert update.reply.poll.options[0].voters == ("Kari Nordmann", "Per Berg")


async def test_the_same_person_on_both_platforms_is_one_voter(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, teams=True)
    await bot.say(NEW_POLL, as_=SARA)
    poll, options = await _poll(db)
    await bot.click(poll.id, options[0].id, as_=KARI)
    reply = await bot.click(poll.id, options[0].id, as_=KARI_TEAMS)  # same e-mail, other case
    assert "meldt av" in reply.text
    assert await count(db, Vote) == 0


async def test_a_full_option_is_refused(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say(NEW_POLL, as_=SARA)
    poll, options = await _poll(db)
    await bot.click(poll.id, options[1].id, as_=KARI)
    await bot.click(poll.id, options[1].id, as_=OLA)
    reply = await bot.click(poll.id, options[1].id, as_=PER)
    assert not reply.ok and "full" in reply.text and not reply.effects
    assert await count(db, Vote) == 2


async def test_a_closed_poll_refuses_clicks_politely(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say(NEW_POLL + " --stenger 25.01.2026", as_=SARA)
    assert reply.ok, reply.text
    poll, options = await _poll(db)
    assert poll.closes_at == datetime(2026, 1, 25, 23, 59, tzinfo=OSLO)
    view = await load_poll_view(bot.ctx, poll.id)
    assert view is not None and view.closes_text and "søndag 25. januar" in view.closes_text
    bot.clock.set(datetime(2026, 1, 26, 8, 0, tzinfo=OSLO))
    reply = await bot.click(poll.id, options[0].id, as_=KARI)
    assert not reply.ok and "stengt" in reply.text and "Sara Sekretær" in reply.text
    assert await count(db, Vote) == 0
    closed = await load_poll_view(bot.ctx, poll.id)
    assert closed is not None and closed.closed


async def test_a_closing_date_in_the_past_is_refused(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say(NEW_POLL + " --stenger 01.01.2026", as_=SARA)
    assert not reply.ok
    assert await count(db, Poll) == 0


async def test_single_choice_moves_the_vote(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say(NEW_POLL + " --enkeltvalg", as_=SARA)
    poll, options = await _poll(db)
    assert poll.multiple is False
    await bot.click(poll.id, options[0].id, as_=KARI)
    reply = await bot.click(poll.id, options[1].id, as_=KARI)
    assert "flyttet" in reply.text
    (vote,) = await rows(db, Vote)
    assert vote.option_id == options[1].id


async def test_a_retried_click_toggles_once(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say(NEW_POLL, as_=SARA)
    poll, options = await _poll(db)
    await bot.click(poll.id, options[0].id, as_=KARI, event_id="click-1")
    again = await bot.click(poll.id, options[0].id, as_=KARI, event_id="click-1")
    assert again.ok and "Du er med i" in again.text
    assert await count(db, Vote) == 1


async def test_a_poll_of_another_group_cannot_be_voted_on(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say(NEW_POLL, as_=SARA)
    poll, options = await _poll(db)
    elsewhere = Channel("slack", "T1", "C-KLIMA")
    await bot.say("oppsett Klima", as_=SARA, channel=elsewhere)
    reply = await bot.click(poll.id, options[0].id, as_=KARI, channel=elsewhere)
    assert not reply.ok
    reply = await bot.click(poll.id, 99999, as_=KARI)
    assert not reply.ok
    assert await count(db, Vote) == 0


async def test_grupper_posts_the_current_poll_here(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, teams=True)
    none = await bot.say("grupper", as_=KARI)
    assert none.ok and "grupper ny" in none.text
    await bot.say(NEW_POLL, as_=SARA)
    before = len(bot.messengers.teams.posts)
    reply = await bot.say("grupper", as_=KARI)
    assert reply.ok
    (effect,) = reply.effects
    assert effect.kind == EffectKind.POST_POLL and effect.target is not None
    assert effect.target.channel_id == "C1"
    assert len(bot.messengers.teams.posts) == before  # only this channel
    assert await count(db, ChannelMessage, ChannelMessage.purpose == "poll") == 3


async def test_poll_in_english(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say(NEW_POLL, as_=SARA)
    poll, _ = await _poll(db)
    view = await load_poll_view(bot.ctx, poll.id, "en")
    assert view is not None and view.button_join_label == "Join" and view.footer and "several" in view.footer


# --- polls before they go out, and taken back (issue 13 §3) ------------------------------------


def _polls_posted(bot: TranscriptBot, platform: str) -> list[Posted]:
    """The poll messages posted on a platform (not the collection message of the meeting)."""
    messenger = bot.messengers.for_platform(platform)
    assert messenger is not None
    return [p for p in messenger.posts if p.reply.poll is not None]


def _options(*specs: tuple[str, str | None]) -> list[OptionSpec]:
    return [OptionSpec(label, responsible) for label, responsible in specs]


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        # Every group has someone responsible: nothing odd.
        ([("A", "Kari"), ("B", "Ola")], ()),
        ([("A", "Kari"), ("B", "Ola"), ("C", "Per")], ()),
        # One group (with or without someone responsible).
        ([("A", "Kari")], (Odd(Oddity.ONE_GROUP),)),
        ([("A", None)], (Odd(Oddity.ONE_GROUP), Odd(Oddity.NO_RESPONSIBLE))),
        # Nobody responsible anywhere: said once, not per group.
        ([("A", None), ("B", None)], (Odd(Oddity.NO_RESPONSIBLE),)),
        ([("A", " "), ("B", "")], (Odd(Oddity.NO_RESPONSIBLE),)),  # `"A | "`: blank is none
        # Some lack one (their `|` forgotten): named.
        ([("A", "Kari"), ("B", None)], (Odd(Oddity.MISSING_RESPONSIBLE, ("B",)),)),
        (
            [("A", None), ("B", "Ola"), ("C", None)],
            (Odd(Oddity.MISSING_RESPONSIBLE, ("A", "C")),),
        ),
    ],
)
def test_what_makes_a_poll_odd(specs: list[tuple[str, str | None]], expected: tuple[Odd, ...]) -> None:
    assert oddities(_options(*specs)) == expected


async def test_an_odd_poll_waits_as_a_preview_until_its_author_posts_it(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, teams=True)
    preview = await bot.say('grupper ny "Gruppe 1 | Kari Nordmann" "Gruppe 2"', as_=SARA)
    assert preview.ok and preview.ephemeral and not preview.effects
    assert "Uten ansvarlig: «Gruppe 2»" in preview.text and "2 kanaler" in preview.text
    assert preview.poll is not None and preview.poll.preview
    assert preview.poll.options[0].responsible == "Kari Nordmann"  # as it will look
    post, discard = preview.buttons
    (poll,) = await rows(db, Poll)
    assert (post.label, post.value) == ("Legg ut", f"grupper publiser {poll.id}")
    assert (discard.label, discard.value) == ("Avbryt", f"grupper forkast {poll.id}")
    assert poll.status == PollStatus.PENDING
    # Nothing is out, nothing shows it, nobody votes on it, no deadline pass closes it.
    assert not _polls_posted(bot, "slack") and not _polls_posted(bot, "teams")
    assert "ingen påmelding" in (await bot.say("grupper", as_=KARI)).text
    options = await rows(db, PollOption, order_by=PollOption.position)
    assert not (await bot.click(poll.id, options[0].id, as_=KARI)).ok
    assert await count(db, Vote) == 0
    assert "sekretariatet" in (await bot.say(post.value, as_=KARI)).text
    assert not _polls_posted(bot, "slack")

    posted = await bot.say(post.value, as_=SARA)
    assert posted.ok and "lagt ut i 2 kanaler" in posted.text
    assert [e.kind for e in posted.effects] == [EffectKind.POST_POLL]
    assert len(_polls_posted(bot, "slack")) == 1 and len(_polls_posted(bot, "teams")) == 1
    shown = _polls_posted(bot, "slack")[0].reply.poll
    assert shown is not None and not shown.preview
    again = await bot.say(post.value, as_=SARA)
    assert again.ok and "allerede lagt ut" in again.text and not again.effects
    assert "ikke lenger en forhåndsvisning" in (await bot.say(discard.value, as_=SARA)).text
    assert len(_polls_posted(bot, "slack")) == 1
    assert (await bot.click(poll.id, options[1].id, as_=KARI)).ok


async def test_a_discarded_preview_is_gone(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    preview = await bot.say('grupper ny "Gruppe 1"', as_=SARA)
    post, discard = preview.buttons
    assert "sekretariatet" in (await bot.say(discard.value, as_=KARI)).text
    assert await count(db, Poll) == 1
    reply = await bot.say(discard.value, as_=SARA)
    assert reply.ok and "forkastet" in reply.text
    assert await count(db, Poll) == 0 and await count(db, PollOption) == 0
    assert "finner ingen" in (await bot.say(post.value, as_=SARA)).text
    assert not _polls_posted(bot, "slack")


async def test_a_preview_of_another_group_cannot_be_posted(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    preview = await bot.say('grupper ny "Gruppe 1"', as_=SARA)
    elsewhere = Channel("slack", "T1", "C-KLIMA")
    await bot.say("oppsett Klima", as_=SARA, channel=elsewhere)
    assert "finner ingen" in (await bot.say(preview.buttons[0].value, as_=SARA, channel=elsewhere)).text
    (poll,) = await rows(db, Poll)
    assert poll.status == PollStatus.PENDING and not _polls_posted(bot, "slack")


async def test_grupper_trekk_takes_every_copy_down_keeps_the_votes_and_refuses_more(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, teams=True)
    await bot.say(NEW_POLL, as_=SARA)
    poll, options = await _poll(db)
    await bot.click(poll.id, options[0].id, as_=KARI)
    bot.messengers.teams.refuse_deletes = True  # Teams keeps it: its copy gets the notice
    reply = await bot.say("grupper trekk", as_=SARA)
    assert reply.ok and "trukket tilbake" in reply.text and "1 påmelding " in reply.text
    assert [e.kind for e in reply.effects] == [EffectKind.WITHDRAW_POLL]
    (slack_copy,) = bot.messengers.slack.deletes
    assert slack_copy.message_ref == bot.messengers.slack.posts[-1].ref
    notice = bot.messengers.teams.updates[-1]
    assert notice.message_ref == bot.messengers.teams.posts[-1].ref
    assert notice.reply.text == "Avstemningen er trukket." and notice.reply.poll is None
    (poll, _) = await _poll(db)
    assert poll.status == PollStatus.WITHDRAWN and await count(db, Vote) == 1
    refused = await bot.click(poll.id, options[1].id, as_=PER)
    assert not refused.ok and "trukket tilbake" in refused.text and "Sara Sekretær" in refused.text
    assert await count(db, Vote) == 1
    # Nothing refreshes it back, and the scheduler does not close it.
    updates = len(bot.messengers.slack.updates) + len(bot.messengers.teams.updates)
    bot.clock.set(datetime(2026, 3, 1, 9, 0, tzinfo=OSLO))
    assert await close_due_polls(bot.ctx) == []
    assert len(bot.messengers.slack.updates) + len(bot.messengers.teams.updates) == updates
    assert (await bot.say("grupper eksport", as_=SARA)).files  # its sign-ups are still kept


async def test_grupper_trekk_twice_leaves_the_older_poll_alone(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say(NEW_POLL, as_=SARA)
    bot.clock.advance(minutes=5)
    await bot.say('grupper ny "Gruppe 3 | Kari Nordmann" "Gruppe 4 | Per Berg"', as_=SARA)
    assert "sekretariatet" in (await bot.say("grupper trekk", as_=KARI)).text
    assert (await bot.say("grupper trekk", as_=SARA)).ok
    again = await bot.say("grupper trekk", as_=SARA)
    assert "allerede trukket" in again.text and not again.effects
    first, second = await rows(db, Poll, order_by=Poll.id)
    assert (first.status, second.status) == (PollStatus.POSTED, PollStatus.WITHDRAWN)
    assert "trukket" in (await bot.say("grupper lukk", as_=SARA)).text
    assert second.closed_at is None and first.closed_at is None
    assert "trukket tilbake" in (await bot.say("grupper", as_=KARI)).text


async def test_the_preview_in_english(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("sprak en", as_=SARA)
    preview = await bot.say('grupper ny "Group 1" "Group 2"', as_=SARA)
    assert "None of the groups has anyone responsible" in preview.text
    assert [b.label for b in preview.buttons] == ["Post", "Cancel"]


async def test_two_confirms_at_once_post_the_poll_once(db: Database) -> None:
    """Two clicks on Legg ut at the same moment (two replicas, a double click): the conditional
    UPDATE lets one of them post; the other is told it is out already."""
    bot = TranscriptBot(db)
    await seed(bot, teams=True)
    preview = await bot.say('grupper ny "Gruppe 1" "Gruppe 2"', as_=SARA)
    line = preview.buttons[0].value
    first, second = await asyncio.gather(bot.say(line, as_=SARA), bot.say(line, as_=SARA_TEAMS))
    texts = sorted([first.text, second.text], key=lambda text: "allerede" in text)
    assert "lagt ut i 2 kanaler" in texts[0] and "allerede lagt ut" in texts[1]
    assert len(_polls_posted(bot, "slack")) == 1 and len(_polls_posted(bot, "teams")) == 1
