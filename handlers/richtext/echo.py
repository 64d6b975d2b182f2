"""Member text as an `Echo` for a reply: the tree to show, cut to the length the answer wants,
and its inert Markdown for `Reply.text` (what platforms without a renderer of their own, logs
and tests read)."""

from __future__ import annotations

from handlers.events import Echo
from handlers.richtext.markdown import md_blocks, md_nodes
from handlers.richtext.model import Doc, Para
from handlers.richtext.shorten import flatten, shorten
from handlers.richtext.source import parse

# How much of a member's text a confirmation shows back ("Takk! Dette er lagt til …").
CONFIRM_LIMIT = 600
# One member text inside a line (a follow-up in a list, "nr. 3 («…») er ferdig").
LINE_LIMIT = 120


def echo_doc(doc: Doc, *, limit: int | None = None, inline: bool = False) -> Echo:
    """An Echo of a tree: flattened to one line when `inline`, cut to `limit` characters."""
    if inline:
        doc = flatten(doc)
    if limit is not None:
        doc = shorten(doc, limit)
    if inline:
        line = doc[0].lines[0] if doc and isinstance(doc[0], Para) else ()
        return Echo(doc, md_nodes(line).strip(), inline=True)
    return Echo(doc, md_blocks(doc))


def echo(source: str, *, limit: int | None = CONFIRM_LIMIT, inline: bool = False) -> Echo:
    """An Echo of stored member text (the canonical form, handlers.richtext.source)."""
    return echo_doc(parse(source), limit=limit, inline=inline)
