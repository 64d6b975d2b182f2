"""The command registry: every chat command is declared once, next to its handler.

A module in handlers/commands/ declares a command with `command(...)`: its words (canonical name
and nb/en aliases), its grammar (which function of handlers/parser.py, or of its own module,
reads its arguments), its help texts, the role it needs, its platform surface (Slack slash
command, Teams command menu) and where it stands in lists. The handlers for what its grammar
returns attach to that declaration with `@spec.handles(ParsedType)` and friends. Like errbot's
`@botcmd` or slack-machine's registrar, declaring only records metadata; importing the
`handlers.commands` package (which imports every module in it) completes the registry, the
first time anything asks.

The parser, `hjelp`, dispatch, the Slack manifest and the Teams manifest all read this one
registry, so the words the parser accepts, the usage lines `hjelp` prints, Slack's slash commands
and Teams' command list cannot drift apart. Canonical names are Norwegian words without
diacritics (they double as Slack slash command names); aliases add the diacritic spellings and
English words.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload

from handlers.i18n import normalise_locale

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from handlers.context import HandlerContext
    from handlers.events import ChatEvent, Reply
    from handlers.identity import Scope, ScopeView
    from storage.models import Role as MemberRole

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


# What a grammar gets besides the text: `mentions` and `today` (handlers/parser.py `Args`).
Grammar = Callable[[str, Any], object]
P = TypeVar("P")  # a parsed command type
P_in = TypeVar("P_in", contravariant=True)

# `(command, scope, ctx)`: runs inside the bound group, in one transaction (or a read session).
GroupHandler = Callable[[P, "Scope", "HandlerContext"], Awaitable["Reply"]]
# `(command, event, session, ctx, locale)`: needs no bound group (binding a channel, my data).
UnboundHandler = Callable[[P, "ChatEvent", "AsyncSession", "HandlerContext", str], Awaitable["Reply"]]
# `(command, view, ctx)`: tried before the transaction; None means "take the full path".
FastPath = Callable[[P, "ScopeView", "HandlerContext"], Awaitable["Reply | None"]]


class Answer(Protocol[P_in]):
    """`(command, locale, *, role, group_name)`: needs no storage at all (help); works offline."""

    def __call__(
        self, cmd: P_in, locale: str, *, role: MemberRole | None, group_name: str | None
    ) -> Reply: ...


Kind = Literal["group", "unbound", "answer"]
# `audit=` of a handler: an action name, or `(command) -> (action, detail) | None`.
AuditSpec = str | Callable[[Any], "tuple[str, dict[str, Any]] | None"] | None


@dataclass(frozen=True, slots=True)
class Route:
    """How dispatch runs one parsed type: which handler, in which kind of scope, and whether it
    only reads (then it runs outside the write queue: a docx render must not hold it)."""

    spec: CommandSpec
    kind: Kind
    run: Callable[..., Any]
    read_only: bool | Callable[[Any], bool] = False
    fast: FastPath[Any] | None = None
    # The audit-log action this command is, when it succeeds (a name, or a function of the
    # parsed command giving the name and the entry's detail, or None: not an admin action).
    audit: AuditSpec = None

    def audited(self, command: object) -> tuple[str, dict[str, Any]] | None:
        """The audit entry (action, detail) a successful run of `command` leaves, or None."""
        if self.audit is None:
            return None
        if isinstance(self.audit, str):
            return self.audit, {}
        return self.audit(command)

    def reads_only(self, command: object) -> bool:
        """Whether this command only reads (a predicate decides for commands like `data`)."""
        return self.read_only(command) if callable(self.read_only) else self.read_only


@dataclass(frozen=True, slots=True)
class Subcommand:
    """A second word such as `mote lukk`; `role` overrides the command's role when set."""

    name: str
    aliases: tuple[str, ...] = ()
    role: Role | None = None


