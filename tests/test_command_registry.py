"""A command is declared once, next to its handler: a throwaway command declared here (as a new
module in handlers/commands/ would) reaches the parser, `hjelp`, dispatch and both manifests,
and nothing else has to change. Also: the registry refuses two handlers for one parsed type."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.slack.manifest import manifest_dict
from bot.teams.manifest import command_lists
from handlers.command_table import COMMANDS, REGISTRY, CommandSpec, command, lookup, route, spec
from handlers.context import HandlerContext
from handlers.events import Reply
from handlers.identity import Scope
from handlers.parsed import ParseError, Round
from handlers.parser import Args, fail, free_text, no_arguments, one_name, parse
from storage.db import Database
from tests.transcript import GROUP, KARI, TranscriptBot, seed


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Echo:
    words: str


@pytest.fixture
def ping() -> Iterator[CommandSpec]:
    """What a new handlers/commands/ping.py would hold: one declaration, one handler."""
    declared = command(
        "ping",
        slash="/ping",
        aliases=("pong", "pling"),
        usage_nb="ping",
        usage_en="ping",
        summary_nb="Svarer pong",
        summary_en="Answers pong",
        role="member",
        grammar=no_arguments(Ping, "ping"),
        position=145,
    )

    @declared.handles(Ping, read_only=True)
    async def run(cmd: Ping, scope: Scope, ctx: HandlerContext) -> Reply:
        return Reply(text=f"pong fra {scope.group.name}")

    yield declared
    REGISTRY.remove(declared)


def test_a_declared_command_is_parsed_listed_and_routed(ping: CommandSpec) -> None:
    assert lookup("PONG") is ping and spec("ping") is ping
    assert [c.name for c in COMMANDS][-3:] == ["data", "ping", "hjelp"]  # by position
    assert parse("ping") == Ping() and parse("/referent pling") == Ping()
    error = parse("ping nå")
    assert isinstance(error, ParseError) and error.key == "bad_format" and error.command == "ping"
    found = route(Ping())
    assert found is not None and found.spec is ping and found.kind == "group" and found.reads_only(Ping())
    slack = manifest_dict("https://referent.example")["features"]["slash_commands"]
    assert {"command": "/ping", "description": "Svarer pong"}.items() <= next(
        c for c in slack if c["command"] == "/ping"
    ).items()
    for menu in command_lists("en"):
        assert {"title": "ping", "description": "Answers pong"} in menu["commands"]


def test_removing_the_declaration_removes_the_command(ping: CommandSpec) -> None:
    REGISTRY.remove(ping)
    try:
        assert lookup("ping") is None and route(Ping()) is None
        assert isinstance(parse("ping"), ParseError)
    finally:
        REGISTRY.add(ping)


async def test_dispatch_and_help_read_the_registry(ping: CommandSpec, db: Database) -> None:
    bot = TranscriptBot(db)
    unbound = await bot.say("ping", as_=KARI)
    assert not unbound.ok and "oppsett" in unbound.text  # outside a bound group, as for every command
    await seed(bot)
    reply = await bot.say("pong", as_=KARI)
    assert reply.ok and reply.text == f"pong fra {GROUP}"
    help_text = (await bot.say("hjelp", as_=KARI)).text
    assert "ping" in help_text and "Svarer pong" in help_text
    topic = await bot.say("hjelp ping", as_=KARI)
    assert "Svarer pong" in topic.text


def test_a_grammar_from_the_shared_pieces() -> None:
    echo = CommandSpec(
        name="ekko",
        slash=None,
        aliases=(),
        usage_nb="ekko <ord>",
        usage_en="ekko <words>",
        summary_nb="Ekko",
        summary_en="Echo",
        role="anyone",
        grammar=one_name(Echo, "ekko", "text"),
    )
    assert echo.grammar is not None
    assert echo.grammar(' "Hei  du" ', None) == Echo("Hei du")
    assert free_text(Echo)("  Linje 1\n  - punkt  ", None) == Echo("Linje 1\n  - punkt  ")
    assert no_arguments(Ping, "ping")("   ", None) == Ping()


def test_one_parsed_type_has_one_handler() -> None:
    runde = spec("runde")
    with pytest.raises(RuntimeError, match="Round"):
        runde.handles(Round)(lambda cmd, scope, ctx: None)
    with pytest.raises(RuntimeError, match="declared twice"):
        command(
            "runde",
            aliases=(),
            usage_nb="runde",
            usage_en="runde",
            summary_nb="x",
            summary_en="x",
            role="member",
            grammar=no_arguments(Ping, "runde"),
            position=1,
        )


def test_every_parsed_type_of_the_builtin_grammars_has_a_handler() -> None:
    samples = [
        "referat", "runde x", "innspill 1 x", "oppfolging x", "tilstede", "forfall", "vara @A",
        "grupper", 'grupper ny "A"', "mote ny 20.01.2026 10:00-12:00", "mote sak 1 x", "mote status",
        "mote lukk", "mote apne", "mote frist 20.01.2026", "oppsett G", "rolle @A leder", "profil O",
        "paminnelser av", "data eksport", "hjelp",
    ]  # fmt: skip
    for line in samples:
        parsed = parse(line)
        assert not isinstance(parsed, ParseError), line
        found = route(parsed)
        assert found is not None and lookup(line.split()[0]) is found.spec, line


def test_an_own_grammar_refuses_with_fail_and_a_bug_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def own(rest: str, args: Args) -> Echo:
        if rest.strip() == "krasj":
            raise ZeroDivisionError("a bug in the grammar")
        if not rest.strip():
            raise fail("missing_argument", "ekko", command="ekko", argument="text")
        return Echo(rest.strip())

    declared = command(
        "ekko",
        aliases=(),
        usage_nb="ekko <tekst>",
        usage_en="ekko <text>",
        summary_nb="Ekko",
        summary_en="Echo",
        role="anyone",
        grammar=own,
        position=146,
    )
    try:
        assert parse("ekko hei") == Echo("hei")
        missing = ParseError("missing_argument", {"command": "ekko", "argument": "text"}, "ekko")
        assert parse("ekko") == missing
        with caplog.at_level(logging.ERROR, logger="handlers.parser"):
            broken = parse("ekko krasj")
        assert isinstance(broken, ParseError) and broken.key == "bad_format"
        (record,) = [r for r in caplog.records if r.name == "handlers.parser"]
        assert record.exc_info is not None and isinstance(record.exc_info[1], ZeroDivisionError)
    finally:
        REGISTRY.remove(declared)
