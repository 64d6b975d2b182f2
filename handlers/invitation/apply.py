"""From a parsed invitation to the group's meeting, agenda, roster and work-group poll.

`plan_import` reads the database and says what would be created or changed (a `Preview`);
`apply_plan` does exactly that in the caller's transaction; `import_invitation` runs both in one
write transaction, so an import is all or nothing. Nobody is ever removed from the roster:
members the invitation does not name are listed as kept. Re-importing the same invitation finds
everything in place and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.audit import record_cli
from handlers.i18n import t
from handlers.invitation.model import AgendaEntry, Invitation, Invitee
from storage.db import Database
from storage.models import AgendaItem, Group, Meeting, MeetingStatus, Member, PollStatus
from storage.repositories import meetings as meeting_repo
from storage.repositories import members as member_repo
from storage.repositories import polls as poll_repo
from storage.repositories.polls import OptionSpec


class GroupNotFound(LookupError):
    """No group has exactly this name."""


class NotImportable(ValueError):
    """The invitation has problems; nothing may be imported from it."""


@dataclass(frozen=True, slots=True)
class ItemChange:
    number: int
    title: str
    old_title: str | None  # set when the item is renamed
    fields: tuple[str, ...]  # other fields that change: description, presenter, kind


@dataclass(frozen=True, slots=True)
class MemberFill:
    name: str
    member_id: int
    email: str | None  # the e-mail to fill in, when the member has none
    organisation: str | None  # the organisation to fill in, when the member has none


@dataclass(frozen=True, slots=True)
class Preview:
    """What the import would do. Plain values only, so chat can keep it and show it later."""

    group_name: str
    group_id: int
    locale: str
    timezone: str
    invitation: Invitation
    meeting_id: int | None  # the existing meeting on that date, or None for a new one
    meeting_fields: tuple[str, ...]  # what changes on an existing meeting
    items_added: tuple[AgendaEntry, ...]
    items_changed: tuple[ItemChange, ...]
    items_kept: tuple[tuple[int, str], ...]  # on the meeting's agenda, not in the invitation
    members_added: tuple[Invitee, ...]
    members_known: tuple[str, ...]
    members_filled: tuple[MemberFill, ...]
    members_kept: tuple[str, ...]  # on the roster, not in the invitation: kept
    poll_question: str
    poll_options: tuple[tuple[str, str | None], ...]  # (label, responsible) of a new poll
    poll_existing_id: int | None  # the same poll already exists

    @property
    def has_changes(self) -> bool:
        return bool(
            self.meeting_id is None
            or self.meeting_fields
            or self.items_added
            or self.items_changed
            or self.members_added
            or self.members_filled
            or self.poll_options
        )


@dataclass(frozen=True, slots=True)
class ImportResult:
    preview: Preview
    meeting_id: int
    poll_id: int | None  # the new poll (not yet posted), or the one that was there
    applied: bool  # False for a dry run


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


async def _group(session: AsyncSession, name: str) -> Group:
    # Names are unique per workspace/tenant only: several groups of one name are not "found".
    found = list((await session.execute(select(Group).where(Group.name == name.strip()))).scalars())
    if len(found) != 1:
        raise GroupNotFound(name)
    return found[0]


def _span(invitation: Invitation, zone: ZoneInfo) -> tuple[datetime, datetime]:
    if invitation.day is None or invitation.start is None or invitation.end is None:
        raise ValueError("an invitation without date and time has no meeting to plan")
    return (
        datetime.combine(invitation.day, invitation.start, tzinfo=zone),
        datetime.combine(invitation.day, invitation.end, tzinfo=zone),
    )


def _meeting_values(invitation: Invitation, zone: ZoneInfo) -> dict[str, object]:
    """The meeting's fields the invitation sets (a field it leaves out is left as it is)."""
    starts_at, ends_at = _span(invitation, zone)
    values: dict[str, object] = {"starts_at": starts_at, "ends_at": ends_at}
    if invitation.place:
        values["place"] = invitation.place[:300]
    if invitation.papers_url:
        values["papers_url"] = invitation.papers_url[:500]
    if invitation.round_question:
        values["round_question"] = invitation.round_question
    return values


def _meeting_changes(meeting: Meeting, values: dict[str, object]) -> tuple[str, ...]:
    changed = [name for name, value in values.items() if getattr(meeting, name) != value]
    fields = ["time" if name in ("starts_at", "ends_at") else name for name in changed]
    return tuple(dict.fromkeys(fields))


def _item_fields(item: AgendaItem, entry: AgendaEntry) -> tuple[str, ...]:
    fields = []
    if entry.description and item.description != entry.description:
        fields.append("description")
    if entry.presenter and item.presenter != entry.presenter:
        fields.append("presenter")
    if item.kind != entry.kind:
        fields.append("kind")
    return tuple(fields)


