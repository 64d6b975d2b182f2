"""Parsing invitations: the text and .docx layouts, real-world variance, problems, robustness."""

from __future__ import annotations

import io
import zipfile
from datetime import date, time

import pytest
from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.invitation.files import parse_upload
from handlers.invitation.model import Location
from handlers.invitation.parse_docx import parse_docx
from handlers.invitation.parse_text import parse_text
from storage.models import AgendaKind
from tests.invitation_fixtures import MD_HOUSE, TXT_SAK, docx_bytes, shared_example


def test_plain_text_with_sak_numbers() -> None:
    inv = parse_text(TXT_SAK)
    assert inv.problems == ()
    assert (inv.day, inv.start, inv.end) == (date(2026, 1, 20), time(10), time(12))
    assert inv.place == "Drammen rådhus, møterom Elva"
    assert [(link.label, link.url) for link in inv.links] == [
        ("Teams-møte", "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc/0")
    ]
    assert inv.papers_url == "https://example.org/klima/2026-01-20"
    assert [(a.number, a.title) for a in inv.agenda] == [
        (1, "Godkjenning av innkalling og dagsorden"),
        (2, "Godkjenning av referat fra møtet 25.11.2025"),
        (3, "Klimabudsjett 2026"),
        (4, "Orientering om regional transportplan"),
        (5, "Runde rundt bordet"),
        (6, "Eventuelt"),
    ]
    kinds = [a.kind for a in inv.agenda]
    assert kinds[:2] == [AgendaKind.APPROVAL, AgendaKind.APPROVAL]
    assert kinds[3:5] == [AgendaKind.ORIENTATION, AgendaKind.ROUND_TABLE]
    item3, item4 = inv.agenda[2], inv.agenda[3]
    assert item3.presenter == "Kari Fjellheim" and item3.description == "Status for kommunenes klimabudsjett."
    assert item4.presenter == "Per Olav Bakken" and item4.description is None
    assert inv.agenda[5].description is None  # "Arbeidsgrupper" ends the last item
    assert inv.round_question == "Hva er kommunens viktigste klimatiltak i 2026?"
    assert [(w.label, w.responsible) for w in inv.work_groups] == [
        ("Klimabudsjett", "Kari Fjellheim"),
        ("Transport", "Per Olav Bakken"),
    ]
    assert [(i.first_name, i.last_name, i.organisation, i.email) for i in inv.invitees] == [
        ("Kari", "Fjellheim", "Drammen kommune", "kari.fjellheim@example.org"),
        ("Per Olav", "Bakken", "Lier kommune", None),
        ("Sigrid", "Nordvik", "Asker kommune", "sigrid.nordvik@example.org"),
    ]
    assert inv.invitees[0].where == Location("line", 27)


def test_markdown_house_format_takes_the_groups_agenda() -> None:
    inv = parse_text(MD_HOUSE, group_name="Kultur")
    assert inv.problems == ()
    assert (inv.day, inv.start, inv.end) == (date(2026, 1, 15), time(9), time(12, 30))  # not "Dato:"
    assert inv.place == "Teams"
    assert [link.label for link in inv.links] == ["Fellesdel", "Kultur"]
    assert inv.papers_url == "https://example.org/faggrupper/15-januar/"
    assert inv.agenda_sections == 3
    assert inv.agenda_heading == "Sakskart til møte i faggruppe for Kultur"
    assert [(a.number, a.title) for a in inv.agenda] == [
        (1, "Godkjenning av innkalling og dagsorden"),
        (2, "Godkjenning av referat fra møte 6. november 2025"),
        (3, "Handlingsprogram 2026"),
        (4, "Runde rundt bordet: Hva skjer i kommunene i 2026"),
        (5, "Orienteringer"),
        (6, "Eventuelt"),
    ]
    assert inv.agenda[2].description == "- Kulturarv\n- Frivillighet\nDet foreslås to arbeidsgrupper:"
    assert inv.agenda[3].kind == AgendaKind.ROUND_TABLE
    assert inv.agenda[3].theme == "Hva skjer i kommunene i 2026"
    assert inv.agenda[4].presenter is None  # a sub-point's presenter stays in the description
    assert "v/ Ingrid Haugland" in (inv.agenda[4].description or "")
    assert [(w.label, w.responsible) for w in inv.work_groups] == [
        ("Kulturarv og museer", "Ingrid Haugland"),
        ("Frivillighet", "Magnus Vik"),
    ]
    assert [i.name for i in inv.invitees] == ["Ingrid Haugland", "Magnus Vik", "Lene Strand"]


def test_without_a_group_name_the_last_agenda_is_taken() -> None:
    inv = parse_text(MD_HOUSE)
    assert inv.agenda_heading == "Sakskart til møte i faggruppe for Samferdsel"
    assert [a.title for a in inv.agenda] == ["Godkjenning av innkalling og dagsorden", "Buss i regionen"]


