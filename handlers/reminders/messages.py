"""What each reminder says, as a neutral Reply in the recipient's language.

The wording lives in `templates/chat/reminders.<locale>.toml` (Jinja2, like the main catalog), so
the secretariat's tone can change without code. Every value is made inert before it is shown:
names and titles are member text and must never turn into markup or pings. Dates come from the
shared Babel helpers in handlers/i18n.py, so a reminder reads "fredag 30. januar kl. 23.59" just
as the rest of the bot does.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, Template

import templates
from handlers.events import Button, ButtonStyle, Reply
from handlers.i18n import (
    DEFAULT_LOCALE,
    Raw,
    format_deadline,
    format_meeting_day,
    format_short_date,
    inert,
    join_names,
    normalise_locale,
    render_echoes,
    resolve_locale,
)
from handlers.richtext.echo import LINE_LIMIT, echo
from handlers.text import escape_markdown_inline

CATALOG_DIR = Path(templates.__file__).parent / "chat"
# The secretariat's closing notice lists at most this many names, then "… and N more".
MISSING_LIST_LIMIT = 40


_ENV = Environment(
    autoescape=False,
    finalize=inert,  # the chat catalog's rule: text escaped, member text (`Echo`) as its tree
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


@cache
def _catalog(locale: str) -> dict[str, str]:
    with (CATALOG_DIR / f"reminders.{locale}.toml").open("rb") as handle:
        return _flatten(tomllib.load(handle))


@cache
def _template(locale: str, key: str) -> Template:
    source = _catalog(locale).get(key)
    if source is None:
        source = _catalog(DEFAULT_LOCALE)[key]
    return _ENV.from_string(source)


def lang(locale: str | None) -> str:
    """`nb` or `en`: the catalog to use for a stored or platform locale (the shared rule)."""
    return normalise_locale(locale, DEFAULT_LOCALE)


def rt(locale: str | None, key: str, **params: Any) -> str:
    """A reminder message from the reminders catalog, with every parameter made inert."""
    return _template(lang(locale), key).render(**params).strip()


def catalog_keys(locale: str) -> set[str]:
    return set(_catalog(lang(locale)))


@lru_cache(maxsize=64)
def recipient_locale(member_locale: str | None, group_locale: str | None, default: str | None) -> str:
    """The member's own language if they chose one, else the group's, else the configured one
    (`resolve_locale` without a platform locale; cached, it runs once per reminder)."""
    return resolve_locale(None, member_locale=member_locale, group_locale=group_locale, default=default)


@dataclass(frozen=True, slots=True)
class MeetingFacts:
    """What every message about one meeting needs, computed once per meeting, not per member."""

    meeting_id: int
    group_name: str
    timezone: str
    starts_at: datetime
    deadline: datetime
    now: datetime


# Cached per meeting and language: a 10,000-member fan-out formats each date twice, not 20,000 times.
@lru_cache(maxsize=256)
def _meeting(facts: MeetingFacts, locale: str) -> str:
    return format_meeting_day(facts.starts_at, facts.timezone, locale)


@lru_cache(maxsize=256)
def _deadline(facts: MeetingFacts, locale: str) -> str:
    return format_deadline(facts.deadline, facts.timezone, locale, now=facts.now)


@lru_cache(maxsize=64)
def _label(locale: str, key: str) -> str:
    return rt(locale, key)


def deadline_reminder(facts: MeetingFacts, first_name: str, locale: str) -> Reply:
    """The direct message to a member who has not posted: the deadline, how to post, buttons.

    The buttons run command lines (their `value`), as the adapters render them: `runde` opens the
    editor, `runde ingen` records "nothing this time", `paminnelser av` mutes this meeting.
    """
    lc = lang(locale)
    text = rt(
        lc,
        "deadline.text",
        name=first_name,
        group=facts.group_name,
        meeting=_meeting(facts, lc),
        deadline=_deadline(facts, lc),
    )
    buttons = (
        Button(
            _label(lc, "deadline.button_post"), f"runde:open:{facts.meeting_id}", "runde", ButtonStyle.PRIMARY
        ),
        Button(_label(lc, "deadline.button_nothing"), f"runde:ingen:{facts.meeting_id}", "runde ingen"),
        Button(_label(lc, "deadline.button_mute"), f"paminnelser:av:{facts.meeting_id}", "paminnelser av"),
    )
    return Reply(text=text, ephemeral=False, buttons=buttons)


def channel_summary(facts: MeetingFacts, delivered: int, expected: int, locale: str) -> Reply:
    """The channel's "7 av 18 har levert", posted with the member reminders."""
    lc = lang(locale)
    text = rt(
        lc,
        "summary.text",
        meeting=_meeting(facts, lc),
        delivered=delivered,
        expected=expected,
        deadline=_deadline(facts, lc),
    )
    return Reply(text=text, ephemeral=False)


def secretariat_closed(
    facts: MeetingFacts,
    *,
    delivered: int,
    expected: int,
    missing: Sequence[str],
    excused: Sequence[str],
    draft_url: str | None,
    locale: str,
) -> Reply:
    """The secretariat's notice when the deadline passes: who is missing, and the draft."""
    lc = lang(locale)
    shown = list(missing[:MISSING_LIST_LIMIT])
    excused_text = Raw(join_names([escape_markdown_inline(n) for n in excused], lc)) if excused else ""
    text = rt(
        lc,
        "closed.text",
        group=facts.group_name,
        meeting=_meeting(facts, lc),
        deadline=_deadline(facts, lc),
        delivered=delivered,
        expected=expected,
        missing=shown,
        more=max(0, len(missing) - len(shown)),
        excused=excused_text,
        draft_url=Raw(draft_url) if draft_url else "",
    )
    return Reply(text=text, ephemeral=False)


@dataclass(frozen=True, slots=True)
class InputItem:
    number: int
    title: str


def input_before_meeting(
    facts: MeetingFacts, first_name: str, items: Sequence[InputItem], locale: str
) -> Reply:
    """Before the meeting: the agenda items that ask for written input, and how to give it."""
    lc = lang(locale)
    text = rt(
        lc,
        "input.text",
        name=first_name,
        group=facts.group_name,
        meeting=_meeting(facts, lc),
        items=[{"number": i.number, "title": i.title} for i in items],
        first_number=items[0].number if items else 1,
    )
    return Reply(text=text, ephemeral=False)


@dataclass(frozen=True, slots=True)
class FollowUpItem:
    number: int
    text: str
    due: date | None


def follow_ups_open(
    facts: MeetingFacts, first_name: str, items: Sequence[FollowUpItem], locale: str
) -> Reply:
    """Before the meeting: the follow-ups from earlier meetings this member still owns."""
    lc = lang(locale)
    text, body = render_echoes(
        lambda: rt(
            lc,
            "follow_ups.text",
            name=first_name,
            group=facts.group_name,
            meeting=_meeting(facts, lc),
            items=[
                {
                    "number": i.number,
                    "text": echo(i.text, limit=LINE_LIMIT, inline=True),
                    "due": format_short_date(i.due, lc) if i.due else None,
                }
                for i in items
            ],
        )
    )
    return Reply(text=text, ephemeral=False, body=body)


def member_label(name: str, organisation: str) -> str:
    """ "Kari Nordmann (Eksempel kommune)" for the secretariat's list of who is missing."""
    return f"{name} ({organisation})" if organisation else name
