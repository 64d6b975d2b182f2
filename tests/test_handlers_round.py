"""The round table: `runde`, the editor form, collection-thread replies, edits, deletes,
deadlines, and retried deliveries."""

from __future__ import annotations

from datetime import datetime

from handlers.events import EventKind
from storage.db import Database
from storage.models import ChannelMessage, Member, ProcessedEvent, Submission, SubmissionKind
from tests.transcript import KARI, OLA, OSLO, SARA, Person, TranscriptBot, count, rows, seed


async def _collection_ref(db: Database) -> str:
    (message,) = await rows(db, ChannelMessage, ChannelMessage.purpose == "collection")
    return message.message_ref


async def test_runde_adds_to_my_entry_and_echoes_it_inert(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("runde Vi har <script>alert(1)</script> og <!channel> *nytt*", as_=KARI)
    assert reply.ok, reply.text
    assert reply.text.startswith("Takk, Kari!")
    assert "<script>" not in reply.text and "\\<script\\>" in reply.text
    assert "<!channel>" not in reply.text
    await bot.say("runde - punkt to\n- punkt tre", as_=KARI)
    posts = await rows(db, Submission)
    assert [p.kind for p in posts] == [SubmissionKind.ROUND, SubmissionKind.ROUND]
    assert posts[0].text == "Vi har <script>alert(1)</script> og <!channel> *nytt*"  # stored as written
    assert posts[1].text == "- punkt to\n- punkt tre"


async def test_runde_alone_opens_the_editor_prefilled_with_my_entry(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("runde Første avsnitt", as_=KARI)
    await bot.say("runde Andre avsnitt", as_=KARI)
    reply = await bot.say("runde", as_=KARI)
    assert reply.ok and reply.form is not None
    (meeting_id,) = {p.meeting_id for p in await rows(db, Submission)}
    assert reply.form.form_id == f"runde:{meeting_id}"
    (field,) = reply.form.fields
    assert field.name == "text"
    assert field.value == "Første avsnitt\n\nAndre avsnitt"
    empty = await bot.say("runde", as_=OLA)
    assert empty.form is not None and empty.form.fields[0].value == ""


async def test_form_submit_replaces_my_entry(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("runde En", as_=KARI)
    await bot.say("runde To", as_=KARI)
    form = (await bot.say("runde", as_=KARI)).form
    assert form is not None
    reply = await bot.submit_form(form.form_id, "Helt ny tekst\n- med punkt", as_=KARI)
    assert reply.ok, reply.text
    (post,) = await rows(db, Submission)
    assert post.text == "Helt ny tekst\n- med punkt" and post.kind == SubmissionKind.ROUND
    reply = await bot.submit_form(form.form_id, "   ", as_=KARI)
    assert reply.ok and "fjernet" in reply.text
    assert await count(db, Submission) == 0


async def test_a_bad_or_foreign_form_is_refused(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    for form_id in ("runde:999", "runde:abc", "something-else"):
        reply = await bot.submit_form(form_id, "Tekst", as_=KARI)
        assert not reply.ok, form_id
    assert await count(db, Submission) == 0


async def test_runde_ingen_counts_as_submitted_and_gives_way_to_an_entry(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("runde ingen", as_=KARI)
    assert reply.ok and "ingenting å melde" in reply.text
    assert [p.kind for p in await rows(db, Submission)] == [SubmissionKind.NOTHING]
    await bot.say("runde ingen", as_=KARI)
    assert await count(db, Submission) == 1
    await bot.say("runde Likevel noe nytt", as_=KARI)
    assert [p.kind for p in await rows(db, Submission)] == [SubmissionKind.ROUND]
    reply = await bot.say("runde ingen", as_=KARI)
    assert "allerede" in reply.text
    assert [p.kind for p in await rows(db, Submission)] == [SubmissionKind.ROUND]


async def test_no_meeting_yet(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, meeting=None)
    reply = await bot.say("runde Hei", as_=KARI)
    assert not reply.ok and "mote ny" in reply.text
    assert await count(db, Submission) == 0


async def test_after_the_deadline_a_submission_is_refused_with_who_to_contact(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    bot.clock.set(datetime(2026, 1, 28, 0, 0, tzinfo=OSLO))  # deadline was 27.01 23:59
    reply = await bot.say("runde For sent", as_=KARI)
    assert not reply.ok
    assert "fristen var tirsdag 27. januar kl. 23.59" in reply.text
    assert "Sara Sekretær" in reply.text
    assert await count(db, Submission) == 0
    # A newcomer refused this way is not added to the group either.
    assert await count(db, Member, Member.on_roster.is_(False)) == 0
    secretariat = await bot.say("runde Sent", as_=SARA)
    assert "mote apne" in secretariat.text and "mote frist" in secretariat.text
    english = await bot.say("runde Late", as_=Person(KARI.user_id, KARI.name, KARI.email, locale="en-US"))
    assert "the deadline was Tuesday 27 January, 23:59" in english.text


async def test_mote_lukk_closes_and_mote_apne_reopens(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("mote lukk", as_=SARA)
    reply = await bot.say("runde Hei", as_=KARI)
    assert not reply.ok and "stengt" in reply.text
    await bot.say("mote apne", as_=SARA)
    assert (await bot.say("runde Hei", as_=KARI)).ok
    assert await count(db, Submission) == 1


async def test_text_too_long_is_refused_and_nothing_is_stored(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("runde " + "x" * 20_001, as_=KARI)
    assert not reply.ok and "20000" in reply.text.replace(" ", "").replace("\u00a0", "")
    form = (await bot.say("runde", as_=KARI)).form
    assert form is not None
    reply = await bot.submit_form(form.form_id, "y" * 20_001, as_=KARI)
    assert not reply.ok and "20000" in reply.text
    assert await count(db, Submission) == 0


async def test_the_collection_message_is_posted_and_thread_replies_count(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    (post,) = bot.messengers.slack.posts
    assert post.target.channel_id == "C1"
    assert "Runde rundt bordet" in post.reply.text and "tirsdag 27. januar kl. 23.59" in post.reply.text
    assert post.reply.buttons and post.reply.buttons[0].value == "runde"
    ref = await _collection_ref(db)
    reply = await bot.reply_in_thread("Nytt fra Asker:\n- punkt", ref, as_=KARI, message_ref="1700.1")
    assert reply.ok and "Kari" in reply.text
    (submission,) = await rows(db, Submission)
    assert submission.source_ref == "1700.1" and submission.text == "Nytt fra Asker:\n- punkt"


async def test_replies_in_other_threads_are_ignored(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.reply_in_thread("Bare prat", "not-a-collection", as_=KARI)
    assert reply.text == ""
    assert await count(db, Submission) == 0


async def test_editing_and_deleting_a_thread_reply(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    ref = await _collection_ref(db)
    await bot.reply_in_thread("Først", ref, as_=KARI, message_ref="m1")
    reply = await bot.edit("m1", "Rettet tekst", as_=KARI)
    assert reply.ok
    (submission,) = await rows(db, Submission)
    assert submission.text == "Rettet tekst"
    # Someone else cannot edit it, and an unknown message is silent.
    assert (await bot.edit("m1", "Kapret", as_=OLA)).text == ""
    assert (await bot.edit("unknown", "x", as_=KARI)).text == ""
    assert (await rows(db, Submission))[0].text == "Rettet tekst"
    reply = await bot.delete("m1", as_=KARI)
    assert reply.ok
    assert await count(db, Submission) == 0
    assert (await bot.delete("m1", as_=KARI)).text == ""


async def test_edits_and_deletes_in_other_threads_are_not_ours(db: Database) -> None:
    """Outside the collection thread an edit or a delete is answered silently from the read
    cache: nothing changes and the event is not recorded. In the collection thread the same
    events change the post and are recorded, in the handler's transaction."""
    bot = TranscriptBot(db)
    await seed(bot)
    ref = await _collection_ref(db)
    await bot.reply_in_thread("Først", ref, as_=KARI, message_ref="m1")
    assert (await bot.edit("m1", "Annen tråd", as_=KARI, thread_ref="t-other", event_id="EvA")).text == ""
    assert (await bot.delete("m1", as_=KARI, thread_ref="t-other", event_id="EvB")).text == ""
    assert (await rows(db, Submission))[0].text == "Først"
    assert await count(db, ProcessedEvent) == 0
    assert (await bot.edit("m1", "Rettet", as_=KARI, thread_ref=ref, event_id="EvC")).ok
    assert (await rows(db, Submission))[0].text == "Rettet"
    assert await count(db, ProcessedEvent) == 1
    assert (await bot.delete("m1", as_=KARI, thread_ref=ref, event_id="EvD")).ok
    assert await count(db, Submission) == 0
    assert await count(db, ProcessedEvent) == 2


async def test_a_redelivered_thread_reply_is_stored_once(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    ref = await _collection_ref(db)
    first = await bot.reply_in_thread("Hei", ref, as_=KARI, message_ref="m1")
    again = await bot.reply_in_thread("Hei", ref, as_=KARI, message_ref="m1")
    assert first.text == again.text
    assert await count(db, Submission) == 1


async def test_a_retried_event_is_stored_once_and_answered_alike(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    first = await bot.say("runde Hei", as_=KARI, event_id="Ev1")
    again = await bot.say("runde Hei", as_=KARI, event_id="Ev1")
    assert first.ok and again.ok
    assert first.text == again.text
    assert await count(db, Submission) == 1
    assert await count(db, ProcessedEvent) == 1
    await bot.say("runde Hei igjen", as_=KARI, event_id="Ev2")
    assert await count(db, Submission) == 2


async def test_a_refused_event_is_not_marked_processed(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, meeting=None)
    reply = await bot.say("runde Hei", as_=KARI, event_id="Ev9")
    assert not reply.ok
    assert await count(db, ProcessedEvent) == 0


async def test_a_newcomer_who_posts_joins_the_group_off_roster(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    guest = Person("U-GJEST", "Gunn Gjest")
    reply = await bot.say("runde Hei fra en gjest", as_=guest)
    assert reply.ok
    (member,) = await rows(db, Member, Member.first_name == "Gunn")
    assert member.last_name == "Gjest" and member.on_roster is False


async def test_round_reply_in_english(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("runde Hello", as_=Person(KARI.user_id, KARI.name, KARI.email, locale="en-GB"))
    assert reply.text.startswith("Thanks, Kari!")
    assert "Tuesday 27 January, 23:59" in reply.text


async def test_edit_event_kinds_in_an_unbound_channel_are_silent(db: Database) -> None:
    bot = TranscriptBot(db)
    for kind in (EventKind.MESSAGE_EDITED, EventKind.MESSAGE_DELETED, EventKind.THREAD_REPLY):
        reply = await bot.send(bot.event(kind, as_=KARI, text="x", message_ref="m", thread_ref="t"))
        assert reply.text == ""


async def test_concurrent_redeliveries_are_stored_once(db: Database) -> None:
    import asyncio

    bot = TranscriptBot(db)
    await seed(bot)
    replies = await asyncio.gather(
        *(bot.say("runde Samtidig", as_=KARI, event_id="Ev-race") for _ in range(4))
    )
    assert all(r.ok for r in replies)
    assert await count(db, Submission) == 1
    ref = await _collection_ref(db)
    thread = await asyncio.gather(
        *(bot.reply_in_thread("Tråd", ref, as_=OLA, message_ref="race-1") for _ in range(3))
    )
    assert all(r.ok for r in thread)
    assert await count(db, Submission) == 2


async def test_an_entry_of_invisible_characters_is_no_entry(db: Database) -> None:
    """Zero-width spaces, a BOM, non-breaking spaces, a Braille blank: not a submission. The
    member gets the answer an empty one gets, and stays on the not-submitted list."""
    from handlers.text import is_blank

    invisible = ["\u200b", "\ufeff", "\u00a0\u00a0", "\u200b\u2060\u200d", "\u2800", " \u3164 "]
    assert all(is_blank(t) for t in invisible) and not is_blank("\u200bå")
    bot = TranscriptBot(db)
    await seed(bot)
    empty = await bot.say("runde", as_=KARI)
    for text in invisible:
        reply = await bot.say(f"runde {text}", as_=KARI)
        assert reply.form is not None and reply.text == empty.text, repr(text)
    [collection] = await rows(db, ChannelMessage)
    assert (await bot.reply_in_thread("\u200b\ufeff", collection.message_ref, as_=KARI)).text == ""
    assert await count(db, Submission) == 0
    status = await bot.say("mote status", as_=SARA)
    assert "Kari" in status.text.split("Mangler:", 1)[1]
