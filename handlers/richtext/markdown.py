"""The rich-text tree as inert CommonMark: the referat's Markdown draft, and what stands for a
member's text in a reply's plain text (`Echo.fallback`).

Structure and formatting are kept (paragraphs with hard breaks, nested bullet and numbered lists,
`**bold**`, `*italic*`, `~~strike~~`, code, `[label](<url>)`), everything else is escaped, so
nothing a member wrote reads as markup.
"""

from __future__ import annotations

import re

from handlers.richtext.model import (
    Code,
    CodeBlock,
    Doc,
    Inline,
    ItemList,
    Line,
    Link,
    Mention,
    Para,
    Styled,
)
from handlers.richtext.model import Text as TextNode
from handlers.richtext.source import sanitize
from handlers.text import escape_markdown_inline

_SPACES = re.compile(r"\s+")


def _one_line(text: str | None) -> str:
    return _SPACES.sub(" ", sanitize(text or "")).strip()


# Line starts CommonMark would read as structure: headings/rules/setext (=, -, +), quotes (>)
# and list markers that handlers.text does not treat as bullets.
_MD_LINE_START = re.compile(r"^([=+\-])")
_MD_ORDERED_START = re.compile(r"^([0-9]{1,9})([.)])")
_MD_DELIM = {"bold": "**", "italic": "*", "strike": "~~"}


def md_inline(text: str | None) -> str:
    """One line of any outside text, escaped so it renders literally wherever it lands."""
    return _md_line(escape_markdown_inline(_one_line(text)))


def _md_line(rendered: str) -> str:
    """Guard the start of an already-escaped line against block syntax."""
    rendered = _MD_ORDERED_START.sub(r"\1\\\2", rendered)
    return _MD_LINE_START.sub(r"\\\1", rendered)


def _md_code(text: str) -> str:
    text = text.replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _edges(nodes: tuple[Inline, ...]) -> tuple[str, tuple[Inline, ...], str]:
    """Whitespace at a span's edges goes outside its delimiters (CommonMark needs that)."""
    items = list(nodes)
    lead = trail = ""
    if items and isinstance(items[0], TextNode):
        text = items[0].text
        lead, items[0] = text[: len(text) - len(text.lstrip())], TextNode(text.lstrip())
    if items and isinstance(items[-1], TextNode):
        text = items[-1].text
        trail, items[-1] = text[len(text.rstrip()) :], TextNode(text.rstrip())
    return lead, tuple(n for n in items if not (isinstance(n, TextNode) and not n.text)), trail


def md_nodes(nodes: tuple[Inline, ...], *, in_link: bool = False) -> str:
    """Inline nodes as CommonMark: text escaped, formatting as delimiters, safe links only."""
    out: list[str] = []
    for node in nodes:
        if isinstance(node, TextNode | Mention):
            text = node.text if isinstance(node, TextNode) else node.name
            out.append(escape_markdown_inline(text.replace("\n", " ")))
        elif isinstance(node, Code):
            out.append(_md_code(node.text))
        elif isinstance(node, Link):
            if in_link:
                out.append(md_nodes(node.children, in_link=True))
            else:
                out.append(f"[{md_nodes(node.children, in_link=True)}](<{node.url}>)")
        elif isinstance(node, Styled):
            lead, inner, trail = _edges(node.children)
            body = md_nodes(inner, in_link=in_link)
            delim = _MD_DELIM[node.style]
            out.append(f"{lead}{delim}{body}{delim}{trail}" if body else lead + trail)
    return "".join(out)


def md_line(line: Line) -> str:
    return _md_line(md_nodes(line).strip())


def md_blocks(blocks: Doc) -> str:
    """Member text as inert Markdown: structure and formatting kept, everything else literal."""
    out: list[str] = []

    def walk(lst: ItemList, indent: str) -> None:
        for item in lst.items:
            marker = item.marker or "-"
            out.append(f"{indent}{marker} {md_line(item.content)}".rstrip())
            for child in item.children:  # CommonMark nests under the item's content column
                walk(child, indent + " " * (len(marker) + 1))

    for block in blocks:
        if out:
            out.append("")
        if isinstance(block, Para):
            # two trailing spaces: a hard break in CommonMark, invisible in chat clients
            out.append("  \n".join(md_line(line) for line in block.lines))
        elif isinstance(block, CodeBlock):
            longest = max((len(m) for m in re.findall(r"`{3,}|~{3,}", block.text)), default=2)
            fence = "`" * max(3, longest + 1)
            out.extend([fence, block.text, fence])
        else:
            walk(block, "")
    return "\n".join(out)
