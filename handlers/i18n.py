"""The chat message catalog, locale resolution and Norwegian/English date formatting.

Messages live in `templates/chat/<locale>.toml` as Jinja2 template strings, so wording changes
never touch code. Every value put into a message is made inert (Markdown-escaped) unless the
caller marks it `Raw`, so member text can never turn into markup, links or pings by accident.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, overload
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.lists import format_list
from jinja2 import Environment, Template, Undefined, make_logging_undefined

import templates
from handlers.events import Echo
from handlers.text import escape_markdown_inline

log = logging.getLogger(__name__)

CATALOG_DIR = Path(templates.__file__).parent / "chat"
LOCALES = ("nb", "en")
DEFAULT_LOCALE = "nb"


class Raw(str):
    """Text that is already chat Markdown made by the bot (a usage line, a built list): not escaped."""

    __slots__ = ()


# Member text shown back as its tree (an `Echo` param) stands in the rendered text as a slot,
# `\x00<n>\x00`, while `render_echoes` runs; the slot character is taken out of every other value.
_SLOT = "\x00"
_SLOTS = re.compile("\x00([0-9]+)\x00")
_CAPTURED: ContextVar[list[Echo] | None] = ContextVar("referent_echoes", default=None)


def inert(value: Any) -> Any:
    """A template value as it may be shown: text Markdown-escaped (unless `Raw`), an `Echo` as
    its slot while `render_echoes` runs and as its inert Markdown otherwise."""
    if value is None:
        return ""
    if isinstance(value, Echo):
        captured = _CAPTURED.get()
        if captured is None:
            return value.fallback
        captured.append(value)
        return f"{_SLOT}{len(captured) - 1}{_SLOT}"
    if isinstance(value, Raw):
        return value.replace(_SLOT, "") if _SLOT in value else value
    if isinstance(value, str):
        return escape_markdown_inline(value.replace(_SLOT, ""))
    return value


def render_echoes(render: Callable[[], str]) -> tuple[str, tuple[str | Echo, ...]]:
    """Run a template render whose values may include `Echo`s: the text (each Echo as its inert
    Markdown) and the reply's body (the bot's Markdown and the Echos in order; empty when none)."""
    captured: list[Echo] = []
    token = _CAPTURED.set(captured)
    try:
        rendered = render()
    finally:
        _CAPTURED.reset(token)
    if not captured:
        return rendered, ()
    pieces: list[str | Echo] = []
    for index, part in enumerate(_SLOTS.split(rendered)):
        if index % 2:
            pieces.append(captured[int(part)])
        elif part:
            pieces.append(part)
    text = "".join(p if isinstance(p, str) else p.fallback for p in pieces)
    return text, tuple(pieces)


# A missing parameter renders empty (and is logged) rather than failing the user's answer.
_ENV = Environment(
    autoescape=False,
    finalize=inert,
    undefined=make_logging_undefined(log, Undefined),
    keep_trailing_newline=False,
)


@overload
def normalise_locale(value: str | None) -> str | None: ...
@overload
def normalise_locale(value: str | None, default: str) -> str: ...
def normalise_locale(value: str | None, default: str | None = None) -> str | None:
    """The one locale rule: `en-US`/`en_GB`/`en` → `en`; `nb-NO`/`nn-NO`/`no`/`nb` → `nb`.

    Anything else is None, or with `default` that default (itself normalised, else bokmål): the
    form every caller that must pick a catalog uses.
    """
    head = value.strip().replace("_", "-").split("-")[0].lower() if value else ""
    if head == "en":
        return "en"
    if head in ("nb", "nn", "no", "nob", "nor"):
        return "nb"
    if default is None:
        return None
    return normalise_locale(default) or DEFAULT_LOCALE


def resolve_locale(
    event_locale: str | None,
    *,
    member_locale: str | None = None,
    group_locale: str | None = None,
    default: str | None = None,
) -> str:
    """The user's language: their platform locale when we have it in, else the member's saved
    choice, else the group's language, else the configured default, else bokmål."""
    for candidate in (event_locale, member_locale, group_locale, default):
        locale = normalise_locale(candidate)
        if locale is not None:
            return locale
    return DEFAULT_LOCALE


@cache
def _catalog(locale: str) -> dict[str, str]:
    path = CATALOG_DIR / f"{locale}.toml"
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return _flatten(data)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@cache
def _template(locale: str, key: str) -> Template | None:
    source = _catalog(locale).get(key)
    if source is None and locale != DEFAULT_LOCALE:
        source = _catalog(DEFAULT_LOCALE).get(key)
    if source is None:
        return None
    return _ENV.from_string(source)


def has_key(key: str, locale: str = DEFAULT_LOCALE) -> bool:
    return key in _catalog(locale if locale in LOCALES else DEFAULT_LOCALE)


def keys(locale: str = DEFAULT_LOCALE) -> set[str]:
    return set(_catalog(locale))


