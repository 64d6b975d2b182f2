"""`referent demo` is the story a new user sees first: run it whole and read its drafts."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import docx
import pikepdf
from pdfminer.high_level import extract_text

from bot.offline.demo import run_demo


async def test_demo_runs_the_whole_story_and_writes_the_drafts_and_the_bundle(tmp_path: Path) -> None:
    code = await run_demo(out=tmp_path, database=None, locale="nb", quiet=True)
    assert code == 0

    md_file = next(tmp_path.glob("referat-*.md"))
    html_file = next(tmp_path.glob("referat-*.html"))
    docx_file = next(tmp_path.glob("referat-*.docx"))
    md = md_file.read_text(encoding="utf-8")
    html = html_file.read_text(encoding="utf-8")

    # House-style order, with the out-of-sequence Sak 11 discussed right after Sak 2.
    order = [
        "UTKAST",
        "Tid:",
        "Tilstede",
        "Møteleder",
        "Sak 1.",
        "Sak 2.",
        "Sak 11.",
        "Sak 3.",
        "Runde rundt bordet",
        "Arbeidsgrupper",
        "Oppfølging",
        "Eventuelt",
    ]
    positions = [md.index(marker) for marker in order]
    assert positions == sorted(positions)

    # Posted on Slack (thread reply, edited) and on Teams (thread, @mention, 1:1 chat).
    for text in (
        "Søknad om",
        "Lillestrøm: stor pågang",
        "Bærum: ny arealstrategi",
        "Innspill ønskes",
        "Ski næringspark",
        "Gjøvik: rekrutteringsprosjektet",
        "Ringerike: ny gang- og sykkelbro",
    ):
        assert text in md, text
    assert "Feil tråd" not in md  # deleted in Slack
    # The substitute's note is one parenthesis with the organisation: "(Org, vara for Mats Ødegård)".
    assert re.search(r"\n- Amund [^\n()]+ \([^()\n]+, vara for Mats Ødegård\)\n", md), md
    assert ") (vara for" not in md
    # Member markup is inert everywhere.
    assert "&lt;b&gt;regionale&lt;/b&gt;" in html and "<b>regionale</b>" not in html
    assert "\\<kompetanse\\>" in md and "<!channel>" not in md
    # Sign-ups from both platforms are in one poll.
    assert "Ingrid Mørk (Bærum kommune)" in md.split("Arbeidsgrupper", 1)[1]
    assert "Eirik Solbakken (Asker kommune)" in md.split("Arbeidsgrupper", 1)[1]

    word = "\n".join(p.text for p in docx.Document(str(docx_file)).paragraphs)
    assert "Ringerike: ny gang- og sykkelbro" in word and "Sak 11." in word

    # The PDF/A and the archive bundle (PDF/A, .docx, metadata.json) are written too.
    pdf_file = next(tmp_path.glob("referat-*.pdf"))
    with pikepdf.open(pdf_file) as pdf, pdf.open_metadata() as xmp:
        assert xmp["pdfaid:part"] == "2" and xmp["pdfaid:conformance"] == "A"
    assert "Ringerike: ny gang- og sykkelbro" in " ".join(extract_text(str(pdf_file)).split())
    with zipfile.ZipFile(next(tmp_path.glob("referat-*-arkiv.zip"))) as bundle:
        names = sorted(bundle.namelist())
        meta = json.loads(bundle.read("metadata.json"))
    assert names == sorted([pdf_file.name, docx_file.name, "metadata.json"])
    assert meta["status"] == "utkast"
    assert [f["name"] for f in meta["files"]] == [pdf_file.name, docx_file.name]

    # The year goes on (out/year): the next meeting was imported from the shared invitation, the
    # first referat approved and frozen, and the follow-ups carried into the next draft.
    year = tmp_path / "year"
    finals = sorted(year.glob("referat-*-endelig.*"))
    assert [p.suffix for p in finals] == [".docx", ".html", ".md", ".pdf"]
    final_md = next(p for p in finals if p.suffix == ".md").read_text(encoding="utf-8")
    assert "**ENDELIG**" in final_md and "Godkjent" in final_md and "Ragnhild Sæther" in final_md
    assert "Ringerike: ny gang- og sykkelbro" in final_md and "UTKAST" not in final_md
    [next_md] = [p for p in year.glob("referat-*.md") if not p.stem.endswith("-endelig")]
    following = next_md.read_text(encoding="utf-8")
    assert "Godkjenning av referat fra møtet" in following and "ble godkjent." in following
    carried = following.split("Oppfølging fra tidligere møter", 1)[1]
    assert "Sende ut oversikt over kraftkapasitet" in carried and "status: åpen" in carried
    assert "Invitere Innovasjon Norge" in carried and "status: utført" in carried
    assert "Kristin Haugland orienterte" in following  # the presenter from the invitation
