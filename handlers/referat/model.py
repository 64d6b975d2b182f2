"""The referat's view-model: frozen data, and the labels and clock it is written with.

Built by handlers/referat/view.py, rendered by render.py (Markdown, HTML), word.py and pdf.py.
Strings here are plain text; each renderer escapes them for its own format.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from handlers.i18n import normalise_locale
from handlers.referat.blocks import Text

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
    # What follows the name in one parenthesis where the organisation has no column of its own:
    # "Bergen kommune, vara for Lise Lund" (labels' attendee_detail), else the organisation
    detail: str = ""


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
