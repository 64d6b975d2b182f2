"""`mote ny|sak|status|lukk|apne|frist`: roles, the collection message, agenda order, status."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database
from storage.models import AgendaItem, AgendaKind, ChannelMessage, Meeting, MeetingStatus
from tests.transcript import KARI, LIV, OLA, OSLO, PER, SARA, TranscriptBot, count, rows, seed


async def test_only_the_secretariat_creates_meetings(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, meeting=None)
    reply = await bot.say("mote ny 20.01.2026 10:00-12:00", as_=KARI)
    assert not reply.ok
    assert "sekretariatet" in reply.text and "Sara Sekretær" in reply.text
    assert await count(db, Meeting) == 0


async def test_mote_ny_posts_the_collection_message_in_every_bound_channel(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, meeting=None, teams=True)
    reply = await bot.say("mote ny 20.01.2026 10:00-12:00 Thon Hotel Opera", as_=SARA)
    assert reply.ok, reply.text
    assert "tirsdag 20. januar 2026 kl. 10.00–12.00" in reply.text
    assert "Thon Hotel Opera" in reply.text and "2 kanaler" in reply.text
    (meeting,) = await rows(db, Meeting)
    assert meeting.place == "Thon Hotel Opera" and meeting.status == MeetingStatus.OPEN
    assert meeting.starts_at == datetime(2026, 1, 20, 10, 0, tzinfo=OSLO)
    assert len(bot.messengers.slack.posts) == 1 and len(bot.messengers.teams.posts) == 1
    recorded = await rows(db, ChannelMessage, ChannelMessage.purpose == "collection")
    assert sorted(m.platform.value for m in recorded) == ["slack", "teams"]
    assert {m.subject_id for m in recorded} == {meeting.id}


async def test_a_failing_platform_does_not_fail_the_command(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, meeting=None, teams=True)
    bot.messengers.teams.fail = True
    reply = await bot.say("mote ny 20.01.2026 10:00-12:00", as_=SARA)
    assert reply.ok
    assert len(bot.messengers.slack.posts) == 1
    assert await count(db, ChannelMessage) == 1


async def test_a_meeting_in_the_past_says_its_deadline_has_passed(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, meeting=None)
    reply = await bot.say("mote ny 02.12.2025 10:00-12:00", as_=SARA)
    assert reply.ok
    assert "har allerede gått ut" in reply.text
    assert not reply.effects and not bot.messengers.slack.posts
    assert await count(db, Meeting) == 1


async def test_two_meetings_on_one_day_are_refused(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("mote ny 20.01.2026 13:00-14:00", as_=SARA)
    assert not reply.ok and "20.01.2026" in reply.text
    assert await count(db, Meeting) == 1


async def test_bad_arguments_store_nothing_and_show_usage(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, meeting=None)
    for line in ("mote ny 20.01.2026 12:00-10:00", "mote ny 31.02.2026 10:00-12:00", "mote ny", "mote flytt"):
        reply = await bot.say(line, as_=SARA)
        assert not reply.ok, line
        assert "mote ny DD.MM.YYYY" in reply.text, line
    assert await count(db, Meeting) == 0


async def test_agenda_keeps_the_order_of_discussion(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    for line in (
        "mote sak 1 Godkjenning av innkalling",
        "mote sak 2 Handlingsprogram 2026",
        "mote sak 3 Arrangementer",
    ):
        assert (await bot.say(line, as_=SARA)).ok
    reply = await bot.say("mote sak 11 Nytt fra kommunene etter 2", as_=SARA)
    assert reply.ok and "1, 2, 11, 3" in reply.text
    await bot.say("mote sak 12 Runde rundt bordet", as_=SARA)
    items = await rows(db, AgendaItem, order_by=AgendaItem.position)
    assert [i.number for i in items] == [1, 2, 11, 3, 12]
    kinds = {i.number: i.kind for i in items}
    assert kinds[1] == AgendaKind.APPROVAL and kinds[12] == AgendaKind.ROUND_TABLE
    duplicate = await bot.say("mote sak 2 Noe annet", as_=SARA)
    assert not duplicate.ok and "Handlingsprogram" in duplicate.text
    unknown = await bot.say("mote sak 7 Noe etter 9", as_=SARA)
    assert not unknown.ok and "1, 2, 11, 3, 12" in unknown.text
    assert await count(db, AgendaItem) == 5
    assert not (await bot.say("mote sak 8 Hei", as_=KARI)).ok


async def test_status_counts_who_has_submitted(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("runde Nytt fra Asker", as_=KARI)
    await bot.say("runde ingen", as_=OLA)
    await bot.say("forfall", as_=PER)
    await bot.say("innspill 1 bare innspill", as_=LIV)  # no such item: refused, and input alone never counts
    reply = await bot.say("mote status", as_=SARA)
    assert reply.ok, reply.text
    # Roster minus secretariat = Kari, Ola, Per, Liv, Nils; Per has forfall.
    assert "**2 av 4** har levert" in reply.text
    assert "Mangler: Liv Dahl og Nils Aas" in reply.text
    assert "Forfall: Per Berg" in reply.text
    assert "Frist for runden: tirsdag 27. januar kl. 23.59" in reply.text
    chair = await bot.say("mote status", as_=LIV)
    assert chair.ok  # the chair may look
    assert not (await bot.say("mote status", as_=KARI)).ok


async def test_status_in_english(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    from tests.transcript import Person

    reply = await bot.say("mote status", as_=Person(SARA.user_id, SARA.name, SARA.email, locale="en-US"))
    assert "**0 of 5** have submitted" in reply.text
    assert "Meeting Tuesday 20 January 2026, 10:00–12:00" in reply.text


async def test_lukk_apne_and_frist(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    assert "stengt" in (await bot.say("mote lukk", as_=SARA)).text
    assert "allerede" in (await bot.say("mote lukk", as_=SARA)).text
    reply = await bot.say("mote apne", as_=SARA)
    assert reply.ok and "tirsdag 27. januar kl. 23.59" in reply.text
    reply = await bot.say("mote frist 30.01.2026", as_=SARA)
    assert reply.ok and "fredag 30. januar kl. 23.59" in reply.text
    (meeting,) = await rows(db, Meeting)
    assert meeting.deadline_override == datetime(2026, 1, 30, 23, 59, tzinfo=OSLO)
    past = await bot.say("mote frist 10.01.2026", as_=SARA)
    assert not past.ok and "allerede gått ut" in past.text
    for line in ("mote lukk", "mote apne", "mote frist 01.02.2026"):
        assert not (await bot.say(line, as_=KARI)).ok


async def test_apne_after_the_deadline_moves_it(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    bot.clock.set(datetime(2026, 2, 2, 10, 0, tzinfo=OSLO))
    reply = await bot.say("mote apne", as_=SARA)
    assert reply.ok and "mandag 9. februar kl. 23.59" in reply.text
    assert (await bot.say("runde Sent, men godt", as_=KARI)).ok


async def test_frist_on_a_closed_meeting_reopens_it(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("mote lukk", as_=SARA)
    reply = await bot.say("mote frist 05.02.2026", as_=SARA)
    assert reply.ok and "åpnet for innsending igjen" in reply.text
    assert (await bot.say("runde Hei", as_=KARI)).ok


async def test_submissions_go_to_the_meeting_still_collecting(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("mote ny 10.03.2026 10:00-12:00", as_=SARA)  # created early
    bot.clock.set(datetime(2026, 1, 22, 9, 0, tzinfo=OSLO))
    await bot.say("runde Etter januarmøtet", as_=KARI)
    await bot.say("mote sak 1 Godkjenning", as_=SARA)  # agenda goes to the next meeting
    january, march = await rows(db, Meeting, order_by=Meeting.starts_at)
    from storage.models import Submission

    (submission,) = await rows(db, Submission)
    assert submission.meeting_id == january.id
    (item,) = await rows(db, AgendaItem)
    assert item.meeting_id == march.id
