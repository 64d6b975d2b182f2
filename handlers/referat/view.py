"""The referat as a frozen view-model, built once from storage and then rendered three ways.

Every decision about *what* the minutes say (order of sections, fixed sentences, who counts as
present, placeholders for what is missing, the secretariat's box) is made here, so the Markdown,
HTML and Word renderers only decide *how* it looks and cannot drift apart. Strings in the model
are plain text; each renderer escapes them for its own format.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from handlers.agenda import date_in_title, is_any_other, round_table_title
from handlers.i18n import normalise_locale, platform_names
from handlers.referat.blocks import Text, one_line, parse_text
from handlers.referat.deadline import collection_open, group_zone, submission_deadline
from handlers.reminders.report import NOT_FOUND, parse_unreachable
from storage.models import (
    AgendaItem,
    AgendaKind,
    AttendanceStatus,
    FollowUpStatus,
    Member,
    Role,
    Submission,
    SubmissionKind,
)
from storage.repositories.referat import ReferatData

LOCALES = ("nb", "en")
Labels = Mapping[str, str]


# --- labels and dates ----------------------------------------------------------------------


@lru_cache(maxsize=len(LOCALES))
def load_labels(lang: str) -> dict[str, str]:
    """The label file for nb or en, from templates/referat (data, editable without code)."""
    name = f"labels.{normalise_locale(lang, 'nb')}.toml"
    raw = resources.files("templates").joinpath("referat", name).read_text(encoding="utf-8")
    return {key: str(value) for key, value in tomllib.loads(raw).items()}


@dataclass(frozen=True, slots=True)
class Clock:
    """Formats instants the way the group's locale writes them, in the group's time zone."""

    labels: Labels
    zone: ZoneInfo

    @property
    def babel_locale(self) -> str:
        return self.labels["babel_locale"]

    def day(self, value: date | datetime) -> str:
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        return format_date(value, self.labels["date_pattern"], locale=self.babel_locale)

    def short_day(self, value: date | datetime) -> str:
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        return format_date(value, self.labels["short_date_pattern"], locale=self.babel_locale)

    def clock_time(self, value: datetime) -> str:
        return format_time(value.astimezone(self.zone), self.labels["time_pattern"], locale=self.babel_locale)

    def moment(self, value: datetime) -> str:
        return self.labels["moment"].format(date=self.day(value), time=self.clock_time(value))

    def span(self, start: datetime, end: datetime) -> str:
        """Like 'tirsdag 20. januar 2026 kl. 10.00–12.00'; both days are named past midnight."""
        local_start, local_end = start.astimezone(self.zone), end.astimezone(self.zone)
        if local_start.date() == local_end.date():
            return self.labels["time_span"].format(
                date=self.day(local_start), start=self.clock_time(local_start), end=self.clock_time(local_end)
            )
        return self.labels["time_span_days"].format(
            date=self.day(local_start),
            start=self.clock_time(local_start),
            end_date=self.day(local_end),
            end=self.clock_time(local_end),
        )


# --- the model -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttendeeRow:
    name: str
    organisation: str  # the org-missing placeholder when the member has not set one
    note: str | None  # "møteleder", "vara for Kari Nordmann"
    organisation_missing: bool = False


@dataclass(frozen=True, slots=True)
class AttendanceView:
    present: tuple[AttendeeRow, ...]
    present_placeholder: str | None
    chair: str | None
    chair_placeholder: str | None
    secretariat: tuple[str, ...]
    secretariat_placeholder: str | None
    others: tuple[str, ...]
    excused: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Entry:
    """One member's text under one heading: several posts, in posting order."""

    member_id: int
    heading: str  # "Kari Nordmann, Asker kommune:" or "Innspill fra Kari Nordmann, Asker kommune:"
    text: Text


@dataclass(frozen=True, slots=True)
class ItemView:
    number: int
    heading: str  # "Sak 3. Tittel"
    anchor: str  # "sak-3"
    presenter: str | None  # "Kari Nordmann orienterte."
    fixed: str | None  # "Innkallingen ble godkjent."
    notes: Text
    notes_placeholder: str | None
    decision: Text
    decision_placeholder: str | None
    inputs: tuple[Entry, ...]
    follow_up_ref: str | None
    is_round_table: bool = False


