"""The one command parser for Slack and Teams: a line of text in, a `Command` or `ParseError` out.

Adapters hand over plain text (Slack `/runde tekst` as "runde tekst", Teams "@Referent runde
tekst"), the mentions they found and today's date in the group's time zone. The parser knows no
platform, reads no clock and does no I/O, and it never raises: whatever a user types, the handler
gets something it can answer. Command words come from the registry (`handlers.command_table`), so
help, manifests and parser agree; each command's declaration names which grammar below (or of its
own module, built from the public pieces here) reads its arguments.

Member text (`runde`, `innspill`, `oppfolging`) is returned as written; making it inert is the
output side's job (handlers/text.py).
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time

from handlers.command_table import COMMANDS, NOTHING_WORDS, ROLE_WORDS, CommandSpec, fold, lookup, spec
from handlers.dates import (
    DateTimeError,
    looks_like_date,
    looks_like_time,
    parse_date,
    parse_time,
    take_time_range,
)
from handlers.events import Mention
from handlers.i18n import normalise_locale
from handlers.parsed import (
    Command,
    Excused,
    FollowUpCmd,
    GroupsNew,
    GroupsShow,
    Help,
    Input,
    LinkIdentity,
    MeetingApproveMinutes,
    MeetingClose,
    MeetingDeadline,
    MeetingImport,
    MeetingItem,
    MeetingNew,
    MeetingReopen,
    MeetingStatusCmd,
    MyData,
    ParseError,
    PersonRef,
    Present,
    Profile,
    Referat,
    Reminders,
    Round,
    SetRole,
    Setup,
    Substitute,
    WorkGroupSpec,
)

log = logging.getLogger(__name__)

MAX_LENGTH = 20_000  # a whole command line; longer is pasted by mistake (or hostile)
NAME_LIMIT = 200  # group, organisation, place, person, work-group label
TITLE_LIMIT = 500  # agenda item title, poll question
MAX_GROUPS = 25  # options in one work-group poll
MAX_CAP = 10_000
MAX_ITEM_NUMBER = 9_999
_PREVIEW = 60  # how much of a bad value an error message quotes back

# Opening quote → the closing quotes it accepts ("…", «…», “…”, and German-style „…“).
_QUOTES: dict[str, str] = {'"': '"', "«": "»", "“": "”“", "„": "“”"}
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_HELP_WORDS = frozenset({"hjelp", "help", "?", "--help", "-h"})
_FORMATS = {
    "md": "md",
    "markdown": "md",
    "html": "html",
    "htm": "html",
    "docx": "docx",
    "word": "docx",
    "pdf": "pdf",
}
_SECRETARIAT_WORDS = frozenset({"sekretariatet", "sekretariat", "secretariat", "sekr"})
_NOTHING_PHRASES = frozenset(
    {*NOTHING_WORDS, "ingen ting", "ingenting a melde", "ingenting nytt", "nothing to report", "nothing new"}
)
# Longer texts cannot be one of these phrases: skip folding a whole round-table entry (hot path).
_SHORT_PHRASE = 2 * max(len(p) for p in _NOTHING_PHRASES | _HELP_WORDS)
_NUMBER = re.compile(r"#?([0-9]{1,6})[.:)]?", re.ASCII)
_ITEM_WORD = re.compile(r"(?:sak|saksnr|item|nr|no)\.?", re.ASCII)
_ITEM_GLUED = re.compile(r"(?:sak|item)#?([0-9]{1,6})[.:)]?", re.ASCII)
_TRAILING_DUE = re.compile(r"(?:^|\s)(?:frist|due|innen)\s*:?\s+(\S+)\s*$", re.IGNORECASE)
_TRAILING_AFTER = re.compile(
    r"(?:^|\s)(?:etter|after)\s+(?:sak\s+|item\s+)?#?([0-9]{1,6})\.?\s*$", re.IGNORECASE | re.ASCII
)
_CAP = re.compile(r"(?:maks|max)\.?\s*:?\s*(\S*)")
_OPTION_DASHES = "-‐‑‒–—−"
_TIME_WORDS = frozenset({"kl", "kl.", "klokka", "klokken", "at"})
_WEEKDAYS = {
    word: number
    for number, words in enumerate(
        [
            ("mandag", "man", "monday", "mon"),
            ("tirsdag", "tir", "tuesday", "tue"),
            ("onsdag", "ons", "wednesday", "wed"),
            ("torsdag", "tor", "thursday", "thu"),
            ("fredag", "fre", "friday", "fri"),
            ("lordag", "lor", "saturday", "sat"),
            ("sondag", "son", "sunday", "sun"),
        ]
    )
    for word in words
}


class _Reject(Exception):
    """Carries a ParseError out of nested helpers; `parse` turns it back into a return value."""

    def __init__(self, error: ParseError) -> None:
        super().__init__(error.key)
        self.error = error


def _preview(value: str, limit: int = _PREVIEW) -> str:
    """A value as an error message may quote it: one line, at most `limit` characters."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _fail(key: str, command: str | None = None, /, **params: str) -> _Reject:
    """A rejection with its params shortened for quoting in a chat message."""
    return _Reject(ParseError(key, {k: _preview(v) for k, v in params.items()}, command))


