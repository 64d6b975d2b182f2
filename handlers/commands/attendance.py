"""`tilstede`, `forfall`, `vara for @person`: my attendance at the next meeting.

A substitute must come from the same organisation as the member they stand in for; the member
they replace is marked excused (unless they said otherwise), so they get no reminders.
"""

from __future__ import annotations

from typing import Any

from handlers import parser as grammar
from handlers.command_table import command
from handlers.commands.common import (
    answer,
    contacts,
    find_person,
    meeting_label,
    refuse,
    upcoming_meeting,
)
from handlers.context import HandlerContext
from handlers.events import Reply
from handlers.i18n import join_names, t
from handlers.identity import Scope, ensure_member
from handlers.parsed import Excused, PersonRef, Present, Substitute
from storage.models import AttendanceStatus, Meeting, Member, Role
from storage.repositories import attendance as attendance_repo

TILSTEDE = command(
    "tilstede",
    slash="/tilstede",
    aliases=("present",),
    usage_nb="tilstede [@person …]",
    usage_en="tilstede [@person …]",
    summary_nb="Meld at jeg er til stede (sekretariatet kan melde for andre)",
    summary_en="Mark me as present (the secretariat can mark others)",
    role="member",
    grammar=grammar.tilstede,
    position=50,
)
FORFALL = command(
    "forfall",
    aliases=("absent", "excused", "apologies"),
    usage_nb="forfall [@person …]",
    usage_en="forfall [@person …]",
    summary_nb="Meld forfall til møtet (sekretariatet kan melde for andre)",
    summary_en="Send my apologies for the meeting (the secretariat can for others)",
    role="member",
    grammar=grammar.forfall,
    position=60,
)
VARA = command(
    "vara",
    aliases=("substitute",),
    usage_nb="vara for @person",
    usage_en="vara for @person",
    summary_nb="Meld at jeg møter som vara for en annen",
    summary_en="I attend as a substitute for someone",
    role="member",
    grammar=grammar.vara,
    in_menu=False,
    position=70,
)


def _for_others(action: str, people: tuple[PersonRef, ...]) -> tuple[str, dict[str, Any]] | None:
    """Attendance set for others is an admin action (audited); my own is not."""
    return (action, {"people": [p.name for p in people]}) if people else None


async def _meeting(scope: Scope) -> Meeting | Reply:
    meeting = await upcoming_meeting(scope)
    if meeting is None:
        return refuse(scope, "attendance.no_meeting")
    return meeting


async def _substitute_conflict(scope: Scope, meeting: Meeting, member: Member) -> Reply | None:
    """Marking `member` present while someone is registered as their substitute would contradict
    itself: refuse, saying who is registered and how to change it."""
    substitute_id = (await attendance_repo.substitutes_for(scope.session, meeting.id)).get(member.id)
    if substitute_id is None:
        return None
    substitute = await scope.session.get(Member, substitute_id)
    return refuse(
        scope,
        "attendance.conflict_has_substitute",
        name=member.name,
        substitute=substitute.name if substitute is not None else "?",
        meeting=meeting_label(scope, meeting),
    )


async def _register_others(
    scope: Scope, people: tuple[PersonRef, ...], status: AttendanceStatus, command: str
) -> Reply:
    """The secretariat (or the chair) registers attendance for others, e.g. from the meeting's
    participant list. Every name must be found, or nothing is stored."""
    me = scope.member
    if me is None or me.role not in (Role.SECRETARIAT, Role.CHAIR):
        # members register themselves only: say how, and whom to ask for others
        return refuse(
            scope, "attendance.others_need_secretariat", command=command, contacts=await contacts(scope)
        )
    meeting = await _meeting(scope)
    if isinstance(meeting, Reply):
        return meeting
    names: list[str] = []
    for person_ref in people:
        person = await find_person(scope, person_ref.name, person_ref.user_id)
        if isinstance(person, Reply):
            return person
        if status == AttendanceStatus.PRESENT:
            conflict = await _substitute_conflict(scope, meeting, person)
            if conflict is not None:
                return conflict
        await attendance_repo.set_attendance(scope.session, meeting.id, person.id, status, now=scope.now)
        names.append(person.name)
    key = "attendance.present_others" if status == AttendanceStatus.PRESENT else "attendance.excused_others"
    return answer(scope, key, names=join_names(names, scope.locale), meeting=meeting_label(scope, meeting))