@dataclass(frozen=True, slots=True)
class RoundTableView:
    heading: str
    anchor: str
    theme: str | None  # what follows a dash or colon in the item's title
    question: str | None
    entries: tuple[Entry, ...]
    placeholder: str | None


@dataclass(frozen=True, slots=True)
class WorkGroupView:
    heading: str  # "Gruppe 1 – Tema"
    responsible: str | None
    responsible_placeholder: str | None
    cap: str | None
    members: tuple[str, ...]  # "Navn (Organisasjon)", in sign-up order


@dataclass(frozen=True, slots=True)
class FollowUpView:
    number: int
    text: Text
    details: str  # "Ansvarlig: Sekretariatet, frist 3. februar 2026, sak 4"
    done: bool
    owner_missing: bool


@dataclass(frozen=True, slots=True)
class UnreachableView:
    name: str  # "Navn (Organisasjon)"
    why: str  # "ikke funnet i Slack eller Teams", "ingen e-post i deltakerlisten"


@dataclass(frozen=True, slots=True)
class DraftBoxView:
    title: str
    summary: str  # "Har ikke levert ... (3 av 40):" or "Alle har levert ..."
    missing: tuple[str, ...]
    deadline: str
    # Of the missing, those reminders cannot reach, and why; with its heading ("" when none).
    unreachable: tuple[UnreachableView, ...] = ()
    unreachable_title: str = ""


@dataclass(frozen=True, slots=True)
class ReferatView:
    lang: str
    labels: Labels
    title: str
    subtitle: str | None
    draft_mark: str
    compiled: str
    compiled_at: datetime
    when: str
    place: str | None
    papers_url: str | None
    papers_is_link: bool
    attendance: AttendanceView
    agenda: tuple[ItemView, ...]  # order of discussion, without Eventuelt
    round_table: RoundTableView
    round_table_in_agenda: bool  # rendered at its agenda item; else after the agenda
    work_group_intro: tuple[str, ...]
    work_groups: tuple[WorkGroupView, ...]
    follow_ups: tuple[FollowUpView, ...]
    carried: tuple[FollowUpView, ...]  # open follow-ups from the group's earlier meetings
    any_other: ItemView | None  # the closing Eventuelt; None when the agenda keeps it in its place
    next_meeting: str | None
    closing: str
    draft_box: DraftBoxView | None
    filename_stem: str  # referat-<group-slug>-YYYY-MM-DD


# --- helpers ---------------------------------------------------------------------------------

_SLUG_MAP = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a", "ß": "ss"})


def slugify(name: str) -> str:
    """ASCII slug for file names: "Næringssamarbeid Øst" → "naeringssamarbeid-ost"."""
    folded = unicodedata.normalize("NFKD", name.translate(_SLUG_MAP))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii").lower()
    words = "".join(c if c.isalnum() else " " for c in ascii_only).split()
    return "-".join(words)[:60].strip("-") or "gruppe"


def _genitive(name: str, lang: str) -> str:
    if lang == "en":
        return name + ("'" if name.endswith("s") else "'s")
    return name + ("'" if name[-1:].lower() in ("s", "x", "z") else "s")


def _title(organisation: str, group: str, lang: str, labels: Labels) -> str:
    """Like 'Referat fra møte i Fjordregionens faggruppe for Næringssamarbeid'; a group whose
    name already says what it is ('Faggruppe for samferdsel') is not called a faggruppe twice."""
    lowered = group.casefold()
    named = lowered.startswith(("faggruppe", "faggruppen", "working group", "arbeidsgruppe"))
    if named:
        group = group[0].lower() + group[1:]
    if organisation:
        org = _genitive(organisation, lang)
        key = "title_named" if named else "title_org"
        return labels[key].format(organisation=org, group=group)
    return labels["title_named_plain" if named else "title_plain"].format(group=group)


def _http_url(url: str | None) -> tuple[str | None, bool]:
    value = one_line(url)
    if not value:
        return None, False
    return value, value.lower().startswith(("https://", "http://"))