def _date_error(error: DateTimeError, command: str) -> _Reject:
    """dates.py errors already carry the message key."""
    return _fail(error.key, command, value=error.value, reason=error.reason)


@dataclass(frozen=True, slots=True)
class _Token:
    """A word or a quoted group; `start`/`end` span it in the source (quotes included)."""

    value: str
    start: int
    end: int
    quoted: bool = False


def _tokens(text: str) -> list[_Token]:
    """Split on whitespace; "…", «…» and “…” group words. An unclosed quote runs to the end."""
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        closers = _QUOTES.get(ch)
        if closers is not None:
            ends = [j for j in (text.find(c, i + 1) for c in closers) if j >= 0]
            if not ends:
                tokens.append(_Token(text[i + 1 :], i, n, True))
                break
            j = min(ends)
            tokens.append(_Token(text[i + 1 : j], i, j + 1, True))
            i = j + 1
            continue
        j = i
        while j < n and not text[j].isspace():
            j += 1
        tokens.append(_Token(text[i:j], i, j))
        i = j
    return tokens


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _word_end(text: str, i: int) -> int:
    while i < len(text) and not text[i].isspace():
        i += 1
    return i


def _body(rest: str) -> str:
    """Free text after a command word, exactly as written, minus the separator in front of it.

    Spaces on the command's line and blank lines go; the indentation of the first written
    line, line breaks, bullets and trailing text stay byte for byte.
    """
    i, n = 0, len(rest)
    while True:
        j = i  # i: start of a line; j: its first non-space character
        while j < n and rest[j].isspace() and rest[j] not in _LINE_BREAKS:
            j += 1
        if j == n:
            return ""
        if rest[j] not in _LINE_BREAKS:
            return rest[j:] if i == 0 else rest[i:]
        i = j + (2 if rest.startswith("\r\n", j) else 1)


def _unquote(value: str) -> str:
    """A name as typed, without surrounding quotes and with its whitespace collapsed."""
    value = value.strip()
    if len(value) >= 2 and value[0] in _QUOTES and value[-1] in _QUOTES[value[0]]:
        value = value[1:-1]
    return " ".join(value.split())


def _name(value: str, command: str, argument: str, limit: int = NAME_LIMIT) -> str:
    """A required one-line name: missing_argument when empty, too_long past `limit`."""
    name = _unquote(value)
    if not name:
        raise _fail("missing_argument", command, command=command, argument=argument)
    if len(name) > limit:
        raise _fail("too_long", command, limit=str(limit))
    return name


def _number(token: str, command: str, limit: int = MAX_ITEM_NUMBER) -> int:
    """A positive ASCII number as people write item numbers: `3`, `#3`, `3.`, `3:`."""
    match = _NUMBER.fullmatch(token)
    if not match or not 1 <= int(match[1]) <= limit:
        raise _fail("bad_number", command, value=token)
    return int(match[1])


def _date(value: str, command: str, today: date | None) -> date:
    """A date, or the date error for `command` (a trailing comma is forgiven)."""
    try:
        return parse_date(value.rstrip(",;"), today=today)
    except DateTimeError as error:
        raise _date_error(error, command) from None


# --- mentions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Person:
    name: str
    user_id: str | None
    start: int  # span of "@Name" in the source
    end: int


def _at_word_start(text: str, i: int) -> bool:
    """An `@` that starts a word, so `post@kommune.no` is not a mention."""
    return text[i] == "@" and (i == 0 or text[i - 1].isspace() or text[i - 1] in '(«"“')


def _mention_at(text: str, i: int, mentions: Sequence[Mention]) -> _Person | None:
    """The platform mention whose `@Display Name` starts at `i` (longest name wins)."""
    if not _at_word_start(text, i):
        return None
    for mention in mentions:  # sorted longest first by the caller
        name = mention.display_name
        end = i + 1 + len(name)
        if text[i + 1 : end].casefold() == name.casefold() and (end == len(text) or not text[end].isalnum()):
            return _Person(name, mention.user_id, i, end)
    return None


def _secretariat(name: str) -> str:
    """`@sekretariatet` (any spelling) is the secretariat, not a person."""
    return "Sekretariatet" if fold(name.strip(".,;:!")) in _SECRETARIAT_WORDS else name


def _clean_person(name: str) -> str:
    """A typed name without trailing punctuation and with single spaces."""
    return " ".join(name.strip().strip(".,;:!").split())


# --- commands -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Args:
    mentions: tuple[Mention, ...]
    today: date | None


_FINAL_WORDS = frozenset({"endelig", "final", "godkjent"})


