"""`hjelp [kommando]`: what the bot can do, from the command registry, in the user's language.

Role-aware: members see the commands they can use; the secretariat also sees its own section.
"""

from __future__ import annotations

from handlers import parser as grammar
from handlers.command_table import COMMANDS, command, english_usage, lookup, spec, summary, usage
from handlers.commands.common import usage_line
from handlers.events import Reply
from handlers.i18n import Raw, normalise_locale, t
from handlers.parsed import Help
from storage.models import Role

HJELP = command(
    "hjelp",
    # `/referent <command>` runs any command; alone it shows this help.
    slash="/referent",
    aliases=("help", "?"),
    usage_nb="hjelp [kommando]",
    usage_en="hjelp [command]",
    summary_nb="Hva Referent kan gjøre (/referent <kommando> kjører alle kommandoer)",
    summary_en="What Referent can do (/referent <command> runs any command)",
    role="anyone",
    grammar=grammar.hjelp,
    position=150,
)


def _line(locale: str, name: str) -> str:
    """English help shows the English command words (the Norwegian ones work too)."""
    line = english_usage(name) if normalise_locale(locale) == "en" else usage(name, locale)
    return t(locale, "help.line", usage=Raw(line), summary=summary(name, locale))


def _topic(locale: str, topic: str) -> Reply:
    command = lookup(topic)
    if command is None:
        suggestion = grammar.suggest_command(topic)
        return Reply(text=t(locale, "parse.unknown_command", word=topic, suggestion=suggestion), ok=False)
    name = command.name
    text = t(
        locale,
        "help.topic",
        name=name,
        summary=summary(name, locale),
        usage=usage_line(locale, name),
    )
    if spec(name).role == "secretariat":
        text = f"{text}\n{t(locale, 'help.topic_secretariat')}"
    return Reply(text=text)


@HJELP.answers(Help)
def help_reply(cmd: Help, locale: str, *, role: Role | None, group_name: str | None) -> Reply:
    """The help text; `group_name` None means the channel is not bound yet."""
    if cmd.topic:
        return _topic(locale, cmd.topic)
    lines = [t(locale, "help.header")]
    if group_name:
        lines.append(t(locale, "help.group", group=group_name))
    else:
        lines.append(t(locale, "help.unbound"))
    lines.append("")
    lines.append(t(locale, "help.member_section"))
    lines.extend(f"- {_line(locale, c.name)}" for c in COMMANDS if c.role != "secretariat")
    if role == Role.SECRETARIAT or group_name is None:
        lines.append("")
        lines.append(t(locale, "help.secretariat_section"))
        lines.extend(f"- {_line(locale, c.name)}" for c in COMMANDS if c.role == "secretariat")
    lines.append("")
    lines.append(t(locale, "help.footer"))
    return Reply(text="\n".join(lines))
