"""What every command needs: answers in the user's language, which meeting a command is about,
whether it still takes submissions, role checks and finding a person by @mention or name.

Which meeting:
- submissions (runde, innspill, oppfolging, paminnelser) and `mote status|lukk` go to the
  *current* meeting: of those still collecting, the one that started first (so a meeting
  created early does not take the round table of the meeting just held);
- `referat` and `mote frist` act on the *managed* meeting: the one most recently held, or the
  next one when none has been held yet (status and lukk fall back to it too);
- `mote apne` reopens the most recent meeting that no longer takes submissions;
- `mote sak` and attendance go to the *next* meeting not yet over, else the current one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from handlers.command_table import usage
from handlers.events import Echo, Reply
from handlers.i18n import Raw, format_deadline, format_meeting_day, format_meeting_time, join_names, t, t_echo
from handlers.identity import Scope, ScopeView, platform_of
from handlers.referat.deadline import collection_open, submission_deadline
from handlers.text import clean, is_blank
from storage.models import Group, Meeting, MeetingStatus, Member, Role
from storage.repositories import meetings as meeting_repo
from storage.repositories import members as member_repo

MAX_TEXT = 20_000  # characters of member text in one submission


# --- answers ---------------------------------------------------------------------------------


def usage_line(locale: str, command: str) -> Raw:
    return Raw(t(locale, "common.usage", usage=Raw(usage(command, locale))))


def answer(scope: ScopeView, key: str, **params: Any) -> Reply:
    """The message `key` as the answer; member text passed as an `Echo` (handlers.richtext.echo)
    is shown back from its tree, in each platform's own formatting."""
    if any(isinstance(value, Echo) for value in params.values()):
        text, body = t_echo(scope.locale, key, **params)
        return Reply(text=text, body=body)
    return Reply(text=t(scope.locale, key, **params))


def join_answers(parts: Sequence[Reply | str], sep: str = "\n") -> Reply:
    """Several answers (or bot-made lines) as one, each keeping the member text it shows back."""
    pieces: list[str | Echo] = []
    for index, part in enumerate(parts):
        if index:
            pieces.append(sep)
        if isinstance(part, str):
            pieces.append(part)
        else:
            pieces.extend(part.body or (part.text,))
    text = "".join(p if isinstance(p, str) else p.fallback for p in pieces)
    has_echo = any(isinstance(p, Echo) for p in pieces)
    return Reply(text=text, body=tuple(pieces) if has_echo else ())


def refuse_text(locale: str, key: str, *, usage_of: str | None = None, **params: Any) -> Reply:
    """A refusal: the message, then the usage line of the command when one is named."""
    text = t(locale, key, **params)
    if usage_of:
        text = f"{text}\n{usage_line(locale, usage_of)}"
    return Reply(text=text, ok=False)


def refuse(scope: ScopeView, key: str, *, usage_of: str | None = None, **params: Any) -> Reply:
    return refuse_text(scope.locale, key, usage_of=usage_of, **params)


def role_name(locale: str, role: Role | str) -> str:
    return t(locale, f"common.role_{Role(role).value}")


# --- meetings --------------------------------------------------------------------------------


def deadline_clock(group: Group) -> time:
    """The group's deadline time of day ("23:59"), tolerating a malformed setting."""
    try:
        hours, minutes = (group.deadline_time or "").strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        return time(23, 59)


def deadline(scope: ScopeView, meeting: Meeting) -> datetime:
    return submission_deadline(meeting, scope.group)


def is_collecting(scope: ScopeView, meeting: Meeting) -> bool:
    return collection_open(meeting, scope.group, scope.now)


# Babel's formatting costs more than the rest of a `runde` answer; the same few meetings and
# deadlines are formatted over and over, so the texts are remembered (pure functions of the keys).
@lru_cache(maxsize=1024)
def _meeting_day(starts_at: datetime, timezone: str, locale: str) -> str:
    return format_meeting_day(starts_at, timezone, locale)


_DEADLINE_TEXTS: dict[tuple[datetime, str, str, date], str] = {}


def meeting_label(scope: ScopeView, meeting: Meeting) -> str:
    """Short name of a meeting in messages: "20. januar 2026"."""
    return _meeting_day(meeting.starts_at, scope.timezone, scope.locale)


def meeting_when(scope: ScopeView, meeting: Meeting) -> str:
    """ "tirsdag 20. januar 2026 kl. 10.00–12.00"."""
    return format_meeting_time(meeting.starts_at, meeting.ends_at, scope.timezone, scope.locale)