def referat(rest: str, ctx: Args) -> Command:
    """`referat [endelig] [md|html|docx|pdf] [DD.MM.YYYY]`, format and date in either order."""
    fmt: str | None = None
    day: date | None = None
    final = False
    for token in _tokens(rest):
        word = fold(token.value).strip().lstrip("-.")
        if word in _FINAL_WORDS and not final:
            final = True
        elif word in _FORMATS and fmt is None:
            fmt = _FORMATS[word]
        elif looks_like_date(token.value) and day is None:
            day = _date(token.value, "referat", ctx.today)
        else:
            raise _fail("bad_format", "referat", value=token.value)
    return Referat(fmt or "md", day, final)


def _is_nothing(text: str) -> bool:
    """`ingen`, `Ingenting.`, `nothing to report`: the whole text says there is nothing new."""
    if len(text) > _SHORT_PHRASE:
        return False
    return " ".join(fold(text).strip(" .!-–\t\n").split()) in _NOTHING_PHRASES


def runde(rest: str, ctx: Args) -> Command:
    """`runde <tekst>` keeps the text as written; alone it opens the editor; `ingen` = nothing."""
    text = _body(rest)
    if not text.strip():
        return Round("")
    if _is_nothing(text):
        return Round(nothing=True)
    return Round(text)


def innspill(rest: str, ctx: Args) -> Command:
    """`innspill [til] [sak] <nr> <tekst>`; the number may be written `3`, `#3`, `sak 3`, `sak3`."""
    tokens = _tokens(rest)
    if tokens and fold(tokens[0].value) in ("til", "to"):
        tokens = tokens[1:]
    if not tokens:
        raise _fail("missing_argument", "innspill", command="innspill", argument="item_number")
    first = tokens[0]
    glued = _ITEM_GLUED.fullmatch(fold(first.value))
    if glued:
        number, end = _number(glued[1], "innspill"), first.end
    elif _ITEM_WORD.fullmatch(fold(first.value)) and not first.quoted:
        if len(tokens) < 2:
            raise _fail("missing_argument", "innspill", command="innspill", argument="item_number")
        number, end = _number(tokens[1].value, "innspill"), tokens[1].end
    elif _NUMBER.fullmatch(first.value) or first.value[:1].isdigit() or first.value[:1] == "#":
        number, end = _number(first.value, "innspill"), first.end
    else:
        raise _fail("missing_argument", "innspill", command="innspill", argument="item_number")
    text = _strip_separator(rest[end:])
    if not text.strip():
        raise _fail("missing_text", "innspill", command="innspill")
    return Input(number, text)


def _strip_separator(rest: str) -> str:
    """Body text after `sak 3`, minus a `:`/`-`/`–` on the same line (`sak 3 – Vi mener …`)."""
    i = 0
    while i < len(rest) and rest[i].isspace() and rest[i] not in _LINE_BREAKS:
        i += 1
    if i < len(rest) and rest[i] in ":-–—" and (i + 1 == len(rest) or rest[i + 1].isspace()):
        return _body(rest[i + 1 :])
    return _body(rest)


def oppfolging(rest: str, ctx: Args) -> Command:
    """`oppfolging <tekst> [@ansvarlig] [frist DD.MM]`: owner and due date are peeled off the end
    (either order); an owner at the start is taken too, one inside the text is left in it."""
    text = _body(rest).strip()
    due: date | None = None
    owner: _Person | None = None
    for _ in range(2):  # "… @Kari frist 05.01" and "… frist 05.01 @Kari" alike
        match = _TRAILING_DUE.search(text)
        if due is None and match and looks_like_date(match[1].rstrip(".,;")):
            due = _date(match[1].rstrip(",;"), "oppfolging", ctx.today)
            text = text[: match.start()].rstrip()
            continue
        if owner is None:
            owner = _trailing_owner(text, ctx.mentions)
            if owner is not None:
                text = text[: owner.start].rstrip()
                continue
        break
    if owner is None:
        owner, text = _inner_owner(text, ctx.mentions)
    whole = _tokens(text)
    if len(whole) == 1 and whole[0].quoted and whole[0].end == len(text):  # `"Sende rapport" @Kari`
        text = whole[0].value.strip()
    if not text:
        raise _fail("missing_text", "oppfolging", command="oppfolging")
    if owner is None:
        return FollowUpCmd(text, due=due)
    name = _secretariat(owner.name)
    user_id = None if name == "Sekretariatet" else owner.user_id
    if len(name) > NAME_LIMIT:
        raise _fail("too_long", "oppfolging", limit=str(NAME_LIMIT))
    return FollowUpCmd(text, owner=name, owner_user_id=user_id, due=due)


