"""Across meetings (issue 11) through the handlers, on SQLite and PostgreSQL: the frozen final
referat survives later edits, deletions and a restart; follow-up closing rules; carried
follow-ups; pending imports expire; a poll closes exactly once; CSV export is neutralised."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from pathlib import Path

import pytest

from bot.cli import main
from handlers.commands.polls import close_due_polls, neutralise, sign_ups_csv
from handlers.context import HandlerContext
from storage.db import Database
from storage.models import (
    ChannelMessage,
    FollowUp,
    FollowUpStatus,
    Meeting,
    PendingImport,
    Poll,
    ReferatFinal,
)
from storage.repositories import referat as referat_repo
from tests.invitation_fixtures import TXT_SAK
from tests.transcript import KARI, LIV, OLA, OSLO, PER, SARA, TranscriptBot, count, rows, seed


async def _collection_ref(db: Database) -> str:
    (message,) = await rows(db, ChannelMessage, ChannelMessage.purpose == "collection")
    return str(message.message_ref)


async def _held_meeting(bot: TranscriptBot) -> Meeting:
    """The seeded meeting (20.01.2026), with Kari's entry, once it has been held."""
    ref = await _collection_ref(bot.db)
    reply = await bot.reply_in_thread("Vi har ansatt en ny rådgiver.", ref, as_=KARI, message_ref="m1")
    assert reply.ok, reply.text
    reply = await bot.reply_in_thread("Ola sitt innlegg.", ref, as_=OLA, message_ref="m2")
    assert reply.ok, reply.text
    bot.clock.set(datetime(2026, 1, 21, 9, 0, tzinfo=OSLO))
    (meeting,) = await rows(bot.db, Meeting)
    return meeting


