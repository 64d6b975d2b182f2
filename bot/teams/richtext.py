"""Teams message HTML → the neutral rich-text tree (handlers.richtext.model), and back.

Teams sends what a member typed as HTML (`textFormat: "xml"` or "html"): paragraphs, lists,
emphasis, links it auto-links, emoji as `<img itemtype="http://schema.skype.com/Emoji" alt="😄">`,
headings, rules and tables pasted from elsewhere, and `<at>` mentions. Parsed with the standard
library's `html.parser`: it is a tolerant tokenizer (Teams HTML is not always well-formed, and a
member's literal `<` arrives as `&lt;`), it decodes entities, and the tree built here is small, so
neither lxml (a test-only dependency here) nor another runtime dependency is worth adding.
Tags Referent does not know are reduced to their text; `script`/`style` content is dropped; no
markup ever reaches the tree as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser

from handlers.events import Echo
from handlers.richtext.model import (
    Block,
    Code,
    CodeBlock,
    Doc,
    Inline,
    ItemList,
    Line,
    Link,
    ListItem,
    Mention,
    Para,
    Styled,
    Text,
    link,
    merge_text,
)
from handlers.richtext.shorten import fit, fit_parts

_VOID = frozenset(
    {"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "base", "source", "embed"}
)
_DROP = frozenset({"script", "style", "template", "head", "title", "noscript", "iframe", "object"})
_BLOCK = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section", "article", "header",
        "footer", "table", "thead", "tbody", "tfoot", "tr", "ul", "ol", "pre", "hr", "dl", "dt", "dd",
        "figure", "figcaption", "address", "main", "aside", "nav", "details", "summary", "caption",
    }
)  # fmt: skip
_STYLES = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "s": "strike", "strike": "strike",
           "del": "strike"}  # fmt: skip
_EMOJI_ITEMTYPE = "http://schema.skype.com/Emoji"
_WS = re.compile(r"[ \t\r\f\v\u00a0]+")


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    """A forgiving DOM: unmatched end tags are ignored, unclosed elements close at the end."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag.lower(), {k.lower(): v or "" for k, v in attrs})
        if node.tag == "li":  # an open <li> ends at the next one
            self._close_to("li", stop_at=("ul", "ol"))
        elif node.tag == "p":
            self._close_to("p", stop_at=("div", "li", "td", "th", "blockquote"))
        self.stack[-1].children.append(node)
        if node.tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag.lower(), {k.lower(): v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        self._close_to(tag.lower())

    def _close_to(self, tag: str, stop_at: tuple[str, ...] = ()) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            name = self.stack[depth].tag
            if name == tag:
                del self.stack[depth:]
                return
            if name in stop_at:
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


@dataclass(frozen=True, slots=True)
class TeamsMention:
    """What a mention entity says about one `<at>` tag."""

    user_id: str  # the mentioned account's id ("" when the entity had none)
    name: str  # the full display name (mentioned.name), else the tag's text
    is_bot: bool = False


def _text_of(node: _Node | str) -> str:
    if isinstance(node, str):
        return node
    if node.tag in _DROP:
        return ""
    return "".join(_text_of(child) for child in node.children)


_BREAK = object()  # a line break inside inline content


class _Converter:
    def __init__(self, mentions: Mapping[str, TeamsMention]) -> None:
        self.mentions = mentions

    # inline

    def _mention(self, node: _Node) -> TeamsMention | None:
        inner = _text_of(node).strip()
        for key in (f"<at>{inner}</at>", inner):
            found = self.mentions.get(key)
            if found is not None:
                return found
        return None

    def inline(self, children: list[_Node | str], *, in_link: bool = False) -> list[Inline | object]:
        out: list[Inline | object] = []
        last_at: tuple[int, TeamsMention] | None = None  # index in out of the last mention
        for child in children:
            if isinstance(child, str):
                parts = child.split("\n")
                for k, part in enumerate(parts):
                    if k:
                        out.append(_BREAK)
                    if part:
                        out.append(Text(_WS.sub(" ", part)))
                if last_at and child.strip(" \u00a0\t"):
                    last_at = None
                continue
            tag = child.tag
            if tag in _DROP:
                continue
            if tag == "at":
                found = self._mention(child)
                name = " ".join(_text_of(child).split())
                if found is not None and found.is_bot:
                    continue
                if found is not None and last_at and found.user_id and last_at[1].user_id == found.user_id:
                    # new Teams splits "Kari Nordmann" into <at>Kari</at>&nbsp;<at>Nordmann</at>
                    del out[last_at[0] + 1 :]
                    continue
                if found is not None:
                    out.append(Mention("@" + (found.name or name)))
                    last_at = (len(out) - 1, found)
                elif name:  # typed `<at>` without an entity: not a mention, keep the words
                    out.append(Text(name))
                continue
            last_at = None
            if tag == "br":
                out.append(_BREAK)
            elif tag == "img":
                if child.attrs.get("itemtype") == _EMOJI_ITEMTYPE or child.attrs.get("itemscope") == "":
                    out.append(Text(child.attrs.get("alt", "")))
                elif child.attrs.get("alt") and _looks_like_emoji(child.attrs["alt"]):
                    out.append(Text(child.attrs["alt"]))
            elif tag == "code":
                text = _text_of(child)
                if text:
                    out.append(Code(text.replace("\u00a0", " ")))
            elif tag == "a" and not in_link:
                label = _line(self.inline(child.children, in_link=True))
                href = html.unescape(child.attrs.get("href", "")).strip()
                out.extend(link(href, label) if href else label)
            elif tag in _STYLES:
                inner = _line(self.inline(child.children, in_link=in_link))
                out.append(Styled(_STYLES[tag], inner))  # type: ignore[arg-type]
            elif tag in ("td", "th"):
                out.extend([Text(" | ")] if out else [])
                out.extend(self.inline(child.children, in_link=in_link))
            elif tag in _BLOCK or tag == "li":
                out.append(_BREAK)
                out.extend(self.inline(child.children, in_link=in_link))
                out.append(_BREAK)
            else:  # span, font, u, unknown tags: their text
                out.extend(self.inline(child.children, in_link=in_link))
        return out

    # blocks

    def blocks(self, children: list[_Node | str]) -> list[Block]:
        out: list[Block] = []
        pending: list[_Node | str] = []

        def flush() -> None:
            if pending:
                out.extend(_paras(self.inline(pending)))
                pending.clear()

        for child in children:
            if isinstance(child, str) or child.tag not in _BLOCK:
                pending.append(child)
                continue
            flush()
            tag = child.tag
            if tag in ("ul", "ol"):
                lst = self.item_list(child)
                if lst is not None:
                    out.append(lst)
            elif tag == "pre":
                text = _text_of(child).replace("\u00a0", " ").strip("\n")
                if text.strip():
                    out.append(CodeBlock(text))
            elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                line = _line(self.inline(child.children))
                if line:
                    out.append(Para((_strip((Styled("bold", line),)),)))
            elif tag == "table":
                rows = [row for row in _rows(child)]
                lines = [_line(self.inline(row.children)) for row in rows]
                lines = [line for line in lines if line]
                if lines:
                    out.append(Para(tuple(lines)))
            elif tag == "hr":
                continue
            else:
                out.extend(self.blocks(child.children))
        flush()
        return out

    def item_list(self, node: _Node) -> ItemList | None:
        ordered = node.tag == "ol"
        start = int(node.attrs["start"]) if node.attrs.get("start", "").isdigit() else 1
        items: list[ListItem] = []
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    items.append(ListItem(_strip((Text(child.strip()),)), None))
                continue
            if child.tag in ("ul", "ol") and items:  # a list nested directly in a list
                nested = self.item_list(child)
                if nested is not None:
                    last = items[-1]
                    items[-1] = ListItem(last.content, last.marker, (*last.children, nested))
                continue
            if child.tag != "li":
                continue
            content = [c for c in child.children if isinstance(c, str) or c.tag not in ("ul", "ol")]
            nested_lists = [c for c in child.children if isinstance(c, _Node) and c.tag in ("ul", "ol")]
            line = _strip(_line([Text(" ") if part is _BREAK else part for part in self.inline(content)]))
            kids = tuple(lst for lst in (self.item_list(c) for c in nested_lists) if lst is not None)
            if not line and not kids:
                continue
            items.append(ListItem(line, None, kids))
        if not items:
            return None
        if ordered:
            items = [ListItem(item.content, f"{start + k}.", item.children) for k, item in enumerate(items)]
        return ItemList(tuple(items), ordered)


def _rows(node: _Node) -> list[_Node]:
    rows: list[_Node] = []
    for child in node.children:
        if isinstance(child, _Node):
            if child.tag == "tr":
                rows.append(child)
            elif child.tag in ("thead", "tbody", "tfoot"):
                rows.extend(_rows(child))
    return rows


def _looks_like_emoji(alt: str) -> bool:
    return 0 < len(alt) <= 8 and all(ord(ch) > 0x2000 for ch in alt)


def _line(parts: list[Inline | object]) -> Line:
    return merge_text([part for part in parts if part is not _BREAK])  # type: ignore[misc]


def _strip(line: Line) -> Line:
    """A line without whitespace at its ends (inside the first and last node too)."""
    items = list(line)
    while items and isinstance(items[0], Text) and not items[0].text.strip():
        items.pop(0)
    while items and isinstance(items[-1], Text) and not items[-1].text.strip():
        items.pop()
    if items and isinstance(items[0], Text):
        items[0] = Text(items[0].text.lstrip())
    if items and isinstance(items[-1], Text):
        items[-1] = Text(items[-1].text.rstrip())
    return merge_text(items)


def _paras(parts: list[Inline | object]) -> list[Para]:
    """Inline content split into lines at breaks, and into paragraphs at empty lines (a blank
    line typed in plain text, or `<br><br>`)."""
    paras: list[Para] = []
    lines: list[Line] = []
    current: list[Inline] = []
    for part in [*parts, _BREAK]:
        if part is _BREAK:
            line = _strip(merge_text(current))
            if line:
                lines.append(line)
            elif lines and not current:
                paras.append(Para(tuple(lines)))
                lines = []
            current = []
        else:
            current.append(part)  # type: ignore[arg-type]
    if lines:
        paras.append(Para(tuple(lines)))
    return paras


def parse_html(text: str, mentions: Mapping[str, TeamsMention] | None = None) -> Doc:
    """Teams message HTML → the tree. `mentions` maps each entity's `<at>…</at>` text (and its
    inner text) to who it names; an `<at>` with no entity is just its words."""
    builder = _TreeBuilder()
    builder.feed(text.replace("\r\n", "\n").replace("\r", "\n"))
    builder.close()
    return tuple(_Converter(mentions or {}).blocks(builder.root.children))


# --- back to Teams -----------------------------------------------------------------------------


def _inline_html(nodes: Line) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, Text):
            out.append(html.escape(node.text, quote=False))
        elif isinstance(node, Mention):
            out.append(html.escape(node.name, quote=False))
        elif isinstance(node, Code):
            out.append(f"<code>{html.escape(node.text, quote=False)}</code>")
        elif isinstance(node, Link):
            out.append(f'<a href="{html.escape(node.url)}">{_inline_html(node.children)}</a>')
        else:
            tag = {"bold": "b", "italic": "i", "strike": "s"}[node.style]
            out.append(f"<{tag}>{_inline_html(node.children)}</{tag}>")
    return "".join(out)


