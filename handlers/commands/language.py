"""`sprak en|nb` (secretariat): the group's language, for everything the bot posts to the whole
group (collection messages, polls, reminders, the referat) when a member has set none."""

from __future__ import annotations

from dataclasses import dataclass

from handlers import parser as grammar
from handlers.command_table import command
from handlers.commands.common import require_secretariat
from handlers.context import HandlerContext
from handlers.events import Reply
from handlers.i18n import normalise_locale, t
from handlers.identity import Scope, ensure_member


@dataclass(frozen=True, slots=True)
class GroupLanguage:
    """`sprak en|nb`: the new language of the group, normalised."""

    locale: str


_WORDS = {"norsk": "nb", "bokmål": "nb", "bokmal": "nb", "english": "en", "engelsk": "en"}


def _grammar(rest: str, args: grammar.Args) -> GroupLanguage:
    words = rest.split()
    if not words:
        raise grammar.fail("missing_argument", "sprak", command="sprak", argument="language")
    if len(words) > 1:
        raise grammar.fail("bad_format", "sprak", value=words[1])
    word = words[0].casefold()
    locale = _WORDS.get(word) or normalise_locale(word)
    if locale is None:
        raise grammar.fail("bad_format", "sprak", value=words[0])
    return GroupLanguage(locale)


SPRAK = command(
    "sprak",
    aliases=("språk", "language", "lang"),
    usage_nb="sprak nb|en",
    usage_en="sprak en|nb",
    summary_nb="Velg faggruppens språk (bokmål eller engelsk)",
    summary_en="Choose the working group's language (English or Norwegian bokmål)",
    role="secretariat",
    grammar=_grammar,
    position=105,  # after `oppsett`
    in_menu=False,  # Teams shows at most 12 commands
)


def _audit(cmd: object) -> tuple[str, dict[str, object]] | None:
    """The audit entry names the new language."""
    return ("group.language", {"locale": cmd.locale}) if isinstance(cmd, GroupLanguage) else None


@SPRAK.handles(GroupLanguage, audit=_audit)
async def run(cmd: GroupLanguage, scope: Scope, ctx: HandlerContext) -> Reply:
    refusal = await require_secretariat(scope, "sprak")
    if refusal is not None:
        return refusal
    await ensure_member(scope)
    if scope.group.locale == cmd.locale:
        return Reply(text=t(cmd.locale, "language.already"))
    scope.group.locale = cmd.locale
    return Reply(text=t(cmd.locale, "language.set"))
