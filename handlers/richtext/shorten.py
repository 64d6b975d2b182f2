"""Member text made shorter or flatter for an echo in chat, on the tree itself.

Cutting rendered text (mrkdwn, HTML) by characters can split `<https://…|label>`, `<@U1>`, an
`&amp;` entity, a tag or an emoji in two, and Slack or Teams then shows broken markup or, worse,
markup the member never wrote. Cutting the tree instead keeps every piece whole: text is cut
after a word, links, mentions and code spans are kept whole or dropped, and "…" marks the cut.
Each renderer then escapes what is left as it always does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

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
    merge_text,
    plain_inline,
)

ELLIPSIS = "…"
_SPACE = re.compile(r"\s")
_ZWJ = "\u200d"


# --- one line ----------------------------------------------------------------------------------


def _unbroken(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """Inline nodes with any line break in their text made a space."""
    out: list[Inline] = []
    for node in nodes:
        if isinstance(node, Text):
            out.append(Text(node.text.replace("\n", " ")))
        elif isinstance(node, Code):
            out.append(Code(node.text.replace("\n", " ")))
        elif isinstance(node, Styled):
            out.append(Styled(node.style, _unbroken(node.children)))
        elif isinstance(node, Link):
            out.append(Link(node.url, _unbroken(node.children)))
        else:
            out.append(node)
    return tuple(out)


def flatten(doc: Doc) -> Doc:
    """The tree on one line, for an echo inside a sentence or a list line: lines and paragraphs
    joined by spaces, list items after their markers ("• a • b"), a code block as inline code.
    Formatting, links and mentions stay as they are."""
    parts: list[Inline] = []

    def add(nodes: tuple[Inline, ...]) -> None:
        if not nodes:
            return
        if parts:
            parts.append(Text(" "))
        parts.extend(nodes)

    def walk(lst: ItemList) -> None:
        for item in lst.items:
            add((Text((item.marker or "•") + " "), *item.content))
            for child in item.children:
                walk(child)

    for block in doc:
        if isinstance(block, Para):
            for line in block.lines:
                add(line)
        elif isinstance(block, CodeBlock):
            code = " ".join(block.text.split())
            add((Code(code),) if code else ())
        else:
            walk(block)
    line = merge_text(list(_unbroken(tuple(parts))))
    return (Para((line,)),) if line else ()


# --- sizes -------------------------------------------------------------------------------------


def _inline_size(nodes: tuple[Inline, ...]) -> int:
    return len(plain_inline(nodes))


def _list_size(lst: ItemList) -> int:
    total = 0
    for item in lst.items:
        total += len(item.marker or "•") + 1 + _inline_size(item.content) + 1
        total += sum(_list_size(child) for child in item.children)
    return total


def size(doc: Doc) -> int:
    """How many characters of text the tree shows (markers and line breaks included, markup not)."""
    total = 0
    for block in doc:
        if isinstance(block, Para):
            total += sum(_inline_size(line) + 1 for line in block.lines)
        elif isinstance(block, CodeBlock):
            total += len(block.text) + 1
        else:
            total += _list_size(block)
        total += 1
    return max(total - 2, 0) if doc else 0


# --- cutting a string safely -------------------------------------------------------------------


def _extends(ch: str) -> bool:
    """A code point that belongs to the character before it (combining marks, variation
    selectors, skin tones, tag characters, the joiner itself)."""
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or ch == _ZWJ
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def grapheme_cut(text: str, limit: int) -> int:
    """The largest position ≤ `limit` that splits no character a reader sees as one: not inside
    an emoji sequence (joiner, skin tone, variation selector, flag pair), not before a combining
    mark, not between the halves of a surrogate pair."""
    cut = max(0, min(limit, len(text)))
    while 0 < cut < len(text):
        before, after = text[cut - 1], text[cut]
        if _extends(after) or before == _ZWJ or "\ud800" <= before <= "\udbff":
            cut -= 1
            continue
        if _regional(after) and _regional(before):
            run = 0
            while cut - 1 - run >= 0 and _regional(text[cut - 1 - run]):
                run += 1
            if run % 2:  # `before` is the first half of a flag
                cut -= 1
                continue
        break
    return cut


def _cut_words(text: str, room: int, *, hard: bool) -> str:
    """`text` cut after its last whole word that fits in `room`; with `hard` (nothing shown
    yet), a single over-long word is cut where a character ends rather than dropped."""
    if room <= 0:
        return ""
    head = text[: room + 1]
    spaces = [m.start() for m in _SPACE.finditer(head)]
    if spaces and spaces[-1] > 0:
        return text[: spaces[-1]].rstrip()
    if hard:
        return text[: grapheme_cut(text, room)]
    return ""


# --- cutting the tree --------------------------------------------------------------------------


@dataclass
class _Room:
    left: int
    cut: bool = False
    shown: bool = False  # anything kept so far


def _cut_inline(nodes: tuple[Inline, ...], room: _Room) -> Line:
    out: list[Inline] = []
    for node in nodes:
        if room.cut:
            break
        if isinstance(node, Text):
            if len(node.text) <= room.left:
                out.append(node)
                room.left -= len(node.text)
            else:
                piece = _cut_words(node.text, room.left, hard=not room.shown and not out)
                if piece:
                    out.append(Text(piece))
                room.cut = True
        elif isinstance(node, Styled):
            shown = room.shown or bool(out)
            inner = _cut_inline(node.children, _Room(room.left, shown=shown))
            used = _inline_size(inner)
            if inner:
                out.append(Styled(node.style, inner))
            room.left -= used
            if _inline_size(node.children) != used:
                room.cut = True
        else:  # a link, a mention or a code span: whole or not at all
            needed = len(node.name) if isinstance(node, Mention) else _inline_size((node,))
            if needed <= room.left:
                out.append(node)
                room.left -= needed
            else:
                room.cut = True
        if out:
            room.shown = True
    return merge_text(out)


def _cut_list(lst: ItemList, room: _Room) -> ItemList | None:
    items: list[ListItem] = []
    for item in lst.items:
        if room.cut:
            break
        room.left -= len(item.marker or "•") + 1
        content = _cut_inline(item.content, room) if room.left > 0 else ()
        if room.left < 0:
            room.cut = True
        if not content:
            room.cut = True
            break
        children: list[ItemList] = []
        room.left -= 1
        for child in item.children:
            if room.cut or room.left <= 0:
                room.cut = True
                break
            kept = _cut_list(child, room)
            if kept is not None:
                children.append(kept)
        items.append(ListItem(content, item.marker, tuple(children)))
    return ItemList(tuple(items), lst.ordered) if items else None


def _cut_code(block: CodeBlock, room: _Room) -> CodeBlock | None:
    lines: list[str] = []
    for line in block.text.split("\n"):
        if len(line) <= room.left:
            lines.append(line)
            room.left -= len(line) + 1
            continue
        piece = _cut_words(line, room.left, hard=not room.shown and not lines)
        if piece:
            lines.append(piece)
        room.cut = True
        break
    while lines and not lines[-1].strip():
        lines.pop()
    if lines:
        room.shown = True
    return CodeBlock("\n".join(lines)) if lines else None


def _with_ellipsis(blocks: list[Block]) -> Doc:
    """The ellipsis after the last thing kept (in a code block, on a line of its own)."""
    if not blocks:
        return (Para(((Text(ELLIPSIS),),)),)
    last = blocks[-1]
    if isinstance(last, CodeBlock):
        blocks[-1] = CodeBlock(last.text + "\n" + ELLIPSIS)
    elif isinstance(last, Para):
        blocks[-1] = Para((*last.lines[:-1], _end_line(last.lines[-1])))
    else:
        blocks[-1] = _end_list(last)
    return tuple(blocks)


def _end_line(line: Line) -> Line:
    items = list(line)
    if items and isinstance(items[-1], Text):
        items[-1] = Text(items[-1].text.rstrip())
    return merge_text([*items, Text(ELLIPSIS)])


def _end_list(lst: ItemList) -> ItemList:
    *rest, last = lst.items
    if last.children:
        last = ListItem(last.content, last.marker, (*last.children[:-1], _end_list(last.children[-1])))
    else:
        last = ListItem(_end_line(last.content), last.marker)
    return ItemList((*rest, last), lst.ordered)


def shorten(doc: Doc, limit: int) -> Doc:
    """The tree with at most about `limit` characters of text (see `size`), cut after a word or
    between nodes, "…" added where it was cut. Links, mentions and code spans are never cut:
    they are kept whole or left out. A tree that fits comes back as it is."""
    if size(doc) <= limit:
        return doc
    room = _Room(max(limit - len(ELLIPSIS), 0))
    blocks: list[Block] = []
    for block in doc:
        if room.cut or room.left <= 0:
            break
        if isinstance(block, Para):
            lines: list[Line] = []
            for line in block.lines:
                if room.cut or room.left <= 0:
                    room.cut = True
                    break
                kept = _cut_inline(line, room)
                if kept:
                    lines.append(kept)
                room.left -= 1
            if lines:
                blocks.append(Para(tuple(lines)))
        elif isinstance(block, CodeBlock):
            code = _cut_code(block, room)
            if code is not None:
                blocks.append(code)
        else:
            kept_list = _cut_list(block, room)
            if kept_list is not None:
                blocks.append(kept_list)
        room.left -= 1
    return _with_ellipsis(blocks)


def fit(doc: Doc, render: Callable[[Doc], str], budget: int) -> str:
    """`render(doc)`, shortened on the tree until the rendering is at most `budget` characters
    (markup and escapes count: a long URL costs what it costs). The tree is cut, never the
    rendering, so the result is always whole markup."""
    text = render(doc)
    limit = size(doc)
    while len(text) > budget and limit > 0:
        limit = max(0, min(limit - 1, limit * budget // max(len(text), 1)))
        text = render(shorten(doc, limit))
    return text


def _split(block: Block) -> list[Doc]:
    """A block in smaller whole pieces: a paragraph by its lines, a list by its top-level items
    (each keeping its marker and its nested lists); a code block stays one piece."""
    if isinstance(block, Para):
        return [(Para((line,)),) for line in block.lines]
    if isinstance(block, ItemList):
        return [(ItemList((item,), block.ordered),) for item in block.items]
    return [(block,)]


def fit_parts(doc: Doc, render: Callable[[Doc], str], budget: int) -> list[list[str]]:
    """The tree rendered in parts of at most `budget` characters, for a platform that limits one
    section or message: the whole when it fits, else per block, a block that is too long by its
    lines or list items, and only a piece too long even then cut on the tree (`fit`). One list
    of parts per block, in order; nothing but that last resort is left out."""
    whole = render(doc)
    if len(whole) <= budget:
        return [[whole]]
    out: list[list[str]] = []
    for block in doc:
        one = render((block,))
        if len(one) <= budget:
            out.append([one])
        else:
            out.append([fit(piece, render, budget) for piece in _split(block)])
    return out


_ENTITY = re.compile(r"&#?[A-Za-z0-9]{1,10};")


def _token_start(text: str, pos: int) -> int | None:
    """Where the `<…>` token or `&…;` entity that a cut at `pos` would split begins, if any."""
    opened = text.rfind("<", 0, pos)
    if opened != -1 and text.rfind(">", opened, pos) == -1:
        return opened
    amp = text.rfind("&", max(0, pos - 11), pos)
    if amp != -1:
        entity = _ENTITY.match(text, amp)
        if entity is not None and entity.end() > pos:
            return amp
    return None


def markup_cut(text: str, limit: int) -> int:
    """Where rendered markup (Slack mrkdwn, HTML) may be cut to at most `limit` characters: not
    inside a `<…>` link, mention or tag, not inside an `&…;` entity, not inside a character
    (`grapheme_cut`); after a word when there is a space in the last half. 0 when no such place
    exists (one token longer than `limit`)."""
    if len(text) <= limit:
        return len(text)
    space = text.rfind(" ", 0, limit + 1)
    while space > limit // 2:
        if _token_start(text, space) is None:
            return space
        space = text.rfind(" ", 0, space)
    cut = limit
    while cut > 0:
        start = _token_start(text, cut)
        if start is not None:
            cut = start
            continue
        safe = grapheme_cut(text, cut)
        if safe == cut:
            break
        cut = safe
    return cut
