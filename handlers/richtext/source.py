"""The canonical text form of the model: what is stored (Submission.text) and what an edit form
shows. A small Markdown dialect members can also type by hand:

    **fet** or *fet*   _kursiv_   ~~streket~~ or ~streket~   `kode`   ```kodeblokk```
    [tekst](https://…)   https://… (a bare link)   - punkt   1. punkt (nested by indenting)

Single `*` means bold, as in Slack, where most hand-typed markup comes from. Single delimiters
only count at word boundaries (`2*3*4`, `snake_case` stay as typed). Anything that is not a
well-formed construct stays literal text, and a link whose URL is not http(s)/mailto stays the
characters typed. Plain text written before this form existed parses as it always did:
paragraphs, line breaks and `- ` / `1. ` lists.

`to_source` writes a tree back so that `parse(to_source(doc)) == doc`; it escapes only where a
character would otherwise read as markup, so command words, e-mail addresses and URLs that
pass through the same text arrive unchanged.
"""

from __future__ import annotations

import re

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
    is_safe_url,
    merge_text,
)
from handlers.text import clean

# Bullets members type, plus the marker kept so "3." stays "3.".
_ITEM = re.compile(r"^(\s*)([-*•·–]|\d{1,3}[.)])\s+(.*)$")
_FENCE = re.compile(r"^\s*(`{3,})\s*$")
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_URL = re.compile(r"(?:https?://|mailto:)[^\s<>\"`]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\"*_~"  # as GFM's autolinks: never ends in punctuation or emphasis marks
_DELIMS = (("**", "bold"), ("~~", "strike"), ("*", "bold"), ("_", "italic"), ("~", "strike"))
_MAX_DEPTH = 8  # nesting of styles and links; deeper stays literal


def sanitize(text: str) -> str:
    """`handlers.text.clean` plus the few code points XML cannot carry."""
    return _NOT_XML.sub("", clean(text))


# --- inline -----------------------------------------------------------------------------------


def _code_span(s: str, i: int) -> tuple[Code, int] | None:
    run = len(s[i:]) - len(s[i:].lstrip("`"))
    fence = "`" * run
    j = i + run
    while True:
        j = s.find(fence, j)
        if j < 0:
            return None
        end_run = len(s[j:]) - len(s[j:].lstrip("`"))
        if end_run == run:
            break
        j += end_run
    body = s[i + run : j]
    if len(body) >= 2 and body[0] == " " and body[-1] == " " and body.strip(" "):
        body = body[1:-1]
    if not body.strip():
        return None
    return Code(body), j + run


def _bare_url(s: str, i: int) -> tuple[str, int] | None:
    if i > 0 and (s[i - 1].isalnum() or s[i - 1] in "/\\"):
        return None
    match = _URL.match(s, i)
    if not match:
        return None
    url = match.group(0)
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    if not is_safe_url(url):
        return None
    return url, i + len(url)


def _bracket_link(
    s: str, i: int, depth: int, active: frozenset[str] = frozenset()
) -> tuple[Link, int] | None:
    """`[text](url)` or `[text](<url>)` with a safe URL; None leaves the brackets literal. An
    image (`![alt](url)`) is not a link: it stays as typed."""
    if i > 0 and s[i - 1] == "!":
        return None
    level, j = 0, i
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == "`":
            span = _code_span(s, j)
            if span:
                j = span[1]
                continue
        if c == "[":
            level += 1
        elif c == "]":
            level -= 1
            if level == 0:
                break
        j += 1
    else:
        return None
    if not s.startswith("(", j + 1):
        return None
    if s.startswith("(<", j + 1):
        end = s.find(">)", j + 3)
        url, after = (s[j + 3 : end], end + 2) if end >= 0 else ("", -1)
    else:
        end = s.find(")", j + 2)
        url, after = (s[j + 2 : end], end + 1) if end >= 0 else ("", -1)
    if after < 0 or not is_safe_url(url):
        return None
    children = _inline(s[i + 1 : j], depth + 1, in_link=True, active=active)
    if not children:
        return None
    return Link(url, children), after


def _opens(s: str, i: int, delim: str) -> bool:
    after = s[i + len(delim) : i + len(delim) + 1]
    if not after or after.isspace() or after == delim[0]:
        return False
    return not (len(delim) == 1 and i > 0 and (s[i - 1].isalnum() or s[i - 1] == delim))


def _closes(s: str, j: int, delim: str) -> bool:
    before = s[j - 1] if j > 0 else ""
    if not before or before.isspace():
        return False
    after = s[j + len(delim) : j + len(delim) + 1]
    return not (len(delim) == 1 and after and (after.isalnum() or after == delim))


def _find_closer(s: str, start: int, delim: str) -> int:
    j = start
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == "`":
            span = _code_span(s, j)
            if span:
                j = span[1]
                continue
        if s.startswith(delim, j) and j > start and _closes(s, j, delim):
            return j
        j += 1
    return -1


def _inline(
    s: str, depth: int = 0, *, in_link: bool = False, active: frozenset[str] = frozenset()
) -> tuple[Inline, ...]:
    out: list[Inline] = []
    buf: list[str] = []
    i = 0

    def flush() -> None:
        if buf:
            out.append(Text("".join(buf)))
            buf.clear()

    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] in _PUNCT:
            buf.append(s[i + 1])
            i += 2
            continue
        if c == "`":
            span = _code_span(s, i)
            if span:
                flush()
                out.append(span[0])
                i = span[1]
                continue
            run = len(s[i:]) - len(s[i:].lstrip("`"))
            buf.append(s[i : i + run])
            i += run
            continue
        if c in "hHmM" and not in_link:
            url = _bare_url(s, i)
            if url:
                flush()
                text = url[0].removeprefix("mailto:") if url[0].lower().startswith("mailto:") else url[0]
                out.append(Link(url[0], (Text(text),)))
                i = url[1]
                continue
        if c == "<" and depth < _MAX_DEPTH and not in_link:
            end = s.find(">", i)
            if end > 0 and is_safe_url(s[i + 1 : end]):
                flush()
                out.append(Link(s[i + 1 : end], (Text(s[i + 1 : end].removeprefix("mailto:")),)))
                i = end + 1
                continue
        if c == "[" and depth < _MAX_DEPTH and not in_link:
            found = _bracket_link(s, i, depth, active)
            if found:
                flush()
                out.append(found[0])
                i = found[1]
                continue
        if c in "*_~" and depth < _MAX_DEPTH:
            matched = False
            for delim, style in _DELIMS:
                if s.startswith(delim, i) and _opens(s, i, delim):
                    j = _find_closer(s, i + len(delim), delim)
                    if j > 0:
                        inner = s[i + len(delim) : j]
                        children = _inline(inner, depth + 1, in_link=in_link, active=active | {style})
                        if children:
                            flush()
                            if style in active:  # bold inside bold: nothing more to say
                                out.extend(children)
                            else:
                                out.append(Styled(style, children))  # type: ignore[arg-type]
                            i = j + len(delim)
                            matched = True
                            break
            if matched:
                continue
            run = len(s[i:]) - len(s[i:].lstrip(c))
            buf.append(s[i : i + run])
            i += run
            continue
        buf.append(c)
        i += 1
    flush()
    return merge_text(out)


