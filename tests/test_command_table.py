"""The command table is the one source for parser words, help text and manifests: check that it
is complete, consistent and fits the platforms' limits."""

from __future__ import annotations

import dataclasses
import re

import pytest

from handlers import command_table
from handlers.command_table import (
    COMMANDS,
    NOTHING_WORDS,
    ROLE_WORDS,
    CommandSpec,
    fold,
    lookup,
    menu_commands,
    slash_commands,
    spec,
    summary,
    usage,
)

NAMES = [
    "referat",
    "runde",
    "innspill",
    "oppfolging",
    "tilstede",
    "forfall",
    "vara",
    "grupper",
    "mote",
    "oppsett",
    "sprak",
    "rolle",
    "koble",
    "profil",
    "paminnelser",
    "data",
    "hjelp",
]


def test_every_command_is_in_the_table_once() -> None:
    assert [c.name for c in COMMANDS] == NAMES


def test_slash_commands_are_the_designs() -> None:
    assert {c.slash for c in slash_commands()} == {
        "/referat",
        "/runde",
        "/innspill",
        "/oppfolging",
        "/tilstede",
        "/grupper",
        "/mote",
        "/referent",
    }
    assert spec("hjelp").slash == "/referent"
    assert spec("forfall").slash is None


def test_slash_names_are_valid_for_slack() -> None:
    for command in slash_commands():
        assert command.slash is not None
        assert re.fullmatch(r"/[a-z0-9_-]{1,31}", command.slash), command.slash


def test_specs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec("runde").name = "x"  # type: ignore[misc]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_texts_are_filled_and_short(command: CommandSpec) -> None:
    assert command.role in ("member", "secretariat", "anyone")
    for text in (command.usage_nb, command.usage_en, command.summary_nb, command.summary_en):
        assert text.strip() == text and text
        assert "\n" not in text
    assert command.usage_nb.startswith(command.name)
    assert command.usage_en.startswith(command.name)
    assert len(command.summary_nb) <= 100 and len(command.summary_en) <= 100
    assert command.name == fold(command.name), "canonical names are folded (no æøå, lower case)"


def test_required_aliases() -> None:
    expected = {
        "referat": {"minutes"},
        "runde": {"round", "update"},
        "innspill": {"input"},
        "oppfolging": {"oppfølging", "followup", "follow-up", "action"},
        "tilstede": {"present"},
        "forfall": {"absent", "excused", "apologies"},
        "vara": {"substitute"},
        "grupper": {"groups"},
        "mote": {"møte", "meeting"},
        "oppsett": {"setup"},
        "rolle": {"role"},
        "profil": {"profile"},
        "paminnelser": {"påminnelser", "reminders"},
        "data": {"mydata"},
        "hjelp": {"help"},
    }
    for name, aliases in expected.items():
        assert aliases <= set(spec(name).aliases), name


def test_required_subcommands() -> None:
    def words(name: str) -> dict[str, set[str]]:
        return {s.name: {s.name, *s.aliases} for s in spec(name).subcommands}

    mote = words("mote")
    assert {"new"} <= mote["ny"] and {"item"} <= mote["sak"] and {"close"} <= mote["lukk"]
    assert {"åpne", "reopen"} <= mote["apne"] and {"deadline"} <= mote["frist"] and "status" in mote
    assert {"new"} <= words("grupper")["ny"]
    assert {"på", "on"} <= words("paminnelser")["pa"] and {"off"} <= words("paminnelser")["av"]
    assert {"export"} <= words("data")["eksport"] and {"delete"} <= words("data")["slett"]
    assert spec("grupper").subcommand("ny") is not None
    assert spec("grupper").subcommands[1].role == "secretariat"


def test_no_word_starts_two_commands() -> None:
    seen: dict[str, str] = {}
    for command in COMMANDS:
        for word in command.words:
            assert seen.setdefault(fold(word), command.name) == command.name, word
        owner: dict[str, str] = {}
        for sub in command.subcommands:
            for word in (sub.name, *sub.aliases):
                assert owner.setdefault(fold(word), sub.name) == sub.name, (command.name, word)


@pytest.mark.parametrize(("word", "name"), [(w, c.name) for c in COMMANDS for w in c.words])
def test_lookup_finds_every_word(word: str, name: str) -> None:
    for variant in (word, word.upper(), word.capitalize()):
        found = lookup(variant)
        assert found is not None and found.name == name


def test_lookup_folds_diacritics() -> None:
    assert lookup("OPPFØLGING") is spec("oppfolging")
    assert lookup("Møte") is spec("mote")
    assert lookup("pa\u030aminnelser") is spec("paminnelser")  # decomposed å
    assert lookup("ukjent") is None
    assert lookup("") is None


def test_fold() -> None:
    assert fold("Oppfølging") == "oppfolging"
    assert fold("ÅPNE") == "apne"
    assert fold("Ærfugl") == "aerfugl"
    assert fold("Spørsmål") == "sporsmal"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("nb", "nb"),
        ("nb-NO", "nb"),
        ("nn", "nb"),
        (None, "nb"),
        ("en", "en"),
        ("en-US", "en"),
        ("EN_gb", "en"),
    ],
)
def test_usage_and_summary_by_locale(locale: str | None, expected: str) -> None:
    command = spec("oppfolging")
    assert usage("oppfolging", locale) == (command.usage_en if expected == "en" else command.usage_nb)
    assert summary("oppfolging", locale) == (command.summary_en if expected == "en" else command.summary_nb)


def test_usage_texts_match_the_design() -> None:
    # The design's forms come first; the year's subcommands (status, ferdig, endelig) follow.
    assert usage("oppfolging", "nb").startswith("oppfolging <tekst> [@ansvarlig] [frist DD.MM] | ")
    assert "oppfolging ferdig <nr>" in usage("oppfolging", "nb")
    assert usage("referat", "nb").startswith("referat [md|html|docx|pdf] [DD.MM.YYYY] | ")
    assert "referat endelig" in usage("referat", "nb")
    assert usage("innspill", "en") == "innspill <item no.> <text>"
    assert "mote ny DD.MM.YYYY HH:MM-HH:MM" in usage("mote", "nb")


def test_unknown_name_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        spec("nope")


def test_teams_menu_fits_the_manifest_limit() -> None:
    menu = menu_commands()
    assert 0 < len(menu) <= 12
    assert all(len(c.name) <= 32 and len(c.summary_en) <= 128 for c in menu)


def test_vocabulary() -> None:
    assert set(ROLE_WORDS.values()) == {"member", "chair", "secretariat"}
    for word in ("medlem", "member", "leder", "møteleder", "chair", "sekretariat", "secretariat"):
        assert word in ROLE_WORDS
    assert {"ingen", "ingenting", "nothing", "none"} <= set(NOTHING_WORDS)


def test_the_index_refuses_a_shared_word(monkeypatch: pytest.MonkeyPatch) -> None:
    clash = (*COMMANDS, dataclasses.replace(spec("runde"), name="dup", aliases=("round",)))
    monkeypatch.setattr(command_table, "COMMANDS", clash)
    with pytest.raises(RuntimeError, match="round"):
        command_table._word_index()
