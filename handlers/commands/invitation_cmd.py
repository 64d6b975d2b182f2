"""`mote importer`: import a meeting invitation from chat, pasted or attached, preview first.

The secretariat pastes the invitation after the command (or attaches the .docx/.txt/.md). The
answer is what was read and what the import would create or change, with a confirm and a cancel
button. The upload itself is kept server-side as a pending import under a random token with an
expiry; the buttons carry only that token. Confirming parses the stored upload again and applies
it with `handlers.invitation.apply` in the confirming command's one transaction. An invitation
that cannot be read is answered with the problems (line or paragraph numbers) and nothing is
kept.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from handlers.audit import record
from handlers.commands.common import answer, is_collecting, refuse, require_secretariat
from handlers.commands.meetings import MOTE
from handlers.context import HandlerContext
from handlers.events import Button, ButtonStyle, Effect, EffectKind, InboundFile, Reply
from handlers.i18n import t
from handlers.identity import Scope, ensure_member
from handlers.invitation.apply import apply_plan, plan_import
from handlers.invitation.files import parse_upload, supported
from handlers.invitation.model import Invitation
from handlers.invitation.render import render_preview, render_problems, render_result
from handlers.parsed import MeetingImport
from handlers.parser import parse
from handlers.text import clean, escape_markdown_inline
from storage.repositories import meetings as meeting_repo
from storage.repositories import pending_imports as pending_repo

PENDING_FOR = timedelta(hours=24)
PASTED_NAME = "innkalling.txt"
MAX_PASTED = 200_000
CONFIRM_ACTION = "mote:importer:bekreft"
CANCEL_ACTION = "mote:importer:avbryt"


def wants_attachments(text: str) -> bool:
    """Whether a command line asks for the files sent with it (`mote importer` without a
    confirm or cancel): adapters fetch attached files only then."""
    command = parse(text)
    return isinstance(command, MeetingImport) and command.action == "preview"


def _inert(text: str) -> str:
    """Plain text from the invitation modules, shown literally in chat (line by line)."""
    return "\n".join(escape_markdown_inline(line) for line in text.split("\n"))


def _source(cmd: MeetingImport, attachments: tuple[InboundFile, ...]) -> tuple[str, bytes] | None:
    """The attached invitation (the first file of a type we read), else the pasted text."""
    for file in attachments:
        if supported(file.filename):
            return file.filename, file.content
    text = clean(cmd.text).strip("\n")
    if text.strip():
        return PASTED_NAME, text.encode("utf-8")
    return None


def _parse(scope: Scope, name: str, content: bytes) -> Invitation:
    return parse_upload(name, content, group_name=scope.group.name, lang=scope.group.locale or "nb")


def _problems(scope: Scope, name: str, invitation: Invitation) -> Reply:
    """What could not be read, with line or paragraph numbers; a refusal, so nothing is kept."""
    problems = _inert(render_problems(invitation, scope.locale))
    return Reply(text=f"{t(scope.locale, 'invitation.problems', name=name)}\n{problems}", ok=False)


@MOTE.handles(MeetingImport)
async def run(cmd: MeetingImport, scope: Scope, ctx: HandlerContext) -> Reply:
    refusal = await require_secretariat(scope, "mote importer")
    if refusal is not None:
        return refusal
    if cmd.action == "confirm":
        return await _confirm(cmd.token, scope)
    if cmd.action == "cancel":
        return await _cancel(cmd.token, scope)
    return await _preview(cmd, scope)


async def _preview(cmd: MeetingImport, scope: Scope) -> Reply:
    if scope.event.attachments and not any(supported(f.filename) for f in scope.event.attachments):
        names = ", ".join(f.filename for f in scope.event.attachments)
        return refuse(scope, "invitation.unsupported_file", names=names)
    source = _source(cmd, scope.event.attachments)
    if source is None:
        return refuse(scope, "invitation.nothing", usage_of="mote")
    name, content = source
    if name == PASTED_NAME and len(content) > MAX_PASTED:
        return refuse(scope, "common.too_long", length=len(content), limit=MAX_PASTED)
    invitation = _parse(scope, name, content)
    if invitation.problems:
        return _problems(scope, name, invitation)
    preview = await plan_import(scope.session, invitation, scope.group.name)
    shown = _inert(render_preview(preview, scope.locale))
    if not preview.has_changes:
        return Reply(text=f"{shown}\n\n{t(scope.locale, 'invitation.nothing_to_do')}")
    member = await ensure_member(scope)
    await pending_repo.forget_expired(scope.session, scope.now)
    token = secrets.token_urlsafe(18)
    await pending_repo.add(
        scope.session,
        token=token,
        group_id=scope.group.id,
        member_id=member.id,
        filename=name[:300],
        content=content,
        created_at=scope.now,
        expires_at=scope.now + PENDING_FOR,
    )
    buttons = (
        Button(
            label=t(scope.locale, "invitation.confirm_button"),
            action_id=f"{CONFIRM_ACTION}:{token}",
            value=f"mote importer bekreft {token}",
            style=ButtonStyle.PRIMARY,
        ),
        Button(
            label=t(scope.locale, "invitation.cancel_button"),
            action_id=f"{CANCEL_ACTION}:{token}",
            value=f"mote importer avbryt {token}",
        ),
    )
    return Reply(text=f"{shown}\n\n{t(scope.locale, 'invitation.confirm_hint')}", buttons=buttons)


async def _confirm(token: str, scope: Scope) -> Reply:
    pending = await pending_repo.get(scope.session, token)
    if pending is None or pending.group_id != scope.group.id or pending.expires_at <= scope.now:
        if scope.duplicate:
            return answer(scope, "invitation.already_done")
        return refuse(scope, "invitation.expired")
    invitation = _parse(scope, pending.filename, pending.content)
    if invitation.problems:  # the parser changed since the preview: say so, store nothing
        return _problems(scope, pending.filename, invitation)
    preview = await plan_import(scope.session, invitation, scope.group.name)
    result = await apply_plan(scope.session, preview)
    await pending_repo.remove(scope.session, token)
    await ensure_member(scope)
    await record(
        scope.session,
        scope,
        "invitation.import",
        {
            "meeting_id": result.meeting_id,
            "meeting_created": preview.meeting_id is None,
            "items_added": len(preview.items_added),
            "items_changed": len(preview.items_changed),
            "members_added": len(preview.members_added),
            "poll_id": result.poll_id,
            "file": pending.filename,
        },
    )
    text = _inert(render_result(result, scope.locale))
    hint = t(scope.locale, "invitation.applied", poll=bool(result.poll_id and preview.poll_options))
    # A new meeting still collecting gets its collection message, as `mote ny` would post it.
    meeting = await meeting_repo.get_meeting(scope.session, result.meeting_id)
    fresh = preview.meeting_id is None and meeting is not None and is_collecting(scope, meeting)
    effects = (Effect(EffectKind.POST_COLLECTION, result.meeting_id),) if fresh else ()
    return Reply(text=f"{text}\n\n{hint}", effects=effects)


async def _cancel(token: str, scope: Scope) -> Reply:
    pending = await pending_repo.get(scope.session, token)
    if pending is None or pending.group_id != scope.group.id:
        return answer(scope, "invitation.cancelled")
    await pending_repo.remove(scope.session, token)
    await ensure_member(scope)
    return answer(scope, "invitation.cancelled")
