"""`data eksport|slett`: a member's own data, in every group of this workspace they belong to.

Export is a JSON file. Delete removes my submissions, votes, attendance, reminder settings and
chat identity links, and anonymises my member row (kept so meeting records stay consistent).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import parser as grammar
from handlers.command_table import Subcommand, command
from handlers.context import HandlerContext
from handlers.events import ChatEvent, FileAttachment, Reply
from handlers.i18n import t
from handlers.identity import platform_of, trusted_email
from handlers.parsed import MyData
from storage.models import AgendaItem, Group, Meeting, Member
from storage.repositories import attendance as attendance_repo
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
    grammar=grammar.data,
    in_menu=False,
    position=140,
)

EXPORT_FILENAME = "referent-mine-data.json"


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


async def export(session: AsyncSession, event: ChatEvent, locale: str, now: datetime) -> Reply:
    members = await my_memberships(session, event)
    if not members:
        return Reply(text=t(locale, "data.nothing"))
    payload = {
        "exported_at": now.isoformat(),
        "memberships": [await _export_member(session, m) for m in members],
    }
    content = json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")
    attachment = FileAttachment(
        filename=EXPORT_FILENAME,
        content=content,
        mime_type="application/json",
        title=t(locale, "data.export_title"),
    )
    return Reply(text=t(locale, "data.export"), files=(attachment,))


async def delete(session: AsyncSession, event: ChatEvent, locale: str) -> Reply:
    members = await my_memberships(session, event)
    if not members:
        return Reply(text=t(locale, "data.nothing"))
    submissions = votes = attendance = 0
    for member in members:
        name = member.name
        submissions += await submission_repo.delete_all_of_member(session, member.id)
        votes += await poll_repo.delete_votes_of_member(session, member.id)
        attendance += await attendance_repo.forget_member(session, member.id)
        await mute_repo.forget_member(session, member.id)
        await follow_up_repo.forget_member(session, member.id)
        await poll_repo.forget_responsible(session, member.id, name)
        await member_repo.anonymise(
            session, member, t(locale, "data.anonymous_first"), t(locale, "data.anonymous_last")
        )
    return Reply(text=t(locale, "data.deleted", submissions=submissions, votes=votes, attendance=attendance))


@DATA.handles_unbound(MyData, read_only=lambda cmd: cmd.action == "export")
async def run(
    cmd: MyData, event: ChatEvent, session: AsyncSession, ctx: HandlerContext, locale: str
) -> Reply:
    if cmd.action == "export":
        return await export(session, event, locale, ctx.now())
    return await delete(session, event, locale)