def deadline_text(scope: ScopeView, meeting: Meeting) -> str:
    """ "fredag 30. januar kl. 23.59"."""
    moment = deadline(scope, meeting)
    try:
        today = scope.now.astimezone(ZoneInfo(scope.timezone)).date()
    except (KeyError, ValueError):  # a misspelt zone: as before, the formatter decides
        return format_deadline(moment, scope.timezone, scope.locale, now=scope.now)
    # The text depends on `now` only through its year (see format_deadline): keyed by the date.
    key = (moment, scope.timezone, scope.locale, today)
    text = _DEADLINE_TEXTS.get(key)
    if text is None:
        if len(_DEADLINE_TEXTS) >= 1024:
            _DEADLINE_TEXTS.clear()
        text = _DEADLINE_TEXTS[key] = format_deadline(moment, scope.timezone, scope.locale, now=scope.now)
    return text


async def current_meeting(scope: Scope) -> Meeting | None:
    return await meeting_repo.current_meeting(
        scope.session, scope.group.id, scope.now, lambda m: submission_deadline(m, scope.group)
    )


async def collecting_meetings(scope: Scope) -> list[Meeting]:
    return await meeting_repo.collecting_meetings(
        scope.session, scope.group.id, scope.now, lambda m: submission_deadline(m, scope.group)
    )


async def managed_meeting(scope: Scope) -> Meeting | None:
    """The meeting most recently held (started), else the next one."""
    held = await meeting_repo.latest_meeting(scope.session, scope.group.id, before=scope.now)
    if held is not None:
        return held
    meetings = await meeting_repo.meetings_of(scope.session, scope.group.id)
    return meetings[0] if meetings else None


async def upcoming_meeting(scope: Scope) -> Meeting | None:
    """The next meeting not yet over (and not closed), else the current one."""
    upcoming = await meeting_repo.next_meeting(scope.session, scope.group.id, scope.now)
    return upcoming or await current_meeting(scope)


async def contacts(scope: Scope) -> str:
    """The secretariat's names, for "who to contact"."""
    people = await member_repo.with_role(scope.session, scope.group.id, Role.SECRETARIAT)
    names = [m.name for m in people if m.name]
    return join_names(names, scope.locale) if names else t(scope.locale, "common.secretariat_fallback")


async def closed_reply(scope: Scope, meeting: Meeting, *, change: bool = False) -> Reply:
    """Submissions refused: says that it is closed, since when, and who to contact. `change`:
    an edit or deletion of what was posted before, which stays in the referat as it was."""
    params = {"meeting": meeting_label(scope, meeting), "deadline": deadline_text(scope, meeting)}
    key = "closed.closed" if meeting.status == MeetingStatus.CLOSED else "closed.deadline"
    if change:
        key = "closed.change_closed" if meeting.status == MeetingStatus.CLOSED else "closed.change_deadline"
    parts = [t(scope.locale, key, **params)]
    if scope.is_secretariat:
        parts.append(t(scope.locale, "closed.secretariat_hint"))
    else:
        parts.append(t(scope.locale, "closed.contact", contacts=await contacts(scope)))
    return Reply(text=" ".join(parts), ok=False)


async def submission_meeting(scope: Scope) -> Meeting | Reply:
    """The meeting a submission goes to, or the refusal to give (closed, or no meeting at all)."""
    meeting = await current_meeting(scope)
    if meeting is not None:
        return meeting
    latest = await meeting_repo.latest_meeting(scope.session, scope.group.id)
    if latest is not None:
        return await closed_reply(scope, latest)
    return refuse(scope, "common.no_meeting")


# --- text and roles --------------------------------------------------------------------------


def member_text(scope: ScopeView, raw: str, command: str | None = None) -> str | Reply:
    """Member text as stored (cleaned, as written), or the refusal when empty or too long."""
    text = clean(raw).strip()
    if is_blank(text):
        return refuse(scope, "common.empty_text", usage_of=command)
    if len(text) > MAX_TEXT:
        return refuse(scope, "common.too_long", length=len(text), limit=MAX_TEXT)
    return text


async def require_secretariat(scope: Scope, command: str, *, also: tuple[Role, ...] = ()) -> Reply | None:
    """None when the asking member is secretariat (or has one of `also`), else the refusal."""
    if scope.member is not None and (scope.member.role == Role.SECRETARIAT or scope.member.role in also):
        return None
    return refuse(scope, "common.need_secretariat", command=command, contacts=await contacts(scope))


async def find_person(scope: Scope, name: str, user_id: str | None) -> Member | Reply:
    """A group member named by @mention (its platform user id) or by name, or the refusal."""
    if user_id:
        event = scope.event
        member = await member_repo.by_identity(
            scope.session, scope.group.id, platform_of(event), event.workspace_id, user_id
        )
        if member is not None:
            return member
    found = await member_repo.by_name(scope.session, scope.group.id, name)
    if len(found) == 1:
        return found[0]
    if not found:
        return refuse(scope, "common.person_unknown", name=name)
    names = join_names([m.name for m in found], scope.locale)
    return refuse(scope, "common.person_ambiguous", name=name, names=names)


def display_name(member: Member) -> str:
    return member.name or "?"


def first_name(member: Member) -> str:
    """How the bot addresses someone in a thank-you: "Takk, Kari!"."""
    return member.first_name or member.name or ""
