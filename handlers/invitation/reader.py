"""The shared core of the text and .docx parsers: from source lines to an `Invitation`.

Both parsers turn their file into `SourceLine`s (a .docx table row becomes one tab-separated
line); this module finds the meeting's date, time, place and links, picks the agenda section,
reads the items, the work groups and the "Inviterte" roster, and lists what it could not read.
It never raises on odd text: what it cannot read becomes a `Problem`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time

from handlers.invitation.agenda_reader import read_agenda
from handlers.invitation.markup import Plain, SourceLine, links_in, plain
from handlers.invitation.model import Invitation, Invitee, Location, MeetingLink, Problem, WorkGroup
from handlers.invitation.when import BadValue, find_date, find_time_range
from handlers.roster import RosterError, parse_roster

_SECTION = re.compile(r"^(sakskart|sakliste|saksliste|dagsorden|agenda)\b", re.IGNORECASE)
_ROSTER_HEADING = re.compile(
    r"^(inviterte|inviterte deltakere|deltakere|deltakarar|deltakerliste|invited|participants)\s*:?$",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^(?P<label>[^:]{1,30}?)\s*:\s*(?P<value>.*)$")
_TIME_LABELS = {"tid", "tidspunkt", "møtetid", "når", "dato og tid", "dato og klokkeslett", "time", "when"}
_DATE_LABELS = {"dato", "møtedato", "date", "meeting date"}
_PLACE_LABELS = {"sted", "stad", "møtested", "møtestad", "place", "location", "where", "venue"}
_MEETING_HOSTS = ("teams.microsoft.com", "teams.live.com", "zoom.us", "meet.google.com", "whereby.com")
_MEETING_WORDS = ("lenke til møtet", "delta i møtet", "bli med", "join", "teams-møte", "møtelenke")
_PAPER_WORDS = ("sakspapir", "saksdokument", "underlag", "papers", "documents", "sakliste")
_WORK_GROUP = re.compile(
    r"^(?:ad[- ]hoc[- ])?(?:arbeids)?(?:gruppe|group)\s*(?P<n>[0-9]{1,2})\s*[-–—:.)]\s*(?P<label>.+)$",
    re.IGNORECASE,
)
_RESPONSIBLE = re.compile(r"^(?:ansvar\w*|responsible|lead|leder)\s*:\s*(?P<name>.+)$", re.IGNORECASE)
_INLINE_RESPONSIBLE = re.compile(
    r"^(?P<label>.+?)\s*[(,;–—-]\s*(?:ansvar\w*|responsible)\s*:\s*(?P<name>[^)]+)\)?\s*$", re.IGNORECASE
)
_ROSTER_WORDS = ({"fornavn", "first name", "firstname"}, {"etternavn", "last name", "lastname", "surname"})


@dataclass
class _Read:
    """What has been read so far (mutable while reading, frozen into an Invitation at the end)."""

    day: date | None = None
    start: time | None = None
    end: time | None = None
    problems: list[Problem] = field(default_factory=list)


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _label(text: str) -> tuple[str, str] | None:
    match = _LABEL.match(text)
    return (_fold(match["label"]), match["value"].strip()) if match else None


def _rank(text: str) -> int | None:
    """How sure a line is to hold the meeting's date: 0 a "Tid:" line, 1 a date with a time
    span, 2 a "Dato:" line (often the letter's own date), None no date at all."""
    try:
        if find_date(text) is None:
            return None
    except BadValue:
        pass
    label = _label(text)
    if label is not None and label[0] in _TIME_LABELS:
        return 0
    try:
        if find_time_range(text) is not None:
            return 1
    except BadValue:
        return 1
    return 2 if label is not None and label[0] in _DATE_LABELS else 3


def _when(lines: Sequence[SourceLine], texts: Sequence[Plain], read: _Read) -> None:
    ranked = [(rank, i) for i, p in enumerate(texts) if (rank := _rank(p.text)) is not None]
    if not ranked:
        read.problems.append(Problem(None, "no_date"))
        return
    _, index = min(ranked)
    where = lines[index].where
    try:
        found = find_date(texts[index].text)
        read.day = found[0] if found else None
    except BadValue as exc:
        read.problems.append(Problem(where, exc.key, exc.text))
        return
    for offset in range(3):
        if index + offset >= len(texts):
            break
        try:
            span = find_time_range(texts[index + offset].text)
        except BadValue as exc:
            read.problems.append(Problem(lines[index + offset].where, exc.key, exc.text))
            return
        if span is not None:
            read.start, read.end = span
            return
    read.problems.append(Problem(where, "no_time"))


def _place(texts: Sequence[Plain]) -> str | None:
    for text in texts:
        label = _label(text.text)
        if label is not None and label[0] in _PLACE_LABELS and label[1]:
            return label[1]
    return None


def _links(lines: Sequence[SourceLine], texts: Sequence[Plain]) -> tuple[list[MeetingLink], str | None]:
    meeting: list[MeetingLink] = []
    papers: str | None = None
    for line, text in zip(lines, texts, strict=True):
        folded = text.text.casefold()
        label = _label(text.text)
        for link_text, url in links_in(line.raw):
            words = link_text.casefold()
            if any(host in url for host in _MEETING_HOSTS) or any(w in words for w in _MEETING_WORDS):
                meeting.append(MeetingLink(_link_label(text.text, label, link_text), url))
            elif papers is None and any(word in folded for word in _PAPER_WORDS):
                papers = url
    return meeting, papers


def _link_label(text: str, label: tuple[str, str] | None, link_text: str) -> str:
    """ "Fellesdel" for "- Fellesdel: [lenke til møtet](…)"; else the link's own text."""
    if label is not None:
        match = _LABEL.match(text)
        return match["label"].strip() if match else label[0]
    return link_text or "Teams"


def _roster_start(texts: Sequence[Plain], lines: Sequence[SourceLine]) -> int | None:
    """The index of the roster's header row (Fornavn, Etternavn, …), if there is one."""
    for index, line in enumerate(lines):
        raw = line.raw
        if "\t" not in raw and ";" not in raw:
            continue
        cells = {_fold(c.strip(" *")) for c in re.split(r"[\t;]", raw)}
        if all(cells & words for words in _ROSTER_WORDS):
            return index
    return None


def _roster(lines: Sequence[SourceLine], start: int, problems: list[Problem]) -> list[Invitee]:
    block: list[SourceLine] = []
    for line in lines[start:]:
        if line.raw.strip() and "\t" not in line.raw and ";" not in line.raw:
            break
        block.append(line)
    while block and not block[-1].raw.strip():
        block.pop()
    text = "\n".join(" ".join(line.raw.replace("\n", " ").split(" ")).strip(" ") for line in block)
    try:
        rows = parse_roster(text)
    except RosterError as exc:
        where = block[min(exc.line, len(block)) - 1].where
        problems.append(Problem(where, "roster", exc.message))
        return []
    return [
        Invitee(r.first_name, r.last_name, r.organisation, block[r.line - 1].where, r.email) for r in rows
    ]


def _work_groups(texts: Sequence[Plain], lines: Sequence[SourceLine]) -> list[WorkGroup]:
    groups: list[WorkGroup] = []
    for index, text in enumerate(texts):
        match = _WORK_GROUP.match(text.text)
        if match is None:
            continue
        label, responsible = match["label"].strip(), None
        inline = _INLINE_RESPONSIBLE.match(label)
        if inline is not None:
            label, responsible = inline["label"].strip(), inline["name"].strip()
        else:
            following = next((t for t in texts[index + 1 : index + 3] if not t.blank), None)
            found = _RESPONSIBLE.match(following.text) if following is not None else None
            responsible = found["name"].strip() if found else None
        groups.append(WorkGroup(label.rstrip(" .:"), lines[index].where, responsible))
    return groups


def _group_key(text: str) -> str:
    return re.sub(r"[^\w]|_", "", text.casefold())


def _names_group(heading: str, group_name: str) -> bool:
    """Whether a section heading names the group: "faggruppe for Næringsssamarbeid" names
    "Nærings samarbeid" (spaces and a doubled letter forgiven)."""
    from difflib import SequenceMatcher

    want, have = _group_key(group_name), _group_key(heading)
    if not want:
        return False
    if want in have:
        return True
    tail = have[-(len(want) + 2) :]
    return SequenceMatcher(None, want, tail).ratio() >= 0.85


def _sections(texts: Sequence[Plain]) -> list[int]:
    return [i for i, t in enumerate(texts) if len(t.text) < 160 and _SECTION.match(t.text)]


def _pick_section(texts: Sequence[Plain], starts: list[int], group_name: str | None) -> int | None:
    if not starts:
        return None
    if group_name:
        named = [i for i in starts if _names_group(texts[i].text, group_name)]
        if named:
            return named[-1]
    return starts[-1]


def _section_end(texts: Sequence[Plain], starts: list[int], begin: int, roster: int | None) -> int:
    ends = [i for i in starts if i > begin]
    ends += [i for i, t in enumerate(texts) if i > begin and _ROSTER_HEADING.match(t.text)]
    if roster is not None and roster > begin:
        ends.append(roster)
    return min(ends, default=len(texts))


def read_lines(lines: Sequence[SourceLine], *, group_name: str | None = None, lang: str = "nb") -> Invitation:
    """Everything the lines say; what cannot be read is listed in `problems`."""
    texts = [plain(line) for line in lines]
    read = _Read()
    roster_at = _roster_start(texts, lines)
    starts = _sections(texts)
    chosen = _pick_section(texts, starts, group_name)
    header_end = starts[0] if starts else len(texts)
    _when(lines[:header_end] or lines, texts[:header_end] or texts, read)
    if read.day is None and not any(p.key == "bad_date" for p in read.problems) and header_end < len(texts):
        read.problems = [p for p in read.problems if p.key != "no_date"]
        _when(lines, texts, read)
    begin = chosen + 1 if chosen is not None else 0
    end = _section_end(texts, starts, chosen, roster_at) if chosen is not None else (roster_at or len(texts))
    agenda = read_agenda(lines[begin:end], texts[begin:end], lang, read.problems)
    invitees = _roster(lines, roster_at, read.problems) if roster_at is not None else []
    links, papers = _links(lines, texts)
    return Invitation(
        day=read.day,
        start=read.start,
        end=read.end,
        place=_place(texts[:header_end] or texts),
        links=tuple(links),
        papers_url=papers,
        agenda=tuple(agenda),
        agenda_heading=texts[chosen].text if chosen is not None else None,
        agenda_sections=len(starts),
        invitees=tuple(invitees),
        work_groups=tuple(_work_groups(texts, lines)),
        problems=tuple(sorted(read.problems, key=_problem_order)),
    )


def _problem_order(problem: Problem) -> tuple[int, int, int]:
    where = problem.where or Location("line", 0)
    return (0 if where.unit != "table" else 1, where.number, where.row or 0)
