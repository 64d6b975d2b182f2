"""The round table ("runde rundt bordet"): `runde <tekst>`, `runde ingen`, the editor form,
replies in the collection thread, and edits or deletes of those replies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from handlers import parser as grammar
from handlers.command_table import command
from handlers.commands.common import (
    answer,
    closed_reply,
    deadline_text,
    first_name,
    is_collecting,
    meeting_label,
    member_text,
    refuse,
    submission_meeting,
)
from handlers.context import HandlerContext
from handlers.events import FormField, FormView, Reply
from handlers.i18n import normalise_locale, t
from handlers.identity import Scope, ScopeView, ensure_member, platform_of
from handlers.parsed import Round
from handlers.referat.deadline import submission_deadline
from handlers.richtext.echo import echo
from handlers.text import is_blank
from storage.models import Group, Meeting, MeetingStatus, Member, SubmissionKind
from storage.repositories import meetings as meeting_repo
from storage.repositories import members as member_repo
from storage.repositories import submissions as submission_repo
from storage.repositories.submissions import PendingPost, PostOutcome

RUNDE = command(
    "runde",
    slash="/runde",
    aliases=("round", "update"),
    usage_nb="runde [tekst | ingen]",
    usage_en="runde [text | ingen]",
    summary_nb="Legg til i runden rundt bordet; uten tekst: rediger, «ingen»: ingenting å melde",
    summary_en="Add to my round-table update; no text: edit it, «ingen»: nothing to report",
    role="member",
    grammar=grammar.runde,
    position=20,
)

FORM_PREFIX = "runde:"
SILENT = Reply(text="")


def form_id(meeting_id: int) -> str:
    return f"{FORM_PREFIX}{meeting_id}"


def meeting_id_of_form(value: str) -> int | None:
    if not value.startswith(FORM_PREFIX):
        return None
    number = value.removeprefix(FORM_PREFIX)
    return int(number) if number.isdigit() else None


async def current_entry(scope: Scope, meeting: Meeting) -> str:
    """My round-table entry as one text (several posts joined by blank lines), for the editor."""
    if scope.member is None:
        return ""
    posts = await submission_repo.of_member(
        scope.session, meeting.id, scope.member.id, (SubmissionKind.ROUND,)
    )
    return "\n\n".join(p.text for p in posts)


async def _open_form(scope: Scope, meeting: Meeting) -> Reply:
    label = meeting_label(scope, meeting)
    form = FormView(
        form_id=form_id(meeting.id),
        title=t(scope.locale, "round.form_title"),
        fields=(
            FormField(
                name="text",
                label=t(scope.locale, "round.form_label", meeting=label),
                value=await current_entry(scope, meeting),
                multiline=True,
                placeholder=t(scope.locale, "round.form_placeholder"),
            ),
        ),
        submit_label=t(scope.locale, "round.form_submit"),
        cancel_label=t(scope.locale, "round.form_cancel"),
    )
    text = t(scope.locale, "round.form_text", meeting=label, deadline=deadline_text(scope, meeting))
    return Reply(text=text, form=form)


async def _add_post(
    scope: Scope, meeting: Meeting, text: str, *, source_ref: str | None = None, channel: str | None = None
) -> Member:
    """Store `text` as my round-table post (replacing a "nothing to report"); returns me."""
    member = await ensure_member(scope)
    await submission_repo.remove_of_member(scope.session, meeting.id, member.id, (SubmissionKind.NOTHING,))
    await submission_repo.add_submission(
        scope.session,
        meeting_id=meeting.id,
        member_id=member.id,
        kind=SubmissionKind.ROUND,
        text=text,
        platform=platform_of(scope.event),
        source_ref=source_ref,
        source_channel=channel,
    )
    return member


@RUNDE.handles(Round)
async def run(cmd: Round, scope: Scope, ctx: HandlerContext) -> Reply:
    """`runde <tekst>` adds to my entry; `runde` opens the editor; `runde ingen` = nothing to report."""
    meeting = await submission_meeting(scope)
    if isinstance(meeting, Reply):
        return meeting
    if cmd.nothing:
        return await _nothing(scope, meeting)
    if is_blank(cmd.text):
        return await _open_form(scope, meeting)
    text = member_text(scope, cmd.text, "runde")
    if isinstance(text, Reply):
        return text
    member = await _add_post(scope, meeting, text)
    return answer(
        scope,
        "round.saved",
        name=first_name(member),
        meeting=meeting_label(scope, meeting),
        preview=echo(text),
        deadline=deadline_text(scope, meeting),
    )


async def _nothing(scope: Scope, meeting: Meeting) -> Reply:
    member = await ensure_member(scope)
    posts = await submission_repo.of_member(scope.session, meeting.id, member.id)
    if any(p.kind == SubmissionKind.ROUND for p in posts):
        return answer(scope, "round.nothing_has_entry", meeting=meeting_label(scope, meeting))
    if not posts:
        await submission_repo.add_submission(
            scope.session,
            meeting_id=meeting.id,
            member_id=member.id,
            kind=SubmissionKind.NOTHING,
            text="",
            platform=platform_of(scope.event),
        )
    return answer(scope, "round.nothing")


async def save_form(scope: Scope, form: str, values: dict[str, str]) -> Reply:
    """The editor's save: REPLACES my whole entry for that meeting (empty text removes it)."""
    meeting_id = meeting_id_of_form(form)
    meeting = await meeting_repo.get_meeting(scope.session, meeting_id) if meeting_id is not None else None
    if meeting is None or meeting.group_id != scope.group.id:
        return refuse(scope, "round.bad_form")
    if not is_collecting(scope, meeting):
        return await closed_reply(scope, meeting)
    raw = values.get("text", "")
    label = meeting_label(scope, meeting)
    member = await ensure_member(scope)
    if is_blank(raw):
        await submission_repo.replace_round_entry(
            scope.session,
            meeting_id=meeting.id,
            member_id=member.id,
            text="",
            platform=platform_of(scope.event),
        )
        return answer(scope, "round.removed", meeting=label)
    text = member_text(scope, raw)
    if isinstance(text, Reply):
        return text
    await submission_repo.replace_round_entry(
        scope.session,
        meeting_id=meeting.id,
        member_id=member.id,
        text=text,
        platform=platform_of(scope.event),
    )
    return answer(scope, "round.replaced", meeting=label)


