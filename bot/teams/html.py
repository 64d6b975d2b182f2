"""A reply that shows member text back, as the HTML of a Teams message (`textFormat: "xml"`).

The member's text (an `Echo` in the reply's body) is rendered from its rich-text tree by
`echo_html`, so their lists, emphasis, links, code and emoji come back as they wrote them; the
bot's own words around it are Referent's light Markdown, parsed by markdown-it (CommonMark, raw
HTML off, so every `<` is text) and rendered in the subset Teams shows: `<b>`/`<i>` as in the
echoes, headings at most `<h3>`, lists and quotes without inner paragraphs, no newlines between
tags. Links are http(s) or mailto only (`is_safe_url`); the bot adds no `<at>`, so nobody is pinged.

The result is a list of whole top-level blocks (`<p>`, `<ul>`, `<h2>` …): a long answer (the
draft) is split between them, never inside a tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

from linkify_it import LinkifyIt
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore, linkify
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from bot.teams.richtext import echo_html
from handlers.events import Echo, Link
from handlers.richtext.model import is_safe_url

# An echo stands in the Markdown as `\x1a<n>\x1a` until its HTML replaces it in the tokens. The
# bot's text has the character taken out first, so nothing in it (a member's name) forges one;
# markdown-it keeps a control character as text, and a bare URL ends before it.
_MARK = "\x1a"
_SLOT = re.compile(f"{_MARK}([0-9]+){_MARK}")
_TAGS = {"strong": "b", "em": "i"}  # as `to_teams_html` writes the member's emphasis


class _TeamsHTML(RendererHTML):
    """markdown-it's HTML with `<br>` for each line break and no newlines between tags."""

    def renderToken(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return super().renderToken(tokens, idx, options, env).replace("\n", "")

    def softbreak(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return "<br>"

    hardbreak = softbreak

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return super().fence(tokens, idx, options, env).removesuffix("\n")

    def echo(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        """Member text in a line of the bot's: its slot stays, filled in by `_fill` (after the
        cache), so the rendered bot text can be reused whatever the member wrote."""
        return f"{_MARK}{tokens[idx].meta['slot']}{_MARK}"


def _inline(children: list[Token]) -> Iterator[Token]:
    for token in children:
        if token.type in ("strong_open", "strong_close", "em_open", "em_close"):
            token.tag = _TAGS[token.tag]
        elif token.type == "link_open":
            token.attrs = {"href": token.attrs["href"]}  # no title
        elif token.type == "text" and _MARK in token.content:
            for index, part in enumerate(_SLOT.split(token.content)):
                if index % 2:
                    yield Token("echo", "", 0, meta={"slot": int(part)})
                elif part:
                    yield Token("text", "", 0, content=part)
            continue
        yield token


def _teams(state: StateCore) -> None:
    """Teams' flavour of the token stream: <b>/<i>, headings to h3, a list item's or a quote's
    paragraphs as lines (one list even with blank lines between its items), echoes slotted in."""
    parents: list[str] = []
    for i, token in enumerate(state.tokens):
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]), 3)}"
        elif token.type == "paragraph_open" and parents and parents[-1] in ("li", "blockquote"):
            token.hidden = state.tokens[i + 2].hidden = True
            if state.tokens[i - 1].type == "paragraph_close":  # a next paragraph: a new line
                state.tokens[i + 1].children = [
                    Token("hardbreak", "br", 0),
                    *(state.tokens[i + 1].children or ()),
                ]
        elif token.type == "inline" and token.children:
            token.children = list(_inline(token.children))
        if token.nesting == 1:
            parents.append(token.tag)
        elif token.nesting == -1:
            parents.pop()


