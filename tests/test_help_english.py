"""English help names commands by their English words, and every such word really works."""

from __future__ import annotations

import handlers.commands  # noqa: F401  (fills the registry)
from handlers.command_table import COMMANDS, english_usage, lookup
from handlers.commands.help import help_reply
from handlers.parsed import Help


def _alternatives(line: str) -> list[str]:
    """The usage line's top-level alternatives ('a | b'), not the '|' inside brackets/quotes."""
    parts: list[str] = []
    depth, current, quoted = 0, "", False
    for char in line:
        quoted = not quoted if char == '"' else quoted
        depth += (char in "[<") - (char in "]>")
        if char == "|" and depth == 0 and not quoted and current.endswith(" "):
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [p for p in (*parts, current.strip()) if p]


def test_english_usage_words_are_aliases_of_the_same_command_and_subcommand() -> None:
    for command in COMMANDS:
        english = _alternatives(english_usage(command.name))
        original = _alternatives(command.usage_en)
        assert len(english) == len(original), command.name
        for new, old in zip(english, original, strict=True):
            new_words, old_words = new.split(), old.split()
            assert lookup(new_words[0]) is command and lookup(old_words[0]) is command, (new, old)
            if len(old_words) > 1:
                assert command.subcommand(new_words[1]) == command.subcommand(old_words[1]), (new, old)
                assert new_words[2:] == old_words[2:], (new, old)


def test_english_help_shows_english_words_and_norwegian_help_the_norwegian() -> None:
    english = help_reply(Help(None), "en", role=None, group_name=None).text
    assert "`round [text | ingen]`" in english
    assert "`meeting new DD.MM.YYYY" in english and "`language en|nb`" in english
    assert "`groups | groups new " in english
    norwegian = help_reply(Help(None), "nb", role=None, group_name=None).text
    assert "`runde [tekst | ingen]`" in norwegian and "`sprak nb|en`" in norwegian