def _agenda_plan(
    items: list[AgendaItem], agenda: tuple[AgendaEntry, ...]
) -> tuple[tuple[AgendaEntry, ...], tuple[ItemChange, ...], tuple[tuple[int, str], ...]]:
    by_number = {item.number: item for item in items}
    added: list[AgendaEntry] = []
    changed: list[ItemChange] = []
    for entry in agenda:
        item = by_number.get(entry.number)
        if item is None:
            added.append(entry)
            continue
        old = item.title if item.title != entry.title else None
        fields = _item_fields(item, entry)
        if old is not None or fields:
            changed.append(ItemChange(entry.number, entry.title, old, fields))
    numbers = {entry.number for entry in agenda}
    kept = tuple((item.number, item.title) for item in items if item.number not in numbers)
    return tuple(added), tuple(changed), kept


def _match(members: list[Member], invitee: Invitee) -> Member | None:
    """Match by e-mail first, then by the exact full name (ignoring case and spacing)."""
    email = member_repo.normalise_email(invitee.email)
    if email is not None:
        found = next((m for m in members if m.email and m.email.lower() == email), None)
        if found is not None:
            return found
    name = _fold(invitee.name)
    return next((m for m in members if _fold(m.name) == name), None)


def _fill(member: Member, invitee: Invitee, taken: set[str]) -> MemberFill | None:
    email = member_repo.normalise_email(invitee.email)
    new_email = email if member.email is None and email is not None and email not in taken else None
    new_org = invitee.organisation if not member.organisation and invitee.organisation else None
    if new_email is None and new_org is None:
        return None
    return MemberFill(member.name, member.id, new_email, new_org)


def _roster_plan(
    members: list[Member], invitees: tuple[Invitee, ...]
) -> tuple[tuple[Invitee, ...], tuple[str, ...], tuple[MemberFill, ...], tuple[str, ...]]:
    taken = {m.email.lower() for m in members if m.email}
    added: list[Invitee] = []
    known: list[str] = []
    filled: list[MemberFill] = []
    matched: set[int] = set()
    for invitee in invitees:
        member = _match(members, invitee)
        if member is None:
            added.append(invitee)
            continue
        matched.add(member.id)
        known.append(member.name)
        fill = _fill(member, invitee, taken)
        if fill is not None:
            filled.append(fill)
    kept = tuple(m.name for m in members if m.on_roster and m.id not in matched) if invitees else ()
    return tuple(added), tuple(known), tuple(filled), kept


async def _existing_poll(
    session: AsyncSession, group_id: int, meeting_id: int | None, labels: list[str]
) -> int | None:
    if meeting_id is None or not labels:
        return None
    poll = await poll_repo.latest_poll(session, group_id)
    if poll is None or poll.meeting_id != meeting_id or poll.status != PollStatus.POSTED:
        return None
    options = await poll_repo.options_of(session, poll.id)
    return poll.id if [o.label for o in options] == labels else None


async def plan_import(session: AsyncSession, invitation: Invitation, group_name: str) -> Preview:
    """What importing the invitation into the group would do. Reads only."""
    if invitation.problems or invitation.day is None or invitation.start is None:
        raise NotImportable(invitation.problems)
    group = await _group(session, group_name)
    zone = ZoneInfo(group.timezone)
    meeting = await meeting_repo.meeting_on_date(session, group.id, invitation.day, group.timezone)
    items = await meeting_repo.agenda_items(session, meeting.id) if meeting is not None else []
    added, changed, kept = _agenda_plan(items, invitation.agenda)
    members = await member_repo.members_of(session, group.id)
    m_added, m_known, m_filled, m_kept = _roster_plan(members, invitation.invitees)
    labels = [w.label[:300] for w in invitation.work_groups]
    existing_poll = await _existing_poll(session, group.id, meeting.id if meeting else None, labels)
    return Preview(
        group_name=group.name,
        group_id=group.id,
        locale=group.locale or "nb",
        timezone=group.timezone,
        invitation=invitation,
        meeting_id=meeting.id if meeting is not None else None,
        meeting_fields=_meeting_changes(meeting, _meeting_values(invitation, zone)) if meeting else (),
        items_added=added,
        items_changed=changed,
        items_kept=kept,
        members_added=m_added,
        members_known=m_known,
        members_filled=m_filled,
        members_kept=m_kept,
        poll_question=t(group.locale, "poll.default_question"),
        poll_options=()
        if existing_poll is not None
        else tuple((w.label[:300], w.responsible) for w in invitation.work_groups),
        poll_existing_id=existing_poll,
    )


