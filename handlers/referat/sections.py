"""The referat's sections other than the agenda: attendance, work groups, follow-ups (the
meeting's and those carried from earlier meetings), the compiled line, and the secretariat's
box with who is missing and who reminders cannot reach."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from handlers.i18n import platform_names
from handlers.referat.blocks import one_line, parse_text
from handlers.referat.deadline import collection_open, submission_deadline
from handlers.referat.model import (
    AttendanceView,
    AttendeeRow,
    Clock,
    DraftBoxView,
    FollowUpView,
    Labels,
    UnreachableView,
    WorkGroupView,
)
from handlers.referat.people import People
from handlers.reminders.report import NOT_FOUND, parse_unreachable
from storage.models import (
    AttendanceStatus,
    FollowUpStatus,
    Member,
    Role,
    SubmissionKind,
)
from storage.repositories.referat import ReferatData


def attendance(data: ReferatData, people: People, labels: Labels) -> AttendanceView:
    meeting, members = data.meeting, data.members
    chair_id = meeting.chair_member_id if meeting.chair_member_id in members else None
    if chair_id is None:
        chair_id = next((m.id for m in data.roster if m.role == Role.CHAIR), None)

    status: dict[int, AttendanceStatus] = {}
    for row in data.attendance:
        status[row.member_id] = row.status
    # A member a substitute stands in for has sent apologies, as `mote status` and the reminders
    # count it (storage.repositories.attendance.excused_member_ids).
    excused_ids = [
        row.member_id if row.status == AttendanceStatus.EXCUSED else row.substitute_for_member_id
        for row in data.attendance
        if row.status == AttendanceStatus.EXCUSED
        or (row.status == AttendanceStatus.SUBSTITUTE and row.substitute_for_member_id is not None)
    ]
    attending = [row for row in data.attendance if row.member_id not in excused_ids]

    rows: list[AttendeeRow] = []
    chair_rows: list[AttendeeRow] = []
    others: list[str] = []
    present_secretariat: list[int] = []
    for row in attending:
        member = members.get(row.member_id)
        if member is None:
            continue
        if member.role == Role.SECRETARIAT:
            present_secretariat.append(member.id)
            continue
        name, org, org_missing = people.parts(member.id)
        notes: list[str] = []
        if member.id == chair_id:
            notes.append(labels["chair_mark"])
        if row.status == AttendanceStatus.SUBSTITUTE and row.substitute_for_member_id in members:
            notes.append(labels["substitute_for"].format(name=people.name(row.substitute_for_member_id)))
        elif not member.on_roster:
            others.append(people.with_org(member.id))
            continue
        note = ", ".join(notes) or None
        detail = labels["attendee_detail"].format(organisation=org, note=note) if note else org
        row_view = AttendeeRow(name, org, note, org_missing, detail=detail)
        (chair_rows if member.id == chair_id else rows).append(row_view)
    rows = chair_rows + rows  # the chair opens the list, as in the house style

    chair_text: str | None = None
    if chair_id is not None and chair_id not in excused_ids:
        chair = members[chair_id]
        title = one_line(chair.title)
        chair_text = f"{people.name(chair_id)}, {title}" if title else people.with_org(chair_id)

    secretariat_ids = present_secretariat or [m.id for m in data.roster if m.role == Role.SECRETARIAT]
    return AttendanceView(
        present=tuple(rows),
        present_placeholder=None if rows else labels["attendance_missing"],
        chair=chair_text,
        chair_placeholder=None if chair_text else labels["chair_missing"],
        secretariat=tuple(people.with_org(i) for i in secretariat_ids),
        secretariat_placeholder=None if secretariat_ids else labels["secretariat_missing"],
        others=tuple(others),
        excused=tuple(
            people.with_org(i) for i in dict.fromkeys(excused_ids) if i is not None and i in members
        ),
    )


def work_groups(data: ReferatData, people: People, labels: Labels) -> tuple[WorkGroupView, ...]:
    signed_up: dict[int, list[int]] = defaultdict(list)
    for vote in data.votes:
        if vote.member_id in data.members:
            signed_up[vote.option_id].append(vote.member_id)
    groups: list[WorkGroupView] = []
    for number, option in enumerate(data.options, start=1):
        responsible: str | None = None
        if option.responsible_member_id in data.members:
            responsible = people.name(option.responsible_member_id)
        elif one_line(option.responsible_text):
            responsible = one_line(option.responsible_text)
        groups.append(
            WorkGroupView(
                heading=labels["work_group_heading"].format(number=number, label=one_line(option.label)),
                responsible=responsible,
                responsible_placeholder=None if responsible else labels["responsible_missing"],
                cap=labels["cap"].format(cap=option.cap) if option.cap else None,
                members=tuple(people.with_org(m) for m in dict.fromkeys(signed_up.get(option.id, []))),
            )
        )
    return tuple(groups)


def follow_ups(
    data: ReferatData, people: People, labels: Labels, clock: Clock, numbers_by_item: dict[int, int]
) -> tuple[FollowUpView, ...]:
    views: list[FollowUpView] = []
    for number, follow_up in enumerate(data.follow_ups, start=1):
        owner = ""
        if follow_up.owner_member_id in data.members:
            owner = people.name(follow_up.owner_member_id)
        elif one_line(follow_up.owner_text):
            owner = one_line(follow_up.owner_text)
        details = [labels["follow_up_owner"].format(owner=owner or labels["responsible_missing"])]
        if follow_up.due_date is not None:
            details.append(labels["follow_up_due"].format(date=clock.short_day(follow_up.due_date)))
        if follow_up.agenda_item_id in numbers_by_item:
            details.append(labels["follow_up_item"].format(number=numbers_by_item[follow_up.agenda_item_id]))
        if follow_up.status == FollowUpStatus.DONE:
            details.append(labels["follow_up_done"])
        views.append(
            FollowUpView(
                number=number,
                text=parse_text(follow_up.text),
                details=", ".join(details),
                done=follow_up.status == FollowUpStatus.DONE,
                owner_missing=not owner,
            )
        )
    return tuple(views)


def carried(data: ReferatData, people: People, labels: Labels, clock: Clock) -> tuple[FollowUpView, ...]:
    """Follow-ups carried from earlier meetings: owner, due date, status, and where from."""
    views: list[FollowUpView] = []
    for number, (follow_up, source) in enumerate(data.carried, start=1):
        owner = ""
        if follow_up.owner_member_id in data.members:
            owner = people.name(follow_up.owner_member_id)
        elif one_line(follow_up.owner_text):
            owner = one_line(follow_up.owner_text)
        done = follow_up.status == FollowUpStatus.DONE and follow_up.closed_in_meeting_id == data.meeting.id
        details = [labels["follow_up_owner"].format(owner=owner or labels["responsible_missing"])]
        if follow_up.due_date is not None:
            details.append(labels["follow_up_due"].format(date=clock.short_day(follow_up.due_date)))
        details.append(labels["follow_up_status_done" if done else "follow_up_status_open"])
        details.append(labels["follow_up_from"].format(date=clock.short_day(source.starts_at)))
        views.append(
            FollowUpView(
                number=number,
                text=parse_text(follow_up.text),
                details=", ".join(details),
                done=done,
                owner_missing=not owner,
            )
        )
    return tuple(views)


def compiled(data: ReferatData, labels: Labels, clock: Clock, now: datetime, final: bool) -> str:
    """The line under the title: when it was compiled (or frozen), whether it was approved, and,
    on a draft, that a final version exists."""
    meeting = data.meeting
    parts = [labels["final_compiled" if final else "compiled_at"].format(when=clock.moment(now))]
    if meeting.referat_approved_at is not None:
        parts.append(
            labels["approved_note"].format(
                date=clock.short_day(meeting.referat_approved_at),
                name=one_line(meeting.referat_approved_by) or "–",
            )
        )
    if not final and data.final_frozen_at is not None:
        parts.append(labels["final_exists"].format(when=clock.moment(data.final_frozen_at)))
    return " · ".join(parts)


def draft_box(
    data: ReferatData, people: People, labels: Labels, clock: Clock, now: datetime, lang: str
) -> DraftBoxView | None:
    """Who still owes a round-table entry, while collection is open; None once it is closed."""
    meeting, group = data.meeting, data.group
    if not collection_open(meeting, group, now):
        return None
    deadline = submission_deadline(meeting, group)
    submitted = {
        s.member_id for s in data.submissions if s.kind in (SubmissionKind.ROUND, SubmissionKind.NOTHING)
    }
    away = {a.member_id for a in data.attendance if a.status == AttendanceStatus.EXCUSED}
    # A member whose substitute came has sent apologies in effect.
    away |= {
        a.substitute_for_member_id
        for a in data.attendance
        if a.status == AttendanceStatus.SUBSTITUTE and a.substitute_for_member_id is not None
    }
    expected = [m for m in data.roster if m.role != Role.SECRETARIAT and m.id not in away]
    missing = [m for m in expected if m.id not in submitted]
    days = (deadline.astimezone(clock.zone).date() - now.astimezone(clock.zone).date()).days
    left = (
        labels["days_left_0"]
        if days <= 0
        else labels["days_left_1"]
        if days == 1
        else (labels["days_left_n"].format(n=days))
    )
    summary = labels["box_all_in"] if expected else labels["box_no_roster"]
    if missing:
        summary = labels["box_missing"].format(count=len(missing), total=len(expected))
    unreachable = unreachable_rows(data, people, labels, missing, lang)
    return DraftBoxView(
        title=labels["box_title"],
        summary=summary,
        missing=tuple(people.with_org(m.id) for m in missing),
        deadline=labels["box_deadline"].format(when=clock.moment(deadline), left=left),
        unreachable=unreachable,
        unreachable_title=labels["box_unreachable"].format(count=len(unreachable)) if unreachable else "",
    )


def unreachable_rows(
    data: ReferatData, people: People, labels: Labels, missing: list[Member], lang: str
) -> tuple[UnreachableView, ...]:
    """Of the members still missing, those the reminders cannot reach: found on none of the
    group's platforms (as the reminder log recorded), or with no e-mail on the roster and no
    chat identity to reach them by."""
    found: list[UnreachableView] = []
    for member in missing:
        reason = data.unreachable.get(member.id)
        if reason is not None:
            code, about = parse_unreachable(reason)
            if code == NOT_FOUND:
                names = platform_names(about, lang)
                why = labels["unreachable_not_found"].format(
                    platforms=names or labels["unreachable_any_platform"]
                )
            else:
                why = labels["unreachable_no_email"]
        elif not member.email and member.id not in data.linked:
            why = labels["unreachable_no_email"]
        else:
            continue
        found.append(UnreachableView(people.with_org(member.id), why))
    return tuple(found)