_MD = MarkdownIt("commonmark", {"html": False, "xhtmlOut": False, "linkify": True}, renderer_cls=_TeamsHTML)
_MD.disable(["image", "code", "lheading"])  # no remote images; no indented code, no setext headings
_MD.validateLink = is_safe_url  # type: ignore[method-assign]
# A bare http(s) URL is a link, as on Slack (never a bare domain or address: no fuzzy links),
# found once the text is joined, so that a URL the bot escaped (`a\_b`) is linked whole.
_MD.linkify = LinkifyIt(options={"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})
_MD.core.ruler.push("linkify_joined", linkify)
_MD.core.ruler.push("teams", _teams)


_CACHED_CHARS = 4000  # at most 1,024 entries of this: a few MB


@lru_cache(maxsize=1024)
def _rendered(source: str, block_slots: frozenset[int]) -> tuple[str, ...]:
    """The Markdown as top-level HTML blocks (the tokens at nesting level 0), each echo still its
    slot; a paragraph that is only a block echo's slot stays that bare slot.

    Cached: the bot's words around an echo repeat from reply to reply (a `runde` confirmation is
    the same text with another member's entry in it), and parsing them costs about 300 µs of the
    ~1.3 ms of CPU a Teams message takes (measured); filling the slots in is cheap.
    """
    tokens = _MD.parse(source, {})
    out: list[str] = []
    start = 0
    for end, token in enumerate(tokens, 1):
        if token.level or token.nesting == 1:
            continue
        block, start = tokens[start:end], end
        slot = _SLOT.fullmatch(block[1].content) if block[0].type == "paragraph_open" else None
        if slot is not None and int(slot.group(1)) in block_slots:
            out.append(slot.group(0))
        else:
            out.append(_MD.renderer.render(block, _MD.options, {}))
    return tuple(out)


def _blocks(source: str, echoes: Sequence[Echo] = (), budget: int = 0) -> list[str]:
    """The Markdown as top-level blocks, with each echo's HTML in its slot: a block echo as its
    own blocks, an echo in a line inline (at a tenth of the budget)."""
    block_slots = frozenset(i for i, echo in enumerate(echoes) if not echo.inline)
    # Only short texts are kept: a draft shown in chat is long and seldom asked for twice alike.
    render = _rendered if len(source) <= _CACHED_CHARS else _rendered.__wrapped__
    out: list[str] = []
    for block in render(source, block_slots):
        whole = _SLOT.fullmatch(block)
        if whole is not None and int(whole.group(1)) in block_slots:
            out.extend(echo_html(echoes[int(whole.group(1))], budget))
            continue

        def fill(match: re.Match[str]) -> str:
            echo = echoes[int(match.group(1))]
            return "".join(echo_html(echo, budget // 10 if echo.inline else budget))

        out.append(_SLOT.sub(fill, block) if _MARK in block else block)
    return out


def markdown_blocks(text: str) -> list[str]:
    """The bot's light Markdown as Teams HTML, in top-level blocks."""
    return _blocks(text.replace(_MARK, ""))


def inline_html(text: str) -> str:
    """One line of the bot's light Markdown as inline HTML, every literal character escaped."""
    return str(_MD.renderInline(text.replace(_MARK, "")))


def body_blocks(body: tuple[str | Echo, ...], budget: int) -> list[str]:
    """A reply's body (the bot's Markdown with member echoes) as top-level HTML blocks, each at
    most `budget` characters where a member's text is concerned (cut on its tree if need be)."""
    echoes: list[Echo] = []
    source: list[str] = []
    for piece in body:
        if isinstance(piece, str):
            source.append(piece.replace(_MARK, ""))
            continue
        slot = f"{_MARK}{len(echoes)}{_MARK}"
        echoes.append(piece)
        source.append(slot if piece.inline else f"\n\n{slot}\n\n")  # a block echo: a paragraph
    return _blocks("".join(source), echoes, budget)


def links_block(links: tuple[Link, ...]) -> str:
    """The reply's links (the draft as a page, as Word) as a list of links."""
    items = "".join(
        f'<li><a href="{html.escape(link.url)}">{html.escape(link.label, quote=False)}</a></li>'
        if is_safe_url(link.url)
        else f"<li>{html.escape(link.label, quote=False)}</li>"
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
