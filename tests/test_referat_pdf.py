"""The PDF/A-2a referat and the archive bundle: checked with pikepdf (XMP identification,
structure tree, marked content, embedded fonts, /Lang, title in Info and XMP) and with
pdfminer.six for the text in reading order; the zip's files and metadata.json; the CLI."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pikepdf
import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st
from pdfminer.high_level import extract_text

from bot.cli import main as cli_main
from handlers.referat import compile_archive, compile_draft
from handlers.referat.glyphs import printable, uncovered_pattern
from handlers.referat.pdf import render_pdf
from handlers.referat.view import build_view
from handlers.richtext.model import Para
from handlers.richtext.model import Text as TextNode
from storage.db import Database
from storage.repositories.referat import load_referat
from tests.referat_fixtures import person_name
from tests.rich_referat import LONG_LAST_NAME, NOW, build_rich_meeting

LANGS = {"nb": "nb-NO", "en": "en-GB"}
PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
FONTS = Path(__file__).resolve().parent.parent / "templates" / "referat" / "fonts"
SHIPPED_FONTS = {
    "DejaVuSans",
    "DejaVuSans-Bold",
    "DejaVuSans-Oblique",
    "DejaVuSans-BoldOblique",
    "DejaVuSansMono",
}


def _fonts(pdf: pikepdf.Pdf) -> list[tuple[str, bool]]:
    """(base font, embedded?) for every font on every page, composite fonts included."""
    out: list[tuple[str, bool]] = []
    for page in pdf.pages:
        resources = page.obj.get("/Resources", {})
        for font in resources.get("/Font", {}).values():
            described = [font, *font.get("/DescendantFonts", [])]
            descriptors = [f["/FontDescriptor"] for f in described if "/FontDescriptor" in f]
            embedded = bool(descriptors) and all(
                any(key in d for key in ("/FontFile", "/FontFile2", "/FontFile3")) for d in descriptors
            )
            out.append((str(font.get("/BaseFont")), embedded))
    return out


def _assert_in_order(text: str, markers: list[str]) -> None:
    position = 0
    for marker in markers:
        found = text.find(marker, position)
        assert found >= 0, f"{marker!r} missing after position {position}"
        position = found + len(marker)


@pytest.mark.parametrize("locale", ["nb", "en"])
async def test_pdf_is_tagged_pdfa_2a(sqlite_db: Database, locale: str) -> None:
    fx = await build_rich_meeting(sqlite_db, locale=locale)
    draft = await compile_draft(sqlite_db, fx.meeting_id, "pdf", now=NOW)
    assert draft is not None
    assert draft.filename.endswith(".pdf") and draft.mime_type == "application/pdf"
    assert draft.content.startswith(b"%PDF-1.7")
    again = await compile_draft(sqlite_db, fx.meeting_id, "pdf", now=NOW)
    assert again is not None and len(again.content) == len(draft.content)  # same input, same layout

    with pikepdf.open(io.BytesIO(draft.content)) as pdf:
        with pdf.open_metadata() as xmp:
            assert xmp[f"{PDFAID}part"] == "2"
            assert xmp[f"{PDFAID}conformance"] == "A"
            title = str(xmp[DC_TITLE])
        expected_title = {"nb": "UTKAST: Referat fra møte i", "en": "DRAFT: Minutes of the meeting of"}[
            locale
        ]
        assert title.startswith(expected_title)
        assert str(pdf.docinfo["/Title"]) == title
        root = pdf.Root
        assert "/StructTreeRoot" in root
        assert root.StructTreeRoot.get("/K") is not None
        assert bool(root.MarkInfo.Marked) is True
        assert str(root.Lang) == LANGS[locale]
        assert "/OutputIntents" in root
        fonts = _fonts(pdf)
        assert fonts and all(embedded for _, embedded in fonts), fonts
        # only the fonts shipped with Referent (and Typst's own mono for code), never the machine's
        assert all(name.split("+")[-1] in SHIPPED_FONTS for name, _ in fonts), fonts
        # the structure has headings, a table with header cells, and lists
        kinds = {str(e.get("/S")) for e in _struct_elements(root.StructTreeRoot)}
        assert {"/H1", "/H2", "/H3", "/Table", "/TH", "/TD", "/L", "/LI", "/P"} <= kinds, kinds

    text = extract_text(io.BytesIO(draft.content))
    compact = " ".join(text.split()).replace("- ", "-")  # a long name wraps after a hyphen
    if locale == "nb":
        headings = [
            "Referat fra møte i",
            "Tilstede på møtet",
            "Referat fra saklisten",
            "Sak 1.",
            "Runde rundt bordet",
            "Arbeidsgrupper",
            "Oppfølging",
            "Eventuelt",
        ]
    else:
        headings = [
            "Minutes of the meeting",
            "Present",
            "Item 1.",
            "Runde rundt bordet",
            "Work groups",
            "Follow-up",
            "Eventuelt",
        ]
    _assert_in_order(compact, headings)
    assert "Til sekretariatet" not in compact and "For the secretariat" not in compact  # off paper
    assert LONG_LAST_NAME in compact
    # each heading comes before its content: the round-table entries, in the referat's order
    html = await compile_draft(sqlite_db, fx.meeting_id, "html", now=NOW)
    assert html is not None and html.text is not None
    page = lxml.html.document_fromstring(html.text)
    entries = [" ".join(h.text_content().split()) for h in page.xpath("//article[@class='entry']/*[1]")]
    assert len(entries) >= 8
    _assert_in_order(compact[compact.index("Runde rundt bordet") :], entries)
    first = fx.round_texts[fx.member_ids[0]][0]
    _assert_in_order(
        compact,
        [
            "Tre ting vi prioriterer:",
            "Rekruttering av fagfolk",
            "særlig ingeniører",
            "Neste steg:",
            "Kartlegge arealene",
            "Møte nettselskapet",
        ],
    )
    assert "«én dør inn»" in compact and first


def _struct_elements(node: pikepdf.Object) -> list[pikepdf.Dictionary]:
    """Every structure element under a node (depth first)."""
    out: list[pikepdf.Dictionary] = []
    stack = [node]
    while stack:
        current = stack.pop()
        kids = current.get("/K") if isinstance(current, pikepdf.Dictionary) else None
        if kids is None:
            continue
        items = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
        for kid in items:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                out.append(kid)
                stack.append(kid)
    return out


async def test_archive_bundle(sqlite_db: Database) -> None:
    fx = await build_rich_meeting(sqlite_db)
    bundle = await compile_archive(sqlite_db, fx.meeting_id, now=NOW)
    assert bundle is not None
    assert bundle.filename == "referat-naeringssamarbeid-2026-01-20-arkiv.zip"
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        names = archive.namelist()
        assert names == [
            "referat-naeringssamarbeid-2026-01-20.pdf",
            "referat-naeringssamarbeid-2026-01-20.docx",
            "metadata.json",
        ]
        contents = {name: archive.read(name) for name in names}
    meta = json.loads(contents["metadata.json"])
    assert meta == bundle.metadata
    assert meta["schema"] == "referent-archive/1"
    assert meta["title"].startswith("UTKAST: Referat fra møte i Fjordregionens faggruppe")
    assert meta["group"] == "Næringssamarbeid" and meta["organisation"] == "Fjordregionen"
    assert meta["meeting"]["date"] == "2026-01-20"
    assert meta["meeting"]["starts_at"] == "2026-01-20T10:00:00+01:00"
    assert meta["meeting"]["place"] is None  # the fixture has no place
    assert meta["document_date"] == "2026-01-22"
    assert meta["status"] == "utkast" and meta["language"] == "nb-NO"
    secretariat = [fx.names[i] for i in fx.secretariat_ids]
    assert meta["sender"]["role"] == "sekretariat"
    assert [p["name"] for p in meta["sender"]["persons"]] == secretariat[:1]  # the one who attended
    participants = [p["name"] for p in meta["participants"]]
    assert participants[0] == fx.names[fx.chair_id]
    assert fx.substitute_id is not None and fx.names[fx.substitute_id] in participants
    for excused in fx.excused_ids:
        assert fx.names[excused] not in participants
    assert any(p["organisation"] is None for p in meta["participants"])  # the member without one
    assert any(LONG_LAST_NAME in p for p in participants)
    files = {f["name"]: f for f in meta["files"]}
    assert set(files) == set(names) - {"metadata.json"}
    for name, entry in files.items():
        assert entry["sha256"] == hashlib.sha256(contents[name]).hexdigest()
        assert entry["bytes"] == len(contents[name])
    assert files["referat-naeringssamarbeid-2026-01-20.pdf"]["format"] == "PDF/A-2a"
    assert contents["referat-naeringssamarbeid-2026-01-20.pdf"].startswith(b"%PDF-")
    assert contents["referat-naeringssamarbeid-2026-01-20.docx"][:2] == b"PK"
    # the same input gives the same zip, byte for byte, whenever it is made (the zip and the
    # .docx inside it carry the compile time, not the clock's)
    with time_machine.travel(datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC), tick=False):
        again = await compile_archive(sqlite_db, fx.meeting_id, now=NOW)
    assert again is not None and again.content == bundle.content
    assert await compile_archive(sqlite_db, 9999, now=NOW) is None


async def test_cli_writes_pdf_and_archive(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fx = await build_rich_meeting(sqlite_db, locale="en")
    monkeypatch.setenv("DATABASE_URL", str(sqlite_db.engine.url))
    pdf_file, zip_file = tmp_path / "out" / "referat.pdf", tmp_path / "out" / "bundle.zip"
    # the CLI runs its own event loop, so it goes to a thread here
    assert (
        await asyncio.to_thread(
            cli_main, ["referat", str(fx.meeting_id), "--format", "pdf", "-o", str(pdf_file)]
        )
        == 0
    )
    with pikepdf.open(pdf_file) as pdf:
        assert str(pdf.Root.Lang) == "en-GB"
    assert (
        await asyncio.to_thread(cli_main, ["referat", str(fx.meeting_id), "--archive", "-o", str(zip_file)])
        == 0
    )
    with zipfile.ZipFile(zip_file) as archive:
        meta = json.loads(archive.read("metadata.json"))
        assert meta["language"] == "en-GB" and len(archive.namelist()) == 3
    assert person_name(0)[0] in {p["name"].split()[0] for p in meta["participants"]}


async def test_pdf_names_what_its_fonts_cannot_draw(sqlite_db: Database) -> None:
    """One emoji, rune or Chinese word in one entry must not cost the whole PDF (PDF/A forbids a
    missing glyph, and Typst refuses to write one): emoji are named, the rest is U+FFFD."""
    fx = await build_rich_meeting(sqlite_db)
    async with sqlite_db.session() as session:
        data = await load_referat(session, fx.meeting_id)
    assert data is not None
    view = build_view(data, now=NOW)
    odd = "Feiring 🎉 for 👍🏽 og 🇳🇴, runen ᚠ og 中文; æøå og 😄 og ✓ blir som de er."
    first = view.round_table.entries[0]
    entry = dataclasses.replace(first, text=(Para(((TextNode(odd),),)),))
    round_table = dataclasses.replace(view.round_table, entries=(entry, *view.round_table.entries[1:]))
    pdf_bytes = render_pdf(dataclasses.replace(view, round_table=round_table))
    compact = " ".join(extract_text(io.BytesIO(pdf_bytes)).split())
    assert "Feiring [party popper] for [thumbs up medium skin tone] og [Norway]" in compact
    assert "runen \ufffd og \ufffd\ufffd; æøå og 😄 og ✓ blir som de er." in compact


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_printable_leaves_nothing_the_fonts_lack(text: str) -> None:
    uncovered = uncovered_pattern(FONTS)
    shown = printable(text, uncovered)
    assert uncovered.search(shown) is None
    if uncovered.search(text) is None:
        assert shown == text  # text the fonts can draw is never touched
