"""Read an invitation written in Word (.docx) with python-docx.

Paragraphs become lines in document order, dressed the way the text parser reads them: headings
as `## …`, bold runs as `**…**`, links as `[text](url)`. A Word numbered list keeps its numbers
in `w:numPr` rather than in the text, so the number is rebuilt from the list position (level 0,
counted per list, from the list's start value). Each table row becomes one tab-separated line,
so an agenda or a roster in a table reads like a tab-separated table in text.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from docx import Document
from docx.opc.exceptions import OpcError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph

from handlers.invitation.markup import SourceLine
from handlers.invitation.model import Invitation, Location, Problem
from handlers.invitation.reader import read_lines

_HEADING_STYLES = ("heading", "overskrift", "title", "tittel")
_NOT_NUMBERS = {"bullet", "none"}


def _formats(document: Any) -> dict[str, tuple[str, int]]:
    """numId → (number format, start) of level 0, from the numbering part."""
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return {}
    levels: dict[str, tuple[str, int]] = {}
    for abstract in numbering.findall(qn("w:abstractNum")):
        for lvl in abstract.findall(qn("w:lvl")):
            if lvl.get(qn("w:ilvl")) != "0":
                continue
            fmt = lvl.find(qn("w:numFmt"))
            start = lvl.find(qn("w:start"))
            levels[abstract.get(qn("w:abstractNumId"))] = (
                fmt.get(qn("w:val")) if fmt is not None else "decimal",
                int(start.get(qn("w:val"))) if start is not None else 1,
            )
    found: dict[str, tuple[str, int]] = {}
    for num in numbering.findall(qn("w:num")):
        abstract_id = num.find(qn("w:abstractNumId"))
        if abstract_id is not None and abstract_id.get(qn("w:val")) in levels:
            found[num.get(qn("w:numId"))] = levels[abstract_id.get(qn("w:val"))]
    return found


def _num_pr(paragraph: Paragraph) -> tuple[str, int] | None:
    """(numId, level) of a list paragraph: its own w:numPr, else its style's (List Number)."""
    holders = [paragraph._p.pPr]
    style = paragraph.style
    while style is not None:
        holders.append(style.element.pPr)
        style = style.base_style
    for p_pr in holders:
        num_pr = p_pr.find(qn("w:numPr")) if p_pr is not None else None
        if num_pr is None:
            continue
        num_id = num_pr.find(qn("w:numId"))
        ilvl = num_pr.find(qn("w:ilvl"))
        if num_id is not None:
            return num_id.get(qn("w:val")), int(ilvl.get(qn("w:val"))) if ilvl is not None else 0
    return None


def _bold(piece: str) -> str:
    return "\n".join(f"**{part}**" if part.strip() else part for part in piece.split("\n"))


def _markdown(paragraph: Paragraph) -> str:
    """The paragraph's text with bold runs and links marked as in Markdown."""
    parts: list[str] = []
    for item in paragraph.iter_inner_content():
        if isinstance(item, Hyperlink):
            url = item.url
            parts.append(f"[{item.text}]({url})" if url else item.text)
        elif item.bold and item.text.strip():
            parts.append(_bold(item.text))
        else:
            parts.append(item.text)
    text = "".join(parts).replace("****", "")
    style = (paragraph.style.name or "").casefold() if paragraph.style is not None else ""
    if style.startswith(_HEADING_STYLES) and text.strip():
        text = "## " + text.replace("\n", " ")
    return text


class _Lists:
    """Counts Word list items per list, so each level-0 item gets its displayed number."""

    def __init__(self, formats: dict[str, tuple[str, int]]) -> None:
        self.formats = formats
        self.counts: dict[str, int] = {}

    def place(self, paragraph: Paragraph) -> tuple[int | None, int | None]:
        found = _num_pr(paragraph)
        if found is None:
            return None, None
        num_id, level = found
        fmt, start = self.formats.get(num_id, ("decimal", 1))
        if level != 0 or fmt in _NOT_NUMBERS or num_id == "0":
            return None, level
        self.counts[num_id] = self.counts.get(num_id, 0) + 1
        return start + self.counts[num_id] - 1, 0


def _row_cells(row: Any) -> list[str]:
    cells: list[str] = []
    previous = None
    for cell in row.cells:
        if previous is not None and cell._tc is previous:
            continue  # a merged cell repeats itself
        previous = cell._tc
        cells.append(" ".join(cell.text.replace("\t", " ").split()))
    return cells


def _lines(document: Any) -> Iterator[SourceLine]:
    lists = _Lists(_formats(document))
    paragraph_no = table_no = 0
    for element in document.element.body.iterchildren():
        if element.tag == qn("w:p"):
            paragraph_no += 1
            paragraph = Paragraph(element, document)
            number, level = lists.place(paragraph)
            where = Location("paragraph", paragraph_no)
            for text in _markdown(paragraph).split("\n"):
                yield SourceLine(where, text, number, level)
        elif element.tag == qn("w:tbl"):
            table_no += 1
            for row_no, row in enumerate(Table(element, document).rows, start=1):
                yield SourceLine(Location("table", table_no, row_no), "\t".join(_row_cells(row)))
            yield SourceLine(Location("table", table_no, 0), "")


def parse_docx(source: bytes | Path, *, group_name: str | None = None, lang: str = "nb") -> Invitation:
    """Parse a .docx; a file that is not one gives an invitation with one `unreadable` problem."""
    try:
        data = source.read_bytes() if isinstance(source, Path) else source
        document = Document(io.BytesIO(data))
        lines = list(_lines(document))
    except (zipfile.BadZipFile, KeyError, ValueError, SyntaxError, OpcError) as exc:
        return Invitation(problems=(Problem(None, "unreadable", str(exc) or type(exc).__name__),))
    return read_lines(lines, group_name=group_name, lang=lang)