@pytest.mark.parametrize(
    ("header", "day", "start", "end"),
    [
        ("Tid: 20.01.2026 kl. 10.00-12.00", date(2026, 1, 20), time(10), time(12)),
        ("Tid: tirsdag 20. januar 2026, 10:00–12:00", date(2026, 1, 20), time(10), time(12)),
        ("Dato: 20.01.2026\nKl 10-12", date(2026, 1, 20), time(10), time(12)),
        ("Møtet holdes 16.01.2025 kl 09:00-12:30 på Teams", date(2025, 1, 16), time(9), time(12, 30)),
        ("Når: 2026-03-05, kl. 13.15 – 15.00", date(2026, 3, 5), time(13, 15), time(15)),
        ("Time: Tuesday 20 January 2026, 10:00-11:30", date(2026, 1, 20), time(10), time(11, 30)),
    ],
)
def test_date_and_time_variants(header: str, day: date, start: time, end: time) -> None:
    inv = parse_text(f"{header}\n\nSak 1 Godkjenning av innkalling\n")
    assert inv.problems == ()
    assert (inv.day, inv.start, inv.end) == (day, start, end)


@pytest.mark.parametrize(
    "line",
    [
        "Sak 1 Budsjett",
        "Sak 1: Budsjett",
        "Sak 1. Budsjett",
        "1. Budsjett",
        "1) Budsjett",
        "10.00 Sak 1 Budsjett",
    ],
)
def test_numbering_variants(line: str) -> None:
    inv = parse_text(f"Tid: 20.01.2026 kl 10-12\n\n{line}\n")
    assert [(a.number, a.title) for a in inv.agenda] == [(1, "Budsjett")]


@pytest.mark.parametrize("agenda_in_table", [False, True])
def test_docx_numbered_list_and_table(agenda_in_table: bool) -> None:
    inv = parse_docx(docx_bytes(agenda_in_table=agenda_in_table))
    assert inv.problems == ()
    assert (inv.day, inv.start, inv.end) == (date(2026, 1, 20), time(10), time(12))
    assert inv.place == "Fylkeshuset, sal 2"
    assert inv.agenda_heading == "Dagsorden"
    assert [(a.number, a.title) for a in inv.agenda] == [
        (1, "Godkjenning av innkalling"),
        (2, "Arealplan for Vestfold"),
        (3, "Runde rundt bordet – Hva planlegger dere i år?"),
        (4, "Eventuelt"),
    ]
    assert inv.agenda[1].presenter == "Eirik Solberg"
    assert inv.agenda[2].theme == "Hva planlegger dere i år?"
    # A Word list has its numbers in w:numPr, not in the text: rebuilt from the list position.
    assert all(a.numbered is agenda_in_table for a in inv.agenda)
    if not agenda_in_table:
        assert inv.agenda[1].description == "- Bakgrunn og tidsplan"
        assert inv.agenda[0].where == Location("paragraph", 5)
    else:
        assert inv.agenda[0].where == Location("table", 1, 2)
    assert [(i.name, i.email) for i in inv.invitees] == [
        ("Eirik Solberg", "eirik.solberg@example.org"),
        ("Hanne Moe", None),
    ]
    assert inv.invitees[1].where == Location("table", 2 if agenda_in_table else 1, 3)


def test_docx_explicit_numbering_and_bullets() -> None:
    """Paragraphs numbered by their own w:numPr (not a list style), a bullet list that is not
    numbered, and bold runs read as a lead-in."""
    document = Document()
    document.add_paragraph("Møte tirsdag 20. januar 2026 kl. 10.00–12.00")
    document.add_paragraph("Sakskart")
    numbered_id = document.styles["List Number"].element.pPr.find(qn("w:numPr")).find(qn("w:numId"))
    for title in ("Godkjenning av innkalling", "Budsjett"):
        paragraph = document.add_paragraph(title)
        paragraph._p.get_or_add_pPr().append(
            parse_xml(
                f'<w:numPr {nsdecls("w")}><w:ilvl w:val="0"/>'
                f'<w:numId w:val="{numbered_id.get(qn("w:val"))}"/></w:numPr>'
            )
        )
    document.add_paragraph("Kommentar til budsjettet", style="List Bullet")
    lead = document.add_paragraph()
    lead.add_run("Sak 3. Eventuelt.").bold = True
    lead.add_run(" Meld saker til sekretariatet.")
    buffer = io.BytesIO()
    document.save(buffer)
    inv = parse_docx(buffer.getvalue())
    assert inv.problems == ()
    assert [(a.number, a.title, a.numbered, a.description) for a in inv.agenda] == [
        (1, "Godkjenning av innkalling", False, None),
        (2, "Budsjett", False, "- Kommentar til budsjettet"),
        (3, "Eventuelt", True, "Meld saker til sekretariatet."),
    ]


def test_upload_picks_the_parser_by_name() -> None:
    assert parse_upload("innkalling.DOCX", docx_bytes()).agenda[0].title == "Godkjenning av innkalling"
    assert parse_upload("innkalling.md", MD_HOUSE.encode(), group_name="Kultur").agenda_sections == 3
    assert parse_upload("innkalling.txt", TXT_SAK.encode("cp1252")).place == "Drammen rådhus, møterom Elva"


