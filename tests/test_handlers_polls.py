"""Work-group sign-up: creating, toggling, caps, closing, single choice, and one poll shown in a
Slack and a Teams channel whose votes count together."""

from __future__ import annotations

from datetime import datetime

from handlers.effects import load_poll_view
from handlers.events import EffectKind, PollView
from storage.db import Database
from storage.models import ChannelMessage, Poll, PollOption, Vote
from tests.transcript import (
    KARI,
    KARI_TEAMS,
    OLA,
    OSLO,
    PER,
    PER_TEAMS,
    SARA,
    Channel,
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
