"""The round table ("runde rundt bordet"): `runde <tekst>`, `runde ingen`, the editor form,
replies in the collection thread, and edits or deletes of those replies."""

from __future__ import annotations

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
from handlers.i18n import t
from handlers.identity import Scope, ensure_member, platform_of
from handlers.parsed import Round
from handlers.text import one_line
from storage.models import Meeting, SubmissionKind
from storage.repositories import meetings as meeting_repo
from storage.repositories import members as member_repo
from storage.repositories import submissions as submission_repo

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
) -> None:
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


async def run(cmd: Round, scope: Scope, ctx: HandlerContext) -> Reply:
    """`runde <tekst>` adds to my entry; `runde` opens the editor; `runde ingen` = nothing to report."""
    meeting = await submission_meeting(scope)
    if isinstance(meeting, Reply):
        return meeting
    if cmd.nothing:
        return await _nothing(scope, meeting)
    if not cmd.text.strip():
        return await _open_form(scope, meeting)
    text = member_text(scope, cmd.text, "runde")
    if isinstance(text, Reply):
        return text
    await _add_post(scope, meeting, text)
    assert scope.member is not None
    return answer(
        scope,
        "round.saved",
        name=first_name(scope.member),
        meeting=meeting_label(scope, meeting),
        preview=one_line(text),
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
    if not raw.strip():
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
    if not event.text.strip():
        return SILENT
    text = member_text(scope, event.text)
    if isinstance(text, Reply):
        return text
    await _add_post(scope, meeting, text, source_ref=event.message_ref, channel=event.channel_id)
    assert scope.member is not None
    return answer(
        scope, "round.thread_saved", name=first_name(scope.member), meeting=meeting_label(scope, meeting)
    )


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
        return await closed_reply(scope, meeting)
    if not event.text.strip():
        return await delete_post(scope)
    text = member_text(scope, event.text)
    if isinstance(text, Reply):
        return text
    if text != submission.text:
        submission.text = text
        submission.updated_at = scope.now
    return answer(scope, "round.edited", meeting=meeting_label(scope, meeting))


async def delete_post(scope: Scope) -> Reply:
    """A deleted thread reply leaves the referat too, even after the deadline: it is gone in chat."""
    event = scope.event
    if not event.message_ref:
        return SILENT
    submission = await submission_repo.by_source(scope.session, platform_of(event), event.message_ref)
    if submission is None:
        return SILENT
    meeting = await meeting_repo.get_meeting(scope.session, submission.meeting_id)
    if meeting is None or meeting.group_id != scope.group.id:
        return SILENT
    await scope.session.delete(submission)
    await scope.session.flush()
    return answer(scope, "round.deleted", meeting=meeting_label(scope, meeting))