def _zip(name: str, content: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data", [b"this is not a zip file", b"", _zip("hello.txt", "x"), _zip("[Content_Types].xml", "<bad")]
)
def test_a_file_that_is_not_docx_is_one_problem(data: bytes) -> None:
    inv = parse_docx(data)
    assert [p.key for p in inv.problems] == ["unreadable"]
    assert inv.problems[0].text("en").startswith("the file cannot be read")


def test_problems_have_line_numbers() -> None:
    text = (
        "Innkalling\n\nSakskart\nSak 1 Godkjenning\nSak tre: Budsjett\nSak 2 Runden\nSak 2 Eventuelt\nSak 4\n"
    )
    inv = parse_text(text)
    assert [(p.where.number if p.where else None, p.key) for p in inv.problems] == [
        (None, "no_date"),
        (5, "agenda_number"),
        (7, "agenda_duplicate"),
        (8, "agenda_title"),
    ]
    texts = [p.text("nb") for p in inv.problems]
    assert texts[0].startswith("fant ingen møtedato")
    assert texts[1] == "linje 5: saken «Sak tre: Budsjett» har ikke noe nummer jeg kan lese"
    assert [p.text("en") for p in inv.problems][2] == "line 7: agenda item 2 is on the agenda twice"


@pytest.mark.parametrize(
    ("header", "key", "detail"),
    [
        ("Tid: 31.02.2026 kl 10-12", "bad_date", "31.02.2026"),
        ("Tid: 20.01.2026 kl 12.00-10.00", "bad_time", "12.00-10.00"),
        ("Tid: 20.01.2026", "no_time", ""),
    ],
)
def test_bad_date_or_time_is_a_problem_on_its_line(header: str, key: str, detail: str) -> None:
    inv = parse_text(f"Innkalling\n{header}\n\nSak 1 Godkjenning\n")
    assert [(p.where, p.key, p.detail) for p in inv.problems] == [(Location("line", 2), key, detail)]


def test_bad_roster_row_is_a_problem_on_its_line() -> None:
    text = (
        "Tid: 20.01.2026 kl 10-12\nSak 1 Godkjenning\n\n"
        "Fornavn;Etternavn;Organisasjon;E-post\nKari;Li;Asker;ikke-epost\n"
    )
    inv = parse_text(text)
    assert [(p.where, p.key) for p in inv.problems] == [(Location("line", 5), "roster")]
    assert "is not an e-mail address" in inv.problems[0].text("en")


def test_shared_example() -> None:
    path = shared_example()
    if path is None:
        pytest.skip("../shared/examples is not beside the repository")
    text = path.read_text(encoding="utf-8")
    for group_name in (None, "Nærings samarbeid"):
        inv = parse_text(text, group_name=group_name)
        assert inv.problems == ()
        assert (inv.day, inv.start, inv.end) == (date(2025, 1, 16), time(9), time(12, 30))
        assert inv.place == "Teams"
        assert (inv.papers_url or "").startswith("https://")
        assert inv.agenda_sections == 2
        assert (inv.agenda_heading or "").startswith("Sakskart til møte i faggruppe for")
        assert [a.number for a in inv.agenda] == [1, 2, 3, 4, 5, 6, 7]
        kinds = [a.kind for a in inv.agenda]
        assert kinds[:2] == [AgendaKind.APPROVAL, AgendaKind.APPROVAL]
        assert kinds[3:6] == [AgendaKind.ROUND_TABLE, AgendaKind.ORIENTATION, AgendaKind.DISCUSSION]
        assert inv.agenda[3].theme
        assert len(inv.invitees) == 45
        assert len(inv.work_groups) == 5
        names = {i.name for i in inv.invitees}
        assert all(w.responsible for w in inv.work_groups)
        assert sum(w.responsible in names for w in inv.work_groups) == 4  # one is not invited


_FRAGMENTS = st.sampled_from(
    [
        "Sakskart",
        "Sak 1 Godkjenning",
        "Sak",
        "Sak :",
        "1.",
        "- 2) **x**",
        "#### 4. Runde rundt bordet: ",
        "Tid: 31.13.2026 kl 25-26",
        "Tid: 20.01.2026 kl 10-12",
        "Fornavn\tEtternavn\tOrganisasjon",
        "a\tb",
        ";;;",
        "Gruppe 1 - x",
        "Ansvarlig:",
        "**",
        "[x](",
        "<https://",
        "kl 9-",
        "20. januar 99999",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_FRAGMENTS, st.text(max_size=40)), max_size=25), st.sampled_from([None, "Kultur"]))
def test_the_text_parser_never_raises(parts: list[str], group_name: str | None) -> None:
    inv = parse_text("\n".join(parts), group_name=group_name)
    for problem in inv.problems:
        assert problem.text("nb") and problem.text("en")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_the_text_parser_never_raises_on_any_text(text: str) -> None:
    parse_text(text)
