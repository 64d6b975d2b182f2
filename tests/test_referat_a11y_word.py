"""The Word draft's accessibility, read from its XML: headings in order, table header rows that
repeat and rows that do not split, the language in styles and runs, core properties, bullet
and numbered lists as real Word lists, and no empty paragraphs used for spacing."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from lxml import etree

from handlers.referat import compile_draft
from storage.db import Database
from tests.rich_referat import NOW, build_rich_meeting

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
LANGS = {"nb": "nb-NO", "en": "en-GB"}
HEADING = re.compile(r"^Heading (\d)$")


@pytest.mark.parametrize("locale", ["nb", "en"])
async def test_word_file_is_accessible(sqlite_db: Database, locale: str) -> None:
    fx = await build_rich_meeting(sqlite_db, locale=locale)
    draft = await compile_draft(sqlite_db, fx.meeting_id, "docx", now=NOW)
    assert draft is not None
    doc = Document(io.BytesIO(draft.content))
    body = doc.element.body
    paragraphs = [Paragraph(p, doc) for p in body.iterchildren(qn("w:p"))]
    styles = [p.style.name if p.style is not None else "" for p in paragraphs]

    # headings: the title first, then levels that never skip on the way down
    assert styles[0] == "Title" and styles.count("Title") == 1
    levels = [int(m.group(1)) for s in styles if (m := HEADING.match(s))]
    assert levels[0] == 1 and {1, 2} <= set(levels)
    for before, after in zip([0, *levels], levels, strict=False):
        assert after <= before + 1, f"Heading {before} followed by Heading {after}"

    # tables: the header row repeats on every page, no row splits across pages
    tables = list(body.iterchildren(qn("w:tbl")))
    assert tables
    for table in tables:
        rows = table.findall(qn("w:tr"))
        assert rows[0].find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
        assert all(r.find(f"{qn('w:trPr')}/{qn('w:cantSplit')}") is not None for r in rows)
        assert all(r.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is None for r in rows[1:])

    # language: the default in styles, and no run or style that says otherwise
    lang = LANGS[locale]
    with zipfile.ZipFile(io.BytesIO(draft.content)) as package:
        styles_xml = etree.fromstring(package.read("word/styles.xml"))
        document_xml = etree.fromstring(package.read("word/document.xml"))
    default = styles_xml.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
    assert default is not None and default.get(f"{W}val") == lang
    for element in [*styles_xml.iter(f"{W}lang"), *document_xml.iter(f"{W}lang")]:
        assert element.get(f"{W}val") in (None, lang), etree.tostring(element)
    runs = list(document_xml.iter(f"{W}r"))
    assert runs and all(r.find(f"{W}rPr/{W}lang") is None for r in runs)  # every run inherits it

    # core properties
    props = doc.core_properties
    assert props.title.startswith({"nb": "UTKAST: Referat fra møte", "en": "DRAFT: Minutes of the"}[locale])
    assert props.subject and "2026" in props.subject
    assert props.language == lang

    # bullet items are real Word list paragraphs: their style carries a numbering definition
    numbering = doc.part.numbering_part.element
    num_ids = {n.get(qn("w:numId")) for n in numbering.iterchildren(qn("w:num"))}
    bullets = [p for p in paragraphs if p.style is not None and p.style.name.startswith("List Bullet")]
    assert len(bullets) >= 6
    for paragraph in bullets:
        style = paragraph.style
        assert style is not None
        num_id = style.element.find(f"{qn('w:pPr')}/{qn('w:numPr')}/{qn('w:numId')}")
        assert num_id is not None and num_id.get(qn("w:val")) in num_ids, style.name
        assert not paragraph.text.lstrip().startswith(("-", "•", "*")), paragraph.text

    # numbered items (member text and the follow-ups) are real numbered list paragraphs, each list
    # counting on its own, with no typed numbers in the text
    numbered = [p for p in paragraphs if p.style is not None and p.style.name.startswith("List Number")]
    texts = [p.text for p in numbered]
    for expected in ("Kartlegge arealene", "Møte nettselskapet", "Oppdatere arealene"):
        assert expected in texts, texts
    assert sum("Sekretariatet" in t or "(" in t for t in texts) >= 3  # the three follow-ups
    starts: dict[str, str] = {}
    for paragraph in numbered:
        num_pr = paragraph._p.pPr.numPr
        assert num_pr is not None and num_pr.numId.val in {int(n) for n in num_ids}
        [start] = numbering.xpath(
            f'./w:num[@w:numId="{num_pr.numId.val}"]/w:lvlOverride/w:startOverride/@w:val'
        )
        starts[str(num_pr.numId.val)] = start
    assert len(starts) >= 3 and set(starts.values()) == {"1"}  # two member lists and the follow-ups
    assert not [p.text for p in paragraphs if re.match(r"^\d+[.)]\t", p.text)]

    # no empty paragraphs as spacing: at most one, and only where Word needs one after a table
    for index, paragraph in enumerate(paragraphs):
        element = paragraph._p
        if paragraph.text.strip() or element.find(f".//{qn('w:br')}") is not None:
            continue
        previous = element.getprevious()
        assert previous is not None and previous.tag == qn("w:tbl"), (
            f"empty paragraph {index} after {styles[index - 1]!r} used as spacing"
        )