@dataclass(frozen=True, slots=True, eq=False)
class CommandSpec:
    """One chat command. `name` is canonical; `slash` is its Slack slash command, if it has one.

    `grammar` reads the arguments (the text after the command word) into a parsed value;
    `subcommands` lists second words the grammar accepts; `in_menu` says whether Teams' command
    menu lists it (Teams allows at most 12 per list, so the rarely used ones stay out);
    `channel_only` keeps it out of the 1:1 chat's menu; `position` orders every list of commands
    (help, Slack manifest, Teams menu). `routes` maps each parsed type to its handler; it is
    filled by the decorators below, in the same module.
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
    channel_only: bool = False
    position: int = 1000
    grammar: Grammar | None = field(default=None, repr=False)
    routes: dict[type, Route] = field(default_factory=dict, repr=False)

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

    def _route(self, parsed: type, kind: Kind, run: Any, **options: Any) -> Any:
        if parsed in self.routes:
            raise RuntimeError(f"{self.name}: {parsed.__name__} already has a handler")
        self.routes[parsed] = Route(self, kind, run, **options)
        REGISTRY.forget_routes()
        return run

    def handles(
        self,
        parsed: type[P],
        *,
        read_only: bool | Callable[[P], bool] = False,
        audit: AuditSpec = None,
    ) -> Callable[[GroupHandler[P]], GroupHandler[P]]:
        """Decorate the handler of `parsed` in the bound group: `(command, scope, ctx) -> Reply`.
        `audit` names the admin action a successful run is (dispatch records it in the same
        transaction; a refusal rolls back and leaves nothing)."""
        return lambda run: self._route(parsed, "group", run, read_only=read_only, audit=audit)

    def handles_unbound(
        self,
        parsed: type[P],
        *,
        read_only: bool | Callable[[P], bool] = False,
        audit: AuditSpec = None,
    ) -> Callable[[UnboundHandler[P]], UnboundHandler[P]]:
        """Decorate a handler that needs no bound group: `(command, event, session, ctx, locale)`.
        `audit` as for `handles`; the entry names the group the channel is bound to afterwards."""
        return lambda run: self._route(parsed, "unbound", run, read_only=read_only, audit=audit)

    def answers(self, parsed: type[P]) -> Callable[[Answer[P]], Answer[P]]:
        """Decorate a handler that needs no storage: `(command, locale, *, role, group_name)`."""
        return lambda run: self._route(parsed, "answer", run)

    def fast_path(self, parsed: type[P]) -> Callable[[FastPath[P]], FastPath[P]]:
        """Decorate a shortcut tried before the transaction of `parsed`'s handler (declared
        earlier): `(command, view, ctx) -> Reply | None`."""

        def attach(fast: FastPath[P]) -> FastPath[P]:
            route = self.routes[parsed]
            self.routes[parsed] = dataclasses.replace(route, fast=fast)
            REGISTRY.forget_routes()
            return fast

        return attach


def command(
    name: str,
    *,
    aliases: tuple[str, ...],
    usage_nb: str,
    usage_en: str,
    summary_nb: str,
    summary_en: str,
    role: Role,
    grammar: Grammar,
    position: int,
    slash: str | None = None,
    subcommands: tuple[Subcommand, ...] = (),
    in_menu: bool = True,
    channel_only: bool = False,
) -> CommandSpec:
    """Declare a chat command (once, in its handler module) and register it."""
    spec = CommandSpec(
        name=name,
        slash=slash,
        aliases=aliases,
        usage_nb=usage_nb,
        usage_en=usage_en,
        summary_nb=summary_nb,
        summary_en=summary_en,
        role=role,
        subcommands=subcommands,
        in_menu=in_menu,
        channel_only=channel_only,
        position=position,
        grammar=grammar,
    )
    REGISTRY.add(spec)
    return spec


class Registry:
    """Every declared command. Complete once `package` (which imports each of its modules) has
    been imported; every read imports it first, so no reader can see half a registry."""

    def __init__(self, package: str) -> None:
        self._package = package
        self._specs: list[CommandSpec] = []
        self._sorted: tuple[CommandSpec, ...] | None = None
        self._routes: dict[type, Route] | None = None

    def add(self, spec: CommandSpec) -> None:
        if any(s.name == spec.name for s in self._specs):
            raise RuntimeError(f"command {spec.name!r} is declared twice")
        self._specs.append(spec)
        self._sorted = None
        self._routes = None
        _BY_WORD.clear()
        _BY_NAME.clear()

    def remove(self, spec: CommandSpec) -> None:
        """Take a command out again (tests that declare a throwaway command)."""
        self._specs.remove(spec)
        self._sorted = None
        self._routes = None
        _BY_WORD.clear()
        _BY_NAME.clear()

    def forget_routes(self) -> None:
        self._routes = None

    def commands(self) -> tuple[CommandSpec, ...]:
        """All commands in list order (`position`, then name)."""
        if self._sorted is None:
            importlib.import_module(self._package)
            self._sorted = tuple(sorted(self._specs, key=lambda s: (s.position, s.name)))
        return self._sorted

    def route(self, parsed: object) -> Route | None:
        """The handler of a parsed command (by its type), or None."""
        if self._routes is None:
            routes: dict[type, Route] = {}
            for spec in self.commands():
                for kind, route in spec.routes.items():
                    if kind in routes:
                        raise RuntimeError(f"{kind.__name__} is handled by two commands")
                    routes[kind] = route
            self._routes = routes
        return self._routes.get(type(parsed))


REGISTRY = Registry("handlers.commands")


class _Commands(Sequence[CommandSpec]):
    """`COMMANDS`: a live, read-only view of the registry, in list order."""

    @overload
    def __getitem__(self, index: int) -> CommandSpec: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[CommandSpec]: ...
    def __getitem__(self, index: int | slice) -> CommandSpec | Sequence[CommandSpec]:
        return REGISTRY.commands()[index]

    def __len__(self) -> int:
        return len(REGISTRY.commands())

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(REGISTRY.commands())


COMMANDS: Sequence[CommandSpec] = _Commands()

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

# Indexes of the registry, rebuilt on first use after any change to it.
_BY_WORD: dict[str, CommandSpec] = {}
_BY_NAME: dict[str, CommandSpec] = {}


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


def spec(name: str) -> CommandSpec:
    """The command with this canonical name (KeyError otherwise: names are code, not input)."""
    if not _BY_NAME:
        _BY_NAME.update({c.name: c for c in COMMANDS})
    return _BY_NAME[name]


def lookup(word: str) -> CommandSpec | None:
    """The command a user-typed word (name or alias, any case, with or without æøå) starts."""
    if not _BY_WORD:
        _BY_WORD.update(_word_index())
    return _BY_WORD.get(fold(word))


def route(parsed: object) -> Route | None:
    """The handler of a parsed command, or None (dispatch reads this)."""
    return REGISTRY.route(parsed)


def usage(name: str, locale: str | None = "nb") -> str:
    """The usage line of a command in the user's language."""
    command = spec(name)
    return command.usage_en if normalise_locale(locale) == "en" else command.usage_nb


