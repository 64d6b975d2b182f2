"""What an invitation says, as frozen values: the parsers build them, the preview reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time

from handlers.invitation.messages import message
from storage.models import AgendaKind

_QUESTION = re.compile(
    r"^(?:spørsmål(?: til runden)?|question|spørsmålet er)\s*:\s*(?P<question>.+)$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Location:
    """Where in the file something was read: a line (text), a paragraph or a table row (.docx)."""

    unit: str  # "line", "paragraph" or "table"
    number: int  # 1-based line or paragraph number, or the table's number
    row: int | None = None  # 1-based row within the table

    def text(self, locale: str | None) -> str:
        if self.unit == "table":
            return message(locale, "where_table", number=self.number, row=self.row)
        return message(locale, f"where_{self.unit}", number=self.number)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something the parser could not read. `key` names the message; `detail` is the text read."""

    where: Location | None
    key: str
    detail: str = ""

    def text(self, locale: str | None) -> str:
        body = message(locale, f"problem_{self.key}", detail=self.detail)
        return f"{self.where.text(locale)}: {body}" if self.where is not None else body


@dataclass(frozen=True, slots=True)
class MeetingLink:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class AgendaEntry:
    """One sak. `numbered` is False when the number came from a Word list's position."""

    number: int
    title: str
    where: Location
    description: str | None = None
    presenter: str | None = None
    kind: AgendaKind = AgendaKind.OTHER
    theme: str | None = None  # the round table's question, after its dash or colon
    numbered: bool = True


@dataclass(frozen=True, slots=True)
class Invitee:
    first_name: str
    last_name: str
    organisation: str
    where: Location
    email: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class WorkGroup:
    label: str
    where: Location
    responsible: str | None = None


@dataclass(frozen=True, slots=True)
class Invitation:
    """Everything read from one invitation; `problems` empty means it can be imported."""

    day: date | None = None
    start: time | None = None
    end: time | None = None
    place: str | None = None
    links: tuple[MeetingLink, ...] = ()
    papers_url: str | None = None
    agenda: tuple[AgendaEntry, ...] = ()
    agenda_heading: str | None = None  # the "Sakskart …" heading the agenda was taken from
    agenda_sections: int = 0  # how many agenda sections the file has
    invitees: tuple[Invitee, ...] = ()
    work_groups: tuple[WorkGroup, ...] = ()
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def round_question(self) -> str | None:
        """The question put to the round table, when its item asks one apart from the title:
        a "Spørsmål: …" line, or a description that is one question. A theme in the title
        ("Runde rundt bordet: …") stays in the title, where the referat already reads it."""
        item = next((entry for entry in self.agenda if entry.kind == AgendaKind.ROUND_TABLE), None)
        if item is None or not item.description:
            return None
        lines = [line.removeprefix("- ").strip() for line in item.description.splitlines() if line.strip()]
        for line in lines:
            match = _QUESTION.match(line)
            if match:
                return match["question"].strip()
        return lines[0] if len(lines) == 1 and lines[0].endswith("?") else None
