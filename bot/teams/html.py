"""A reply that shows member text back, as the HTML of a Teams message (`textFormat: "xml"`).

The member's text (an `Echo` in the reply's body) is rendered from its rich-text tree by
`to_teams_html`, so their lists, emphasis, links, code and emoji come back as they wrote them;
the bot's own words around it are Referent's light Markdown (`**bold**`, `_italic_`, `` `code` ``,
`- ` lists, `[label](url)`, backslash escapes, and the draft's headings, rules and quotes),
turned into the same HTML here. Every piece of text is escaped, so nothing a member wrote becomes
a tag, and the bot adds no `<at>`, so nobody is pinged.

The result is a list of whole top-level blocks (`<p>`, `<ul>`, `<h2>` …): a long answer (the
draft) is split between them, never inside a tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.teams.richtext import echo_html
from handlers.events import Echo, Link
from handlers.richtext.model import is_safe_url

_SLOT = "\x00{}\x00"
_BLOCK_SLOT = re.compile(r"^\s*\x00([0-9]+)\x00\s*$")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_ITEM = re.compile(r"^(\s*)([-*•]|[0-9]{1,9}[.)])\s+(.*)$")
_INLINE = re.compile(
    r"\\([!-/:-@\[-`{-~])"  # 1: a backslash escape
    r"|\x00([0-9]+)\x00"  # 2: an inline echo
    r"|(`+)(.+?)\3"  # 3, 4: code
    r"|\*\*(.+?)\*\*"  # 5: bold
    r"|(?<![\w\\])_(?=\S)(.+?)(?<=[^\s\\])_(?!\w)"  # 6: italic
    r"|\[([^\]\n]*)\]\((<[^<>\s]+>|[^()\s]+)\)"  # 7, 8: a link
    r"|(https?://[^\s<>|\"\\\x00]+)"  # 9: a bare URL
    r"|<((?:https?|mailto):[^<>\s\x00]+)>"  # 10: an autolink, `<https://…>`
)


def _text(text: str) -> str:
    return html.escape(text, quote=False)


def _link(label_html: str, url: str) -> str:
    return f'<a href="{html.escape(url)}">{label_html}</a>'


def inline_html(text: str, inline_echo: Callable[[int], str] = lambda _: "") -> str:
    """One line of the bot's light Markdown as inline HTML, every literal character escaped."""
    out: list[str] = []
    last = 0
    for match in _INLINE.finditer(text):
        out.append(_text(text[last : match.start()]))
        last = match.end()
        escaped, slot, _ticks, code, bold, italic, label, url, bare, auto = match.groups()
        if escaped is not None:
            out.append(_text(escaped))
        elif slot is not None:
            out.append(inline_echo(int(slot)))
        elif code is not None:
            out.append(f"<code>{_text(code)}</code>")
        elif bold is not None:
            out.append(f"<b>{inline_html(bold, inline_echo)}</b>")
        elif italic is not None:
            out.append(f"<i>{inline_html(italic, inline_echo)}</i>")
        elif label is not None and url is not None:
            target = url[1:-1] if url.startswith("<") and url.endswith(">") else url
            shown = inline_html(label, inline_echo)
            out.append(_link(shown, target) if is_safe_url(target) else f"{shown} ({_text(target)})")
        elif bare is not None:
            target = bare.rstrip(".,;:!?)")
            out.append(_link(_text(target), target) if is_safe_url(target) else _text(target))
            out.append(_text(bare[len(target) :]))
        elif auto is not None:
            shown = _text(auto.removeprefix("mailto:"))
            out.append(_link(shown, auto) if is_safe_url(auto) else _text(match.group(0)))
    out.append(_text(text[last:]))
    return "".join(out)


@dataclass
class _List:
    indent: int
    ordered: bool
    start: int
    items: list[list[str]] = field(default_factory=list)

    def html(self) -> str:
        tag = "ol" if self.ordered else "ul"
        start = f' start="{self.start}"' if self.ordered and self.start != 1 else ""
        return f"<{tag}{start}>" + "".join(f"<li>{''.join(parts)}</li>" for parts in self.items) + f"</{tag}>"