def parse_inline(text: str) -> Line:
    """One line of the dialect as inline nodes."""
    return _inline(text)


# --- blocks -----------------------------------------------------------------------------------


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
            items[-1] = ListItem(last.content, last.marker, (*last.children, *children))
            continue
        is_ordered = marker is not None
        if items and is_ordered != ordered:  # "1." after "-" starts a new list
            lists.append(ItemList(items=tuple(items), ordered=ordered))
            items = []
        ordered = is_ordered
        items.append(ListItem(parse_inline(text), marker))
        pos += 1
    if items:
        lists.append(ItemList(items=tuple(items), ordered=ordered))
    return lists, pos


def parse(text: str | None) -> Doc:
    """Stored member text as the tree: paragraphs (blank lines end one), lists, code blocks."""
    blocks: list[Block] = []
    lines: list[str] = []
    entries: list[tuple[int, str | None, str]] = []
    code: list[str] | None = None
    fence = ""

    def flush() -> None:
        if lines:
            parsed = tuple(parse_inline(line) for line in lines)
            blocks.append(Para(tuple(line for line in parsed if line)))
            lines.clear()
        if entries:
            blocks.extend(_nest(_depths(entries), 0, 0)[0])
            entries.clear()

    for raw in sanitize(text or "").split("\n"):
        if code is not None:
            closing = _FENCE.match(raw)
            if closing and len(closing.group(1)) >= len(fence):
                blocks.append(CodeBlock("\n".join(code)))
                code = None
            else:
                code.append(raw)
            continue
        opening = _FENCE.match(raw)
        if opening:
            flush()
            code, fence = [], opening.group(1)
            continue
        if not raw.strip():
            flush()
            continue
        match = _ITEM.match(raw)
        if match and match.group(3).strip():
            if lines:
                flush()
            indent, marker, rest = match.groups()
            entries.append((_level(indent), _marker(marker), rest.strip()))
        else:
            if entries:
                flush()
            lines.append(raw.strip())
    if code is not None:  # an unclosed fence: what followed it is the code
        blocks.append(CodeBlock("\n".join(code)))
    flush()
    return tuple(b for b in blocks if not (isinstance(b, Para) and not b.lines))