async def _write_meeting(session: AsyncSession, preview: Preview) -> Meeting:
    zone = ZoneInfo(preview.timezone)
    values = _meeting_values(preview.invitation, zone)
    if preview.meeting_id is not None:
        meeting = await meeting_repo.get_meeting(session, preview.meeting_id)
        if meeting is None:
            raise LookupError(f"meeting {preview.meeting_id} went away between preview and import")
        for name, value in values.items():
            setattr(meeting, name, value)
        return meeting
    starts_at, ends_at = _span(preview.invitation, zone)
    previous = await meeting_repo.latest_meeting(session, preview.group_id, before=starts_at)
    meeting = await meeting_repo.create_meeting(
        session,
        preview.group_id,
        starts_at,
        ends_at,
        place=str(values.get("place", "Teams")),
        status=MeetingStatus.OPEN,
        previous_meeting_date=previous.starts_at.astimezone(zone).date() if previous else None,
    )
    meeting.papers_url = preview.invitation.papers_url
    meeting.round_question = preview.invitation.round_question
    return meeting


async def _write_agenda(session: AsyncSession, meeting_id: int, preview: Preview) -> None:
    adding = {entry.number for entry in preview.items_added}
    changing = {change.number for change in preview.items_changed}
    items = await meeting_repo.agenda_items(session, meeting_id)
    present = {item.number for item in items}
    first = min((item.position for item in items), default=1.0)
    previous: int | None = None
    for entry in preview.invitation.agenda:
        if entry.number in adding:
            item = await meeting_repo.add_agenda_item(
                session,
                meeting_id,
                entry.number,
                entry.title[:500],
                after=previous if previous in present else None,
                kind=entry.kind,
                description=entry.description,
            )
            item.presenter = entry.presenter[:300] if entry.presenter else None
            if previous is None and items:
                item.position = first - 1.0  # the invitation's first item goes first
            present.add(entry.number)
        elif entry.number in changing:
            existing = await meeting_repo.item_by_number(session, meeting_id, entry.number)
            if existing is None:
                raise LookupError(f"agenda item {entry.number} went away between preview and import")
            existing.title, existing.kind = entry.title[:500], entry.kind
            existing.description = entry.description or existing.description
            existing.presenter = entry.presenter[:300] if entry.presenter else existing.presenter
        previous = entry.number


async def _write_roster(session: AsyncSession, preview: Preview) -> None:
    for fill in preview.members_filled:
        member = await member_repo.get_member(session, fill.member_id)
        if member is None:
            raise LookupError(f"member {fill.member_id} went away between preview and import")
        member.email = fill.email or member.email
        member.organisation = fill.organisation or member.organisation
    for invitee in preview.members_added:
        await member_repo.create_member(
            session,
            preview.group_id,
            invitee.first_name,
            invitee.last_name,
            organisation=invitee.organisation,
            email=invitee.email,
        )


async def _write_poll(session: AsyncSession, preview: Preview, meeting_id: int) -> int | None:
    if not preview.poll_options:
        return preview.poll_existing_id
    options: list[OptionSpec] = []
    for label, responsible in preview.poll_options:
        found = await member_repo.by_name(session, preview.group_id, responsible) if responsible else []
        options.append(OptionSpec(label, responsible, found[0].id if len(found) == 1 else None))
    poll = await poll_repo.create_poll(
        session,
        group_id=preview.group_id,
        meeting_id=meeting_id,
        question=preview.poll_question,
        options=options,
        is_work_groups=True,
    )
    return poll.id


async def apply_plan(session: AsyncSession, preview: Preview) -> ImportResult:
    """Do what the preview says, in the caller's transaction."""
    meeting = await _write_meeting(session, preview)
    await _write_agenda(session, meeting.id, preview)
    await _write_roster(session, preview)
    await session.flush()
    poll_id = await _write_poll(session, preview, meeting.id)
    await session.flush()
    return ImportResult(preview, meeting.id, poll_id, applied=True)


async def import_invitation(
    db: Database,
    invitation: Invitation,
    group_name: str,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ImportResult:
    """Plan and (unless a dry run) apply, in one write transaction; recorded in the audit log."""
    if dry_run:
        async with db.session() as session:
            preview = await plan_import(session, invitation, group_name)
            return ImportResult(preview, preview.meeting_id or 0, preview.poll_existing_id, applied=False)
    async with db.write() as session:
        preview = await plan_import(session, invitation, group_name)
        result = await apply_plan(session, preview)
        group = await session.get(Group, preview.group_id)
        await record_cli(
            session,
            "invitation.import",
            at=now or datetime.now(UTC),
            group=group,
            detail={
                "meeting_id": result.meeting_id,
                "meeting_created": preview.meeting_id is None,
                "items_added": len(preview.items_added),
                "items_changed": len(preview.items_changed),
                "members_added": len(preview.members_added),
                "poll_id": result.poll_id,
            },
        )
    return result