async def test_final_referat_survives_edits_deletes_and_a_restart(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    meeting = await _held_meeting(bot)

    refused = await bot.say("referat endelig", as_=KARI)
    assert not refused.ok and "ingen endelig versjon" in refused.text
    assert await count(db, ReferatFinal) == 0
    frozen = await bot.say("referat endelig", as_=SARA)
    assert frozen.ok, frozen.text
    assert "ENDELIG" in frozen.text and "Vi har ansatt en ny rådgiver." in frozen.text
    finals = {f.fmt: (f.sha256, f.content) for f in await rows(db, ReferatFinal)}
    assert set(finals) == {"md", "html", "docx", "pdf"}
    for sha, content in finals.values():
        assert hashlib.sha256(content).hexdigest() == sha
    assert "Utkast" not in finals["md"][1].decode() and "UTKAST" not in finals["md"][1].decode()

    # Later: Kari edits her entry, Ola deletes his, a late entry arrives; a second freeze asked for.
    bot.clock.set(datetime(2026, 1, 19, 9, 0, tzinfo=OSLO))  # while still collecting
    assert (await bot.edit("m1", "Rettet etterpå", as_=KARI)).ok
    assert (await bot.delete("m2", as_=OLA)).ok
    bot.clock.set(datetime(2026, 1, 21, 9, 0, tzinfo=OSLO))
    again = await bot.say("referat endelig", as_=SARA)
    assert again.ok and "Vi har ansatt en ny rådgiver." in again.text and "Rettet etterpå" not in again.text
    assert "Ola sitt innlegg." in again.text
    assert {f.fmt: (f.sha256, f.content) for f in await rows(db, ReferatFinal)} == finals
    draft = await bot.say("referat", as_=KARI)
    assert "Rettet etterpå" in draft.text and "Ola sitt innlegg." not in draft.text
    assert "endelig versjon ble låst" in draft.text

    # A restart: a new connection pool, a new bot; the stored bytes are the same.
    url = db.url
    await db.close()
    restarted = Database(url)
    try:
        bot2 = TranscriptBot(restarted, now=datetime(2026, 2, 1, 9, 0, tzinfo=OSLO))
        fetched = await bot2.say("referat endelig 20.01.2026", as_=KARI)
        assert fetched.ok and finals["md"][0] in fetched.text
        assert fetched.text.endswith(finals["md"][1].decode())
        docx = await bot2.say("referat endelig docx 20.01.2026", as_=KARI)
        assert docx.files and docx.files[0].content == finals["docx"][1]
        assert any("final-docx" in link.url for link in docx.links)
        async with restarted.session() as session:
            data = await referat_repo.load_referat(session, meeting.id)
        assert data is not None and data.final_frozen_at is not None
    finally:
        await restarted.close()


async def test_approval_marks_the_previous_referat_and_its_agenda_item(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await _held_meeting(bot)
    assert (await bot.say("mote ny 17.02.2026 10:00-12:00", as_=SARA)).ok
    assert (await bot.say("mote sak 1 Godkjenning av referat", as_=SARA)).ok
    bot.clock.set(datetime(2026, 2, 17, 10, 5, tzinfo=OSLO))
    assert not (await bot.say("mote godkjenn-referat", as_=KARI)).ok
    reply = await bot.say("mote godkjenn-referat", as_=LIV)  # the chair may record it too
    assert reply.ok and "20. januar 2026" in reply.text
    first, second = await rows(db, Meeting, order_by=Meeting.starts_at)
    assert first.referat_approved_by == "Liv Dahl" and first.referat_approved_at is not None
    assert second.referat_approved_at is None
    again = await bot.say("mote godkjenn-referat", as_=SARA)
    assert again.ok and "allerede godkjent" in again.text
    draft = await bot.say("referat 20.01.2026", as_=KARI)
    assert "Godkjent 17. februar 2026 av Liv Dahl" in draft.text, draft.text
    current = await bot.say("referat 17.02.2026", as_=KARI)
    assert "Referatet fra møtet 20. januar 2026 ble godkjent." in current.text


async def test_follow_ups_close_by_owner_chair_or_secretariat_and_carry(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    assert (await bot.say("oppfolging Sende høringssvar @Kari Nordmann frist 01.02.2026", as_=SARA)).ok
    assert (await bot.say("oppfolging Bestille lokale @Sekretariatet", as_=SARA)).ok
    assert (await bot.say("mote ny 17.02.2026 10:00-12:00", as_=SARA)).ok
    assert (await bot.say("mote ny 17.03.2026 10:00-12:00", as_=SARA)).ok
    first, second = await rows(db, FollowUp)
    bot.clock.set(datetime(2026, 2, 1, 9, 0, tzinfo=OSLO))

    status = await bot.say("oppfolging status", as_=PER)
    assert f"#{first.id}" in status.text and f"#{second.id}" in status.text
    assert f"#{first.id}" in (await bot.say("oppfolging mine", as_=KARI)).text
    assert not (await bot.say(f"oppfolging ferdig {first.id}", as_=PER)).ok
    assert not (await bot.say("oppfolging ferdig 999999", as_=SARA)).ok
    assert (await bot.say(f"oppfolging ferdig {first.id}", as_=KARI)).ok  # the owner
    assert (await bot.say(f"oppfolging ferdig {second.id}", as_=LIV)).ok  # the chair
    assert "allerede ferdig" in (await bot.say(f"oppfolging ferdig {first.id}", as_=SARA)).text
    closed = await rows(db, FollowUp)
    assert all(f.status == FollowUpStatus.DONE for f in closed)
    (_, february, march) = await rows(db, Meeting, order_by=Meeting.starts_at)
    assert {f.closed_in_meeting_id for f in closed} == {february.id}
    # A follow-up text that begins with a subcommand word is still a follow-up.
    assert (await bot.say("oppfolging status på prosjektet @Per Berg", as_=SARA)).ok
    assert await count(db, FollowUp) == 3

    async with db.session() as session:
        carried_feb = await referat_repo.carried_follow_ups(session, february)
        carried_mar = await referat_repo.carried_follow_ups(session, march)
    assert [f.id for f, _ in carried_feb] == [first.id, second.id]
    # March carries only what is still open (the third, made in February), not what was closed.
    third = (await rows(db, FollowUp))[-1]
    assert third.meeting_id == february.id
    assert [f.id for f, _ in carried_mar] == [third.id]


async def test_pending_import_expires_and_a_bad_one_is_never_kept(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, meeting=None)
    bad = await bot.say("mote importer\nTid: 45.01.2026 kl 10-12\nSak 1 A", as_=SARA)
    assert not bad.ok and "linje 1" in bad.text
    assert await count(db, PendingImport) == 0
    refused = await bot.say("mote importer\n" + TXT_SAK, as_=KARI)
    assert not refused.ok and await count(db, PendingImport) == 0
    preview = await bot.say("mote importer\n" + TXT_SAK, as_=SARA)
    assert preview.ok and len(preview.buttons) == 2
    confirm = preview.buttons[0].value
    bot.clock.advance(hours=25)
    expired = await bot.say(confirm, as_=SARA)
    assert not expired.ok and "finnes ikke lenger" in expired.text
    assert await count(db, Meeting) == 0
    preview = await bot.say("mote importer\n" + TXT_SAK, as_=SARA)
    assert await count(db, PendingImport) == 1  # the expired one was cleared
    done = await bot.say(preview.buttons[0].value, as_=SARA)
    assert done.ok, done.text
    assert await count(db, Meeting) == 1 and await count(db, PendingImport) == 0


async def test_a_due_poll_is_closed_once_by_racing_passes(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    new_poll = 'grupper ny "Data | Kari Nordmann" "Sikkerhet | Ola Hansen" --frist 14.01.2026 12:00'
    assert (await bot.say(new_poll, as_=SARA)).ok
    (poll,) = await rows(db, Poll)
    assert poll.closes_at == datetime(2026, 1, 14, 12, 0, tzinfo=OSLO)
    assert await close_due_polls(bot.ctx) == []
    bot.clock.set(datetime(2026, 1, 14, 12, 0, 1, tzinfo=OSLO))
    other = HandlerContext(db=db, clock=bot.clock, messengers=bot.messengers)
    results = await asyncio.gather(close_due_polls(bot.ctx), close_due_polls(other))
    assert sorted(len(r) for r in results) == [0, 1]
    (poll,) = await rows(db, Poll)
    assert poll.closed_at is not None
    assert len(bot.messengers.slack.updates) == 1
    assert "stengt" in bot.messengers.slack.updates[0].reply.poll.closes_text  # type: ignore[union-attr]


def test_csv_cells_that_look_like_formulas_are_neutralised() -> None:
    for cell in ("=1+2", "+47 999", "-3", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(cell) == "'" + cell
    for cell in ("Kari", "", "1=1", "a-b"):
        assert neutralise(cell) == cell
    content = sign_ups_csv([("Gruppe", "Navn"), ('=HYPERLINK("x")', "Kari")]).decode("utf-8-sig")
    assert content.splitlines()[1] == '"\'=HYPERLINK(""x"")",Kari'


def test_cli_fetches_the_final_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'referent.db'}"
    monkeypatch.setenv("DATABASE_URL", url)

    async def freeze() -> tuple[int, str]:
        db = Database(url)
        await db.migrate()
        try:
            bot = TranscriptBot(db)
            await seed(bot)
            meeting = await _held_meeting(bot)
            assert (await bot.say("referat endelig", as_=SARA)).ok
            (md,) = await rows(db, ReferatFinal, ReferatFinal.fmt == "md")
            return meeting.id, md.sha256
        finally:
            await db.close()

    meeting_id, sha = asyncio.run(freeze())
    out = tmp_path / "final.md"
    assert main(["referat", str(meeting_id), "--final", "-o", str(out)]) == 0
    assert hashlib.sha256(out.read_bytes()).hexdigest() == sha
    assert main(["referat", "999", "--final", "-o", str(tmp_path / "x.md")]) == 1
