"""`data eksport|slett`: a member's own data, in every group of this workspace they belong to.

Export is a JSON file plus a readable summary, always delivered privately: in a 1:1 chat as the
answer, from a channel as a direct message (the channel only hears that it was sent). With a
public URL both also come as signed links that live an hour (Teams cannot take a bot's file in a
chat). Delete asks for confirmation first (`data slett bekreft`, or the button), refuses the last
secretariat member of a group (hand the role on with `rolle` first), then removes my submissions
and inputs, the follow-ups I wrote, votes, attendance, reminder settings, conversation
references and chat identities, and anonymises my member row (kept so meeting records stay
consistent). Every export and deletion is in the audit log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import audit
from handlers import parser as grammar
from handlers.command_table import Subcommand, command, fold
from handlers.context import HandlerContext
from handlers.events import Button, ButtonStyle, ChatEvent, DirectTarget, FileAttachment, Link, Reply
from handlers.i18n import t
from handlers.identity import platform_of, trusted_email
from handlers.parsed import MyData
from storage.models import AgendaItem, Group, Meeting, Member, Role
from storage.repositories import attendance as attendance_repo
from storage.repositories import conversations as conversation_repo
from storage.repositories import follow_ups as follow_up_repo
from storage.repositories import groups as group_repo
from storage.repositories import members as member_repo
from storage.repositories import polls as poll_repo
from storage.repositories import reminder_mutes as mute_repo
from storage.repositories import submissions as submission_repo

DATA = command(
    "data",
    aliases=("mydata",),
    usage_nb="data eksport|slett",
    usage_en="data export|delete",
    summary_nb="Eksporter eller slett mine data",
    summary_en="Export or delete my data",
    role="anyone",
    subcommands=(Subcommand("eksport", ("export",)), Subcommand("slett", ("delete",))),
    grammar=lambda rest, args: data_grammar(rest, args),
    in_menu=False,
    position=140,
)

EXPORT_FILENAME = "referent-mine-data.json"
SUMMARY_FILENAME = "referent-mine-data.txt"
CONFIRM_WORDS = ("bekreft", "bekrefte", "confirm", "ja", "yes")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeleteConfirmed:
    """`data slett bekreft` (`mydata delete confirm`): the deletion itself."""


def data_grammar(rest: str, args: grammar.Args) -> object:
    """`data eksport|slett [bekreft]`: the confirming word turns `slett` into the deletion."""
    words = rest.split()
    if len(words) >= 2 and fold(words[1].strip(".!")) in CONFIRM_WORDS:
        parsed = grammar.data(words[0], args)
        if isinstance(parsed, MyData) and parsed.action == "delete":
            return DeleteConfirmed()
    return grammar.data(rest, args)


async def my_memberships(session: AsyncSession, event: ChatEvent) -> list[Member]:
    """Every member row that is this chat user, in groups bound in this workspace or tenant."""
    platform = platform_of(event)
    groups = await group_repo.groups_bound_in_workspace(session, platform, event.workspace_id)
    return await member_repo.memberships(
        session, [g.id for g in groups], platform, event.workspace_id, event.user_id, trusted_email(event)
    )


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _meeting_start(session: AsyncSession, meeting_id: int, cache: dict[int, str | None]) -> str | None:
    if meeting_id not in cache:
        meeting = await session.get(Meeting, meeting_id)
        cache[meeting_id] = _iso(meeting.starts_at) if meeting else None
    return cache[meeting_id]


async def _export_member(session: AsyncSession, member: Member) -> dict[str, Any]:
    group = await session.get(Group, member.group_id)
    meetings: dict[int, str | None] = {}
    submissions = []
    for s in await submission_repo.all_of_member(session, member.id):
        item = await session.get(AgendaItem, s.agenda_item_id) if s.agenda_item_id else None
        submissions.append(
            {
                "meeting": await _meeting_start(session, s.meeting_id, meetings),
                "kind": s.kind.value,
                "agenda_item": item.number if item else None,
                "text": s.text,
                "platform": s.source_platform.value,
                "created_at": _iso(s.created_at),
                "updated_at": _iso(s.updated_at),
            }
        )
    attendance = []
    for a in await attendance_repo.all_of_member(session, member.id):
        substitute_for = (
            await session.get(Member, a.substitute_for_member_id) if a.substitute_for_member_id else None
        )
        attendance.append(
            {
                "meeting": await _meeting_start(session, a.meeting_id, meetings),
                "status": a.status.value,
                "substitute_for": substitute_for.name if substitute_for else None,
            }
        )
    follow_ups = [
        {
            "meeting": await _meeting_start(session, f.meeting_id, meetings),
            "text": f.text,
            "due": _iso(f.due_date),
            "status": f.status.value,
            "relation": relation,
        }
        for relation, rows in (
            ("owner", await follow_up_repo.owned_by(session, member.id)),
            ("author", await follow_up_repo.created_by(session, member.id)),
        )
        for f in rows
    ]
    return {
        "group": group.name if group else None,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "organisation": member.organisation,
        "title": member.title,
        "email": member.email,
        "role": member.role.value,
        "on_roster": member.on_roster,
        "created_at": _iso(member.created_at),
        "identities": [
            {
                "platform": i.platform.value,
                "workspace_id": i.workspace_id,
                "user_id": i.user_id,
                "display_name": i.display_name,
            }
            for i in await member_repo.identities_of(session, member.id)
        ],
        "submissions": submissions,
        "attendance": attendance,
        "follow_ups": follow_ups,
        "work_group_sign_ups": [
            {"poll": question, "option": label, "at": _iso(at)}
            for question, label, at in await poll_repo.votes_of_member(session, member.id)
        ],
    }


async def export_payload(session: AsyncSession, members: Sequence[Member], now: datetime) -> dict[str, Any]:
    """Everything stored about these member rows (one person's memberships), as JSON data."""
    return {
        "exported_at": now.isoformat(),
        "memberships": [await _export_member(session, m) for m in members],
    }


def export_json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")


def export_summary(payload: dict[str, Any], locale: str) -> str:
    """The same data as plain text a person can read (labels in their language, values as
    stored: nothing is escaped or shortened)."""

    def label(key: str) -> str:
        return t(locale, f"data.summary_{key}")

    lines = [label("title"), f"{label('exported_at')}: {payload['exported_at']}", ""]
    for m in payload["memberships"]:
        name = f"{m['first_name']} {m['last_name']}".strip()
        lines += [
            f"== {label('group')}: {m['group'] or '?'} ==",
            f"{label('name')}: {name}",
            f"{label('organisation')}: {m['organisation'] or '-'}",
            f"{label('email')}: {m['email'] or '-'}",
            f"{label('role')}: {m['role']}",
            f"{label('on_roster')}: {label('yes') if m['on_roster'] else label('no')}",
            f"{label('identities')}:",
            *(f"  - {i['platform']} {i['user_id']} ({i['display_name']})" for i in m["identities"]),
            f"{label('submissions')}: {len(m['submissions'])}",
            *(f"  - {s['meeting'] or '?'} [{s['kind']}] {s['text']}" for s in m["submissions"]),
            f"{label('attendance')}: {len(m['attendance'])}",
            *(f"  - {a['meeting'] or '?'}: {a['status']}" for a in m["attendance"]),
            f"{label('follow_ups')}: {len(m['follow_ups'])}",
            *(f"  - {f['meeting'] or '?'} ({f['relation']}): {f['text']}" for f in m["follow_ups"]),
            f"{label('sign_ups')}: {len(m['work_group_sign_ups'])}",
            *(f"  - {v['poll']}: {v['option']}" for v in m["work_group_sign_ups"]),
            "",
        ]
    return "\n".join(lines)


def export_files(payload: dict[str, Any], locale: str) -> tuple[FileAttachment, FileAttachment]:
    return (
        FileAttachment(
            filename=EXPORT_FILENAME,
            content=export_json(payload),
            mime_type="application/json",
            title=t(locale, "data.export_title"),
        ),
        FileAttachment(
            filename=SUMMARY_FILENAME,
            content=export_summary(payload, locale).encode("utf-8"),
            mime_type="text/plain; charset=utf-8",
            title=t(locale, "data.summary_title"),
        ),
    )


async def _audit_each(
    session: AsyncSession, event: ChatEvent, members: Sequence[Member], action: str, now: datetime
) -> None:
    """One audit entry per group the action touched (the actor is the member themselves)."""
    for member in members:
        group = await session.get(Group, member.group_id)
        await audit.record_event(session, event, action, at=now, group=group, member=member)


async def export(session: AsyncSession, event: ChatEvent, ctx: HandlerContext, locale: str) -> Reply:
    """Build the export, record it, and hand it over privately (never into a channel)."""
    members = await my_memberships(session, event)
    if not members:
        return Reply(text=t(locale, "data.nothing"))
    now = ctx.now()
    payload = await export_payload(session, members, now)
    links: tuple[Link, ...] = ()
    if ctx.links is not None:
        urls = [(fmt, ctx.links.export_url(members, fmt, locale)) for fmt in ("json", "txt")]
        links = tuple(Link(t(locale, f"data.link_{fmt}"), url) for fmt, url in urls if url)
    private = Reply(text=t(locale, "data.export"), files=export_files(payload, locale), links=links)
    # This path only reads; the audit entry gets its own short write transaction, first.
    async with ctx.db.write() as writer:
        await _audit_each(writer, event, members, "data.export", now)
    if event.is_direct:
        return private
    platform = platform_of(event)
    messenger = ctx.messengers.for_platform(platform) if ctx.messengers is not None else None
    if messenger is None:
        return Reply(text=t(locale, "data.export_not_sent"), ok=False)
    try:
        await messenger.send_direct(
            DirectTarget(platform, event.workspace_id, event.user_id, event.user_email), private
        )
    except Exception as exc:
        log.warning("personal export not delivered to %s user: %s", platform, type(exc).__name__)
        return Reply(text=t(locale, "data.export_not_sent"), ok=False)
    return Reply(text=t(locale, "data.export_sent"))


async def _last_secretariat(session: AsyncSession, members: Sequence[Member]) -> Group | None:
    """A group in which this person is the only secretariat member (who may not delete)."""
    for member in members:
        if member.role != Role.SECRETARIAT:
            continue
        if len(await member_repo.with_role(session, member.group_id, Role.SECRETARIAT)) <= 1:
            return await session.get(Group, member.group_id)
    return None


async def ask_to_confirm(session: AsyncSession, event: ChatEvent, locale: str) -> Reply:
    """`data slett`: says what will go and what stays, and asks for `data slett bekreft`."""
    members = await my_memberships(session, event)
    if not members:
        return Reply(text=t(locale, "data.nothing"))
    group = await _last_secretariat(session, members)
    if group is not None:
        return Reply(text=t(locale, "data.last_secretariat", group=group.name), ok=False)
    button = Button(
        t(locale, "data.confirm_button"), "data:delete", value="data slett bekreft", style=ButtonStyle.DANGER
    )
    return Reply(text=t(locale, "data.confirm"), buttons=(button,))


async def _delete_conversation_references(session: AsyncSession, event: ChatEvent, member: Member) -> int:
    """The member's conversation references ("user:<id>" of each of their chat identities)."""
    removed = 0
    identities = await member_repo.identities_of(session, member.id)
    keys = {(i.platform.value, i.workspace_id, i.user_id) for i in identities}
    keys.add((platform_of(event), event.workspace_id, event.user_id))
    for platform, workspace_id, user_id in keys:
        removed += await conversation_repo.delete_reference(
            session, platform, workspace_id, conversation_repo.user_key(user_id)
        )
    return removed


async def delete(session: AsyncSession, event: ChatEvent, ctx: HandlerContext, locale: str) -> Reply:
    members = await my_memberships(session, event)
    if not members:
        return Reply(text=t(locale, "data.nothing"))
    group = await _last_secretariat(session, members)
    if group is not None:
        return Reply(text=t(locale, "data.last_secretariat", group=group.name), ok=False)
    await _audit_each(session, event, members, "data.delete", ctx.now())
    submissions = votes = attendance = follow_ups = 0
    for member in members:
        name = member.name
        submissions += await submission_repo.delete_all_of_member(session, member.id)
        votes += await poll_repo.delete_votes_of_member(session, member.id)
        attendance += await attendance_repo.forget_member(session, member.id)
        follow_ups += await follow_up_repo.delete_written_by(session, member.id)
        await mute_repo.forget_member(session, member.id)
        await follow_up_repo.forget_member(session, member.id)
        await poll_repo.forget_responsible(session, member.id, name)
        await _delete_conversation_references(session, event, member)
        await member_repo.anonymise(
            session, member, t(locale, "data.anonymous_first"), t(locale, "data.anonymous_last")
        )
    return Reply(
        text=t(
            locale,
            "data.deleted",
            submissions=submissions,
            votes=votes,
            attendance=attendance,
            follow_ups=follow_ups,
        )
    )


# `data eksport` and the question `data slett` asks only read (the export's audit entry has its
# own transaction); `data slett bekreft` deletes in one transaction with its audit entries.
@DATA.handles_unbound(MyData, read_only=True)
async def run(
    cmd: MyData, event: ChatEvent, session: AsyncSession, ctx: HandlerContext, locale: str
) -> Reply:
    if cmd.action == "export":
        return await export(session, event, ctx, locale)
    return await ask_to_confirm(session, event, locale)


@DATA.handles_unbound(DeleteConfirmed)
async def run_delete(
    cmd: DeleteConfirmed, event: ChatEvent, session: AsyncSession, ctx: HandlerContext, locale: str
) -> Reply:
    return await delete(session, event, ctx, locale)