class _People:
    """Display names for members, with the placeholder for a missing organisation."""

    def __init__(self, members: Mapping[int, Member], labels: Labels) -> None:
        self.members = members
        self.labels = labels
        self._cache: dict[int, tuple[str, str, bool]] = {}

    def parts(self, member_id: int) -> tuple[str, str, bool]:
        """(name, organisation or placeholder, organisation missing)."""
        cached = self._cache.get(member_id)
        if cached is not None:
            return cached
        member = self.members.get(member_id)
        name = one_line(member.name) if member else ""
        org = one_line(member.organisation) if member else ""
        result = (name or "?", org or self.labels["org_missing"], not org)
        self._cache[member_id] = result
        return result

    def name(self, member_id: int | None) -> str:
        return self.parts(member_id)[0] if member_id is not None else "?"

    def with_org(self, member_id: int) -> str:
        """The list form of the house style: Navn (Organisasjon)."""
        name, org, _ = self.parts(member_id)
        return f"{name} ({org})"

    def comma_org(self, member_id: int) -> str:
        """The heading form of the round table: Navn, Organisasjon."""
        name, org, _ = self.parts(member_id)
        return f"{name}, {org}"


def _entries(submissions: Iterable[Submission], people: _People, heading: str) -> tuple[Entry, ...]:
    """Group posts by member under one heading each; members appear in order of first post."""
    texts: dict[int, list[str]] = {}
    for sub in submissions:
        if sub.text and sub.text.strip():
            texts.setdefault(sub.member_id, []).append(sub.text)
    return tuple(
        Entry(
            member_id=member_id,
            heading=heading.format(who=people.comma_org(member_id)),
            text=tuple(block for post in posts for block in parse_text(post)),
        )
        for member_id, posts in texts.items()
    )


# --- building --------------------------------------------------------------------------------


def _attendance(data: ReferatData, people: _People, labels: Labels) -> AttendanceView:
    meeting, members = data.meeting, data.members
    chair_id = meeting.chair_member_id if meeting.chair_member_id in members else None
    if chair_id is None:
        chair_id = next((m.id for m in data.roster if m.role == Role.CHAIR), None)

    status: dict[int, AttendanceStatus] = {}
    for row in data.attendance:
        status[row.member_id] = row.status
    excused_ids = [row.member_id for row in data.attendance if row.status == AttendanceStatus.EXCUSED]
    attending = [row for row in data.attendance if row.status != AttendanceStatus.EXCUSED]

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
            if status.get(row.substitute_for_member_id) is None:
                excused_ids.append(row.substitute_for_member_id)  # type: ignore[arg-type]
        elif not member.on_roster:
            others.append(people.with_org(member.id))
            continue
        row_view = AttendeeRow(name, org, ", ".join(notes) or None, org_missing)
        (chair_rows if member.id == chair_id else rows).append(row_view)
    rows = chair_rows + rows  # the chair opens the list, as in the house style

    chair_text: str | None = None
    if chair_id is not None and status.get(chair_id) != AttendanceStatus.EXCUSED:
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
        excused=tuple(people.with_org(i) for i in dict.fromkeys(excused_ids) if i in members),
    )


def _approval_text(item: AgendaItem, data: ReferatData, labels: Labels, clock: Clock, lang: str) -> str:
    """The fixed sentence of an approval item. The approved minutes' date comes from the title
    as written ("… fra møtet 24.08.2022"), else the date the secretariat set, else the group's
    previous meeting; the placeholder only when none of them exists."""
    title = one_line(item.title).casefold()
    if "referat" in title or "minutes" in title:
        when = date_in_title(one_line(item.title), lang)
        if when is None:
            previous: date | datetime | None = data.meeting.previous_meeting_date
            if previous is None and data.previous_meeting is not None:
                previous = data.previous_meeting.starts_at
            when = clock.short_day(previous) if previous is not None else labels["date_missing"]
        return labels["approved_minutes"].format(date=when)
    if "dagsorden" in title or "agenda" in title:
        return labels["approved_notice_agenda"]
    return labels["approved_notice"]


