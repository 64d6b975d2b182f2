"""Member text as a small tree of paragraphs and lists, and its inert Markdown form.

Each output format needs the same structure (paragraphs with their line breaks, bullet and
numbered lists with their nesting) but escapes differently: HTML by autoescape, Word by being
plain text runs, Markdown by backslashes. Parsing once into this tree keeps the three faithful
to each other. Built on the shared rules in `handlers.text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from handlers.text import clean, escape_markdown_inline

# Bullets members type (same set as handlers.text), plus the marker kept so "3." stays "3.".
_ITEM = re.compile(r"^(\s*)([-*•·–]|\d{1,3}[.)])\s+(.*)$")
# Characters no XML document may hold (python-docx would refuse them) and lone surrogates.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")


def sanitize(text: str) -> str:
    """`handlers.text.clean` plus the few code points XML cannot carry."""
    return _NOT_XML.sub("", clean(text))


def one_line(text: str | None) -> str:
    """A single-line value (a name, a title): any line breaks become spaces."""
    return _SPACES.sub(" ", sanitize(text or "")).strip()


@dataclass(frozen=True, slots=True)
class Para:
    """A paragraph; its lines keep the breaks the member typed (no reflowing)."""

    kind: ClassVar[str] = "para"
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ListItem:
    text: str
    marker: str | None  # None for a bullet; "3." for a numbered item, kept as typed
    children: tuple[ItemList, ...] = ()


@dataclass(frozen=True, slots=True)
class ItemList:
    kind: ClassVar[str] = "list"
    items: tuple[ListItem, ...]
    ordered: bool

    @property
    def start(self) -> int:
        """The first number of a numbered list, for HTML's `<ol start>`."""
        marker = self.items[0].marker if self.items else None
        return int(marker.rstrip(".)")) if marker else 1


Block = Para | ItemList
Text = tuple[Block, ...]


def _marker(raw: str) -> str | None:
    return raw.replace(")", ".") if raw[0].isdigit() else None


def _level(indent: str) -> int:
    return min(len(indent.expandtabs(2)) // 2, 4)


def _depths(entries: list[tuple[int, str | None, str]]) -> list[tuple[int, str | None, str]]:
    """Indents as typed become nesting depths; a jump of several levels nests only one deeper."""
    open_levels: list[int] = []
    out: list[tuple[int, str | None, str]] = []
    for level, marker, text in entries:
        while open_levels and level < open_levels[-1]:
            open_levels.pop()
        if not open_levels or level > open_levels[-1]:
            open_levels.append(level)
        out.append((len(open_levels) - 1, marker, text))
    return out


def _nest(entries: list[tuple[int, str | None, str]], pos: int, depth: int) -> tuple[list[ItemList], int]:
    lists: list[ItemList] = []
    items: list[ListItem] = []
    ordered = False
    while pos < len(entries) and entries[pos][0] >= depth:
        item_depth, marker, text = entries[pos]
        if item_depth > depth and items:
            children, pos = _nest(entries, pos, depth + 1)
            last = items[-1]
            items[-1] = ListItem(text=last.text, marker=last.marker, children=(*last.children, *children))
            continue
        is_ordered = marker is not None
        if items and is_ordered != ordered:  # "1." after "-" starts a new list
            lists.append(ItemList(items=tuple(items), ordered=ordered))
            items = []
        ordered = is_ordered
        items.append(ListItem(text=text, marker=marker))
        pos += 1
    if items:
        lists.append(ItemList(items=tuple(items), ordered=ordered))
    return lists, pos


def parse_text(text: str | None) -> Text:
    """Split member text into paragraphs and lists (blank lines end a paragraph)."""
    blocks: list[Block] = []
    lines: list[str] = []
    entries: list[tuple[int, str | None, str]] = []

    def flush() -> None:
        if lines:
            blocks.append(Para(tuple(lines)))
            lines.clear()
        if entries:
            blocks.extend(_nest(_depths(entries), 0, 0)[0])
            entries.clear()

    for raw in sanitize(text or "").split("\n"):
        if not raw.strip():
            flush()
            continue
        match = _ITEM.match(raw)
        if match:
            if lines:
                flush()
            indent, marker, rest = match.groups()
            entries.append((_level(indent), _marker(marker), rest.rstrip()))
        else:
            if entries:
                flush()
            lines.append(raw.strip())
    flush()
    return tuple(blocks)


def plain_text(blocks: Text) -> str:
    """The tree as plain text (for tests and previews)."""
    out: list[str] = []

    def walk(lst: ItemList, depth: int) -> None:
        for item in lst.items:
            out.append("  " * depth + (item.marker or "-") + " " + item.text)
            for child in item.children:
                walk(child, depth + 1)

    for block in blocks:
        if isinstance(block, Para):
            out.extend(block.lines)
        else:
            walk(block, 0)
    return "\n".join(out)


# --- Markdown ------------------------------------------------------------------------------

# Line starts CommonMark would read as structure: headings/rules/setext (=, -, +), quotes (>)
# and list markers that handlers.text does not treat as bullets.
_MD_LINE_START = re.compile(r"^([=+\-])")
_MD_ORDERED_START = re.compile(r"^([0-9]{1,9})([.)])")


def md_inline(text: str | None) -> str:
    """One line of any outside text, escaped so it renders literally wherever it lands."""
    return _md_line(one_line(text))


def _md_escape(text: str) -> str:
    # handlers.text escapes the control characters, `&` included, so "&lt;" is not an entity.
    return escape_markdown_inline(text)


def _md_line(text: str) -> str:
    text = _MD_ORDERED_START.sub(r"\1\\\2", _md_escape(text))
    return _MD_LINE_START.sub(r"\\\1", text)


def md_blocks(blocks: Text) -> str:
    """Member text as inert Markdown: lists stay lists, everything else is literal."""
    out: list[str] = []

    def walk(lst: ItemList, indent: str) -> None:
        for item in lst.items:
            marker = item.marker or "-"
            out.append(f"{indent}{marker} {_md_line(item.text)}")
            for child in item.children:  # CommonMark nests under the item's content column
                walk(child, indent + " " * (len(marker) + 1))

    for block in blocks:
        if out:
            out.append("")
        if isinstance(block, Para):
            # two trailing spaces: a hard break in CommonMark, invisible in chat clients
            out.append("  \n".join(_md_line(line) for line in block.lines))
        else:
            walk(block, "")
    return "\n".join(out)