def t(locale: str | None, key: str, **params: Any) -> str:
    """The message `key` in `locale` (falling back to bokmål), with params made inert."""
    template = _template(normalise_locale(locale, DEFAULT_LOCALE), key)
    if template is None:
        log.error("missing chat message %r", key)
        return key
    return template.render(**params).strip()


def t_echo(locale: str | None, key: str, **params: Any) -> tuple[str, tuple[str | Echo, ...]]:
    """`t` for a message that shows member text back (`Echo` params): its text, and the body
    that lets each adapter render the member's text from its tree (see `Reply.body`)."""
    return render_echoes(lambda: t(locale, key, **params))


# --- dates -----------------------------------------------------------------------------------


def _babel(locale: str | None) -> str:
    return "en_GB" if normalise_locale(locale) == "en" else "nb_NO"


def _local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def format_day(day: date, locale: str | None) -> str:
    """nb "tirsdag 20. januar 2026", en "Tuesday 20 January 2026"."""
    pattern = "EEEE d MMMM y" if normalise_locale(locale) == "en" else "EEEE d. MMMM y"
    return format_date(day, pattern, locale=_babel(locale))


def format_short_date(day: date, locale: str | None) -> str:
    """nb "20.01.2026", en "20 Jan 2026"."""
    if normalise_locale(locale) == "en":
        return format_date(day, "d MMM y", locale="en_GB")
    return day.strftime("%d.%m.%Y")


def format_day_month(day: date, locale: str | None) -> str:
    """nb "15. mars", en "15 March" (follow-up due dates)."""
    pattern = "d MMMM" if normalise_locale(locale) == "en" else "d. MMMM"
    return format_date(day, pattern, locale=_babel(locale))


def format_clock(moment: datetime, locale: str | None) -> str:
    """nb "10.00", en "10:00"."""
    pattern = "HH:mm" if normalise_locale(locale) == "en" else "HH.mm"
    return format_time(moment, pattern, locale=_babel(locale))


def format_meeting_time(starts_at: datetime, ends_at: datetime, timezone: str, locale: str | None) -> str:
    """nb "tirsdag 20. januar 2026 kl. 10.00–12.00", en "Tuesday 20 January 2026, 10:00–12:00"."""
    start, end = _local(starts_at, timezone), _local(ends_at, timezone)
    day = format_day(start.date(), locale)
    span = f"{format_clock(start, locale)}–{format_clock(end, locale)}"
    if start.date() != end.date():
        span = f"{format_clock(start, locale)}–{format_day(end.date(), locale)} {format_clock(end, locale)}"
    if normalise_locale(locale) == "en":
        return f"{day}, {span}"
    return f"{day} kl. {span}"


def format_meeting_day(starts_at: datetime, timezone: str, locale: str | None) -> str:
    """The meeting's date alone, "20. januar 2026" / "20 January 2026", for short references."""
    pattern = "d MMMM y" if normalise_locale(locale) == "en" else "d. MMMM y"
    return format_date(_local(starts_at, timezone).date(), pattern, locale=_babel(locale))


def format_deadline(
    moment: datetime, timezone: str, locale: str | None, *, now: datetime | None = None
) -> str:
    """nb "fredag 30. januar kl. 23.59", en "Friday 30 January, 23:59" (the year is added when
    it is not the current one)."""
    local = _local(moment, timezone)
    en = normalise_locale(locale) == "en"
    pattern = "EEEE d MMMM" if en else "EEEE d. MMMM"
    if now is not None and _local(now, timezone).year != local.year:
        pattern += " y"
    day = format_date(local.date(), pattern, locale=_babel(locale))
    return f"{day}, {format_clock(local, locale)}" if en else f"{day} kl. {format_clock(local, locale)}"


def format_moment(moment: datetime, timezone: str, locale: str | None) -> str:
    """A point in time with the year: "fredag 30. januar 2026 kl. 12.00"."""
    local = _local(moment, timezone)
    day = format_day(local.date(), locale)
    en = normalise_locale(locale) == "en"
    return f"{day}, {format_clock(local, locale)}" if en else f"{day} kl. {format_clock(local, locale)}"


def join_names(names: list[str], locale: str | None) -> str:
    """ "A, B og C" / "A, B and C" (Babel's list pattern: nb_NO, or en_GB without the Oxford comma)."""
    return format_list(names, style="standard", locale=_babel(locale)) if names else ""


def join_alternatives(names: list[str], locale: str | None) -> str:
    """ "A, B eller C" / "A, B or C" (Babel's "or" list pattern)."""
    return format_list(names, style="or", locale=_babel(locale)) if names else ""


# How chat platforms are named to people ("ikke funnet i Slack eller Teams").
PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams"}


def platform_names(platforms: str | list[str], locale: str | None) -> str:
    """ "slack,teams" → "Slack eller Teams" / "Slack or Teams"."""
    items = platforms.split(",") if isinstance(platforms, str) else platforms
    return join_alternatives([PLATFORM_NAMES.get(p, p) for p in items if p], locale)
