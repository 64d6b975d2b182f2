"""The referat as a frozen view-model, built once from storage and then rendered three ways.

Every decision about *what* the minutes say (order of sections, fixed sentences, who counts as
present, placeholders for what is missing, the secretariat's box) is made here, so the Markdown,
HTML and Word renderers only decide *how* it looks and cannot drift apart. Strings in the model
are plain text; each renderer escapes them for its own format.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime

from handlers.agenda import date_in_title, is_any_other, round_table_title
from handlers.i18n import normalise_locale
from handlers.referat.blocks import one_line, parse_text
from handlers.referat.deadline import group_zone
from handlers.referat.model import (
    AttendanceView,
    AttendeeRow,
    Clock,
    DraftBoxView,
    Entry,
    FollowUpView,
    ItemView,
    Labels,
    ReferatView,
    RoundTableView,
    WorkGroupView,
    load_labels,
)
from handlers.referat.people import People, grouped_entries
from handlers.referat.sections import (
    attendance,
    carried,
    compiled,
    draft_box,
    follow_ups,
    work_groups,
)
from storage.models import (
    AgendaItem,
    AgendaKind,
    Submission,
    SubmissionKind,
)
from storage.repositories.referat import ReferatData

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
    people: People,
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
        inputs = grouped_entries(inputs_by_item.get(item.id, ()), people, labels["input_from"])
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
    people = People(data.members, labels)

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

    entries = grouped_entries(rounds, people, labels["entry_heading"])
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
        compiled=compiled(data, labels, clock, now, final),
        compiled_at=now,
        when=clock.span(meeting.starts_at, meeting.ends_at),
        place=one_line(meeting.place) or None,
        papers_url=papers_url,
        papers_is_link=papers_is_link,
        attendance=attendance(data, people, labels),
        agenda=tuple(agenda),
        round_table=round_table,
        round_table_in_agenda=round_item is not None,
        work_group_intro=tuple(q for q in (one_line(p.question) for p in data.polls) if q),
        work_groups=work_groups(data, people, labels),
        follow_ups=follow_ups(data, people, labels, clock, numbers_by_item),
        carried=carried(data, people, labels, clock),
        any_other=any_other,
        next_meeting=next_meeting,
        closing=labels["closing"],
        draft_box=None if final else draft_box(data, people, labels, clock, now, lang),
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