def _trailing_owner(text: str, mentions: Sequence[Mention]) -> _Person | None:
    """`@Name` closing the text: a platform mention, or (without one) `@Word Word` to the end."""
    core = text.rstrip(".,;:!")
    for mention in mentions:  # longest first
        at = len(core) - len(mention.display_name) - 1
        person = _mention_at(core, at, (mention,)) if at > 0 else None
        if person is not None:
            return person
    at = max((i for i in range(1, len(core)) if _at_word_start(core, i)), default=-1)
    if at <= 0:
        return None
    words = core[at + 1 :].split()
    if not 1 <= len(words) <= 4 or "@" in core[at + 1 :] or _has_mention_inside(core, at, mentions):
        return None
    return _Person(_clean_person(" ".join(words)), None, at, len(text))


def _has_mention_inside(text: str, at: int, mentions: Sequence[Mention]) -> bool:
    """True when `@…` at `at` is a known mention that ends before the text does (so it is inline)."""
    person = _mention_at(text, at, mentions)
    return person is not None and person.end < len(text)


def _inner_owner(text: str, mentions: Sequence[Mention]) -> tuple[_Person | None, str]:
    """An owner mentioned at the start (removed from the text) or inside it (text kept as written)."""
    for i in range(len(text)):
        if text[i] != "@" or not _at_word_start(text, i):
            continue
        person = _mention_at(text, i, mentions)
        if person is None:
            end = _word_end(text, i)
            word = _clean_person(text[i + 1 : end])
            if not word:
                continue
            person = _Person(word, None, i, end)
        if i == 0:
            return person, text[person.end :].strip()
        return person, text
    return None, text


def _people(rest: str, ctx: Args, command: str) -> tuple[PersonRef, ...]:
    """Everyone named with `@` (mentions first, else the typed name up to the next `@` or comma).
    Words before the first `@` (a reason: "forfall syk") are ignored, as before."""
    people: list[PersonRef] = []
    i = 0
    while i < len(rest):
        if rest[i] != "@" or not _at_word_start(rest, i):
            i += 1
            continue
        person = _mention_at(rest, i, ctx.mentions)
        if person is not None:
            people.append(PersonRef(person.name, person.user_id))
            i = person.end
            continue
        end = len(rest)
        for stop in ("@", ",", ";", "\n"):
            found = rest.find(stop, i + 1)
            if found != -1:
                end = min(end, found)
        name = _clean_person(rest[i + 1 : end])
        if name:
            if len(name) > NAME_LIMIT:
                raise _fail("too_long", command, limit=str(NAME_LIMIT))
            people.append(PersonRef(name))
        i = end
    return tuple(dict.fromkeys(people))


def vara(rest: str, ctx: Args) -> Command:
    """`vara [for] @person`: a platform mention gives the user id; a typed name is kept as is."""
    text = rest.strip()
    first_end = _word_end(text, 0)
    if fold(text[:first_end]) in ("for", "til"):
        text = text[first_end:].strip()
    if text.startswith("@"):
        person = _mention_at(text, 0, ctx.mentions)
        if person is not None:
            return Substitute(person.name, person.user_id)
        text = text[1:]
    name = _clean_person(_unquote(text))
    if not name:
        raise _fail("missing_argument", "vara", command="vara", argument="person")
    if len(name) > NAME_LIMIT:
        raise _fail("too_long", "vara", limit=str(NAME_LIMIT))
    return Substitute(name)


def grupper(rest: str, ctx: Args) -> Command:
    """`grupper` shows the sign-up poll; `grupper ny …` creates one."""
    tokens = _tokens(rest)
    if not tokens:
        return GroupsShow()
    sub = None if tokens[0].quoted else spec("grupper").subcommand(tokens[0].value)
    if sub is None:
        raise _fail("unknown_command", "grupper", word=tokens[0].value)
    if sub.name == "vis":
        return GroupsShow()
    return _groups_new(rest, tokens[1:], ctx)


def _option_name(token: _Token) -> str | None:
    """`--stenger`, `—stenger` (a phone's autocorrected `--`), `-single` → the bare folded name."""
    if token.quoted or token.value[:1] not in _OPTION_DASHES:
        return None
    name = fold(token.value.lstrip(_OPTION_DASHES).partition("=")[0])
    return name or None


def _inline_value(token: _Token) -> str:
    """The `value` of `--option=value`, as typed."""
    return token.value.partition("=")[2]


