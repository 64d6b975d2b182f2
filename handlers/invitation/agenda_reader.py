"""Agenda items from the lines of one agenda section.

An item starts on a line (not nested deeper than a top-level bullet) numbered "Sak 1", "Sak 1:",
"1.", "1)", or on a Word list paragraph (its number from the list position), or in a table row
whose first cell is the number. Lines after it, up to the next item, heading or work group, are
its description; "v/ Navn", "ved Navn" and "Innleder: Navn" name who presents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from handlers.agenda import agenda_kind, round_table_title
from handlers.invitation.markup import Plain, SourceLine, strip_inline
from handlers.invitation.model import AgendaEntry, Location, Problem

_LEADING_TIME = re.compile(r"^(?:kl\.?\s*)?[0-9]{1,2}[:.][0-9]{2}(?:\s*[-–—]\s*[0-9]{1,2}[:.][0-9]{2})?\s+")
_ITEM = re.compile(
    r"^(?:(?:sak|item)\s*(?P<a>[0-9]{1,3})(?![0-9])\s*[.:)–—-]?|(?P<b>[0-9]{1,3})(?:\.(?![0-9])|\)))\s*(?P<title>.*)$",
    re.IGNORECASE,
)
_SAK_WITHOUT_NUMBER = re.compile(r"^sak(?:\s+|\s*[:.]\s*)(?![0-9])(?P<rest>.+)$", re.IGNORECASE)
_CELL_NUMBER = re.compile(r"^(?:sak\s*)?([0-9]{1,3})\s*[.:)]?$", re.IGNORECASE)
_PRESENTER_IN_TITLE = re.compile(
    r"^(?P<title>.+?)[\s,;(–—-]+(?:v/|v\.|ved(?=\s+[A-ZÆØÅ])|innleder\s*:|innleiar\s*:|presenter\s*:)"
    r"\s*(?P<name>[^)]+?)\)?\s*$"
)
_PRESENTER_LINE = re.compile(
    r"^(?:v/|innleder\s*:|innleiar\s*:|presenter\s*:)\s*(?P<name>.+)$", re.IGNORECASE
)
_STOP = re.compile(
    r"^(?:(?:ad[- ]hoc[- ])?(?:arbeids)?(?:gruppe|group)\s*[0-9]{1,2}\s*[-–—:.)]|ansvar\w*\s*:"
    r"|arbeidsgrupper\s*:?$|work groups\s*:?$)",
    re.IGNORECASE,
)
_MONTH_START = re.compile(
    r"^(jan|feb|mar|apr|mai|may|jun|jul|aug|sep|okt|oct|nov|des|dec)[a-z]*\.?(\s+[0-9]{4})?\b", re.IGNORECASE
)
_HEADER_WORDS = {
    "title": {"sak", "tittel", "title", "tema", "saker", "item"},
    "presenter": {"innleder", "innleiar", "ansvarlig", "presenter", "ved", "v/", "hvem"},
    "description": {"beskrivelse", "merknad", "merknader", "description", "notes", "kommentar"},
}


@dataclass
class _Item:
    number: int
    title: str
    where: Location
    numbered: bool = True
    presenter: str | None = None
    lines: list[str] = field(default_factory=list)


@dataclass
class _Columns:
    title: int = 1
    presenter: int | None = 2
    description: int | None = None


def _split_presenter(title: str) -> tuple[str, str | None]:
    match = _PRESENTER_IN_TITLE.match(title)
    if match is None:
        return title, None
    return match["title"].strip(), match["name"].strip(" .")


def _tidy(title: str) -> str:
    return title.strip().rstrip(".:;").strip()


def _item_match(text: str) -> tuple[int, str] | None:
    text = _LEADING_TIME.sub("", text)
    match = _ITEM.match(text)
    if match is None:
        return None
    number = int(match["a"] or match["b"])
    title = match["title"].strip()
    if match["b"] and _MONTH_START.match(title):
        return None  # "20. januar 2026", a date, not item 20
    return number, title


def _start_item(line: SourceLine, text: Plain) -> tuple[_Item | None, str | None]:
    """A new item from this line, and the description text after a bold lead-in; (None, None)
    when the line does not start an item."""
    if text.indent >= 2 and not text.heading:
        return None, None
    if text.lead is not None and (found := _item_match(text.lead)) is not None:
        number, title = found
        return _Item(number, title, line.where), text.rest or None
    found = _item_match(text.text)
    if found is not None:
        return _Item(found[0], found[1], line.where), None
    if line.list_number is not None and line.list_level in (0, None):
        return _Item(line.list_number, text.text, line.where, numbered=False), None
    return None, None


def _columns(cells: Sequence[str]) -> _Columns | None:
    """Column places from a table's header row ("Sak | Tittel | Innleder"); None for a data row."""
    folded = [" ".join(c.casefold().split()).strip(" .:") for c in cells]
    if _CELL_NUMBER.match(folded[0] if folded else ""):
        return None
    found = _Columns(presenter=None)
    for index, cell in enumerate(folded[1:], start=1):
        for key, words in _HEADER_WORDS.items():
            if cell in words:
                setattr(found, key, index)
    return found


