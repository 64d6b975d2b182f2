"""`referat [md|html|docx|pdf] [DD.MM.YYYY]`: the draft of the managed (or dated) meeting.

Markdown comes in chat with links to the HTML page and the Word file (when a public URL is
configured); docx and pdf come as a file (on Teams, which cannot take a bot's file in a channel,
the pdf as a signed link); html as a signed link, or as a file when there is no URL.

The draft (every format, and the links) is for the group's roster members and its secretariat:
a guest who joined by posting, or someone the bot does not know, is refused. `referat lenker
trekk` (secretariat) revokes every link of the managed meeting handed out so far.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers import parser as grammar
from handlers.command_table import command, fold
from handlers.commands import final_referat
from handlers.commands.common import contacts, managed_meeting, meeting_label, refuse, require_secretariat
from handlers.context import HandlerContext
from handlers.events import FileAttachment, Link, Reply
from handlers.i18n import format_short_date, t
from handlers.identity import Scope
from handlers.parsed import Referat
from handlers.referat import compile_draft
from handlers.referat.deadline import group_zone
from storage.models import Meeting, Role
from storage.repositories import meetings as meeting_repo

REFERAT = command(
    "referat",
    slash="/referat",
    aliases=("minutes",),
    usage_nb="referat [md|html|docx|pdf] [DD.MM.YYYY] | referat endelig [md|html|docx|pdf] [DD.MM.YYYY]",
    usage_en="referat [md|html|docx|pdf] [DD.MM.YYYY] | referat endelig [md|html|docx|pdf] [DD.MM.YYYY]",
    summary_nb="Utkast til referat fra siste (eller et datert) møte",
    summary_en="Draft minutes of the current (or a dated) meeting",
    role="member",
    grammar=lambda rest, args: referat_grammar(rest, args),
    position=10,
)

_LINK_WORDS = ("lenker", "lenkene", "lenke", "links", "link")
_REVOKE_WORDS = ("trekk", "trekke", "revoke", "withdraw")


@dataclass(frozen=True, slots=True)
class RevokeLinks:
    """`referat lenker trekk` (`minutes links revoke`)."""


def referat_grammar(rest: str, args: grammar.Args) -> object:
    """`referat lenker trekk`, else the draft's own grammar (`[md|html|docx] [DD.MM.YYYY]`)."""
    words = [fold(w).strip(".!") for w in rest.split()]
    if words and words[0] in _LINK_WORDS:
        if len(words) == 2 and words[1] in _REVOKE_WORDS:
            return RevokeLinks()
        raise grammar.fail("bad_format", "referat", value=" ".join(rest.split()[1:]) or rest.strip())
    return grammar.referat(rest, args)


async def _roster_only(scope: Scope) -> Reply | None:
    """The draft is the group's: roster members and the secretariat (and chair) may read it."""
    member = scope.member
    if member is not None and (member.on_roster or member.role in (Role.SECRETARIAT, Role.CHAIR)):
        return None
    return refuse(scope, "referat.roster_only", group=scope.group.name, contacts=await contacts(scope))

_LINK_KEYS = {
    "html": "referat.link_html",
    "docx": "referat.link_docx",
    "md": "referat.link_md",
    "pdf": "referat.link_pdf",
}


async def _meeting(cmd: Referat, scope: Scope) -> Meeting | Reply:
    if cmd.meeting_date is None:
        meeting = await managed_meeting(scope)
        return meeting if meeting is not None else refuse(scope, "common.no_meetings_yet")
    meeting = await meeting_repo.meeting_on_date(
        scope.session, scope.group.id, cmd.meeting_date, scope.timezone
    )
    if meeting is not None:
        return meeting
    meetings = await meeting_repo.meetings_of(scope.session, scope.group.id)
    dates = ", ".join(
        format_short_date(m.starts_at.astimezone(group_zone(scope.group)).date(), scope.locale)
        for m in meetings[-6:]
    )
    return refuse(
        scope, "referat.none_on_date", date=format_short_date(cmd.meeting_date, scope.locale), dates=dates
    )


def _links(scope: Scope, ctx: HandlerContext, meeting: Meeting, formats: tuple[str, ...]) -> tuple[Link, ...]:
    if ctx.links is None:
        return ()
    links = []
    for fmt in formats:
        url = ctx.links.draft_url(meeting, fmt, scope.locale)
        if url:
            links.append(Link(t(scope.locale, _LINK_KEYS[fmt]), url))
    return tuple(links)


@REFERAT.handles(Referat, read_only=lambda cmd: not cmd.final)  # freezing the final one writes
async def run(cmd: Referat, scope: Scope, ctx: HandlerContext) -> Reply:
    refused = await _roster_only(scope)
    if refused is not None:
        return refused
    meeting = await _meeting(cmd, scope)
    if isinstance(meeting, Reply):
        return meeting
    if cmd.final:
        return await final_referat.final_reply(scope, ctx, meeting, cmd.fmt)
    label = meeting_label(scope, meeting)
    if cmd.fmt == "html":
        links = _links(scope, ctx, meeting, ("html",))
        if links:
            return Reply(text=t(scope.locale, "referat.html_link", meeting=label), links=links)
    draft = await compile_draft(
        ctx.db, meeting.id, cmd.fmt, locale=scope.locale, now=scope.now, chat=cmd.fmt == "md"
    )
    if draft is None:
        return refuse(scope, "common.no_meetings_yet")
    attachment = FileAttachment(filename=draft.filename, content=draft.content, mime_type=draft.mime_type)
    if cmd.fmt == "md":
        text = draft.text if draft.text is not None else draft.content.decode("utf-8")
        return Reply(text=text, body=draft.body, links=_links(scope, ctx, meeting, ("html", "docx")))
    if cmd.fmt == "docx":
        return Reply(
            text=t(scope.locale, "referat.docx", meeting=label),
            files=(attachment,),
            links=_links(scope, ctx, meeting, ("html",)),
        )
    if cmd.fmt == "pdf":
        return Reply(
            text=t(scope.locale, "referat.pdf", meeting=label),
            files=(attachment,),
            links=_links(scope, ctx, meeting, ("pdf",)),
        )
    return Reply(text=t(scope.locale, "referat.html_file", meeting=label), files=(attachment,))


@REFERAT.handles(RevokeLinks, audit=lambda c: ("referat.links_revoked", {}))
async def revoke(cmd: RevokeLinks, scope: Scope, ctx: HandlerContext) -> Reply:
    """Every draft link of the managed meeting handed out so far stops working."""
    refused = await require_secretariat(scope, "referat lenker trekk")
    if refused is not None:
        return refused
    meeting = await managed_meeting(scope)
    if meeting is None:
        return refuse(scope, "common.no_meetings_yet")
    await meeting_repo.revoke_links(scope.session, meeting.id)
    label = meeting_label(scope, meeting)
    return Reply(text=t(scope.locale, "referat.links_revoked", meeting=label, formats=len(_LINK_KEYS)))