def _item(
    item: AgendaItem,
    data: ReferatData,
    inputs: tuple[Entry, ...],
    follow_up_numbers: list[int],
    labels: Labels,
    clock: Clock,
    *,
    any_other: bool = False,
    is_round: bool = False,
    lang: str = "nb",
    heading_title: str | None = None,
) -> ItemView:
    notes, decision = parse_text(item.notes), parse_text(item.decision)
    fixed: str | None = None
    notes_placeholder: str | None = None
    if not notes and not decision:
        if any_other:
            fixed = None if inputs else labels["any_other_none"]
        elif item.kind == AgendaKind.APPROVAL:
            fixed = _approval_text(item, data, labels, clock, lang)
        elif not is_round:
            notes_placeholder = labels["notes_missing"]
    decision_placeholder = None
    if item.kind == AgendaKind.DISCUSSION and not decision and not any_other:
        decision_placeholder = labels["decision_missing"]
    presenter = one_line(item.presenter)
    refs = ", ".join(str(n) for n in follow_up_numbers)
    title = heading_title or one_line(item.title)
    return ItemView(
        number=item.number,
        heading=labels["item_heading"].format(number=item.number, title=title),
        anchor=f"sak-{item.number}",
        presenter=labels["presented_by"].format(name=presenter) if presenter else None,
        fixed=fixed,
        notes=notes,
        notes_placeholder=notes_placeholder,
        decision=decision,
        decision_placeholder=decision_placeholder,
        inputs=inputs,
        follow_up_ref=labels["follow_up_ref"].format(numbers=refs) if refs else None,
        is_round_table=is_round,
    )


def _closing_any_other(labels: Labels) -> ItemView:
    """The closing "Eventuelt" section for an agenda that has no such item."""
    return ItemView(
        number=0,
        heading=labels["any_other"],
        anchor="eventuelt",
        presenter=None,
        fixed=labels["any_other_none"],
        notes=(),
        notes_placeholder=None,
        decision=(),
        decision_placeholder=None,
        inputs=(),
        follow_up_ref=None,
    )


def _agenda(
    data: ReferatData,
    inputs_by_item: Mapping[int, list[Submission]],
    follow_up_numbers: Mapping[int, list[int]],
    people: _People,
    labels: Labels,
    clock: Clock,
    lang: str,
    group_lang: str,
) -> tuple[list[ItemView], ItemView | None, ItemView | None, str | None]:
    """The agenda in the invitation's order: (items, closing Eventuelt, round item, round theme).

    A numbered "Eventuelt" stays in its place when items follow it ("Sak 10 Eventuelt", then
    "Sak 11 Takk for i dag"); as the last item it closes the referat, after the work groups and
    follow-ups, as the house style has it. The closing section is made up only when the agenda
    has no Eventuelt at all (the last value is then None and the caller adds it). The first item
    that names the round table (by kind, or by any of its names in the group's language) hosts
    the round, wherever it stands."""
    agenda: list[ItemView] = []
    closing: ItemView | None = None
    seen_any_other = False
    round_item: ItemView | None = None
    round_theme: str | None = None
    items = list(data.agenda)
    for index, item in enumerate(items):
        inputs = _entries(inputs_by_item.get(item.id, ()), people, labels["input_from"])
        numbers = follow_up_numbers.get(item.id, [])
        if not seen_any_other and is_any_other(one_line(item.title)):
            seen_any_other = True
            view = _item(item, data, inputs, numbers, labels, clock, any_other=True, lang=lang)
            if index == len(items) - 1:
                closing = view
            else:
                agenda.append(view)
            continue
        round_title = round_table_title(one_line(item.title), group_lang)
        is_round = round_item is None and (item.kind == AgendaKind.ROUND_TABLE or round_title is not None)
        name = round_title.name if is_round and round_title and round_title.theme else None
        view = _item(
            item, data, inputs, numbers, labels, clock, is_round=is_round, lang=lang, heading_title=name
        )
        if is_round:
            round_item = view
            round_theme = round_title.theme if round_title else None
        agenda.append(view)
    if closing is None and not seen_any_other:
        closing = _closing_any_other(labels)
    return agenda, closing, round_item, round_theme


def _work_groups(data: ReferatData, people: _People, labels: Labels) -> tuple[WorkGroupView, ...]:
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