def _groups_new(rest: str, tokens: list[_Token], ctx: Args) -> Command:
    """Quoted `"Navn | Ansvarlig | maks N"` groups (or one per line / `;`) and the poll options."""
    specs: list[WorkGroupSpec] = []
    question: str | None = None
    closes: date | None = None
    closes_time: time | None = None
    single = False
    loose: list[_Token] = []

    def flush() -> None:
        if loose:
            chunk = rest[loose[0].start : loose[-1].end]
            for piece in re.split(r"[\n\r;\u2028\u2029\x85]+", chunk):
                piece = re.sub(r"^\s*(?:[-*•·–]|[0-9]{1,2}[.)])\s+", "", piece).strip()
                if piece:
                    specs.append(_group_spec(piece))
            loose.clear()

    i = 0
    while i < len(tokens):
        token = tokens[i]
        option = _option_name(token)
        if option is not None:
            flush()
            name = option
            if name in ("enkeltvalg", "enkelt", "single", "singlechoice", "single-choice"):
                single = True
            elif name in ("stenger", "closes", "close", "frist", "deadline"):
                value, i = _option_value(tokens, i, "closes")
                closes = _date(value, "grupper", ctx.today)
                closes_time, i = _option_time(tokens, i)
            elif name in ("sporsmal", "question", "q"):
                value, i = _option_value(tokens, i, "question", until_option=True, rest=rest)
                question = _name(value, "grupper", "question", TITLE_LIMIT)
            else:
                raise _fail("bad_format", "grupper", value=token.value)
        elif token.quoted:
            flush()
            specs.append(_group_spec(token.value))
        else:
            loose.append(token)
        i += 1
    flush()
    if not specs:
        raise _fail("missing_argument", "grupper", command="grupper", argument="groups")
    if len(specs) > MAX_GROUPS:
        raise _fail("too_long", "grupper", limit=str(MAX_GROUPS))
    seen: set[str] = set()
    for group in specs:
        key = fold(group.label)
        if key in seen:
            raise _fail("bad_format", "grupper", value=group.label)
        seen.add(key)
    return GroupsNew(
        tuple(specs), question=question, closes=closes, single_choice=single, closes_time=closes_time
    )


def _option_time(tokens: list[_Token], i: int) -> tuple[time | None, int]:
    """An optional `[kl.] HH:MM` after the closing date, and the index of the last token used."""
    j = i + 1
    if j < len(tokens) and not tokens[j].quoted and fold(tokens[j].value) in _TIME_WORDS:
        j += 1
    if j < len(tokens) and not tokens[j].quoted and looks_like_time(tokens[j].value.rstrip(",;")):
        try:
            return parse_time(tokens[j].value.rstrip(",;")), j
        except DateTimeError as error:
            raise _date_error(error, "grupper") from None
    return None, i


def _option_value(
    tokens: list[_Token], i: int, argument: str, *, until_option: bool = False, rest: str = ""
) -> tuple[str, int]:
    """The value of `--opt value` (or `--opt=value`) and the index of the last token used.

    With `until_option` (the question) an unquoted value runs to the next option or quoted group.
    """
    token = tokens[i]
    inline = _inline_value(token)
    if inline:
        if not until_option:
            return inline, i
        start, j = token.end - len(inline), i
    else:
        if i + 1 >= len(tokens) or _option_name(tokens[i + 1]) is not None:
            raise _fail("missing_argument", "grupper", command="grupper", argument=argument)
        if not until_option or tokens[i + 1].quoted:
            return tokens[i + 1].value, i + 1
        start, j = tokens[i + 1].start, i + 1
    while j + 1 < len(tokens) and not tokens[j + 1].quoted and _option_name(tokens[j + 1]) is None:
        j += 1
    return rest[start : tokens[j].end], j


def _group_spec(raw: str) -> WorkGroupSpec:
    """`Navn | Ansvarlig | maks 5` → label, responsible, cap; the last two are optional."""
    parts = [" ".join(p.split()) for p in raw.split("|")]
    label = _unquote(parts[0])
    if not label or len(parts) > 3:
        raise _fail("bad_format", "grupper", value=raw)
    if len(label) > NAME_LIMIT:
        raise _fail("too_long", "grupper", limit=str(NAME_LIMIT))
    responsible: str | None = None
    cap: int | None = None
    for index, part in enumerate(parts[1:], start=1):
        match = _CAP.fullmatch(fold(part))
        if match:
            if cap is not None:
                raise _fail("bad_format", "grupper", value=raw)
            cap = _number(match[1], "grupper", MAX_CAP)
        elif index == 1:
            responsible = _clean_person(part.lstrip("@")) or None
            if responsible and len(responsible) > NAME_LIMIT:
                raise _fail("too_long", "grupper", limit=str(NAME_LIMIT))
        elif part:
            raise _fail("bad_format", "grupper", value=raw)
    return WorkGroupSpec(label, responsible, cap)


def mote(rest: str, ctx: Args) -> Command:
    """`mote ny|sak|status|lukk|apne|frist …`; `mote` alone is the status."""
    tokens = _tokens(rest)
    if not tokens:
        return MeetingStatusCmd()
    first = tokens[0]
    sub = None if first.quoted else spec("mote").subcommand(first.value)
    if sub is None:
        raise _fail("unknown_command", "mote", word=first.value)
    after = rest[first.end :]
    if sub.name == "ny":
        return _mote_ny(after, ctx)
    if sub.name == "sak":
        return _mote_sak(after)
    if sub.name == "status":
        return MeetingStatusCmd()
    if sub.name == "lukk":
        return MeetingClose()
    if sub.name == "apne":
        return MeetingReopen()
    if sub.name == "godkjenn-referat":
        if _tokens(after):
            raise _fail("bad_format", "mote", value=_tokens(after)[0].value)
        return MeetingApproveMinutes()
    if sub.name == "importer":
        return _mote_importer(after)
    # frist
    more = _tokens(after)
    if not more:
        raise _fail("missing_argument", "mote", command="mote", argument="date")
    return MeetingDeadline(_date(more[0].value, "mote", ctx.today))


