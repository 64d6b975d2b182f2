"""Rendering the referat view-model as Markdown and HTML (Jinja2), as Word (python-docx) and as
PDF/A-2a (Typst, from the same view; see pdf.py).

Escaping is never left to the template author: the HTML environment autoescapes, and the
Markdown environment escapes every `{{ value }}` through `finalize` unless the value is
already-rendered Markdown (`MdSafe`). Member text reaches the templates only as the block tree
from `blocks.py`, so lists and paragraphs survive and markup never executes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from handlers.events import Echo
from handlers.i18n import inert, render_echoes
from handlers.referat.blocks import Text, md_blocks, md_inline, one_line
from handlers.referat.view import FollowUpView, ReferatView
from handlers.richtext.echo import echo_doc

MIME_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
FORMATS = tuple(MIME_TYPES)


@dataclass(frozen=True, slots=True)
class RenderedDraft:
    """One rendered draft: bytes to send or serve, and the text itself for md and html."""

    filename: str
    content: bytes
    mime_type: str
    text: str | None = None
    # The Markdown draft for chat: `text` in pieces, member text as `Echo`s (see Reply.body).
    body: tuple[str | Echo, ...] = ()


class MdSafe(str):
    """Markdown that is already escaped (rendered member text); `finalize` lets it through."""

    __slots__ = ()


def _md_finalize(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, MdSafe):
        return value
    return md_inline(str(value))


def _md_text(blocks: Text) -> MdSafe:
    return MdSafe(md_blocks(blocks))


_URL_SAFE = re.compile(r"^https?://[^\s<>\\`]+$", re.IGNORECASE)


def _md_link(url: str | None) -> MdSafe:
    """An http(s) URL as a CommonMark autolink (no escapes inside it); anything else as text."""
    value = one_line(url)
    if _URL_SAFE.match(value):
        return MdSafe(f"<{value}>")
    return MdSafe(md_inline(value))


def _md_follow_up(follow_up: FollowUpView) -> MdSafe:
    """A numbered item with the details on an indented line, so multi-line text stays in it."""
    marker = f"{follow_up.number}."
    indent = " " * (len(marker) + 1)
    lines = (md_blocks(follow_up.text) or md_inline("-")).split("\n")
    lines[-1] += "  "  # hard break before the details
    lines.append(f"_{md_inline(follow_up.details)}_")
    body = "\n".join(indent + line if line else "" for line in lines[1:])
    return MdSafe(f"{marker} {lines[0]}\n{body}")


def _md_echo(blocks: Text) -> MdSafe:
    """Member text in the chat draft: an Echo, so each platform renders it from its tree."""
    return MdSafe(inert(echo_doc(blocks, limit=None))) if blocks else MdSafe("")


def _md_follow_up_echo(follow_up: FollowUpView) -> MdSafe:
    """A follow-up in the chat draft: its text as a one-line Echo, the details under it."""
    marker = f"{follow_up.number}."
    text = inert(echo_doc(follow_up.text, inline=True)) if follow_up.text else md_inline("-")
    details = f"_{md_inline(follow_up.details)}_"
    return MdSafe(f"{marker} {text}  \n{' ' * (len(marker) + 1)}{details}")


@lru_cache(maxsize=2)
def _md_env(chat: bool = False) -> Environment:
    env = Environment(
        loader=PackageLoader("templates", "referat"),
        autoescape=False,  # Markdown is escaped by finalize instead
        finalize=_md_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["md"] = _md_echo if chat else _md_text
    env.filters["md_link"] = _md_link
    env.filters["md_follow_up"] = _md_follow_up_echo if chat else _md_follow_up
    env.filters["rendered"] = MdSafe  # a macro's output: its own values were escaped inside it
    return env


@lru_cache(maxsize=1)
def _html_env() -> Environment:
    env = Environment(
        loader=PackageLoader("templates", "referat"),
        autoescape=True,  # member text, names and titles are all escaped
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    return env


@lru_cache(maxsize=2)
def _template(fmt: str) -> Template:
    if fmt == "md":
        return _md_env().get_template("referat.md.j2")
    return _html_env().get_template("referat.html.j2")


_BLANK_RUNS = re.compile(r"\n{3,}")


def render_markdown(view: ReferatView) -> str:
    """The draft as Markdown for chat; at most one blank line between blocks."""
    text = _template("md").render(v=view, L=view.labels)
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"


def render_markdown_chat(view: ReferatView) -> tuple[str, tuple[str | Echo, ...]]:
    """The draft as Markdown for chat, and the same in pieces with the member text (entries,
    notes, decisions, follow-ups) as `Echo`s, for the adapters to render from the tree."""
    template = _md_env(chat=True).get_template("referat.md.j2")

    def markdown() -> str:
        text = template.render(v=view, L=view.labels)
        return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"

    return render_echoes(markdown)


def render_html(view: ReferatView) -> str:
    """The draft as one standalone, printable HTML page."""
    return _template("html").render(v=view, L=view.labels)


def render(view: ReferatView, fmt: str, *, chat: bool = False) -> RenderedDraft:
    """The view in md, html, docx or pdf, with the file name the house style uses. `chat`: the
    Markdown as chat shows it, with its member text in pieces (`RenderedDraft.body`)."""
    filename = f"{view.filename_stem}.{fmt}"
    if fmt == "md" and chat:
        text, body = render_markdown_chat(view)
        return RenderedDraft(filename, text.encode("utf-8"), MIME_TYPES[fmt], text, body)
    if fmt == "md":
        text = render_markdown(view)
        return RenderedDraft(filename, text.encode("utf-8"), MIME_TYPES[fmt], text)
    if fmt == "html":
        text = render_html(view)
        return RenderedDraft(filename, text.encode("utf-8"), MIME_TYPES[fmt], text)
    if fmt == "docx":
        from handlers.referat.word import render_docx

        return RenderedDraft(filename, render_docx(view), MIME_TYPES[fmt], None)
    if fmt == "pdf":
        from handlers.referat.pdf import render_pdf

        return RenderedDraft(filename, render_pdf(view), MIME_TYPES[fmt], None)
    raise ValueError(f"unknown referat format {fmt!r} (expected one of {', '.join(FORMATS)})")
