"""The one list of chat commands: the parser, the help text and both manifests read it.

Like slack-machine's registrar, everything that names a command comes from `COMMANDS`, so the
words the parser accepts, the usage lines `hjelp` prints, Slack's slash commands and Teams'
command list cannot drift apart. Canonical names are Norwegian words without diacritics (they
double as Slack slash command names); aliases add the diacritic spellings and English words.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

Role = Literal["member", "secretariat", "anyone"]

# Letters that do not decompose under NFKD; å, é, ü … lose their marks in `fold`.
_FOLD_TABLE = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ð": "d", "þ": "th", "ł": "l"})


def fold(word: str) -> str:
    """Case- and diacritic-insensitive form of a word: `Oppfølging` → `oppfolging`, `På` → `pa`.

    Users type Norwegian words with and without æøå (phones, US keyboards), so every keyword
    comparison goes through this. NFKD also maps fullwidth letters and decomposed `å`.
    """
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(_FOLD_TABLE)


@dataclass(frozen=True, slots=True)
class Subcommand:
    """A second word such as `mote lukk`; `role` overrides the command's role when set."""

    name: str
    aliases: tuple[str, ...] = ()
    role: Role | None = None


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One chat command. `name` is canonical; `slash` is its Slack slash command, if it has one.

    `subcommands` lists second words the parser accepts; `in_menu` says whether Teams' command
    menu lists it (Teams allows at most 12 per list, so the rarely used ones stay out).
    """

    name: str
    slash: str | None
    aliases: tuple[str, ...]
    usage_nb: str
    usage_en: str
    summary_nb: str
    summary_en: str
    role: Role
    subcommands: tuple[Subcommand, ...] = ()
    in_menu: bool = True

    @property
    def words(self) -> tuple[str, ...]:
        """The name and every alias: all the words that start this command."""
        return (self.name, *self.aliases)

    def subcommand(self, word: str) -> Subcommand | None:
        """The subcommand a (user-typed) word names, or None."""
        folded = fold(word)
        for sub in self.subcommands:
            if folded == sub.name or folded in (fold(a) for a in sub.aliases):
                return sub
        return None


# `rolle @person <rolle>`: the words a secretariat may type, mapped to the stored role.
ROLE_WORDS: dict[str, str] = {
    "medlem": "member",
    "member": "member",
    "deltaker": "member",
    "leder": "chair",
    "moteleder": "chair",
    "møteleder": "chair",
    "chair": "chair",
    "sekretariat": "secretariat",
    "sekretariatet": "secretariat",
    "secretariat": "secretariat",
}

# `runde ingen`: nothing to report this time.
NOTHING_WORDS: tuple[str, ...] = ("ingen", "ingenting", "nothing", "none")

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        name="referat",
        slash="/referat",
        aliases=("minutes",),
        usage_nb="referat [md|html|docx|pdf] [DD.MM.YYYY]",
        usage_en="referat [md|html|docx|pdf] [DD.MM.YYYY]",
        summary_nb="Utkast til referat fra siste (eller et datert) møte",
        summary_en="Draft minutes of the current (or a dated) meeting",
        role="member",
    ),
    CommandSpec(
        name="runde",
        slash="/runde",
        aliases=("round", "update"),
        usage_nb="runde [tekst | ingen]",
        usage_en="runde [text | ingen]",
        summary_nb="Legg til i runden rundt bordet; uten tekst: rediger, «ingen»: ingenting å melde",
        summary_en="Add to my round-table update; no text: edit it, «ingen»: nothing to report",
        role="member",
    ),
    CommandSpec(
        name="innspill",
        slash="/innspill",
        aliases=("input",),
        usage_nb="innspill <saknr> <tekst>",
        usage_en="innspill <item no.> <text>",
        summary_nb="Skriftlig innspill til en sak",
        summary_en="Written input to an agenda item",
        role="member",
    ),
    CommandSpec(
        name="oppfolging",
        slash="/oppfolging",
        aliases=("oppfølging", "followup", "follow-up", "action"),
        usage_nb="oppfolging <tekst> [@ansvarlig] [frist DD.MM]",
        usage_en="oppfolging <text> [@owner] [frist DD.MM]",
        summary_nb="Legg til en oppfølging",
        summary_en="Add a follow-up",
        role="member",
    ),
    CommandSpec(
        name="tilstede",
        slash="/tilstede",
        aliases=("present",),
        usage_nb="tilstede [@person …]",
        usage_en="tilstede [@person …]",
        summary_nb="Meld at jeg er til stede (sekretariatet kan melde for andre)",
        summary_en="Mark me as present (the secretariat can mark others)",
        role="member",
    ),
    CommandSpec(
        name="forfall",
        slash=None,
        aliases=("absent", "excused", "apologies"),
        usage_nb="forfall [@person …]",
        usage_en="forfall [@person …]",
        summary_nb="Meld forfall til møtet (sekretariatet kan melde for andre)",
        summary_en="Send my apologies for the meeting (the secretariat can for others)",
        role="member",
    ),
    CommandSpec(
        name="vara",
        slash=None,
        aliases=("substitute",),
        usage_nb="vara for @person",
        usage_en="vara for @person",
        summary_nb="Meld at jeg møter som vara for en annen",
        summary_en="I attend as a substitute for someone",
        role="member",
        in_menu=False,
    ),
    CommandSpec(
        name="grupper",
        slash="/grupper",
        aliases=("groups",),
        usage_nb='grupper | grupper ny "Navn | Ansvarlig [| maks N]" … [--enkeltvalg] '
        '[--stenger DD.MM.YYYY] [--sporsmal "…"]',
        usage_en='grupper | grupper ny "Name | Owner [| max N]" … [--single] '
        '[--closes DD.MM.YYYY] [--question "…"]',
        summary_nb="Vis påmeldingen til arbeidsgrupper, eller lag en ny (sekretariatet)",
        summary_en="Show the work-group sign-up, or create one (secretariat)",
        role="anyone",
        subcommands=(
            Subcommand("vis", ("show",)),
            Subcommand("ny", ("new", "create", "opprett"), role="secretariat"),
        ),
    ),
    CommandSpec(
        name="mote",
        slash="/mote",
        aliases=("møte", "meeting"),
        usage_nb="mote ny DD.MM.YYYY HH:MM-HH:MM [sted] | mote sak <nr> <tittel> [etter <nr>] | "
        "mote status | mote lukk | mote apne | mote frist DD.MM.YYYY",
        usage_en="mote ny DD.MM.YYYY HH:MM-HH:MM [place] | mote sak <no.> <title> [etter <no.>] | "
        "mote status | mote lukk | mote apne | mote frist DD.MM.YYYY",
        summary_nb="Opprett og styr møter: saker, status, lukk, åpne igjen, flytt frist",
        summary_en="Create and run meetings: agenda items, status, close, reopen, move the deadline",
        role="secretariat",
        subcommands=(
            Subcommand("ny", ("new", "create", "opprett")),
            Subcommand("sak", ("item",)),
            Subcommand("status"),
            Subcommand("lukk", ("close", "steng")),
            Subcommand("apne", ("åpne", "reopen", "open")),
            Subcommand("frist", ("deadline", "due")),
        ),
    ),
    CommandSpec(
        name="oppsett",
        slash=None,
        aliases=("setup",),
        usage_nb="oppsett <gruppe> [| organisasjon]",
        usage_en="oppsett <group> [| organisation]",
        summary_nb="Knytt denne kanalen til en faggruppe",
        summary_en="Bind this channel to a working group",
        role="secretariat",
    ),
    CommandSpec(
        name="rolle",
        slash=None,
        aliases=("role",),
        usage_nb="rolle @person <medlem|leder|sekretariat>",
        usage_en="rolle @person <member|chair|secretariat>",
        summary_nb="Gi en person en rolle i gruppen",
        summary_en="Give someone a role in the group",
        role="secretariat",
        in_menu=False,
    ),
    CommandSpec(
        name="profil",
        slash=None,
        aliases=("profile",),
        usage_nb="profil <organisasjon>",
        usage_en="profil <organisation>",
        summary_nb="Sett organisasjonen min (kommune, region …)",
        summary_en="Set my organisation (municipality, region …)",
        role="anyone",
    ),
    CommandSpec(
        name="paminnelser",
        slash=None,
        aliases=("påminnelser", "reminders"),
        usage_nb="paminnelser av|på",
        usage_en="paminnelser off|on",
        summary_nb="Slå påminnelser for dette møtet av eller på",
        summary_en="Mute or unmute reminders for this meeting",
        role="member",
        subcommands=(Subcommand("pa", ("på", "on")), Subcommand("av", ("off",))),
    ),
    CommandSpec(
        name="data",
        slash=None,
        aliases=("mydata",),
        usage_nb="data eksport|slett",
        usage_en="data export|delete",
        summary_nb="Eksporter eller slett mine data",
        summary_en="Export or delete my data",
        role="anyone",
        subcommands=(Subcommand("eksport", ("export",)), Subcommand("slett", ("delete",))),
        in_menu=False,
    ),
    CommandSpec(
        name="hjelp",
        # `/referent <command>` runs any command; alone it shows this help.
        slash="/referent",
        aliases=("help", "?"),
        usage_nb="hjelp [kommando]",
        usage_en="hjelp [command]",
        summary_nb="Hva Referent kan gjøre (/referent <kommando> kjører alle kommandoer)",
        summary_en="What Referent can do (/referent <command> runs any command)",
        role="anyone",
    ),
)

_BY_NAME: dict[str, CommandSpec] = {c.name: c for c in COMMANDS}


def _word_index() -> dict[str, CommandSpec]:
    """Every folded name and alias → its command; two commands sharing a word is a bug."""
    index: dict[str, CommandSpec] = {}
    for command in COMMANDS:
        for word in command.words:
            key = fold(word)
            other = index.get(key)
            if other is not None and other is not command:
                raise RuntimeError(f"command word {word!r} is used by {other.name} and {command.name}")
            index[key] = command
    return index


_BY_WORD = _word_index()


def spec(name: str) -> CommandSpec:
    """The command with this canonical name (KeyError otherwise: names are code, not input)."""
    return _BY_NAME[name]


def lookup(word: str) -> CommandSpec | None:
    """The command a user-typed word (name or alias, any case, with or without æøå) starts."""
    return _BY_WORD.get(fold(word))


def _lang(locale: str | None) -> str:
    """`en`, `en-US`, `en_GB` → en; everything else (nb, nn, no, None) → nb, the default."""
    return "en" if locale and locale.strip().lower()[:2] == "en" else "nb"


def usage(name: str, locale: str | None = "nb") -> str:
    """The usage line of a command in the user's language."""
    command = spec(name)
    return command.usage_en if _lang(locale) == "en" else command.usage_nb


def summary(name: str, locale: str | None = "nb") -> str:
    """The one-line description of a command in the user's language."""
    command = spec(name)
    return command.summary_en if _lang(locale) == "en" else command.summary_nb


def slash_commands() -> tuple[CommandSpec, ...]:
    """The commands Slack registers as slash commands, in table order (for the manifest)."""
    return tuple(c for c in COMMANDS if c.slash)


def menu_commands() -> tuple[CommandSpec, ...]:
    """The commands Teams lists in its command menu, in table order (at most 12)."""
    return tuple(c for c in COMMANDS if c.in_menu)