class _Converter:
    """Line by line: paragraphs (single breaks kept), nested lists, headings, rules, quotes, and
    a member echo on lines of its own as its own blocks."""

    def __init__(self, block_echo: Callable[[int], list[str]], inline_echo: Callable[[int], str]) -> None:
        self.block_echo = block_echo
        self.inline_echo = inline_echo
        self.out: list[str] = []
        self.para: list[str] = []
        self.quote: list[str] = []
        self.lists: list[_List] = []
        self.blank = False  # the line before was empty

    def inline(self, text: str) -> str:
        return inline_html(text.strip(), self.inline_echo)

    def flush(self) -> None:
        if self.para:
            self.out.append("<p>" + "<br>".join(self.para) + "</p>")
            self.para = []
        if self.quote:
            self.out.append("<blockquote>" + "<br>".join(self.quote) + "</blockquote>")
            self.quote = []
        self._close_lists(-1)

    def _close_lists(self, indent: int) -> None:
        """Close every open list deeper than `indent` (all of them for -1)."""
        while self.lists and self.lists[-1].indent > indent:
            closed = self.lists.pop()
            if self.lists and self.lists[-1].items:
                self.lists[-1].items[-1].append(closed.html())
            else:
                self.out.append(closed.html())

    def item(self, indent: int, marker: str, text: str) -> None:
        if self.para or self.quote:  # (a paragraph line has closed every list)
            self.flush()
        ordered = marker[0].isdigit()
        self._close_lists(indent)
        top = self.lists[-1] if self.lists else None
        if top is not None and top.indent == indent and top.ordered != ordered:
            self._close_lists(indent - 1)
            top = self.lists[-1] if self.lists else None
        if top is None or top.indent < indent:
            start = int(marker[:-1]) if ordered else 1
            top = _List(indent, ordered, start)
            self.lists.append(top)
        top.items.append([self.inline(text)])

    def line(self, raw: str) -> None:
        if not raw.strip():  # ends a paragraph; a list only when no item follows (a loose list)
            lists, self.lists = self.lists, []
            self.flush()
            self.lists = lists
            self.blank = True
            return
        blank, self.blank = self.blank, False
        if blank and self.lists and not _ITEM.match(raw):
            self.flush()
        slot = _BLOCK_SLOT.match(raw)
        if slot is not None:
            self.flush()
            self.out.extend(self.block_echo(int(slot.group(1))))
            return
        if self.lists and raw[:1].isspace() and not _ITEM.match(raw):  # a list item's next line
            self.lists[-1].items[-1].append("<br>" + self.inline(raw))
            return
        heading = _HEADING.match(raw)
        if heading is not None:
            self.flush()
            level = min(len(heading.group(1)), 3)
            self.out.append(f"<h{level}>{self.inline(heading.group(2))}</h{level}>")
            return
        if _RULE.match(raw):
            self.flush()
            self.out.append("<hr>")
            return
        item = _ITEM.match(raw)
        if item is not None:
            self.item(len(item.group(1).expandtabs(4)), item.group(2), item.group(3))
            return
        quote = _QUOTE.match(raw)
        if quote is not None:
            if self.para or self.lists:
                self.flush()
            if quote.group(1).strip():
                self.quote.append(self.inline(quote.group(1)))
            return
        if self.lists or self.quote:
            self.flush()
        self.para.append(self.inline(raw))


def markdown_blocks(
    text: str,
    block_echo: Callable[[int], list[str]] = lambda _: [],
    inline_echo: Callable[[int], str] = lambda _: "",
) -> list[str]:
    """The bot's light Markdown as Teams HTML, in top-level blocks. A line that is only an echo
    slot becomes `block_echo`'s blocks; a slot inside a line, `inline_echo`'s inline HTML."""
    converter = _Converter(block_echo, inline_echo)
    for raw in text.replace("\r\n", "\n").split("\n"):
        converter.line(raw)
    converter.flush()
    return converter.out


def body_blocks(body: tuple[str | Echo, ...], budget: int) -> list[str]:
    """A reply's body (the bot's Markdown with member echoes) as top-level HTML blocks, each at
    most `budget` characters where a member's text is concerned (cut on its tree if need be)."""
    echoes: list[Echo] = []
    source: list[str] = []
    own_line = False
    for piece in body:
        if isinstance(piece, str):
            text = piece.replace("\x00", "")
            if own_line and not text.startswith("\n"):
                text = "\n" + text
            source.append(text)
            own_line = False
            continue
        slot = _SLOT.format(len(echoes))
        echoes.append(piece)
        if not piece.inline:  # a block of its own: on lines of its own
            slot = ("\n" if source and not source[-1].endswith("\n") else "") + slot
            own_line = True
        source.append(slot)
    return markdown_blocks(
        "".join(source),
        block_echo=lambda i: echo_html(echoes[i], budget),
        inline_echo=lambda i: echo_html(echoes[i], budget // 10)[0],
    )


def links_block(links: tuple[Link, ...]) -> str:
    """The reply's links (the draft as a page, as Word) as a list of links."""
    items = "".join(
        f"<li>{_link(_text(link.label), link.url) if is_safe_url(link.url) else _text(link.label)}</li>"
        for link in links
    )
    return f"<ul>{items}</ul>"


def pack(blocks: list[str], limit: int) -> list[str]:
    """Top-level blocks joined into messages of at most `limit` characters (a block longer than
    that, which `body_blocks` never makes of member text, goes alone)."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        if current and len(current) + len(block) > limit:
            messages.append(current)
            current = ""
        current += block
    if current:
        messages.append(current)
    return messages
