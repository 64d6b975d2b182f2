"""The invitation, the preview and the result as plain text, in bokmål or English.

Plain text (no Markdown), so the CLI prints it as is; chat escapes it like any other text.
"""

from __future__ import annotations

from datetime import date, time

from handlers.i18n import format_day, join_names
from handlers.invitation.apply import ImportResult, ItemChange, Preview
from handlers.invitation.messages import message
from handlers.invitation.model import AgendaEntry, Invitation
from handlers.text import one_line

_BULLET = "  - "


def _clock(moment: time | None, locale: str | None) -> str:
    if moment is None:
        return "?"
    return moment.strftime("%H:%M" if (locale or "").startswith("en") else "%H.%M")


def _day(day: date | None, locale: str | None) -> str:
    return format_day(day, locale) if day is not None else "?"


def _item_line(entry: AgendaEntry, locale: str | None) -> str:
    line = f"{_BULLET}{entry.number}. {one_line(entry.title, 100)}"
    if entry.presenter:
        line += " " + message(locale, "read_item_presenter", presenter=entry.presenter)
    if entry.theme:
        line += f" ({message(locale, 'read_item_round', theme=one_line(entry.theme, 100))})"
    return line


def render_problems(invitation: Invitation, locale: str | None) -> str:
    lines = [message(locale, "problems_header")]
    lines += [f"{_BULLET}{problem.text(locale)}" for problem in invitation.problems]
    return "\n".join(lines)


def render_invitation(invitation: Invitation, locale: str | None) -> str:
    """What was read: the meeting, the agenda (and which section it came from), roster, groups."""
    start, end = _clock(invitation.start, locale), _clock(invitation.end, locale)
    lines = [message(locale, "read_header")]
    lines.append(message(locale, "read_when", day=_day(invitation.day, locale), start=start, end=end))
    if invitation.place:
        lines.append(message(locale, "read_place", place=invitation.place))
    lines += [message(locale, "read_link", label=link.label, url=link.url) for link in invitation.links]
    if invitation.papers_url:
        lines.append(message(locale, "read_papers", url=invitation.papers_url))
    if invitation.agenda_sections > 1 and invitation.agenda_heading:
        heading, count = invitation.agenda_heading, invitation.agenda_sections
        lines.append(message(locale, "read_agenda_from", heading=heading, count=count))
    lines.append(message(locale, "read_agenda", count=len(invitation.agenda)))
    lines += [_item_line(entry, locale) for entry in invitation.agenda]
    if invitation.invitees:
        lines.append(message(locale, "read_invitees", count=len(invitation.invitees)))
    if invitation.work_groups:
        lines.append(message(locale, "read_work_groups", count=len(invitation.work_groups)))
        for group in invitation.work_groups:
            who = (
                f" ({message(locale, 'read_responsible', name=group.responsible)})"
                if group.responsible
                else ""
            )
            lines.append(f"{_BULLET}{group.label}{who}")
    if invitation.problems:
        lines.append(render_problems(invitation, locale))
    return "\n".join(lines)


def _fields(fields: tuple[str, ...], locale: str | None) -> str:
    names = {"starts_at": "time", "ends_at": "time", "papers_url": "papers", "round_question": "round"}
    return ", ".join(message(locale, f"field_{names.get(f, f)}") for f in fields)


def _change_line(change: ItemChange, locale: str | None) -> list[str]:
    lines = []
    if change.old_title is not None:
        lines.append(
            message(locale, "plan_item_renamed", number=change.number, old=change.old_title, new=change.title)
        )
    if change.fields:
        lines.append(
            message(locale, "plan_item_updated", number=change.number, fields=_fields(change.fields, locale))
        )
    return lines


def _meeting_lines(preview: Preview, locale: str | None) -> list[str]:
    invitation = preview.invitation
    day = _day(invitation.day, locale)
    if preview.meeting_id is None:
        start, end = _clock(invitation.start, locale), _clock(invitation.end, locale)
        place = invitation.place or "Teams"
        return [message(locale, "plan_meeting_new", day=day, start=start, end=end, place=place)]
    if preview.meeting_fields:
        return [
            message(locale, "plan_meeting_update", day=day, fields=_fields(preview.meeting_fields, locale))
        ]
    return [message(locale, "plan_meeting_same", day=day)]


def _roster_lines(preview: Preview, locale: str | None) -> list[str]:
    lines = []
    if preview.members_added:
        names = join_names([i.name for i in preview.members_added], locale)
        lines.append(message(locale, "plan_members_added", count=len(preview.members_added), names=names))
    if preview.members_known:
        lines.append(message(locale, "plan_members_known", count=len(preview.members_known)))
    if preview.members_filled:
        names = join_names([f.name for f in preview.members_filled], locale)
        lines.append(message(locale, "plan_members_filled", names=names))
    if preview.members_kept:
        names = join_names(list(preview.members_kept), locale)
        lines.append(message(locale, "plan_members_kept", count=len(preview.members_kept), names=names))
    return lines


def _plan_lines(preview: Preview, locale: str | None) -> list[str]:
    lines = _meeting_lines(preview, locale)
    if preview.items_added:
        items = "; ".join(f"{e.number}. {one_line(e.title, 60)}" for e in preview.items_added)
        lines.append(message(locale, "plan_items_added", items=items))
    for change in preview.items_changed:
        lines += _change_line(change, locale)
    if preview.items_kept:
        items = "; ".join(f"{number}. {one_line(title, 60)}" for number, title in preview.items_kept)
        lines.append(message(locale, "plan_items_kept", items=items))
    lines += _roster_lines(preview, locale)
    if preview.poll_options:
        count = len(preview.poll_options)
        lines.append(message(locale, "plan_poll_new", question=preview.poll_question, count=count))
    elif preview.poll_existing_id is not None:
        lines.append(message(locale, "plan_poll_same", poll=preview.poll_existing_id))
    if not preview.has_changes:
        lines.append(message(locale, "plan_nothing"))
    return lines


def render_preview(preview: Preview, locale: str | None) -> str:
    """What was read, then what the import would do."""
    head = message(locale, "plan_header", group=preview.group_name)
    body = "\n".join(f"{_BULLET}{line}" for line in _plan_lines(preview, locale))
    return f"{render_invitation(preview.invitation, locale)}\n\n{head}\n{body}"


def render_result(result: ImportResult, locale: str | None) -> str:
    """What was done (after `apply`)."""
    lines = [message(locale, "done_header", group=result.preview.group_name)]
    lines.append(_BULLET + message(locale, "done_meeting", meeting=result.meeting_id))
    lines += [f"{_BULLET}{line}" for line in _plan_lines(result.preview, locale)]
    if result.poll_id is not None and result.preview.poll_options:
        lines.append(_BULLET + message(locale, "done_poll", poll=result.poll_id))
    return "\n".join(lines)