_IMPORT_ACTIONS = {"bekreft": "confirm", "confirm": "confirm", "avbryt": "cancel", "cancel": "cancel"}


def _mote_importer(after: str) -> Command:
    """`mote importer <the invitation, pasted>`; `mote importer bekreft|avbryt <token>` are the
    preview's buttons. The invitation text is kept as written (line numbers must match)."""
    tokens = _tokens(after)
    action = _IMPORT_ACTIONS.get(fold(tokens[0].value)) if len(tokens) == 2 else None
    if action is not None and re.fullmatch(r"[A-Za-z0-9_-]{8,64}", tokens[1].value):
        return MeetingImport(action=action, token=tokens[1].value)
    text = after.lstrip(" \t:").lstrip("\r\n")
    return MeetingImport(text=text)


def _mote_ny(after: str, ctx: Args) -> Command:
    """`[ukedag] DD.MM.YYYY [kl.] HH:MM-HH:MM [sted]`; the place defaults to Teams."""
    tokens = _tokens(after)
    if not tokens:
        raise _fail("missing_argument", "mote", command="mote", argument="date")
    day_name = tokens[0].value
    weekday = _WEEKDAYS.get(fold(day_name.rstrip(",")))
    if weekday is not None and len(tokens) > 1:  # `mote ny tirsdag 20.01.2026 …`
        after = after[tokens[0].end :]
        tokens = _tokens(after)
    day = _date(tokens[0].value, "mote", ctx.today)
    if weekday is not None and day.weekday() != weekday:  # a typo in the day or the date
        raise _fail("bad_date", "mote", value=f"{day_name} {tokens[0].value}", reason="weekday_mismatch")
    tail = after[tokens[0].end :]
    more = _tokens(tail)
    if more and not more[0].quoted and fold(more[0].value) in _TIME_WORDS:
        tail = tail[more[0].end :]
        more = _tokens(tail)
    try:
        taken = take_time_range(tail)
    except DateTimeError as error:
        raise _date_error(error, "mote") from None
    if taken is None:
        if not more:
            raise _fail("missing_argument", "mote", command="mote", argument="time")
        raise _fail("bad_time_range", "mote", value=more[0].value)
    (start, end), place_text = taken
    place = _unquote(place_text.lstrip(" ,;\t")) or "Teams"
    if len(place) > NAME_LIMIT:
        raise _fail("too_long", "mote", limit=str(NAME_LIMIT))
    return MeetingNew(day, start, end, place)


def _mote_sak(after: str) -> Command:
    """`<nr> <tittel> [etter <nr>]`; a trailing `etter` without a number belongs to the title."""
    tokens = _tokens(after)
    if tokens and not tokens[0].quoted and _ITEM_WORD.fullmatch(fold(tokens[0].value)):
        after = after[tokens[0].end :]
        tokens = _tokens(after)
    if not tokens:
        raise _fail("missing_argument", "mote", command="mote", argument="item_number")
    number = _number(tokens[0].value, "mote")
    title = after[tokens[0].end :].strip()
    position: int | None = None
    match = _TRAILING_AFTER.search(title)
    if match:
        position = _number(match[1], "mote")
        if position == number:
            raise _fail("bad_number", "mote", value=match[1])
        title = title[: match.start()]
    title = _unquote(_strip_separator(title))
    if not title:
        raise _fail("missing_argument", "mote", command="mote", argument="title")
    if len(title) > TITLE_LIMIT:
        raise _fail("too_long", "mote", limit=str(TITLE_LIMIT))
    return MeetingItem(number, title, position)


_LANGUAGE_FLAG = re.compile(r"\s--(?:språk|sprak|language|lang)(?:\s+|=)(\S+)\s*$", re.IGNORECASE)


def oppsett(rest: str, ctx: Args) -> Command:
    """`oppsett <gruppe> [| organisasjon] [--språk en|nb]`; a quoted group name may itself hold
    a `|`. The language flag comes last."""
    locale = None
    if (flag := _LANGUAGE_FLAG.search(" " + rest)) is not None:
        locale = normalise_locale(flag.group(1))
        if locale is None:
            raise _fail("bad_format", "oppsett", value=flag.group(1))
        rest = (" " + rest)[: flag.start()].strip()
    tokens = _tokens(rest)
    if tokens and tokens[0].quoted:  # `oppsett "Gruppe | med strek" | Org`: the quotes win
        after = rest[tokens[0].end :].strip()
        if after and not after.startswith("|"):
            raise _fail("bad_format", "oppsett", value=after)
        group, bar, organisation = rest[: tokens[0].end], after[:1], after[1:]
    else:
        group, bar, organisation = rest.partition("|")
    name = _name(group, "oppsett", "group")
    org = _unquote(organisation) if bar else ""
    if len(org) > NAME_LIMIT:
        raise _fail("too_long", "oppsett", limit=str(NAME_LIMIT))
    return Setup(name, org or None, locale)


