"""The built-in grammars' output: frozen dataclasses, or a ParseError with a message key.

The parser (handlers/parser.py) never raises; handlers (handlers/commands/) act on these types,
each claiming its type with `@spec.handles(Type)`. A new command may define its parsed type in
its own module instead (see docs/architecture.md, "Adding a command").
Dates are plain `date`/`time` values: the handler puts them in the group's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time


@dataclass(frozen=True, slots=True)
class ParseError:
    """A line the parser could not read. `key` names a message in templates/chat/<locale>.toml;
    `params` fill it; `command` is the command it was meant for (for its usage line), if known."""

    key: str
    params: dict[str, str] = field(default_factory=dict)
    command: str | None = None


@dataclass(frozen=True, slots=True)
class Referat:
    fmt: str = "md"  # md | html | docx | pdf
    meeting_date: date | None = None
    final: bool = False  # `referat endelig`: the frozen final version (frozen now if need be)


@dataclass(frozen=True, slots=True)
class Round:
    """`runde <tekst>` adds to my entry; `runde` alone opens the editor; `runde ingen` = nothing."""

    text: str = ""
    nothing: bool = False


@dataclass(frozen=True, slots=True)
class Input:
    item_number: int
    text: str


@dataclass(frozen=True, slots=True)
class FollowUpCmd:
    text: str
    owner: str | None = None  # "@Navn" as written (without @), or "Sekretariatet"
    owner_user_id: str | None = None  # set when the owner was a platform mention
    due: date | None = None


@dataclass(frozen=True, slots=True)
class PersonRef:
    """Someone named in a command: the name as written (without @), and the platform user id
    when it was a real mention."""

    name: str
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Present:
    """`tilstede` (me), or `tilstede @A @B` (the secretariat registering others)."""

    people: tuple[PersonRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Excused:
    """`forfall` (me), or `forfall @A` (the secretariat registering others)."""

    people: tuple[PersonRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Substitute:
    for_name: str  # as written, without @
    for_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class GroupsShow:
    pass


@dataclass(frozen=True, slots=True)
class WorkGroupSpec:
    label: str
    responsible: str | None = None
    cap: int | None = None


@dataclass(frozen=True, slots=True)
class GroupsNew:
    groups: tuple[WorkGroupSpec, ...]
    question: str | None = None
    closes: date | None = None
    single_choice: bool = False
    closes_time: time | None = None  # `--stenger 30.01.2026 kl. 12.00`; None when not given


@dataclass(frozen=True, slots=True)
class MeetingNew:
    day: date
    start: time
    end: time
    place: str = "Teams"


@dataclass(frozen=True, slots=True)
class MeetingItem:
    number: int
    title: str
    after: int | None = None  # place right after this item number


@dataclass(frozen=True, slots=True)
class MeetingStatusCmd:
    pass


@dataclass(frozen=True, slots=True)
class MeetingClose:
    pass


@dataclass(frozen=True, slots=True)
class MeetingReopen:
    pass


@dataclass(frozen=True, slots=True)
class MeetingDeadline:
    day: date


@dataclass(frozen=True, slots=True)
class MeetingApproveMinutes:
    """`mote godkjenn-referat`: the previous meeting's referat is approved."""


@dataclass(frozen=True, slots=True)
class MeetingImport:
    """`mote importer <invitation text>` (or with a file attached); `bekreft|avbryt <token>`
    answer the preview's buttons."""

    text: str = ""
    action: str = "preview"  # preview | confirm | cancel
    token: str = ""


@dataclass(frozen=True, slots=True)
class Setup:
    group_name: str
    organisation: str | None = None
    locale: str | None = None  # `--språk en|nb`: the group's language


@dataclass(frozen=True, slots=True)
class SetRole:
    person: str  # as written, without @
    role: str  # member | chair | secretariat (already mapped from Norwegian words)
    person_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class LinkIdentity:
    """`koble @bruker <navn>`: link the mentioned chat user to the roster member named."""

    user_id: str  # the mentioned chat user's platform id
    user_name: str  # their display name, as mentioned
    member: str  # the roster member's name, as written


@dataclass(frozen=True, slots=True)
class Profile:
    organisation: str


@dataclass(frozen=True, slots=True)
class Reminders:
    on: bool  # `paminnelser av` / `paminnelser pa` (mute/unmute for the current meeting)


@dataclass(frozen=True, slots=True)
class MyData:
    action: str  # "export" | "delete"


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None


Command = (
    Referat
    | Round
    | Input
    | FollowUpCmd
    | Present
    | Excused
    | Substitute
    | GroupsShow
    | GroupsNew
    | MeetingNew
    | MeetingItem
    | MeetingStatusCmd
    | MeetingClose
    | MeetingReopen
    | MeetingDeadline
    | MeetingApproveMinutes
    | MeetingImport
    | Setup
    | SetRole
    | Profile
    | Reminders
    | MyData
    | Help
)