async def save_thread_reply(scope: Scope, meeting: Meeting) -> Reply:
    """A reply in the collection thread is a round-table post, tied to its message for edits."""
    event = scope.event
    if meeting.group_id != scope.group.id:
        return SILENT
    if event.message_ref:
        existing = await submission_repo.by_source(scope.session, platform_of(event), event.message_ref)
        if existing is not None:  # redelivered: already stored
            author = await member_repo.get_member(scope.session, existing.member_id)
            return answer(
                scope,
                "round.thread_saved",
                name=first_name(author) if author else "",
                meeting=meeting_label(scope, meeting),
            )
    if not is_collecting(scope, meeting):
        return await closed_reply(scope, meeting)
    if is_blank(event.text):
        return SILENT
    text = member_text(scope, event.text)
    if isinstance(text, Reply):
        return text
    member = await _add_post(scope, meeting, text, source_ref=event.message_ref, channel=event.channel_id)
    return answer(scope, "round.thread_saved", name=first_name(member), meeting=meeting_label(scope, meeting))


async def edit_post(scope: Scope) -> Reply:
    """An edited thread reply updates its submission; an unknown message is none of our business."""
    event = scope.event
    if not event.message_ref:
        return SILENT
    submission = await submission_repo.by_source(scope.session, platform_of(event), event.message_ref)
    if submission is None or scope.member is None or submission.member_id != scope.member.id:
        return SILENT
    meeting = await meeting_repo.get_meeting(scope.session, submission.meeting_id)
    if meeting is None or meeting.group_id != scope.group.id:
        return SILENT
    if not is_collecting(scope, meeting):
        return await closed_reply(scope, meeting, change=True)
    if is_blank(event.text):
        return await delete_post(scope)
    text = member_text(scope, event.text)
    if isinstance(text, Reply):
        return text
    if text != submission.text:
        submission.text = text
        submission.updated_at = scope.now
    return answer(scope, "round.edited", meeting=meeting_label(scope, meeting))


async def delete_post(scope: Scope) -> Reply:
    """A deleted thread reply leaves the referat too, while collection is open. After the
    deadline it is refused like an edit, and told plainly: what stood at the deadline is what
    the secretariat works from (`data slett` still removes a member's own text)."""
    event = scope.event
    if not event.message_ref:
        return SILENT
    submission = await submission_repo.by_source(scope.session, platform_of(event), event.message_ref)
    if submission is None:
        return SILENT
    meeting = await meeting_repo.get_meeting(scope.session, submission.meeting_id)
    if meeting is None or meeting.group_id != scope.group.id:
        return SILENT
    if not is_collecting(scope, meeting):
        return await closed_reply(scope, meeting, change=True)
    await scope.session.delete(submission)
    await scope.session.flush()
    return answer(scope, "round.deleted", meeting=meeting_label(scope, meeting))


