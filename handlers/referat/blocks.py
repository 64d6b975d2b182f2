"""Member text in the referat: the rich-text tree (handlers.richtext) and its inert Markdown form
(handlers.richtext.markdown, re-exported here).

Each output format needs the same structure (paragraphs with their line breaks, bullet and
numbered lists with their nesting, emphasis, code, links) but escapes differently: HTML by
autoescape, Word by being XML-escaped runs, Markdown by backslashes. The stored text is parsed
once into the tree (`handlers.richtext.source`), which keeps the three faithful to each other.
"""

from __future__ import annotations

import re

from handlers.richtext.markdown import md_blocks, md_inline, md_line, md_nodes
from handlers.richtext.model import Block, CodeBlock, Doc, ItemList, ListItem, Para, plain
from handlers.richtext.source import parse, sanitize

Text = Doc  # the referat's name for a member text tree

_SPACES = re.compile(r"\s+")

__all__ = [
    "Block",
    "CodeBlock",
    "ItemList",
    "ListItem",
    "Para",
    "Text",
    "md_blocks",
    "md_inline",
    "md_line",
    "md_nodes",
    "one_line",
    "parse_text",
    "plain_text",
    "sanitize",
]


def parse_text(text: str | None) -> Doc:
    """Stored member text as the tree (see handlers.richtext.source for the dialect)."""
    return parse(text)


def plain_text(blocks: Doc) -> str:
    """The tree as plain text (for tests and previews)."""
    return plain(blocks)


def one_line(text: str | None) -> str:
    """A single-line value (a name, a title): any line breaks become spaces."""
    return _SPACES.sub(" ", sanitize(text or "")).strip()