def koble(rest: str, ctx: Args) -> LinkIdentity:
    """`koble @bruker <navn>`: the chat user must be a real platform mention (typed `@text`
    proves nothing); the member is named by name."""
    text = rest.strip()
    person = _mention_at(text, 0, ctx.mentions) if text.startswith("@") else None
    if person is None or not person.user_id:
        raise _fail("missing_argument", "koble", command="koble", argument="person")
    name = _clean_person(_unquote(text[person.end :]))
    if not name:
        raise _fail("missing_argument", "koble", command="koble", argument="member_name")
    if len(name) > NAME_LIMIT:
        raise _fail("too_long", "koble", limit=str(NAME_LIMIT))
    return LinkIdentity(person.user_id, person.name, name)


def rolle(rest: str, ctx: Args) -> Command:
    """`rolle @person [som] <rolle>` or `rolle <rolle> @person`; role words map to stored roles."""
    text = rest.strip()
    if not text:
        raise _fail("missing_argument", "rolle", command="rolle", argument="person")
    person = _mention_at(text, 0, ctx.mentions) if text.startswith("@") else None
    if person is not None:
        words = _role_words(text[person.end :].split())
        if not words:
            raise _fail("missing_argument", "rolle", command="rolle", argument="role")
        return SetRole(person.name, _role(" ".join(words)), person.user_id)
    words = text.split()
    if fold(words[0].strip(".,:")) in ROLE_WORDS and len(words) > 1:  # `rolle leder @Kari`
        role_word, name_words = words[0], words[1:]
    else:
        role_word, name_words = words[-1], _role_words(words[:-1], trailing=True)
        if not name_words:
            argument = "person" if fold(role_word.strip(".,:")) in ROLE_WORDS else "role"
            raise _fail("missing_argument", "rolle", command="rolle", argument=argument)
    role = _role(role_word)
    joined = " ".join(name_words)
    mentioned = _mention_at(joined, 0, ctx.mentions) if joined.startswith("@") else None
    if mentioned is not None and mentioned.end == len(joined):
        return SetRole(mentioned.name, role, mentioned.user_id)
    name = _clean_person(_unquote(joined.removeprefix("@")))
    if not name:
        raise _fail("missing_argument", "rolle", command="rolle", argument="person")
    if len(name) > NAME_LIMIT:
        raise _fail("too_long", "rolle", limit=str(NAME_LIMIT))
    return SetRole(_secretariat(name), role)


def _role_words(words: list[str], *, trailing: bool = False) -> list[str]:
    """Drop the filler in `som leder` / `as chair` (at the end of the name with `trailing`)."""
    fillers = ("som", "as", "til", "to")
    if trailing:
        return words[:-1] if words and fold(words[-1]) in fillers else words
    return words[1:] if words and fold(words[0]) in fillers else words


def _role(word: str) -> str:
    role = ROLE_WORDS.get(fold(word.strip(".,:;!")))
    if role is None:
        raise _fail("bad_role", "rolle", value=word)
    return role


def profil(rest: str, ctx: Args) -> Command:
    """`profil <organisasjon>`: the rest of the line, quotes optional."""
    return Profile(_name(rest, "profil", "organisation"))


def _choice(rest: str, name: str, argument: str) -> str:
    """The subcommand name of a one-word choice (`på`/`av`, `eksport`/`slett`)."""
    tokens = _tokens(rest)
    if not tokens:
        raise _fail("missing_argument", name, command=name, argument=argument)
    sub = spec(name).subcommand(tokens[0].value.strip(".!"))
    if sub is None:
        raise _fail("bad_format", name, value=tokens[0].value)
    return sub.name


def paminnelser(rest: str, ctx: Args) -> Command:
    """`paminnelser av|på` (off|on)."""
    return Reminders(on=_choice(rest, "paminnelser", "on_off") == "pa")


def data(rest: str, ctx: Args) -> Command:
    """`data eksport|slett` (`mydata export|delete`)."""
    return MyData("export" if _choice(rest, "data", "action") == "eksport" else "delete")


def hjelp(rest: str, ctx: Args) -> Command:
    """`hjelp [kommando]`: a known command word (any alias) becomes its canonical name."""
    tokens = _tokens(rest)
    if not tokens:
        return Help()
    word = tokens[0].value.lstrip("/")
    command = lookup(word) or lookup(word.rstrip(".!?:,"))
    return Help(command.name if command else _preview(fold(word), 40))