def english_word(words: tuple[str, ...]) -> str | None:
    """The first alias that is a plain English word (ASCII letters, maybe a hyphen), or None:
    aliases like 'påminnelser' or 'møte' are only other spellings of the Norwegian name."""
    for word in words:
        if word.isascii() and word.replace("-", "").isalpha():
            return word
    return None


def english_usage(name: str) -> str:
    """The English usage line with the English command word (and the English word of a
    subcommand right after it) where the registry has one; the Norwegian words work as well."""
    command = spec(name)
    word = english_word(tuple(a for a in command.aliases if fold(a) != fold(command.name)))
    subs = {sub.name: english_word(sub.aliases) for sub in command.subcommands}

    def swap(match: re.Match[str]) -> str:
        sub = match.group(2)
        english_sub = subs.get(sub.strip()) if sub else None
        tail = f" {english_sub}" if english_sub else (sub and f" {sub.strip()}") or ""
        return f"{match.group(1)}{word or command.name}{tail}"

    pattern = rf"(^|\|\s*){re.escape(command.name)}(?![\w-])( [a-zæøå]+(?![\w-]))?"
    return re.sub(pattern, swap, command.usage_en)


def summary(name: str, locale: str | None = "nb") -> str:
    """The one-line description of a command in the user's language."""
    command = spec(name)
    return command.summary_en if normalise_locale(locale) == "en" else command.summary_nb


def slash_commands() -> tuple[CommandSpec, ...]:
    """The commands Slack registers as slash commands, in list order (for the manifest)."""
    return tuple(c for c in COMMANDS if c.slash)


def menu_commands() -> tuple[CommandSpec, ...]:
    """The commands Teams lists in its command menu, in list order (at most 12)."""
    return tuple(c for c in COMMANDS if c.in_menu)
