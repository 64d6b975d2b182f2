"""The one neutral model of member text: a small frozen tree every parser builds and every
renderer reads.

Slack sends mrkdwn and `rich_text` blocks, Teams sends HTML; the referat is written as Markdown,
HTML and Word, and the bot answers in mrkdwn or Teams HTML. Parsing each input once into this
tree (and rendering each output from it) keeps all of them faithful to each other, and keeps
escaping in one place per output. Links are only ever http, https or mailto: `link()` turns
anything else into its text, so no renderer has to decide whether a URL is safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Literal

Style = Literal["bold", "italic", "strike"]
_SAFE_URL = re.compile(r"^(?:https?://[^\s<>\"\\`]+|mailto:[^\s<>\"\\`/]+@[^\s<>\"\\`]+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Text:
    kind: ClassVar[str] = "text"
    text: str


@dataclass(frozen=True, slots=True)
class Styled:
    """Bold, italic or strike-through around other inline nodes (they nest)."""

    kind: ClassVar[str] = "styled"
    style: Style
    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Code:
    """Inline code: shown in a fixed-width font, never parsed further."""

    kind: ClassVar[str] = "code"
    text: str


@dataclass(frozen=True, slots=True)
class Link:
    """A link with its text; the URL is always http(s) or mailto (see `link`)."""

    kind: ClassVar[str] = "link"
    url: str
    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Mention:
    """A person, channel or broadcast mentioned, already resolved to a name ("@Kari Nordmann")."""

    kind: ClassVar[str] = "mention"
    name: str  # shown with its sigil: "@Kari Nordmann", "#styret", "@channel"


Inline = Text | Styled | Code | Link | Mention
Line = tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Para:
    """A paragraph; its lines keep the breaks the member typed (no reflowing)."""

    kind: ClassVar[str] = "para"
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """Preformatted text (a fenced block), kept line for line."""

    kind: ClassVar[str] = "code_block"
    text: str


@dataclass(frozen=True, slots=True)
class ListItem:
    content: Line
    marker: str | None  # None for a bullet; "3." for a numbered item, kept as typed
    children: tuple[ItemList, ...] = ()

    @property
    def text(self) -> str:
        """The item's own text without formatting (for previews and tests)."""
        return plain_inline(self.content)


@dataclass(frozen=True, slots=True)
class ItemList:
    kind: ClassVar[str] = "list"
    items: tuple[ListItem, ...]
    ordered: bool

    @property
    def start(self) -> int:
        """The first number of a numbered list, for HTML's `<ol start>`."""
        marker = self.items[0].marker if self.items else None
        return int(marker.rstrip(".)")) if marker and marker.rstrip(".)").isdigit() else 1


Block = Para | ItemList | CodeBlock
Doc = tuple[Block, ...]


def is_safe_url(url: str) -> bool:
    """http, https or mailto, with nothing in it that could break out of an attribute."""
    return bool(_SAFE_URL.match(url))


def link(url: str, children: tuple[Inline, ...] = ()) -> tuple[Inline, ...]:
    """A Link when the URL is http(s)/mailto; otherwise just its text (or the URL as text)."""
    url = url.strip()
    label = children or (Text(url.removeprefix("mailto:")),)
    if is_safe_url(url):
        return (Link(url, label),)
    return label


def plain_inline(nodes: tuple[Inline, ...]) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, Text | Code):
            out.append(node.text)
        elif isinstance(node, Mention):
            out.append(node.name)
        else:
            out.append(plain_inline(node.children))
    return "".join(out)


def plain(doc: Doc) -> str:
    """The tree as plain text, lists with their markers (for previews, search and tests)."""
    out: list[str] = []

    def walk(lst: ItemList, depth: int) -> None:
        for item in lst.items:
            out.append("  " * depth + (item.marker or "-") + " " + plain_inline(item.content))
            for child in item.children:
                walk(child, depth + 1)

    for block in doc:
        if isinstance(block, Para):
            out.extend(plain_inline(line) for line in block.lines)
        elif isinstance(block, CodeBlock):
            out.extend(block.text.split("\n"))
        else:
            walk(block, 0)
    return "\n".join(out)


def _hoist(node: Styled) -> list[Inline]:
    """Whitespace at the edges of a styled span moved outside it (`<b>fet </b>` → `**fet** `):
    Markdown and mrkdwn cannot express it inside, and a reader cannot see it."""
    children = list(merge_text(list(node.children)))
    lead = trail = ""
    if children and isinstance(children[0], Text):
        text = children[0].text
        lead, children[0] = text[: len(text) - len(text.lstrip())], Text(text.lstrip())
    if children and isinstance(children[-1], Text):
        text = children[-1].text
        trail, children[-1] = text[len(text.rstrip()) :], Text(text.rstrip())
    inner = tuple(c for c in children if not (isinstance(c, Text) and not c.text))
    return [Text(lead), *([Styled(node.style, inner)] if inner else []), Text(trail)]


def merge_text(nodes: list[Inline]) -> tuple[Inline, ...]:
    """Adjacent Text nodes joined and empty ones dropped, whitespace moved out of styled spans,
    adjacent spans of one style joined, so equal content means equal trees."""
    expanded: list[Inline] = []
    for node in nodes:
        expanded.extend(_hoist(node) if isinstance(node, Styled) else [node])
    out: list[Inline] = []
    for node in expanded:
        if isinstance(node, Text):
            if not node.text:
                continue
            if out and isinstance(out[-1], Text):
                out[-1] = Text(out[-1].text + node.text)
                continue
        elif isinstance(node, Styled | Link) and not node.children:
            continue
        elif isinstance(node, Styled) and out and isinstance(out[-1], Styled) and out[-1].style == node.style:
            out[-1] = Styled(node.style, merge_text([*out[-1].children, *node.children]))
            continue
        out.append(node)
    return tuple(out)
