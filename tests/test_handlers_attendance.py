"""`tilstede`, `forfall`, `vara for @person`."""

from __future__ import annotations

from storage.db import Database
from storage.models import Attendance, AttendanceStatus, Member
from tests.transcript import KARI, OLA, PER, SARA, Person, TranscriptBot, count, rows, seed


async def _member(db: Database, first_name: str) -> Member:
    (member,) = await rows(db, Member, Member.first_name == first_name)
    return member


async def test_tilstede_and_forfall(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("tilstede", as_=KARI)
    assert reply.ok and "til stede" in reply.text
    reply = await bot.say("forfall", as_=KARI)
    assert reply.ok and "påminnelser" in reply.text
    (row,) = await rows(db, Attendance)
    assert row.status == AttendanceStatus.EXCUSED  # the last word counts


async def test_vara_for_someone_from_the_same_organisation(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("vara for @Kari Nordmann", as_=OLA, mentions=[KARI.mention()])
    assert reply.ok, reply.text
    assert "vara for Kari Nordmann" in reply.text and "forfall" in reply.text
    kari, ola = await _member(db, "Kari"), await _member(db, "Ola")
    by_member = {a.member_id: a for a in await rows(db, Attendance)}
    assert by_member[ola.id].status == AttendanceStatus.SUBSTITUTE
    assert by_member[ola.id].substitute_for_member_id == kari.id
    assert by_member[kari.id].status == AttendanceStatus.EXCUSED


async def test_vara_by_name_without_a_platform_mention(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("vara for Kari Nordmann", as_=OLA)
    assert reply.ok, reply.text


async def test_vara_for_another_organisation_is_refused(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("vara for @Per Berg", as_=OLA, mentions=[PER.mention()])
    assert not reply.ok
    assert "Asker kommune" in reply.text and "Bærum kommune" in reply.text
    assert await count(db, Attendance) == 0


async def test_vara_refusals(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    assert not (await bot.say("vara for @Kari Nordmann", as_=KARI, mentions=[KARI.mention()])).ok
    unknown = await bot.say("vara for Ingen Slik", as_=OLA)
    assert not unknown.ok and "Ingen Slik" in unknown.text
    guest = Person("U-G", "Gro Gjest")
    not_on_roster = await bot.say("vara for Kari Nordmann", as_=guest)
    assert not not_on_roster.ok and "deltakerlisten" in not_on_roster.text
    missing = await bot.say("vara", as_=OLA)
    assert not missing.ok and "vara for @person" in missing.text
    assert await count(db, Attendance) == 0
    assert await count(db, Member, Member.first_name == "Gro") == 0


async def test_a_guest_cannot_excuse_a_member_by_standing_in_for_them(db: Database) -> None:
    """Issue 10, item 7: `vara for` marks the member excused, so a guest who joined by posting
    (even after naming the member's organisation with `profil`) may not use it."""
    bot = TranscriptBot(db)
    await seed(bot)
    guest = Person("U-G", "Gro Gjest")
    assert (await bot.say("profil Asker kommune", as_=guest)).ok
    refused = await bot.say("vara for Kari Nordmann", as_=guest)
    assert not refused.ok and "deltakerlisten" in refused.text
    assert await count(db, Attendance) == 0


async def test_a_roster_member_without_organisation_is_asked_for_one(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    ola = await _member(db, "Ola")
    async with db.write() as session:
        (await session.get(Member, ola.id)).organisation = ""  # type: ignore[union-attr]
    no_org = await bot.say("vara for Kari Nordmann", as_=OLA)
    assert not no_org.ok and "profil" in no_org.text


async def test_no_meeting_to_attend(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot, meeting=None)
    reply = await bot.say("forfall", as_=KARI)
    assert not reply.ok and "mote ny" in reply.text


async def test_secretariat_registers_attendance_for_others(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("tilstede @Kari Nordmann @Per Berg", as_=SARA, mentions=[KARI.mention()])
    assert reply.ok, reply.text
    assert "Kari Nordmann" in reply.text and "Per Berg" in reply.text
    reply = await bot.say("forfall @Ola Hansen", as_=SARA)
    assert reply.ok, reply.text
    kari, per, ola = [await _member(db, n) for n in ("Kari", "Per", "Ola")]
    by_member = {a.member_id: a.status for a in await rows(db, Attendance)}
    assert by_member == {
        kari.id: AttendanceStatus.PRESENT,
        per.id: AttendanceStatus.PRESENT,
        ola.id: AttendanceStatus.EXCUSED,
    }


async def test_a_member_cannot_register_others_and_unknown_names_store_nothing(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    refused = await bot.say("tilstede @Per Berg", as_=KARI)
    assert not refused.ok and "sekretariat" in refused.text.lower()
    unknown = await bot.say("tilstede @Kari Nordmann @Ingen Slik", as_=SARA)
    assert not unknown.ok and "Ingen Slik" in unknown.text
    assert await count(db, Attendance) == 0  # Kari was found, but a refused command stores nothing


async def test_a_reason_after_forfall_is_still_my_own_forfall(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("forfall syk i dag", as_=KARI)
    assert reply.ok, reply.text
    kari = await _member(db, "Kari")
    (row,) = await rows(db, Attendance)
    assert row.member_id == kari.id and row.status == AttendanceStatus.EXCUSED