@TILSTEDE.handles(Present, audit=lambda c: _for_others("attendance.present", c.people))
async def present(cmd: Present, scope: Scope, ctx: HandlerContext) -> Reply:
    if cmd.people:
        return await _register_others(scope, cmd.people, AttendanceStatus.PRESENT, "tilstede")
    meeting = await _meeting(scope)
    if isinstance(meeting, Reply):
        return meeting
    member = await ensure_member(scope)
    conflict = await _substitute_conflict(scope, meeting, member)
    if conflict is not None:
        return conflict
    await attendance_repo.set_attendance(
        scope.session, meeting.id, member.id, AttendanceStatus.PRESENT, now=scope.now
    )
    return answer(scope, "attendance.present", meeting=meeting_label(scope, meeting))


@FORFALL.handles(Excused, audit=lambda c: _for_others("attendance.excused", c.people))
async def excused(cmd: Excused, scope: Scope, ctx: HandlerContext) -> Reply:
    if cmd.people:
        return await _register_others(scope, cmd.people, AttendanceStatus.EXCUSED, "forfall")
    meeting = await _meeting(scope)
    if isinstance(meeting, Reply):
        return meeting
    member = await ensure_member(scope)
    await attendance_repo.set_attendance(
        scope.session, meeting.id, member.id, AttendanceStatus.EXCUSED, now=scope.now
    )
    return answer(scope, "attendance.excused", meeting=meeting_label(scope, meeting))


def _same_organisation(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


@VARA.handles(Substitute)
async def substitute(cmd: Substitute, scope: Scope, ctx: HandlerContext) -> Reply:
    # Standing in for someone marks them excused: only a roster member (or the secretariat or
    # chair) may, never a guest who joined by posting and then named an organisation.
    me = scope.member
    if me is None or not (me.on_roster or me.role in (Role.SECRETARIAT, Role.CHAIR)):
        return refuse(scope, "attendance.substitute_roster_only", contacts=await contacts(scope))
    meeting = await _meeting(scope)
    if isinstance(meeting, Reply):
        return meeting
    person = await find_person(scope, cmd.for_name, cmd.for_user_id)
    if isinstance(person, Reply):
        return person
    if scope.member is not None and person.id == scope.member.id:
        return refuse(scope, "attendance.self")
    mine = scope.member.organisation.strip() if scope.member is not None else ""
    if not mine:
        return refuse(scope, "attendance.no_organisation")
    if not _same_organisation(mine, person.organisation):
        return refuse(
            scope,
            "attendance.other_organisation",
            mine=mine,
            name=person.name,
            theirs=person.organisation or "?",
        )
    current = await attendance_repo.get_attendance(scope.session, meeting.id, person.id)
    if current is not None and current.status == AttendanceStatus.PRESENT:
        return refuse(
            scope,
            "attendance.conflict_present",
            name=person.name,
            meeting=meeting_label(scope, meeting),
            contacts=await contacts(scope),
        )
    other = (await attendance_repo.substitutes_for(scope.session, meeting.id)).get(person.id)
    if other is not None and (scope.member is None or other != scope.member.id):
        registered = await scope.session.get(Member, other)
        return refuse(
            scope,
            "attendance.conflict_other_substitute",
            name=person.name,
            substitute=registered.name if registered is not None else "?",
            meeting=meeting_label(scope, meeting),
        )
    member = await ensure_member(scope)
    await attendance_repo.set_attendance(
        scope.session,
        meeting.id,
        member.id,
        AttendanceStatus.SUBSTITUTE,
        substitute_for_member_id=person.id,
        now=scope.now,
    )
    text = t(scope.locale, "attendance.substitute", name=person.name, meeting=meeting_label(scope, meeting))
    if await attendance_repo.get_attendance(scope.session, meeting.id, person.id) is None:
        await attendance_repo.set_attendance(
            scope.session, meeting.id, person.id, AttendanceStatus.EXCUSED, now=scope.now
        )
        text = f"{text} {t(scope.locale, 'attendance.substitute_excused', name=person.name)}"
    return Reply(text=text)