def _cell(cells: Sequence[str], index: int | None) -> str | None:
    if index is None or index >= len(cells):
        return None
    return strip_inline(cells[index]) or None


def _table_row(line: SourceLine, columns: _Columns) -> tuple[_Item | None, _Columns]:
    cells = line.raw.split("\t")
    header = _columns(cells)
    if header is not None:
        return None, header
    number = _CELL_NUMBER.match(strip_inline(cells[0]))
    if number is None:
        return None, columns
    item = _Item(int(number[1]), _cell(cells, columns.title) or "", line.where)
    item.presenter = _cell(cells, columns.presenter)
    description = _cell(cells, columns.description)
    if description:
        item.lines.append(description)
    return item, columns


def _entry(item: _Item, lang: str) -> AgendaEntry:
    title, presenter = _split_presenter(_tidy(item.title))
    title = _tidy(title)
    round_title = round_table_title(title, lang)
    description = "\n".join(item.lines).strip() or None
    return AgendaEntry(
        number=item.number,
        title=title,
        where=item.where,
        description=description,
        presenter=item.presenter or presenter,
        kind=agenda_kind(title, lang),
        theme=round_title.theme if round_title is not None else None,
        numbered=item.numbered,
    )


def _add_line(item: _Item, text: Plain) -> None:
    presenter = _PRESENTER_LINE.match(text.text)
    if presenter is not None and item.presenter is None:
        item.presenter = presenter["name"].strip(" .")
    else:
        item.lines.append(f"- {text.text}" if text.bullet else text.text)


def _problem_line(line: SourceLine, text: Plain) -> Problem | None:
    """A line that looks like an item but cannot be read as one: "Sak tre: Budsjett"."""
    if text.indent >= 2 and not text.heading:
        return None
    match = _SAK_WITHOUT_NUMBER.match(_LEADING_TIME.sub("", text.lead or text.text))
    return Problem(line.where, "agenda_number", text.text[:80]) if match else None


def _finish(items: list[_Item], lang: str, problems: list[Problem]) -> list[AgendaEntry]:
    entries: list[AgendaEntry] = []
    seen: set[int] = set()
    for item in items:
        entry = _entry(item, lang)
        if not entry.title:
            problems.append(Problem(item.where, "agenda_title", str(item.number)))
        elif item.number in seen:
            problems.append(Problem(item.where, "agenda_duplicate", str(item.number)))
        seen.add(item.number)
        entries.append(entry)
    return entries


def read_agenda(
    lines: Sequence[SourceLine], texts: Sequence[Plain], lang: str, problems: list[Problem]
) -> list[AgendaEntry]:
    items: list[_Item] = []
    current: _Item | None = None
    columns = _Columns()
    for line, text in zip(lines, texts, strict=True):
        if text.blank:
            continue
        if "\t" in line.raw.strip():
            row, columns = _table_row(line, columns)
            if row is not None:
                items.append(row)
            current = row
            continue
        started, rest = _start_item(line, text)
        if started is not None:
            items.append(started)
            current = started
            if rest:
                started.lines.append(rest)
            continue
        problem = _problem_line(line, text)
        if problem is not None:
            problems.append(problem)
            current = None
        elif text.heading or _STOP.match(text.text):
            current = None
        elif current is not None:
            _add_line(current, text)
    if not items:
        problems.append(Problem(None, "no_agenda"))
    return _finish(items, lang, problems)
