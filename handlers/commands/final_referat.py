"""`referat endelig [md|html|docx|pdf] [DD.MM.YYYY]`: the final, frozen referat of a meeting.

The first time the secretariat (or the chair) asks, the referat is rendered in every format the
bot renders and stored with each file's SHA-256, in the command's transaction; from then on
everyone who asks gets those stored bytes, whatever happens to the submissions afterwards. A
member asking before it exists is told so.
"""

from __future__ import annotations

import asyncio

from handlers.audit import record
from handlers.commands.common import meeting_label, refuse
from handlers.context import HandlerContext
from handlers.events import FileAttachment, Link, Reply
from handlers.i18n import t
from handlers.identity import Scope, ensure_member
from handlers.referat import FORMATS, render_final
from storage.models import Meeting, ReferatFinal, Role
from storage.repositories import finals as final_repo
from storage.repositories.finals import FinalFile
from storage.repositories.referat import load_referat


def may_freeze(scope: Scope) -> bool:
    return scope.member is not None and scope.member.role in (Role.SECRETARIAT, Role.CHAIR)


async def freeze(scope: Scope, meeting: Meeting) -> dict[str, ReferatFinal] | None:
    """Render and store the final version in the scope's transaction; None for no such meeting."""
    data = await load_referat(scope.session, meeting.id)
    if data is None:
        return None
    # Every format the bot renders; the PDF/A takes a moment, so off the event loop.
    rendered = await asyncio.to_thread(render_final, data, now=scope.now)
    files = [
        FinalFile(fmt=fmt, filename=r.filename, mime_type=r.mime_type, content=r.content)
        for fmt, r in zip(FORMATS, rendered, strict=True)
    ]
    member = await ensure_member(scope)
    rows = await final_repo.store_finals(
        scope.session, meeting.id, files, at=scope.now, by=member.name or scope.event.user_name
    )
    await record(
        scope.session,
        scope,
        "referat.freeze",
        {"meeting_id": meeting.id, "sha256": {r.fmt: r.sha256 for r in rows}},
    )
    return {r.fmt: r for r in rows}


async def final_reply(scope: Scope, ctx: HandlerContext, meeting: Meeting, fmt: str) -> Reply:
    """The stored final version of `meeting` (frozen now, when allowed and not yet done)."""
    label = meeting_label(scope, meeting)
    finals = await final_repo.finals_of(scope.session, meeting.id)
    frozen_now = False
    if not finals:
        if not may_freeze(scope):
            return refuse(scope, "final.none", meeting=label)
        if scope.duplicate:
            return refuse(scope, "final.none", meeting=label)
        frozen = await freeze(scope, meeting)
        if frozen is None:
            return refuse(scope, "common.no_meetings_yet")
        finals, frozen_now = frozen, True
    row = finals.get(fmt) or finals["md"]
    links = _links(scope, ctx, meeting)
    head = t(
        scope.locale,
        "final.frozen" if frozen_now else "final.fetched",
        meeting=label,
        fmt=row.fmt,
        sha256=row.sha256,
        by=row.frozen_by,
    )
    if row.fmt == "md":
        return Reply(text=f"{head}\n\n{row.content.decode('utf-8')}", links=links)
    attachment = FileAttachment(filename=row.filename, content=row.content, mime_type=row.mime_type)
    return Reply(text=head, files=(attachment,), links=links)


def _links(scope: Scope, ctx: HandlerContext, meeting: Meeting) -> tuple[Link, ...]:
    """Signed links to the stored final files (where a public URL is configured): Teams cannot
    take a file from a bot, so this is how its users get the Word file."""
    if ctx.links is None:
        return ()
    links = []
    for fmt in ("html", "docx", "pdf"):
        url = ctx.links.draft_url(meeting, f"final-{fmt}", scope.locale)
        if url:
            links.append(Link(t(scope.locale, f"final.link_{fmt}"), url))
    return tuple(links)
