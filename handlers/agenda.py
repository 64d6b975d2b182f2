"""What an agenda item is, read from its title the way secretariats word their invitations.

One place for the words, so `mote sak` (which stores a kind), the referat (which also reads titles
stored before a word was known here) and a future invitation import agree on them:
- the round table goes by several names: "Runde rundt bordet", "Rundt bordet", "Bordet rundt",
  "Runden", "Runde" (and "Round table" in an English group); text after a dash or colon is the
  round's theme: "Runden – temaet er hva vi nå bør spille inn";
- "Godkjenning av referat fra møtet 24.08.2022" names the meeting whose minutes are approved;
- "Eventuelt" (any other business) is recognised by its usual spellings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from babel.dates import get_month_names

from storage.models import AgendaKind

# Names of the round table, folded (casefold, single spaces). The long ones may be followed by
# more words ("Runde rundt bordet med status fra kommunene"); the short ones must stand alone.
ROUND_NAMES_NB_LONG = ("runde rundt bordet", "runden rundt bordet", "rundt bordet", "bordet rundt")
ROUND_NAMES_NB_SHORT = ("runden", "runde")
ROUND_NAMES_EN_LONG = ("round table", "round-table", "roundtable", "tour de table")

ANY_OTHER_TITLES = ("eventuelt", "evt.", "evt", "any other business", "aob", "other business")

_KIND_WORDS: tuple[tuple[AgendaKind, tuple[str, ...]], ...] = (
    (AgendaKind.APPROVAL, ("godkjenning", "approval", "godkjenne")),
    (AgendaKind.ORIENTATION, ("orientering", "orienteringer", "briefing")),
    (AgendaKind.DISCUSSION, ("diskusjon", "drøfting", "discussion")),
)

# The theme follows a colon, or a dash with space around it (a hyphen inside a word such as
# "round-table" or "Business friendly-kommuner" is not a separator).
_THEME_SEPARATOR = re.compile(r"\s*:\s*|\s+[-–—]\s+|\s*[–—]\s*")
_SPACES = re.compile(r"\s+")
_NUMERIC_DATE = re.compile(r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})(?![\d.]*\d)")


@dataclass(frozen=True, slots=True)
class RoundTitle:
    """A round-table title split into its name ("Runden") and theme (what follows a dash/colon)."""

    name: str
    theme: str | None


def _folded(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold().rstrip(".:!")


def split_theme(title: str) -> tuple[str, str | None]:
    """("Runden", "temaet er …") from "Runden – temaet er …"; (title, None) with no separator."""
    parts = _THEME_SEPARATOR.split(title.strip(), maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        return parts[0].strip(), parts[1].strip()
    return title.strip(), None


def round_table_title(title: str, lang: str = "nb") -> RoundTitle | None:
    """The round table's name and theme when the title names the round table, else None.

    English names count only in an English group: a Norwegian agenda with an item called
    "Round table" about a conference's round-table session is not the meeting's round."""
    name, theme = split_theme(title)
    key = _folded(name)
    long_names = ROUND_NAMES_NB_LONG + (ROUND_NAMES_EN_LONG if lang == "en" else ())
    if key in ROUND_NAMES_NB_SHORT or any(key == n or key.startswith(n + " ") for n in long_names):
        return RoundTitle(name=name, theme=theme)
    return None


def is_any_other(title: str) -> bool:
    """'Eventuelt', 'Evt.', 'Any other business' …"""
    key = _folded(title)
    return any(key == word.rstrip(".") or key.startswith(word + " ") for word in ANY_OTHER_TITLES)


def agenda_kind(title: str, lang: str = "nb") -> AgendaKind:
    """A sensible kind from the title, so the referat treats fixed items ("Godkjenning av
    innkalling", "Runde rundt bordet") as the house style does."""
    if round_table_title(title, lang) is not None:
        return AgendaKind.ROUND_TABLE
    folded = _folded(title)
    for kind, words in _KIND_WORDS:
        if any(folded.startswith(w) for w in words):
            return kind
    return AgendaKind.OTHER


@lru_cache(maxsize=4)
def _month_numbers(lang: str) -> dict[str, int]:
    names = get_month_names("wide", locale="en" if lang == "en" else "nb")
    return {str(name).casefold(): number for number, name in names.items()}


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def date_in_title(title: str, lang: str = "nb") -> str | None:
    """The date a title names, as it is written there: "24.08.2022", "7. november 2024",
    "16.03.23", "11 September 2025". None when it names no valid date."""
    for match in _NUMERIC_DATE.finditer(title):
        day, month, year = (int(g) for g in match.groups())
        if _valid(year if year > 99 else 2000 + year, month, day):
            return match.group(0)
    months = "|".join(re.escape(m) for m in sorted(_month_numbers(lang), key=len, reverse=True))
    long_form = re.compile(rf"(?<!\d)(\d{{1,2}})\.?\s+({months})\s+(\d{{4}})(?!\d)", re.IGNORECASE)
    for match in long_form.finditer(title):
        day_text, month_name, year_text = match.groups()
        if _valid(int(year_text), _month_numbers(lang)[month_name.casefold()], int(day_text)):
            return _SPACES.sub(" ", match.group(0))
    return None