def to_teams_html(doc: Doc) -> str:
    """The tree as the HTML a Teams message shows (for the bot's echoes); every text escaped."""
    out: list[str] = []

    def walk(lst: ItemList) -> str:
        tag = "ol" if lst.ordered else "ul"
        start = f' start="{lst.start}"' if lst.ordered and lst.start != 1 else ""
        items = "".join(
            f"<li>{_inline_html(item.content)}{''.join(walk(c) for c in item.children)}</li>"
            for item in lst.items
        )
        return f"<{tag}{start}>{items}</{tag}>"

    for block in doc:
        if isinstance(block, Para):
            out.append("<p>" + "<br>".join(_inline_html(line) for line in block.lines) + "</p>")
        elif isinstance(block, CodeBlock):
            out.append(f"<pre>{html.escape(block.text, quote=False)}</pre>")
        else:
            out.append(walk(block))
    return "".join(out)


def _line_html(doc: Doc) -> str:
    return " ".join(_inline_html(line) for block in doc if isinstance(block, Para) for line in block.lines)


def echo_html(echo: Echo, budget: int) -> list[str]:
    """Member text shown back, as Teams HTML in whole pieces of at most `budget` characters:
    one for an inline echo (no block tags); for a block echo the whole, or its blocks when the
    whole is too long. What is too long is cut on the tree, never inside a tag or an entity."""
    if echo.inline:
        return [fit(echo.doc, _line_html, budget)]
    return [part for block in fit_parts(echo.doc, to_teams_html, budget) for part in block]
