"""The other commands: innspill, oppfolging, rolle, profil, paminnelser, data, hjelp, referat,
and lines the parser cannot read."""

from __future__ import annotations

import json

from handlers.context import HandlerContext
from handlers.dispatch import handle
from handlers.events import ChatEvent, EventKind
from storage.db import Database
from storage.models import (
    Attendance,
    FollowUp,
    Member,
    PlatformIdentity,
    ReminderMute,
    Role,
    Submission,
    SubmissionKind,
    Vote,
)
from tests.transcript import KARI, LIV, OLA, PER, SARA, Channel, Person, TranscriptBot, count, rows, seed

EN = {"locale": "en-US"}


async def test_innspill_to_an_agenda_item(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("mote sak 1 Godkjenning av innkalling", as_=SARA)
    await bot.say("mote sak 3 Handlingsprogram 2026", as_=SARA)
    reply = await bot.say("innspill 3 Vi ønsker webinarer om sirkulærøkonomi.", as_=KARI)
    assert reply.ok and "sak 3 (Handlingsprogram 2026)" in reply.text
    (submission,) = await rows(db, Submission)
    assert submission.kind == SubmissionKind.INPUT and submission.agenda_item_id is not None
    unknown = await bot.say("innspill 7 Hei", as_=KARI)
    assert not unknown.ok and "Sakene er: 1, 3" in unknown.text
    assert await count(db, Submission) == 1


async def test_innspill_without_an_agenda(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("innspill 1 Hei", as_=KARI)
    assert not reply.ok and "ingen saker" in reply.text


async def test_oppfolging_owners(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say(
        "oppfolging Sende ut tallene @Per Berg frist 15.02", as_=KARI, mentions=[PER.mention()]
    )
    assert reply.ok, reply.text
    assert "Ansvarlig: Per Berg" in reply.text and "Frist: 15. februar" in reply.text
    await bot.say("oppfolging Lage oversikt @Sekretariatet", as_=KARI)
    await bot.say("oppfolging Sjekke avtalen @Ola Hansen", as_=KARI)
    await bot.say("oppfolging Ringe fylket @Trine Utenfor", as_=KARI)
    await bot.say("oppfolging Uten ansvarlig", as_=KARI)
    per = await rows(db, Member, Member.first_name == "Per")
    ola = await rows(db, Member, Member.first_name == "Ola")
    follow_ups = await rows(db, FollowUp)
    assert [(f.owner_member_id, f.owner_text) for f in follow_ups] == [
        (per[0].id, None),
        (None, "Sekretariatet"),
        (ola[0].id, None),
        (None, "Trine Utenfor"),
        (None, None),
    ]
    assert follow_ups[0].due_date is not None and follow_ups[0].due_date.isoformat() == "2026-02-15"
    assert not (await bot.say("oppfolging", as_=KARI)).ok
    assert await count(db, FollowUp) == 5


async def test_rolle(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("rolle @Kari Nordmann sekretariat", as_=SARA, mentions=[KARI.mention()])
    assert reply.ok and "sekretariat" in reply.text
    (kari,) = await rows(db, Member, Member.first_name == "Kari")
    assert kari.role == Role.SECRETARIAT
    assert not (await bot.say("rolle @Sara Sekretær medlem", as_=OLA)).ok
    bad = await bot.say("rolle @Ola Hansen sjef", as_=SARA)
    assert not bad.ok and "rolle @person" in bad.text
    # Kari may now demote Sara, but the last secretariat cannot be demoted.
    assert (await bot.say("rolle Sara Sekretær medlem", as_=KARI)).ok
    last = await bot.say("rolle Kari Nordmann medlem", as_=KARI)
    assert not last.ok and "eneste" in last.text


async def test_profil_sets_my_organisation(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("profil Nordre Follo kommune", as_=KARI)
    assert reply.ok and "Nordre Follo kommune" in reply.text
    (kari,) = await rows(db, Member, Member.first_name == "Kari")
    assert kari.organisation == "Nordre Follo kommune"


async def test_paminnelser_av_og_pa(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    assert "ikke flere" in (await bot.say("paminnelser av", as_=KARI)).text
    assert "allerede" in (await bot.say("påminnelser av", as_=KARI)).text
    assert await count(db, ReminderMute) == 1
    assert "på igjen" in (await bot.say("paminnelser på", as_=KARI)).text
    assert await count(db, ReminderMute) == 0
    assert not (await bot.say("paminnelser kanskje", as_=KARI)).ok


async def test_data_export_and_delete(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    preview = await bot.say('grupper ny "Gruppe 1 | Sara Sekretær"', as_=SARA)  # one group: odd
    await bot.say(preview.buttons[0].value, as_=SARA)  # Legg ut
    await bot.say("runde Mitt innlegg", as_=KARI)
    await bot.say("forfall", as_=KARI)
    from storage.models import PollOption

    (option,) = await rows(db, PollOption)
    await bot.click(option.poll_id, option.id, as_=KARI)
    # In the channel: only "sent privately"; the data goes to Kari's direct messages.
    said = await bot.say("data eksport", as_=KARI)
    assert said.ok and not said.files and not said.links and "privat" in said.text
    (sent,) = bot.messengers.slack.directs
    assert sent.target.user_id == KARI.user_id
    export = sent.reply
    assert export.files and len(export.links) == 2
    data = json.loads(export.files[0].content)
    (mine,) = data["memberships"]
    assert mine["email"] == "kari.nordmann@asker.example"
    assert [s["text"] for s in mine["submissions"]] == ["Mitt innlegg"]
    assert mine["attendance"][0]["status"] == "excused"
    assert mine["work_group_sign_ups"][0]["option"] == "Gruppe 1"
    asked = await bot.say("data slett", as_=KARI)
    assert asked.ok and "data slett bekreft" in asked.text and asked.buttons
    assert await count(db, Submission) == 1  # asking deletes nothing
    reply = await bot.say("data slett bekreft", as_=KARI)
    assert reply.ok and "slettet" in reply.text
    (kari,) = await rows(db, Member, Member.email.is_(None), Member.first_name == "Slettet")
    assert kari.organisation == "" and kari.on_roster is False
    for model in (Submission, Vote, Attendance):
        assert await count(db, model) == 0, model
    assert await count(db, PlatformIdentity, PlatformIdentity.member_id == kari.id) == 0
    assert "ikke lagret noe" in (await bot.say("data eksport", as_=Person("U-NY", "Ny Person"))).text


async def test_help_is_role_aware_and_in_the_users_language(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    member = await bot.say("hjelp", as_=KARI)
    assert "`runde" in member.text and "mote ny" not in member.text
    secretariat = await bot.say("hjelp", as_=SARA)
    assert "mote ny" in secretariat.text and "For sekretariatet" in secretariat.text
    english = await bot.say("help", as_=KARI, **EN)
    assert "Commands" in english.text and "Draft minutes" in english.text
    topic = await bot.say("hjelp runde", as_=KARI)
    assert topic.ok and "runde [tekst | ingen]" in topic.text
    assert "runde [text | ingen]" in (await bot.say("runde hjelp", as_=KARI, **EN)).text
    # A mistyped topic gets the command it most likely meant.
    typo = await bot.say("hjelp runnde", as_=KARI)
    assert not typo.ok and "«runnde»" in typo.text and "Mente du `runde`?" in typo.text
    assert "Did you mean `oppfolging`?" in (await bot.say("help oppfolgng", as_=KARI, **EN)).text
    assert "Mente du" not in (await bot.say("hjelp xyzzy", as_=KARI)).text


async def test_referat_in_markdown_with_links(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("runde Nytt fra Asker", as_=KARI)
    reply = await bot.say("referat", as_=OLA)
    assert reply.ok
    assert "Nytt fra Asker" in reply.text and "Referat" in reply.text
    assert [link.url.rsplit("/", 1)[1] for link in reply.links] == ["1.html?locale=nb", "1.docx?locale=nb"]


async def test_referat_docx_and_html(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    docx = await bot.say("referat docx", as_=KARI)
    assert docx.ok and docx.files and docx.files[0].filename.endswith(".docx")
    assert docx.files[0].content[:2] == b"PK"
    html = await bot.say("referat html 20.01.2026", as_=KARI)
    assert html.ok and html.links and not html.files
    bot.links.public_url = None
    html_file = await bot.say("referat html", as_=KARI)
    assert html_file.ok and html_file.files and html_file.files[0].mime_type.startswith("text/html")


async def test_referat_pdf_comes_as_a_file_and_a_link(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("runde Nytt fra Ås og Ørje", as_=KARI)
    pdf = await bot.say("referat pdf", as_=KARI)
    assert pdf.ok and "PDF/A" in pdf.text
    [attachment] = pdf.files
    assert attachment.filename.endswith(".pdf") and attachment.mime_type == "application/pdf"
    assert attachment.content.startswith(b"%PDF-")
    # Teams cannot take a bot's file in a channel: the signed link is what it shows
    assert [link.url.rsplit("/", 1)[1] for link in pdf.links] == ["1.pdf?locale=nb"]
    english = await bot.say("minutes pdf", as_=KARI, **EN)
    assert english.ok and "PDF/A" in english.text and english.links[0].label == "Download the draft (PDF/A)"


async def test_referat_for_a_date_without_a_meeting(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("referat 21.01.2026", as_=KARI)
    assert not reply.ok and "21.01.2026" in reply.text and "20.01.2026" in reply.text
    await bot.say("oppsett Tom gruppe", as_=LIV, channel=Channel("slack", "T1", "C-TOM"))
    none = await bot.say("referat", as_=LIV, channel=Channel("slack", "T1", "C-TOM"))
    assert not none.ok and "mote ny" in none.text


async def test_unknown_commands_suggest_what_was_meant(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("runnde Hei", as_=KARI)
    assert not reply.ok and "`runde`" in reply.text
    sub = await bot.say("mote flytt 20.01.2026", as_=SARA)
    assert not sub.ok and "flytt" in sub.text and "Bruk:" in sub.text
    english = await bot.say("foo", as_=KARI, **EN)
    assert "I don't know the command" in english.text
    assert await count(db, Submission) == 0


async def test_garbage_never_raises(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    ctx: HandlerContext = bot.ctx
    odd = [
        "",
        "   ",
        "\u202e\u0000runde",
        "runde \ud83d\ude00 " + "æøå" * 10,
        "@Referent",
        "/referent runde Via referent",
        "mote sak 99999999999 x",
        "grupper ny",
        "referat 99.99.9999",
    ]
    for text in odd:
        reply = await handle(
            ChatEvent(
                platform="slack",
                workspace_id="T1",
                channel_id="C1",
                user_id=KARI.user_id,
                user_name="K",
                text=text,
            ),
            ctx,
        )
        assert isinstance(reply.text, str)
    for kind in EventKind:
        reply = await handle(
            ChatEvent(
                platform="nonsense", workspace_id="", channel_id="", user_id="", user_name="", kind=kind
            ),
            ctx,
        )
        assert isinstance(reply.text, str)


async def test_an_impossible_date_names_the_accepted_formats(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    reply = await bot.say("mote frist 31.02.2026", as_=SARA)
    assert not reply.ok
    assert "«31.02.2026» er ikke en dag som finnes." in reply.text
    assert "20.01.2026, 20.01.26, 5.1.2026, 20.01" in reply.text
    english = await bot.say("oppfolging Send the memo frist 31.02", as_=KARI, **EN)
    assert "«31.02» is not a day that exists." in english.text and "20.01.2026" in english.text
    unreadable = await bot.say("mote frist snart", as_=SARA)
    assert "Jeg forstår ikke datoen «snart». Jeg leser datoer som 20.01.2026" in unreadable.text