def tilstede(rest: str, ctx: Args) -> Command:
    """`tilstede [@person …]`."""
    return Present(_people(rest, ctx, "tilstede"))


def forfall(rest: str, ctx: Args) -> Command:
    """`forfall [@person …]`."""
    return Excused(_people(rest, ctx, "forfall"))


# --- building blocks for a command's own grammar --------------------------------------------


def fail(key: str, command: str | None = None, /, **params: str) -> Exception:
    """What a command's own grammar raises to refuse a line: `raise fail("bad_format", "neste",
    value=word)`; `key` names a `parse.*` message, `parse` turns it into a ParseError."""
    return _fail(key, command, **params)


def no_arguments(make: Callable[[], object], command: str) -> Callable[[str, Args], object]:
    """A grammar for a command that takes nothing: any argument is a `bad_format`."""

    def grammar(rest: str, ctx: Args) -> object:
        tokens = _tokens(rest)
        if tokens:
            raise _fail("bad_format", command, value=tokens[0].value)
        return make()

    return grammar


def one_name(make: Callable[[str], object], command: str, argument: str) -> Callable[[str, Args], object]:
    """A grammar for `<command> <name>`: the rest of the line, quotes optional, one line, required
    (`missing_argument` names `argument`, a catalog key under `argument.`)."""
    return lambda rest, ctx: make(_name(rest, command, argument))


def free_text(make: Callable[[str], object]) -> Callable[[str, Args], object]:
    """A grammar for member text after the command word, kept exactly as written."""
    return lambda rest, ctx: make(_body(rest))


# --- entry point ----------------------------------------------------------------------------


def _command_word(text: str) -> tuple[CommandSpec | None, str, int]:
    """The command at the start of `text` (after `/`, `referent`, `@Referent`), the word as
    typed, and where its arguments begin."""
    pos = _skip_space(text, 0)
    end = _word_end(text, pos)
    if fold(text[pos:end].lstrip("/@").rstrip(":,.")) == "referent":
        pos = _skip_space(text, end)
    if text.startswith("/", pos):
        pos = _skip_space(text, pos + 1)
    end = _word_end(text, pos)
    word = text[pos:end]
    head, colon, _ = word.partition(":")
    if colon and head:  # `runde: tekst`, `runde:tekst`
        command = lookup(head)
        if command is not None:
            return command, word, pos + len(head) + 1
    command = lookup(word) or lookup(word.rstrip(".!?,;:"))
    return command, word, end


def suggest_command(word: str) -> str | None:
    """The command a mistyped word most likely meant (`runnde` → runde), if any is close."""
    words = {fold(w): c.name for c in COMMANDS for w in c.words if len(w) > 2}
    close = difflib.get_close_matches(fold(word[:40]), list(words), n=1, cutoff=0.75)
    return words[close[0]] if close else None


def _parse(text: str, mentions: Sequence[Mention], today: date | None) -> object:
    """`parse` without the safety net, so tests can show that nothing needs catching."""
    if len(text) > MAX_LENGTH:
        known, _, _ = _command_word(text[:200])
        return ParseError("too_long", {"limit": str(MAX_LENGTH)}, known.name if known else None)
    command, word, args = _command_word(text)
    if not word:
        return Help()
    if command is None:
        params = {"word": _preview(word, 40)}
        suggestion = suggest_command(word)
        if suggestion:
            params["suggestion"] = suggestion
        return ParseError("unknown_command", params)
    rest = text[args:]
    if len(rest) <= _SHORT_PHRASE and fold(rest.strip()) in _HELP_WORDS:
        return Help(command.name)
    ctx = Args(
        tuple(sorted((m for m in mentions if m.display_name), key=lambda m: -len(m.display_name))), today
    )
    if command.grammar is None:  # pragma: no cover - `command()` requires a grammar
        raise RuntimeError(f"command {command.name!r} has no grammar")
    try:
        return command.grammar(rest, ctx)
    except _Reject as reject:
        return reject.error


def parse(text: str, *, mentions: Sequence[Mention] = (), today: date | None = None) -> object:
    """Read one command line. Never raises: anything unreadable becomes a ParseError, anything
    else is the value the command's grammar returned (handlers/parsed.py, or the command's own).

    `mentions` are the platform mentions in the text (`@Display Name`), used to resolve owners
    and persons to user ids; `today` (the group's local date) anchors `DD.MM` dates to a year.
    """
    try:
        if not isinstance(text, str):
            return ParseError("bad_format", {"value": ""})
        return _parse(text, mentions, today)
    except Exception:  # a bug must not turn a typo into a 500; tests run _parse without this net
        log.exception("parser bug on a %d-character line; answering bad_format", len(str(text)))
        return ParseError("bad_format", {"value": _preview(str(text))})
