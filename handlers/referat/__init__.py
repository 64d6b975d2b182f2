"""The referat draft: load a meeting, build the view-model, render it as md, html, docx or pdf.

`compile_draft` is the one entry point the bot, the CLI and the download links use.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from handlers.referat.archive import ArchiveBundle, build_archive
from handlers.referat.deadline import collection_open, submission_deadline
from handlers.referat.render import FORMATS, MIME_TYPES, RenderedDraft, render
from handlers.referat.view import ReferatView, build_view
from storage.db import Database
from storage.repositories.referat import ReferatData, load_referat

# Below this many submissions and members the render is so quick a thread hop costs more.
_THREAD_THRESHOLD = 80


def render_data(
    data: ReferatData,
    fmt: str,
    *,
    locale: str | None = None,
    now: datetime,
    final: bool = False,
    chat: bool = False,
) -> RenderedDraft:
    """Build and render an already-loaded meeting (pure CPU work, no database)."""
    view = build_view(data, locale=locale, now=now, final=final)
    return render(view, fmt, chat=chat)


def render_final(data: ReferatData, *, now: datetime) -> list[RenderedDraft]:
    """The final version in every format the bot renders, in the group's language."""
    return [render_data(data, fmt, now=now, final=True) for fmt in FORMATS]


async def compile_draft(
    db: Database, meeting_id: int, fmt: str, *, locale: str | None = None, now: datetime, chat: bool = False
) -> RenderedDraft | None:
    """The referat draft of one meeting in md, html, docx or pdf; None when there is no such meeting.
    `chat`: the Markdown as chat shows it, its member text in pieces (`RenderedDraft.body`).

    `locale` None means the group's locale. Rendering a large group, and any PDF, runs in a worker
    thread so the event loop keeps acknowledging Slack and Teams within their deadlines meanwhile.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown referat format {fmt!r} (expected one of {', '.join(FORMATS)})")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    async with db.session() as session:
        data = await load_referat(session, meeting_id)
    if data is None:
        return None
    if fmt != "pdf" and len(data.members) + len(data.submissions) < _THREAD_THRESHOLD:
        return render_data(data, fmt, locale=locale, now=now, chat=chat)  # a PDF always takes long enough
    return await asyncio.to_thread(render_data, data, fmt, locale=locale, now=now, chat=chat)


async def compile_archive(
    db: Database, meeting_id: int, *, locale: str | None = None, now: datetime
) -> ArchiveBundle | None:
    """The archive bundle (PDF/A, .docx, metadata.json) of one meeting; None when there is none.

    Always rendered in a worker thread: the PDF takes long enough to stall the event loop.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    async with db.session() as session:
        data = await load_referat(session, meeting_id)
    if data is None:
        return None
    return await asyncio.to_thread(build_archive, data, locale=locale, now=now)


__all__ = [
    "FORMATS",
    "MIME_TYPES",
    "ArchiveBundle",
    "ReferatView",
    "RenderedDraft",
    "build_view",
    "collection_open",
    "compile_archive",
    "compile_draft",
    "render",
    "render_data",
    "render_final",
    "submission_deadline",
]
