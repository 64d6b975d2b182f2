"""Roster import: the "Inviterte" table as CSV, all or nothing, re-import updates."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.roster import RosterError, import_roster, parse_roster
from storage.db import Database
from storage.models import Group, Member, Role
from tests.transcript import count, rows

ROOT = Path(__file__).resolve().parent.parent


def _write(tmp_path: Path, text: str, *, bom: bool = False, encoding: str = "utf-8") -> Path:
    path = tmp_path / "inviterte.csv"
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


async def test_semicolons_with_a_bom_as_excel_writes_them(db: Database, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Fornavn;Etternavn;Organisasjon;E-post;Rolle\r\n"
        "Åse;Ødegård;Lørenskog kommune;Ase.Odegard@lorenskog.example;møteleder\r\n"
        "Bjørn;Æsøy;Nittedal kommune;;\r\n",
        bom=True,
    )
    result = await import_roster(db, path, "Næringssamarbeid")
    assert (result.created, result.updated, result.group_created) == (2, 0, True)
    assert "2 added" in result.summary()
    ase, bjorn = await rows(db, Member)
    assert (ase.first_name, ase.last_name, ase.organisation) == ("Åse", "Ødegård", "Lørenskog kommune")
    assert ase.email == "ase.odegard@lorenskog.example" and ase.role == Role.CHAIR
    assert bjorn.email is None and bjorn.role == Role.MEMBER and bjorn.on_roster


async def test_commas_tabs_and_english_headers(db: Database, tmp_path: Path) -> None:
    await import_roster(
        db, "First name,Last name,Organisation,Email,Role\nAnna,Berg,Asker,anna@asker.example,chair\n", "A"
    )
    await import_roster(db, "Fornavn\tEtternavn\tOrganisasjon\nTor\tLie\tBærum kommune\n", "B")
    await import_roster(
        db, '"Fornavn","Etternavn","Organisasjon"\n"Eli","Vik","Oslo kommune, Bydel Frogner"\n', "C"
    )
    names = sorted((m.name, m.organisation) for m in await rows(db, Member))
    assert names == [
        ("Anna Berg", "Asker"),
        ("Eli Vik", "Oslo kommune, Bydel Frogner"),
        ("Tor Lie", "Bærum kommune"),
    ]


async def test_a_bad_row_names_its_line_and_nothing_is_imported(db: Database, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Fornavn;Etternavn;Organisasjon;E-post\n"
        "Kari;Nordmann;Asker kommune;kari@asker.example\n"
        "\n"
        "Ola;Hansen;Asker kommune;ikke-en-adresse\n",
    )
    with pytest.raises(RosterError) as caught:
        await import_roster(db, path, "Næringssamarbeid")
    assert caught.value.line == 4
    assert "line 4" in str(caught.value)
    assert await count(db, Member) == 0
    assert await count(db, Group) == 0


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("Navn;Kommune\nKari;Asker\n", 1, "Fornavn"),
        ("Fornavn;Etternavn;Organisasjon;Rolle\nKari;N;Asker;sjef\n", 2, "role"),
        ("Fornavn;Etternavn;Organisasjon\n;N;Asker\n", 2, "empty"),
        ("Fornavn;Etternavn;Organisasjon\nKari;N;Asker;ekstra\n", 2, "header has 3"),
        ("Fornavn;Etternavn;Organisasjon;E-post\nA;B;C;a@x.example\nD;E;F;A@X.example\n", 3, "line 2"),
        ("", 1, "empty"),
    ],
)
def test_row_errors(text: str, line: int, words: str) -> None:
    with pytest.raises(RosterError) as caught:
        parse_roster(text)
    assert caught.value.line == line
    assert words in str(caught.value)


async def test_reimport_updates_instead_of_duplicating(db: Database, tmp_path: Path) -> None:
    first = (
        "Fornavn;Etternavn;Organisasjon;E-post;Rolle\n"
        "Kari;Nordmann;Asker;kari@asker.example;medlem\n"
        "Ola;Hansen;Bærum;;\n"
    )
    await import_roster(db, first, "Gruppe")
    second = (
        "Fornavn;Etternavn;Organisasjon;E-post;Rolle\n"
        "Kari;Nordmann-Lie;Asker kommune;KARI@asker.example;sekretariat\n"
        "Ola;Hansen;Bærum kommune;ola@baerum.example;\n"
        "Nils;Aas;Drammen;;\n"
    )
    result = await import_roster(db, second, "gruppe")  # same group, any case
    assert (result.created, result.updated, result.unchanged, result.group_created) == (1, 2, 0, False)
    kari, ola, nils = await rows(db, Member)
    assert kari.last_name == "Nordmann-Lie" and kari.role == Role.SECRETARIAT
    assert ola.email == "ola@baerum.example" and ola.organisation == "Bærum kommune"
    assert nils.first_name == "Nils"
    again = await import_roster(db, second, "Gruppe")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert await count(db, Group) == 1


async def test_a_member_who_joined_by_posting_is_taken_onto_the_roster(db: Database) -> None:
    from tests.transcript import KARI, TranscriptBot, seed

    bot = TranscriptBot(db)
    await seed(bot)
    newcomer = "Fornavn;Etternavn;Organisasjon;E-post\nGunn;Gjest;Vestby kommune;gunn@vestby.example\n"
    from tests.transcript import Person

    await bot.say("runde Hei", as_=Person("U-GUNN", "Gunn Gjest", "Gunn@Vestby.example"))
    await import_roster(db, newcomer, "Næringssamarbeid")
    (gunn,) = await rows(db, Member, Member.first_name == "Gunn")
    assert gunn.on_roster and gunn.organisation == "Vestby kommune"
    assert KARI.email  # the seeded roster is untouched
    assert await count(db, Member, Member.first_name == "Kari") == 1


async def test_the_demo_roster_imports(db: Database) -> None:
    result = await import_roster(db, ROOT / "bot" / "offline" / "demo_data" / "roster.csv", "Demo")
    assert result.created == result.total > 10


async def test_a_chat_look_alike_never_gets_a_role_by_name(db: Database) -> None:
    """Someone who joined from chat under the display name "Siv Sjef" is not the roster's Siv Sjef:
    a row without e-mail creates her anew, so the role in the file stays with the roster row."""
    from storage.models import PlatformIdentity
    from tests.transcript import Person, TranscriptBot, seed

    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("runde Hei", as_=Person("U-LOOKALIKE", "Siv Sjef", None))
    (look_alike,) = await rows(db, Member, Member.first_name == "Siv")
    assert not look_alike.on_roster
    result = await import_roster(
        db, "Fornavn;Etternavn;Organisasjon;Rolle\nSiv;Sjef;Vestby kommune;sekretariat\n", "Næringssamarbeid"
    )
    assert result.created == 1
    look_alike_now, roster_siv = await rows(db, Member, Member.first_name == "Siv")
    assert look_alike_now.id == look_alike.id and look_alike_now.role == Role.MEMBER
    assert roster_siv.role == Role.SECRETARIAT and roster_siv.on_roster
    (link,) = await rows(db, PlatformIdentity, PlatformIdentity.user_id == "U-LOOKALIKE")
    assert link.member_id == look_alike.id
    # A second import updates the roster row by name, still not the look-alike.
    again = await import_roster(
        db, "Fornavn;Etternavn;Organisasjon;Rolle\nSiv;Sjef;Vestby kommune;leder\n", "Næringssamarbeid"
    )
    assert (again.created, again.updated) == (0, 1)
    look_alike_now, roster_siv = await rows(db, Member, Member.first_name == "Siv")
    assert look_alike_now.role == Role.MEMBER and roster_siv.role == Role.CHAIR


async def test_an_ambiguous_group_name_is_refused_with_how_to_name_it(db: Database) -> None:
    from storage.repositories import groups as group_repo

    async with db.write() as session:
        ours, _ = await group_repo.get_or_create_group(
            session, "Digitalisering", home_platform="slack", home_workspace="T1"
        )
        theirs, _ = await group_repo.get_or_create_group(
            session, "Digitalisering", home_platform="teams", home_workspace="tenant-9"
        )
        ours_id, theirs_id = ours.id, theirs.id
    csv_text = "Fornavn;Etternavn;Organisasjon\nKari;Nordmann;Asker\n"
    with pytest.raises(RosterError) as refused:
        await import_roster(db, csv_text, "digitalisering")
    assert "--workspace" in refused.value.message and "--group-id" in refused.value.message
    assert await count(db, Member) == 0
    by_workspace = await import_roster(db, csv_text, "Digitalisering", workspace="T1")
    assert by_workspace.created == 1
    by_id = await import_roster(db, csv_text, group_id=theirs_id)
    assert by_id.created == 1
    assert {m.group_id for m in await rows(db, Member)} == {ours_id, theirs_id}
    with pytest.raises(RosterError, match="no group named"):
        await import_roster(db, csv_text, "Digitalisering", workspace="T-unknown")