# --- the hot path ----------------------------------------------------------------------------
# `runde <tekst>` and collection-thread replies, decided from the read cache (no SQL) and stored
# by group commit, which re-checks the meeting and the member in its own transaction. Anything
# out of the ordinary (a first post that links the member, a closed meeting, a refusal, a
# duplicate, a race lost) returns None, and the full path above gives the answer.


@lru_cache(maxsize=256)
def _deadline(
    meeting_id: int,
    ends_at: datetime,
    override: datetime | None,
    timezone: str,
    days: int | None,
    clock: str | None,
) -> datetime:
    # submission_deadline is a pure function of these; the hot path asks for it several times.
    group = Group(timezone=timezone, deadline_days=days, deadline_time=clock)
    meeting = Meeting(id=meeting_id, ends_at=ends_at, deadline_override=override)
    return submission_deadline(meeting, group)


def deadline_of(meeting: Meeting, group: Group) -> datetime:
    """`submission_deadline`, remembered."""
    return _deadline(
        meeting.id,
        meeting.ends_at,
        meeting.deadline_override,
        group.timezone,
        group.deadline_days,
        group.deadline_time,
    )


def _settled_member(view: ScopeView) -> Member | None:
    """The member, when storing a post changes nothing about them (already linked to this chat
    identity, language already known): otherwise `ensure_member` must run, in the full path."""
    member = view.member
    if member is None or not view.linked:
        return None
    seen = normalise_locale(view.event.locale)
    if seen is not None and member.locale != seen:
        return None
    return member


async def _store(
    view: ScopeView, ctx: HandlerContext, meeting: Meeting, member: Member, text: str, *, thread: bool
) -> bool:
    """Queue the post for the next group commit; True once it is committed."""
    event = view.event
    meeting_id, now = meeting.id, view.now

    def still_current(group: Group, meetings: Sequence[Meeting]) -> bool:
        current = meeting_repo.pick_current(meetings, now, lambda m: deadline_of(m, group))
        return current is not None and current.id == meeting_id

    def still_open(group: Group, meetings: Sequence[Meeting]) -> bool:
        return any(
            m.id == meeting_id and m.status != MeetingStatus.CLOSED and now < deadline_of(m, group)
            for m in meetings
        )

    outcome = await submission_repo.post(
        ctx.db,
        PendingPost(
            group_id=view.group.id,
            meeting_id=meeting_id,
            member_id=member.id,
            text=text,
            platform=platform_of(event),
            workspace_id=event.workspace_id,
            user_id=event.user_id,
            accepted=still_open if thread else still_current,
            source_ref=event.message_ref if thread else None,
            source_channel=event.channel_id if thread else None,
            event_id=event.event_id,
        ),
    )
    return outcome is PostOutcome.STORED


@RUNDE.fast_path(Round)
async def fast_post(cmd: Round, view: ScopeView, ctx: HandlerContext) -> Reply | None:
    """`runde <tekst>` on the hot path; None when the full path must answer."""
    if cmd.nothing or is_blank(cmd.text):
        return None
    member = _settled_member(view)
    if member is None:
        return None
    meetings = await meeting_repo.cached_not_closed(ctx.db, view.group.id)
    meeting = meeting_repo.pick_current(meetings, view.now, lambda m: deadline_of(m, view.group))
    if meeting is None:
        return None
    text = member_text(view, cmd.text, "runde")
    if isinstance(text, Reply) or not await _store(view, ctx, meeting, member, text, thread=False):
        return None
    return answer(
        view,
        "round.saved",
        name=first_name(member),
        meeting=meeting_label(view, meeting),
        preview=echo(text),
        deadline=deadline_text(view, meeting),
    )


async def fast_thread_reply(view: ScopeView, ctx: HandlerContext, meeting_id: int) -> Reply | None:
    """A reply in the collection thread of `meeting_id` on the hot path; None: the full path."""
    event = view.event
    if not event.message_ref or is_blank(event.text):
        return None
    member = _settled_member(view)
    if member is None:
        return None
    meetings = await meeting_repo.cached_not_closed(ctx.db, view.group.id)
    meeting = next((m for m in meetings if m.id == meeting_id), None)
    if (
        meeting is None
        or meeting.status == MeetingStatus.CLOSED
        or view.now >= deadline_of(meeting, view.group)
    ):
        return None
    text = member_text(view, event.text)
    if isinstance(text, Reply) or not await _store(view, ctx, meeting, member, text, thread=True):
        return None
    return answer(view, "round.thread_saved", name=first_name(member), meeting=meeting_label(view, meeting))