def _follow_ups(
    data: ReferatData, people: _People, labels: Labels, clock: Clock, numbers_by_item: dict[int, int]
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


def _carried(data: ReferatData, people: _People, labels: Labels, clock: Clock) -> tuple[FollowUpView, ...]:
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


def _compiled(data: ReferatData, labels: Labels, clock: Clock, now: datetime, final: bool) -> str:
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


def _draft_box(
    data: ReferatData, people: _People, labels: Labels, clock: Clock, now: datetime, lang: str
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
    unreachable = _unreachable(data, people, labels, missing, lang)
    return DraftBoxView(
        title=labels["box_title"],
        summary=summary,
        missing=tuple(people.with_org(m.id) for m in missing),
        deadline=labels["box_deadline"].format(when=clock.moment(deadline), left=left),
        unreachable=unreachable,
        unreachable_title=labels["box_unreachable"].format(count=len(unreachable)) if unreachable else "",
    )


def _unreachable(
    data: ReferatData, people: _People, labels: Labels, missing: list[Member], lang: str
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


def build_view(
    data: ReferatData, *, locale: str | None = None, now: datetime, final: bool = False
) -> ReferatView:
    """The whole referat draft as data, in the group's (or the requested) language; `final`
    makes it the frozen final version (marked so, without the secretariat's box)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    meeting, group = data.meeting, data.group
    lang = normalise_locale(locale, group.locale or "nb")
    labels = load_labels(lang)
    clock = Clock(labels, group_zone(group))
    people = _People(data.members, labels)

    numbers_by_item = {item.id: item.number for item in data.agenda}
    follow_up_numbers: dict[int, list[int]] = defaultdict(list)
    for number, follow_up in enumerate(data.follow_ups, start=1):
        if follow_up.agenda_item_id is not None:
            follow_up_numbers[follow_up.agenda_item_id].append(number)

    inputs_by_item: dict[int, list[Submission]] = defaultdict(list)
    rounds: list[Submission] = []
    for sub in data.submissions:
        if sub.member_id not in data.members:
            continue
        if sub.kind == SubmissionKind.ROUND:
            rounds.append(sub)
        elif sub.kind == SubmissionKind.INPUT and sub.agenda_item_id is not None:
            inputs_by_item[sub.agenda_item_id].append(sub)

    group_lang = normalise_locale(group.locale, "nb")
    agenda, any_other, round_item, round_theme = _agenda(
        data, inputs_by_item, follow_up_numbers, people, labels, clock, lang, group_lang
    )

    entries = _entries(rounds, people, labels["entry_heading"])
    round_table = RoundTableView(
        heading=round_item.heading if round_item else labels["round_table"],
        anchor=round_item.anchor if round_item else "runde-rundt-bordet",
        theme=round_theme,
        question=one_line(meeting.round_question) or None,
        entries=entries,
        placeholder=None if entries else labels["round_empty"],
    )

    local_start = meeting.starts_at.astimezone(clock.zone)
    papers_url, papers_is_link = _http_url(meeting.papers_url or group.papers_url)
    next_meeting = None
    if data.next_meeting is not None:
        nxt = data.next_meeting
        next_meeting = labels["next_meeting"].format(
            when=clock.span(nxt.starts_at, nxt.ends_at), place=one_line(nxt.place) or labels["place_missing"]
        )
    return ReferatView(
        lang=lang,
        labels=labels,
        title=_title(one_line(group.organisation), one_line(group.name), lang, labels),
        subtitle=one_line(meeting.title) or None,
        draft_mark=labels["final_mark" if final else "draft_mark"],
        compiled=_compiled(data, labels, clock, now, final),
        compiled_at=now,
        when=clock.span(meeting.starts_at, meeting.ends_at),
        place=one_line(meeting.place) or None,
        papers_url=papers_url,
        papers_is_link=papers_is_link,
        attendance=_attendance(data, people, labels),
        agenda=tuple(agenda),
        round_table=round_table,
        round_table_in_agenda=round_item is not None,
        work_group_intro=tuple(q for q in (one_line(p.question) for p in data.polls) if q),
        work_groups=_work_groups(data, people, labels),
        follow_ups=_follow_ups(data, people, labels, clock, numbers_by_item),
        carried=_carried(data, people, labels, clock),
        any_other=any_other,
        next_meeting=next_meeting,
        closing=labels["closing"],
        draft_box=None if final else _draft_box(data, people, labels, clock, now, lang),
        filename_stem=f"referat-{slugify(one_line(group.name))}-{local_start:%Y-%m-%d}",
    )


__all__ = [
    "AttendanceView",
    "AttendeeRow",
    "Clock",
    "DraftBoxView",
    "Entry",
    "FollowUpView",
    "ItemView",
    "ReferatView",
    "RoundTableView",
    "WorkGroupView",
    "build_view",
    "load_labels",
    "normalise_locale",
    "slugify",
]