# --- writing the source back ------------------------------------------------------------------

_STYLE_DELIM = {"bold": "**", "italic": "_", "strike": "~~"}
_ESCAPE_ALL = re.compile(r"([\\`*_~\[\]<>:])")  # ":" breaks a bare link


def _split_space(nodes: tuple[Inline, ...]) -> tuple[str, tuple[Inline, ...], str]:
    """Whitespace at the edges of a styled span moves outside it (`** a **` would not parse)."""
    lead = trail = ""
    items = list(nodes)
    if items and isinstance(items[0], Text):
        stripped = items[0].text.lstrip()
        lead = items[0].text[: len(items[0].text) - len(stripped)]
        items[0] = Text(stripped)
    if items and isinstance(items[-1], Text):
        stripped = items[-1].text.rstrip()
        trail = items[-1].text[len(stripped) :]
        items[-1] = Text(stripped)
    return lead, merge_text(items), trail


def _code_source(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    edge = text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" "))
    pad = " " if edge else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _escape_text(text: str, level: int) -> str:
    """0: as is; 1: each word escaped only when it alone would read as markup; 2: all escaped."""
    if level == 0:
        return text
    if level == 1:
        words = re.split(r"(\s+)", text)
        return "".join(
            w if not w or w.isspace() or _inline(w) == (Text(w),) else _ESCAPE_ALL.sub(r"\\\1", w)
            for w in words
        )
    return _ESCAPE_ALL.sub(r"\\\1", text)


def _inline_source(nodes: tuple[Inline, ...], escape: int, active: frozenset[str] = frozenset()) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, Text):
            out.append(_escape_text(node.text, escape))
        elif isinstance(node, Mention):
            out.append(node.name)
        elif isinstance(node, Code):
            out.append(_code_source(node.text))
        elif isinstance(node, Link):
            label = _inline_source(node.children, escape, active)
            shown = node.url.removeprefix("mailto:") if node.url.lower().startswith("mailto:") else node.url
            if node.children == (Text(shown),):
                bare = shown == node.url and not escape  # `<url>` when the bare form may not survive
                out.append(node.url if bare else f"<{node.url}>")
            else:
                out.append(f"[{label}]({node.url})")
        else:
            lead, inner, trail = _split_space(node.children)
            if not inner:
                out.append(lead + trail)
                continue
            if node.style in active:  # bold inside bold reads as bold: no delimiters
                out.append(f"{lead}{_inline_source(inner, escape, active)}{trail}")
                continue
            delim = _STYLE_DELIM[node.style]
            out.append(f"{lead}{delim}{_inline_source(inner, escape, active | {node.style})}{delim}{trail}")
    return "".join(out)


def _line_source(line: Line, *, in_item: bool = False, typed_lists: bool = False) -> str:
    """One line, escaped only as far as needed to read back the same (then fully, then flat)."""
    line = tuple(_flat_breaks(line))
    for escape in (0, 1, 2):
        text = _inline_source(line, escape)
        text = _guard_start(text, in_item or (typed_lists and not _FENCE.match(text)))
        if parse_inline(text) == _as_read(line):
            return text
    flat = "".join(_plain_nodes(line))
    return _guard_start(_ESCAPE_ALL.sub(r"\\\1", flat), in_item)


def _as_read(nodes: tuple[Inline, ...], active: frozenset[str] = frozenset()) -> tuple[Inline, ...]:
    """What `parse_inline` gives back for these nodes: mentions are stored as their text, and a
    style inside the same style is no extra node."""
    out: list[Inline] = []
    for node in nodes:
        if isinstance(node, Mention):
            out.append(Text(node.name))
        elif isinstance(node, Styled) and node.style in active:
            out.extend(_as_read(node.children, active))
        elif isinstance(node, Styled):
            out.append(Styled(node.style, _as_read(node.children, active | {node.style})))
        elif isinstance(node, Link):
            out.append(Link(node.url, _as_read(node.children, active)))
        else:
            out.append(node)
    return merge_text(out)


def _flat_breaks(line: Line) -> Line:
    return tuple(Text(n.text.replace("\n", " ")) if isinstance(n, Text) else n for n in line)


def _plain_nodes(nodes: tuple[Inline, ...]) -> list[str]:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, Text | Code):
            out.append(node.text)
        elif isinstance(node, Mention):
            out.append(node.name)
        else:
            out.extend(_plain_nodes(node.children))
    return out


_LINE_START = re.compile(r"^(\s*)([-*•·–]|\d{1,3}[.)]|`{3,})(\s|$)")


def _guard_start(text: str, in_item: bool) -> str:
    """A paragraph line that would read as a list item or a fence gets its marker escaped."""
    if in_item:
        return text.strip()
    text = text.strip()
    match = _LINE_START.match(text)
    if match:
        marker = match.group(2)
        if marker[0].isdigit():
            digits = marker[:-1]
            return f"{digits}\\{marker[-1]}{text[len(marker) :]}"
        if marker[0] in _PUNCT:
            return "\\" + text
    return text


def to_source(doc: Doc, *, typed_lists: bool = False) -> str:
    """The tree in the canonical dialect (`parse` reads it back to the same tree).

    `typed_lists`: a paragraph line that starts with `- ` or `1. ` is left to read as a list
    item, as it always did in plain text (Teams delivers typed plain-text lines that way)."""
    out: list[str] = []

    def walk(lst: ItemList, indent: str) -> None:
        for item in lst.items:
            marker = item.marker or "-"
            out.append(f"{indent}{marker} {_line_source(item.content, in_item=True)}".rstrip())
            for child in item.children:
                walk(child, indent + "  ")

    for block in doc:
        if out:
            out.append("")
        if isinstance(block, Para):
            out.extend(text for line in block.lines if (text := _line_source(line, typed_lists=typed_lists)))
        elif isinstance(block, CodeBlock):
            longest = max((len(m) for m in re.findall(r"^\s*(`{3,})\s*$", block.text, re.M)), default=2)
            fence = "`" * max(3, longest + 1)
            out.extend([fence, block.text, fence])
        else:
            walk(block, "")
    return "\n".join(out)
