"""The command parser and its date helpers: every command in Norwegian and English, the error
keys handlers answer with, and property tests that no string can make the parser raise."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.command_table import COMMANDS
from handlers.commands.follow_ups import FollowUpDone, FollowUpList
from handlers.commands.language import GroupLanguage
from handlers.commands.polls import (
    GroupsClose,
    GroupsDeadline,
    GroupsDiscard,
    GroupsExport,
    GroupsPost,
    GroupsWithdraw,
)
from handlers.dates import (
    DateTimeError,
    looks_like_date,
    looks_like_time,
    parse_date,
    parse_time,
    parse_time_range,
    take_time_range,
)
from handlers.events import Mention
from handlers.parsed import (
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
from handlers.parser import MAX_LENGTH, _parse, parse

TODAY = date(2026, 1, 10)
KARI = Mention("U1", "Kari Nordmann", "kari@example.no")
KARI_SHORT = Mention("U2", "Kari")
ASE = Mention("U3", "Åse Ødegård")
MENTIONS = (KARI, KARI_SHORT, ASE)

ERROR_KEYS = {
    "unknown_command",
    "missing_text",
    "bad_date",
    "bad_time",
    "bad_time_range",
    "bad_number",
    "bad_role",
    "missing_argument",
    "bad_format",
    "too_long",
}


def p(text: str, **kwargs: object) -> object:
    kwargs.setdefault("today", TODAY)
    return parse(text, **kwargs)  # type: ignore[arg-type]


def error(text: str, **kwargs: object) -> ParseError:
    result = p(text, **kwargs)
    assert isinstance(result, ParseError), result
    assert result.key in ERROR_KEYS
    return result


# --- dates.py --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20.01.2026", date(2026, 1, 20)),
        ("5.1.2026", date(2026, 1, 5)),
        ("05.1.2026", date(2026, 1, 5)),
        ("20.01.26", date(2026, 1, 20)),
        ("29.02.2028", date(2028, 2, 29)),
        ("20.01.2026.", date(2026, 1, 20)),
        (" 20.01.2026 ", date(2026, 1, 20)),
        ("2026-01-20", date(2026, 1, 20)),
    ],
)
def test_parse_date_full(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        (date(2026, 12, 20), "05.01", date(2027, 1, 5)),  # rolls over the new year
        (date(2026, 12, 20), "20.12", date(2026, 12, 20)),  # today counts as "on or after"
        (date(2026, 12, 20), "19.12", date(2027, 12, 19)),
        (date(2026, 1, 10), "5.2", date(2026, 2, 5)),
        (date(2026, 1, 10), "5.2.", date(2026, 2, 5)),
        (date(2026, 3, 1), "29.02", date(2028, 2, 29)),  # next leap year
    ],
)
def test_parse_date_infers_year(today: date, text: str, expected: date) -> None:
    assert parse_date(text, today=today) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31.02.2026", "no_such_day"),
        ("29.02.2026", "no_such_day"),
        ("00.01.2026", "no_such_day"),
        ("12.13.2026", "no_such_day"),
        ("32.01", "no_such_day"),
        ("31.04", "no_such_day"),
        ("01.01.0001", "year_range"),
        ("20/01/2026", "format"),
        ("i morgen", "format"),
        ("", "format"),
        ("٢٠.٠١.٢٠٢٦", "format"),  # Arabic-Indic digits are not dates here
    ],
)
def test_parse_date_rejects(text: str, reason: str) -> None:
    with pytest.raises(DateTimeError) as caught:
        parse_date(text, today=TODAY)
    assert caught.value.key == "bad_date"
    assert caught.value.reason == reason
    assert caught.value.value == text.strip()


def test_day_month_without_today_is_refused_not_guessed() -> None:
    with pytest.raises(DateTimeError) as caught:
        parse_date("05.01")
    assert caught.value.reason == "no_year"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10:00", time(10)), ("10.30", time(10, 30)), ("9:05", time(9, 5)), ("23:59", time(23, 59))],
)
def test_parse_time(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "10:60", "1000", "10", "ti", "10:0"])
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(DateTimeError) as caught:
        parse_time(text)
    assert caught.value.key == "bad_time"


@pytest.mark.parametrize(
    "text",
    ["10:00-12:00", "10.00–12.00", "10:00 - 12:00", "10.00 – 12.00", "10:00—12:00", "10-12", "10:00 −12"],
)
def test_parse_time_range(text: str) -> None:
    assert parse_time_range(text) == (time(10), time(12))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("12:00-10:00", "bad_time_range"),
        ("10:00-10:00", "bad_time_range"),
        ("10:00", "bad_time_range"),
        ("ti-tolv", "bad_time_range"),
        ("25:00-26:00", "bad_time"),
        ("10:00-12:75", "bad_time"),
    ],
)
def test_parse_time_range_rejects(text: str, key: str) -> None:
    with pytest.raises(DateTimeError) as caught:
        parse_time_range(text)
    assert caught.value.key == key


def test_take_time_range_returns_the_rest() -> None:
    assert take_time_range(" 10.00 – 12.00 Rådhuset") == ((time(10), time(12)), " Rådhuset")
    assert take_time_range("Rådhuset 10-12") is None
    assert take_time_range("10:00-12:00Rådhuset") is None


def test_looks_like() -> None:
    assert looks_like_date("31.02") and looks_like_date("5.1.") and looks_like_date("2026-01-20")
    assert not looks_like_date("fredag") and not looks_like_date("2026")
    assert looks_like_time("25:00") and not looks_like_time("10-12")


# --- prefix, case, slash ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "runde Hei",
        "/runde Hei",
        "RUNDE Hei",
        "Runde Hei",
        "referent runde Hei",
        "Referent runde Hei",
        "@Referent runde Hei",
        "@referent /runde Hei",
        "/referent runde Hei",
        "Referent: runde Hei",
        "  \n runde Hei",
        "runde: Hei",
        "runde:Hei",
        "/ runde Hei",
        "round Hei",
        "update Hei",
        "ＲＵＮＤＥ Hei",  # fullwidth letters from an IME
    ],
)
def test_prefixes_and_case(text: str) -> None:
    assert p(text) == Round("Hei")


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "referent", "@Referent", "/referent", "/"])
def test_empty_is_help(text: str) -> None:
    assert p(text) == Help()


# --- referat ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("referat", Referat()),
        ("/referat md", Referat("md")),
        ("referat html", Referat("html")),
        ("referat DOCX", Referat("docx")),
        ("referat pdf", Referat("pdf")),
        ("referat 20.01.2026 PDF", Referat("pdf", date(2026, 1, 20))),
        ("referat docx 20.01.2026", Referat("docx", date(2026, 1, 20))),
        ("referat 20.01.2026 docx", Referat("docx", date(2026, 1, 20))),
        ("referat 20.01.2026", Referat("md", date(2026, 1, 20))),
        ("referat 20.01", Referat("md", date(2026, 1, 20))),
        ("minutes word", Referat("docx")),
        ("minutes markdown", Referat("md")),
    ],
)
def test_referat(text: str, expected: Referat) -> None:
    assert p(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("referat odt", "bad_format"),  # pdf is a format now
        ("referat md html", "bad_format"),
        ("referat 20.01.2026 21.01.2026", "bad_format"),
        ("referat 31.02.2026", "bad_date"),
        ("referat docx 32.01", "bad_date"),
    ],
)
def test_referat_errors(text: str, key: str) -> None:
    result = error(text)
    assert result.key == key
    assert result.command == "referat"


# --- runde -----------------------------------------------------------------------------------


def test_runde_keeps_multiline_text_byte_for_byte() -> None:
    body = (
        "Status fra Bærum:\n- Nytt system i drift  \n  - pilot i to etater\n\n"
        "* Ansatt ny rådgiver\r\n1. Neste"
    )
    assert p("runde " + body) == Round(body)
    assert p("/runde\n" + body) == Round(body)
    assert p("@Referent runde \t" + body) == Round(body)


def test_runde_keeps_indentation_of_first_line_on_its_own_line() -> None:
    assert p("runde\n\n  - a\n  - b") == Round("  - a\n  - b")


def test_runde_keeps_trailing_whitespace_and_markup() -> None:
    assert p("runde <script>alert(1)</script> **x** <!channel>\n") == Round(
        "<script>alert(1)</script> **x** <!channel>\n"
    )


@pytest.mark.parametrize("text", ["runde", "runde   ", "runde\n\n", "/runde", "round"])
def test_runde_alone_opens_the_editor(text: str) -> None:
    assert p(text) == Round("")


@pytest.mark.parametrize(
    "text",
    [
        "runde ingen",
        "runde Ingen.",
        "runde ingenting",
        "runde INGENTING!",
        "runde nothing",
        "round none",
        "runde  ingen ",
        "runde ingenting å melde",
        "update nothing to report",
    ],
)
def test_runde_nothing(text: str) -> None:
    assert p(text) == Round(nothing=True)


def test_runde_ingen_inside_a_sentence_is_text() -> None:
    assert p("runde ingen endringer siden sist") == Round("ingen endringer siden sist")


def test_runde_with_aeoeaa() -> None:
    assert p("runde Ærlig talt: økonomi og årsbudsjett") == Round("Ærlig talt: økonomi og årsbudsjett")


# --- innspill --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "innspill 3 Vi støtter forslaget",
        "innspill sak 3 Vi støtter forslaget",
        "innspill Sak 3 Vi støtter forslaget",
        "innspill #3 Vi støtter forslaget",
        "innspill 3: Vi støtter forslaget",
        "innspill sak 3: Vi støtter forslaget",
        "innspill sak 3 – Vi støtter forslaget",
        "innspill 3. Vi støtter forslaget",
        "innspill til sak 3 Vi støtter forslaget",
        "innspill sak3 Vi støtter forslaget",
        "/innspill 3 Vi støtter forslaget",
        "input 3 Vi støtter forslaget",
        "input item 3 Vi støtter forslaget",
    ],
)
def test_innspill(text: str) -> None:
    assert p(text) == Input(3, "Vi støtter forslaget")


def test_innspill_keeps_multiline_text_and_bullets() -> None:
    assert p("innspill 11\n- punkt én\n- punkt to") == Input(11, "- punkt én\n- punkt to")


@pytest.mark.parametrize(
    ("text", "key", "params"),
    [
        ("innspill", "missing_argument", {"command": "innspill", "argument": "item_number"}),
        ("innspill Vi mener", "missing_argument", {"command": "innspill", "argument": "item_number"}),
        ("innspill sak", "missing_argument", {"command": "innspill", "argument": "item_number"}),
        ("innspill 3", "missing_text", {"command": "innspill"}),
        ("innspill sak 3   ", "missing_text", {"command": "innspill"}),
        ("innspill sak x tekst", "bad_number", {"value": "x"}),
        ("innspill 0 tekst", "bad_number", {"value": "0"}),
        ("innspill 3.5 tekst", "bad_number", {"value": "3.5"}),
    ],
)
def test_innspill_errors(text: str, key: str, params: dict[str, str]) -> None:
    assert p(text) == ParseError(key, params, "innspill")


# --- oppfolging ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["oppfolging", "oppfølging", "Oppfølging", "/oppfolging", "followup", "follow-up", "action"]
)
def test_oppfolging_words(word: str) -> None:
    assert p(f"{word} Sende rapport") == FollowUpCmd("Sende rapport")


def test_oppfolging_owner_from_mention_and_due() -> None:
    expected = FollowUpCmd("Sende rapport", "Kari Nordmann", "U1", date(2026, 2, 5))
    assert p("oppfolging Sende rapport @Kari Nordmann frist 05.02", mentions=MENTIONS) == expected
    assert p("oppfolging Sende rapport frist 05.02 @Kari Nordmann", mentions=MENTIONS) == expected
    assert p("oppfolging @Kari Nordmann Sende rapport frist 5.2.2026", mentions=MENTIONS) == expected
    assert p("oppfolging Sende rapport @kari nordmann due 05.02", mentions=MENTIONS) == FollowUpCmd(
        "Sende rapport", "Kari Nordmann", "U1", date(2026, 2, 5)
    )


def test_oppfolging_longest_mention_wins() -> None:
    assert p("oppfolging Tall @Kari Nordmann", mentions=(KARI_SHORT, KARI)) == FollowUpCmd(
        "Tall", "Kari Nordmann", "U1"
    )
    assert p("oppfolging Tall @Kari", mentions=MENTIONS) == FollowUpCmd("Tall", "Kari", "U2")


def test_oppfolging_mention_with_aeoeaa() -> None:
    assert p("oppfølging Kartlegge behov @Åse Ødegård", mentions=MENTIONS) == FollowUpCmd(
        "Kartlegge behov", "Åse Ødegård", "U3"
    )


def test_oppfolging_mention_inside_text_keeps_the_text() -> None:
    assert p("oppfolging be @Kari om tallene", mentions=MENTIONS) == FollowUpCmd(
        "be @Kari om tallene", "Kari", "U2"
    )


def test_oppfolging_without_mentions_list() -> None:
    assert p("oppfolging Sende rapport @Ola Hansen frist 05.02") == FollowUpCmd(
        "Sende rapport", "Ola Hansen", None, date(2026, 2, 5)
    )
    assert p("oppfolging Sende rapport @Ola") == FollowUpCmd("Sende rapport", "Ola")
    assert p("oppfolging @Ola sende rapport") == FollowUpCmd("sende rapport", "Ola")


@pytest.mark.parametrize("owner", ["@sekretariatet", "@Sekretariatet", "@sekretariat", "@secretariat"])
def test_oppfolging_secretariat(owner: str) -> None:
    assert p(f"oppfolging Oppdatere nettsiden {owner}", mentions=MENTIONS) == FollowUpCmd(
        "Oppdatere nettsiden", "Sekretariatet"
    )
    assert p(f"oppfolging {owner} Oppdatere nettsiden frist 05.02") == FollowUpCmd(
        "Oppdatere nettsiden", "Sekretariatet", None, date(2026, 2, 5)
    )


def test_oppfolging_due_rolls_over_the_year() -> None:
    result = parse("oppfolging Svar til KS frist 05.01", today=date(2026, 12, 20))
    assert result == FollowUpCmd("Svar til KS", due=date(2027, 1, 5))


def test_oppfolging_quoted_text() -> None:
    assert p('oppfolging "Sende rapport" @Kari frist 05.02', mentions=MENTIONS) == FollowUpCmd(
        "Sende rapport", "Kari", "U2", date(2026, 2, 5)
    )
    assert p("oppfolging «Sende» og «rapport»") == FollowUpCmd("«Sende» og «rapport»")


def test_oppfolging_frist_without_a_date_is_text() -> None:
    assert p("oppfolging Sjekke frist for søknad") == FollowUpCmd("Sjekke frist for søknad")
    assert p("oppfolging Avklare frist") == FollowUpCmd("Avklare frist")


def test_oppfolging_email_is_not_an_owner() -> None:
    assert p("oppfolging Send til post@kommune.no") == FollowUpCmd("Send til post@kommune.no")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("oppfolging", "missing_text"),
        ("oppfolging @Kari Nordmann", "missing_text"),
        ("oppfolging frist 05.02", "missing_text"),
        ("oppfolging Sende rapport frist 31.02", "bad_date"),
        ("oppfolging Sende rapport frist 31.02.2026", "bad_date"),
    ],
)
def test_oppfolging_errors(text: str, key: str) -> None:
    result = error(text, mentions=MENTIONS)
    assert (result.key, result.command) == (key, "oppfolging")


def test_oppfolging_day_month_without_today_is_bad_date() -> None:
    result = parse("oppfolging Sende rapport frist 05.02")
    assert isinstance(result, ParseError)
    assert (result.key, result.params["reason"]) == ("bad_date", "no_year")


# --- attendance ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tilstede", Present()),
        ("/tilstede", Present()),
        ("Present", Present()),
        ("forfall", Excused()),
        ("forfall syk i dag", Excused()),
        ("absent", Excused()),
        ("excused", Excused()),
        ("apologies", Excused()),
    ],
)
def test_attendance(text: str, expected: object) -> None:
    assert p(text) == expected


@pytest.mark.parametrize(
    ("text", "mentions", "expected"),
    [
        ("vara for @Kari Nordmann", MENTIONS, Substitute("Kari Nordmann", "U1")),
        ("vara @Kari Nordmann", MENTIONS, Substitute("Kari Nordmann", "U1")),
        ("substitute for @Åse Ødegård", MENTIONS, Substitute("Åse Ødegård", "U3")),
        ("vara for @Per Olsen", (), Substitute("Per Olsen")),
        ("vara for Per Olsen", (), Substitute("Per Olsen")),
        ('vara for "Per Olsen"', (), Substitute("Per Olsen")),
    ],
)
def test_vara(text: str, mentions: tuple[Mention, ...], expected: Substitute) -> None:
    assert p(text, mentions=mentions) == expected


@pytest.mark.parametrize("text", ["vara", "vara for", "vara for @"])
def test_vara_missing_person(text: str) -> None:
    assert p(text) == ParseError("missing_argument", {"command": "vara", "argument": "person"}, "vara")


# --- grupper ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["grupper", "/grupper", "groups", "grupper vis", "groups show"])
def test_grupper_show(text: str) -> None:
    assert p(text) == GroupsShow()


def test_grupper_new_quoted() -> None:
    text = 'grupper ny "Digitalisering | Kari Nordmann" "Klima | Ola | maks 5" "Helse"'
    assert p(text) == GroupsNew(
        (
            WorkGroupSpec("Digitalisering", "Kari Nordmann"),
            WorkGroupSpec("Klima", "Ola", 5),
            WorkGroupSpec("Helse"),
        )
    )


def test_grupper_new_typographic_quotes_and_aeoeaa() -> None:
    text = "groups new «Ærfugl og økologi | Åse Ødegård» “Barnehage | Pål | max 3”"
    assert p(text) == GroupsNew(
        (WorkGroupSpec("Ærfugl og økologi", "Åse Ødegård"), WorkGroupSpec("Barnehage", "Pål", 3))
    )


def test_grupper_new_options() -> None:
    text = (
        'grupper ny "A | Kari" "B | Ola | maks 4" --enkeltvalg --stenger 30.01.2026 '
        '--sporsmal "Hvilken gruppe vil du være med i?"'
    )
    assert p(text) == GroupsNew(
        (WorkGroupSpec("A", "Kari"), WorkGroupSpec("B", "Ola", 4)),
        question="Hvilken gruppe vil du være med i?",
        closes=date(2026, 1, 30),
        single_choice=True,
    )


def test_grupper_new_english_options_and_autocorrected_dashes() -> None:
    text = 'groups new —single –closes 30.01 kl. 12.00 --question Which group? "A" "B"'
    assert p(text) == GroupsNew(
        (WorkGroupSpec("A"), WorkGroupSpec("B")),
        question="Which group?",
        closes=date(2026, 1, 30),
        single_choice=True,
        closes_time=time(12),
    )


def test_grupper_new_option_with_equals_and_diacritics() -> None:
    result = p('grupper ny "A" --spørsmål=Hvem blir med? --stenger=30.01.2026')
    assert result == GroupsNew((WorkGroupSpec("A"),), question="Hvem blir med?", closes=date(2026, 1, 30))


def test_grupper_new_one_per_line() -> None:
    text = "grupper ny\n- Digitalisering | Kari\n- Klima | Ola | maks 5\n3. Helse"
    assert p(text) == GroupsNew(
        (WorkGroupSpec("Digitalisering", "Kari"), WorkGroupSpec("Klima", "Ola", 5), WorkGroupSpec("Helse"))
    )


def test_grupper_new_semicolons_and_cap_without_responsible() -> None:
    assert p("grupper ny Digitalisering | maks 2; Klima | @Ola") == GroupsNew(
        (WorkGroupSpec("Digitalisering", None, 2), WorkGroupSpec("Klima", "Ola"))
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("grupper ny", "missing_argument"),
        ("grupper ny --enkeltvalg", "missing_argument"),
        ('grupper ny "A | B | C"', "bad_format"),
        ('grupper ny "A | B | maks 2 | D"', "bad_format"),
        ('grupper ny " | Kari"', "bad_format"),
        ('grupper ny "A | maks 0"', "bad_number"),
        ('grupper ny "A | maks fem"', "bad_number"),
        ('grupper ny "A" "a"', "bad_format"),
        ('grupper ny "A" --stenger', "missing_argument"),
        ('grupper ny "A" --stenger 31.02.2026', "bad_date"),
        ('grupper ny "A" --stenger 30.01.2026 25:00', "bad_time"),
        ('grupper ny "A" --sporsmal', "missing_argument"),
        ('grupper ny "A" --ukjent', "bad_format"),
        ("grupper slett", "unknown_command"),
    ],
)
def test_grupper_errors(text: str, key: str) -> None:
    result = error(text)
    assert (result.key, result.command) == (key, "grupper")


def test_grupper_too_many() -> None:
    text = "grupper ny " + " ".join(f'"Gruppe {n}"' for n in range(30))
    assert error(text).key == "too_long"


# --- mote ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mote ny 20.01.2026 10:00-12:00", MeetingNew(date(2026, 1, 20), time(10), time(12), "Teams")),
        ("/mote ny 20.01.2026 10:00-12:00 Teams", MeetingNew(date(2026, 1, 20), time(10), time(12))),
        (
            "møte ny 20.01.2026 10.00–12.00 Rådhuset, møterom Ærø",
            MeetingNew(date(2026, 1, 20), time(10), time(12), "Rådhuset, møterom Ærø"),
        ),
        ("mote ny 20.01.2026 10:00 - 12:30", MeetingNew(date(2026, 1, 20), time(10), time(12, 30))),
        ("mote ny 20.01.2026 kl. 10.00 – 12.00", MeetingNew(date(2026, 1, 20), time(10), time(12))),
        ("mote ny 20.01 10-12", MeetingNew(date(2026, 1, 20), time(10), time(12))),
        (
            "meeting new 5.1.2027 9:00-11:00 «Kulturhuset»",
            MeetingNew(date(2027, 1, 5), time(9), time(11), "Kulturhuset"),
        ),
        # a meeting in the past may be recorded after the fact
        ("mote ny 01.12.2025 10:00-12:00", MeetingNew(date(2025, 12, 1), time(10), time(12))),
    ],
)
def test_mote_ny(text: str, expected: MeetingNew) -> None:
    assert p(text) == expected


def test_mote_ny_with_weekday() -> None:
    assert p("mote ny tirsdag 20.01.2026 10-12 Rådhuset") == MeetingNew(
        date(2026, 1, 20), time(10), time(12), "Rådhuset"
    )
    assert p("meeting new Tuesday, 20.01 10-12") == MeetingNew(date(2026, 1, 20), time(10), time(12))
    wrong = error("mote ny onsdag 20.01.2026 10-12")
    assert wrong.params == {"value": "onsdag 20.01.2026", "reason": "weekday_mismatch"}


@pytest.mark.parametrize(
    ("text", "key", "argument"),
    [
        ("mote ny", "missing_argument", "date"),
        ("mote ny 20.01.2026", "missing_argument", "time"),
        ("mote ny 20.01.2026 10:00", "bad_time_range", None),
        ("mote ny 20.01.2026 Rådhuset", "bad_time_range", None),
        ("mote ny 20.01.2026 12:00-10:00", "bad_time_range", None),
        ("mote ny 20.01.2026 10:00-10:00", "bad_time_range", None),
        ("mote ny 20.01.2026 25:00-26:00", "bad_time", None),
        ("mote ny 20.01.2026 10:00-12:61", "bad_time", None),
        ("mote ny 31.02.2026 10:00-12:00", "bad_date", None),
        ("mote ny i morgen 10:00-12:00", "bad_date", None),
    ],
)
def test_mote_ny_errors(text: str, key: str, argument: str | None) -> None:
    result = error(text)
    assert (result.key, result.command) == (key, "mote")
    if argument:
        assert result.params["argument"] == argument


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mote sak 3 Budsjett", MeetingItem(3, "Budsjett")),
        ("mote sak 11 Orientering om KI etter 2", MeetingItem(11, "Orientering om KI", 2)),
        ("mote sak 11 Orientering om KI etter sak 2", MeetingItem(11, "Orientering om KI", 2)),
        ("meeting item 4 Status after 3", MeetingItem(4, "Status", 3)),
        ('mote sak 5 "Evaluering etter møtet"', MeetingItem(5, "Evaluering etter møtet")),
        ("mote sak 5 Evaluering etter møtet", MeetingItem(5, "Evaluering etter møtet")),
        ("mote sak #6: Årsplan 2026", MeetingItem(6, "Årsplan 2026")),
        ("mote sak sak 7 Eventuelt", MeetingItem(7, "Eventuelt")),
    ],
)
def test_mote_sak(text: str, expected: MeetingItem) -> None:
    assert p(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("mote sak", "missing_argument"),
        ("mote sak 3", "missing_argument"),
        ("mote sak x Budsjett", "bad_number"),
        ("mote sak 3 Budsjett etter 3", "bad_number"),
    ],
)
def test_mote_sak_errors(text: str, key: str) -> None:
    result = error(text)
    assert (result.key, result.command) == (key, "mote")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mote status", MeetingStatusCmd()),
        ("mote", MeetingStatusCmd()),
        ("meeting status", MeetingStatusCmd()),
        ("mote lukk", MeetingClose()),
        ("meeting close", MeetingClose()),
        ("mote apne", MeetingReopen()),
        ("mote åpne", MeetingReopen()),
        ("Møte Åpne", MeetingReopen()),
        ("meeting reopen", MeetingReopen()),
        ("mote frist 27.01.2026", MeetingDeadline(date(2026, 1, 27))),
        ("meeting deadline 27.01", MeetingDeadline(date(2026, 1, 27))),
        ("mote hjelp", Help("mote")),
    ],
)
def test_mote_other(text: str, expected: object) -> None:
    assert p(text) == expected


def test_mote_errors() -> None:
    assert error("mote frist").params == {"command": "mote", "argument": "date"}
    assert error("mote frist 30.02.2026").key == "bad_date"
    unknown = error("mote flytt")
    assert (unknown.key, unknown.params["word"], unknown.command) == ("unknown_command", "flytt", "mote")


# --- oppsett, rolle, profil, paminnelser, data, hjelp -----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("oppsett Faggruppe digitalisering", Setup("Faggruppe digitalisering")),
        (
            "oppsett Faggruppe digitalisering | Bærum kommune",
            Setup("Faggruppe digitalisering", "Bærum kommune"),
        ),
        ('setup "Faggruppe Øst" | «Østfold»', Setup("Faggruppe Øst", "Østfold")),
        ('oppsett "Plan | bygg" | KS', Setup("Plan | bygg", "KS")),
        ("oppsett Faggruppe   helse |", Setup("Faggruppe helse")),
        ("oppsett Faggruppe helse --språk en", Setup("Faggruppe helse", None, "en")),
        ("oppsett Faggruppe helse | KS --sprak en", Setup("Faggruppe helse", "KS", "en")),
        ('setup "Maps" | KS --language=nb', Setup("Maps", "KS", "nb")),
    ],
)
def test_oppsett(text: str, expected: Setup) -> None:
    assert p(text) == expected


def test_oppsett_errors() -> None:
    assert error("oppsett").params == {"command": "oppsett", "argument": "group"}
    assert error("oppsett | KS").key == "missing_argument"
    assert error('oppsett "A" KS').key == "bad_format"
    assert error("oppsett " + "x" * 300).key == "too_long"
    assert error("oppsett Faggruppe helse --språk klingon").params["value"] == "klingon"


@pytest.mark.parametrize(
    ("text", "mentions", "expected"),
    [
        ("rolle @Kari Nordmann leder", MENTIONS, SetRole("Kari Nordmann", "chair", "U1")),
        ("rolle @Kari Nordmann møteleder", MENTIONS, SetRole("Kari Nordmann", "chair", "U1")),
        ("rolle @Kari Nordmann som moteleder", MENTIONS, SetRole("Kari Nordmann", "chair", "U1")),
        ("role @Kari Nordmann chair", MENTIONS, SetRole("Kari Nordmann", "chair", "U1")),
        ("rolle @Åse Ødegård sekretariat", MENTIONS, SetRole("Åse Ødegård", "secretariat", "U3")),
        ("role @Kari secretariat", MENTIONS, SetRole("Kari", "secretariat", "U2")),
        ("rolle @Kari Nordmann medlem", MENTIONS, SetRole("Kari Nordmann", "member", "U1")),
        ("role @Kari Nordmann member", MENTIONS, SetRole("Kari Nordmann", "member", "U1")),
        ("rolle leder @Kari Nordmann", MENTIONS, SetRole("Kari Nordmann", "chair", "U1")),
        ("rolle @Per Olsen leder", (), SetRole("Per Olsen", "chair")),
        ("rolle Per Olsen Sekretariatet", (), SetRole("Per Olsen", "secretariat")),
    ],
)
def test_rolle(text: str, mentions: tuple[Mention, ...], expected: SetRole) -> None:
    assert p(text, mentions=mentions) == expected


@pytest.mark.parametrize(
    ("text", "key", "params"),
    [
        ("rolle", "missing_argument", {"command": "rolle", "argument": "person"}),
        ("rolle leder", "missing_argument", {"command": "rolle", "argument": "person"}),
        ("rolle @Kari Nordmann", "missing_argument", {"command": "rolle", "argument": "role"}),
        ("rolle @Kari Nordmann sjef", "bad_role", {"value": "sjef"}),
        ("rolle @Per Olsen konge", "bad_role", {"value": "konge"}),
    ],
)
def test_rolle_errors(text: str, key: str, params: dict[str, str]) -> None:
    assert p(text, mentions=MENTIONS) == ParseError(key, params, "rolle")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("profil Bærum kommune", Profile("Bærum kommune")),
        ("profile «Trøndelag fylkeskommune»", Profile("Trøndelag fylkeskommune")),
        ("profil   Ås   kommune ", Profile("Ås kommune")),
    ],
)
def test_profil(text: str, expected: Profile) -> None:
    assert p(text) == expected


def test_profil_missing() -> None:
    assert p("profil") == ParseError(
        "missing_argument", {"command": "profil", "argument": "organisation"}, "profil"
    )


@pytest.mark.parametrize(
    ("text", "on"),
    [
        ("paminnelser av", False),
        ("påminnelser av", False),
        ("paminnelser på", True),
        ("paminnelser pa", True),
        ("Påminnelser PÅ", True),
        ("reminders off", False),
        ("reminders on", True),
        ("reminders On!", True),
    ],
)
def test_paminnelser(text: str, on: bool) -> None:
    assert p(text) == Reminders(on)


def test_paminnelser_errors() -> None:
    assert error("paminnelser").key == "missing_argument"
    assert error("paminnelser kanskje") == ParseError("bad_format", {"value": "kanskje"}, "paminnelser")


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("data eksport", "export"),
        ("data slett", "delete"),
        ("mydata export", "export"),
        ("mydata delete", "delete"),
    ],
)
def test_data(text: str, action: str) -> None:
    assert p(text) == MyData(action)


def test_data_errors() -> None:
    assert error("data").params == {"command": "data", "argument": "action"}
    assert error("mydata sell").key == "bad_format"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hjelp", Help()),
        ("help", Help()),
        ("?", Help()),
        ("hjelp?", Help()),
        ("hjelp oppfølging", Help("oppfolging")),
        ("help followup", Help("oppfolging")),
        ("hjelp /mote", Help("mote")),
        ("help meeting", Help("mote")),
        ("hjelp noe annet", Help("noe")),
        ("runde hjelp", Help("runde")),
        ("referat --help", Help("referat")),
        ("grupper ?", Help("grupper")),
    ],
)
def test_hjelp(text: str, expected: Help) -> None:
    assert p(text) == expected


# --- unknown, size ---------------------------------------------------------------------------


def test_unknown_command() -> None:
    assert p("hei") == ParseError("unknown_command", {"word": "hei"})
    assert p("/xyz tekst") == ParseError("unknown_command", {"word": "xyz"})


def test_unknown_command_suggests_the_closest() -> None:
    result = error("runnde Hei")
    assert result.params == {"word": "runnde", "suggestion": "runde"}
    assert error("oppfloging x").params["suggestion"] == "oppfolging"


def test_unknown_command_word_is_shortened() -> None:
    result = error("x" * 5000)
    assert len(result.params["word"]) <= 40


def test_too_long() -> None:
    assert p("runde " + "x" * MAX_LENGTH) == ParseError("too_long", {"limit": str(MAX_LENGTH)}, "runde")
    assert p("x" * (MAX_LENGTH + 1)) == ParseError("too_long", {"limit": str(MAX_LENGTH)}, None)
    text = "runde " + "x" * (MAX_LENGTH - 6)
    assert p(text) == Round("x" * (MAX_LENGTH - 6))


def test_error_values_are_shortened_to_one_line() -> None:
    result = error("referat " + "a" * 500)
    assert len(result.params["value"]) <= 60


def test_not_a_string_is_an_error() -> None:
    assert isinstance(parse(None), ParseError)  # type: ignore[arg-type]


# --- every alias in the table ----------------------------------------------------------------

# A valid argument line for each command, so each alias can be checked end to end.
SAMPLE_ARGS = {
    "referat": ("docx", Referat),
    "runde": ("Hei", Round),
    "innspill": ("3 Hei", Input),
    "oppfolging": ("Hei", FollowUpCmd),
    "tilstede": ("", Present),
    "forfall": ("", Excused),
    "vara": ("for @Kari Nordmann", Substitute),
    "grupper": ("", GroupsShow),
    "mote": ("status", MeetingStatusCmd),
    "oppsett": ("Faggruppe", Setup),
    "sprak": ("en", GroupLanguage),
    "rolle": ("@Kari Nordmann leder", SetRole),
    "koble": ("@Kari Nordmann Kari Nordmann", LinkIdentity),
    "profil": ("Bærum", Profile),
    "paminnelser": ("av", Reminders),
    "data": ("eksport", MyData),
    "hjelp": ("", Help),
}


def test_sample_args_cover_the_table() -> None:
    assert set(SAMPLE_ARGS) == {c.name for c in COMMANDS}


@pytest.mark.parametrize(
    ("word", "name"), [(w, c.name) for c in COMMANDS for w in c.words], ids=lambda v: str(v)
)
def test_every_alias_parses_to_its_command(word: str, name: str) -> None:
    args, expected_type = SAMPLE_ARGS[name]
    for text in (f"{word} {args}", f"/{word.upper()} {args}", f"@Referent {word} {args}"):
        assert isinstance(p(text, mentions=MENTIONS), expected_type), text


@pytest.mark.parametrize(
    ("command", "sub", "args", "expected"),
    [
        (c.name, word, args, expected)
        for c in COMMANDS
        for s in c.subcommands
        for word in (s.name, *s.aliases)
        for args, expected in [
            {
                ("mote", "ny"): ("20.01.2026 10-12", MeetingNew),
                ("mote", "sak"): ("3 Budsjett", MeetingItem),
                ("mote", "status"): ("", MeetingStatusCmd),
                ("mote", "lukk"): ("", MeetingClose),
                ("mote", "apne"): ("", MeetingReopen),
                ("mote", "frist"): ("27.01.2026", MeetingDeadline),
                ("mote", "godkjenn-referat"): ("", MeetingApproveMinutes),
                ("mote", "importer"): ("Tid: 20.01.2026 kl. 10-12", MeetingImport),
                ("grupper", "ny"): ('"A | B"', GroupsNew),
                ("grupper", "vis"): ("", GroupsShow),
                ("grupper", "frist"): ("30.01.2026 12:00", GroupsDeadline),
                ("grupper", "lukk"): ("", GroupsClose),
                ("grupper", "eksport"): ("", GroupsExport),
                ("grupper", "trekk"): ("", GroupsWithdraw),
                ("grupper", "publiser"): ("12", GroupsPost),
                ("grupper", "forkast"): ("12", GroupsDiscard),
                ("oppfolging", "ferdig"): ("12", FollowUpDone),
                ("oppfolging", "status"): ("", FollowUpList),
                ("oppfolging", "mine"): ("", FollowUpList),
                ("paminnelser", "pa"): ("", Reminders),
                ("paminnelser", "av"): ("", Reminders),
                ("data", "eksport"): ("", MyData),
                ("data", "slett"): ("", MyData),
            }[(c.name, s.name)]
        ]
    ],
)
def test_every_subcommand_alias_parses(command: str, sub: str, args: str, expected: type) -> None:
    assert isinstance(p(f"{command} {sub} {args}"), expected)


# --- never raises ----------------------------------------------------------------------------

_WORDS = sorted(
    {w for c in COMMANDS for w in c.words}
    | {w for c in COMMANDS for s in c.subcommands for w in (s.name, *s.aliases)}
    | {
        "referent",
        "@Referent",
        "/",
        "sak",
        "frist",
        "due",
        "etter",
        "for",
        "som",
        "kl.",
        "maks",
        "|",
        "@",
        "@Kari",
        "@Kari Nordmann",
        "@sekretariatet",
        '"',
        "«",
        "»",
        "“",
        "”",
        "„",
        "--stenger",
        "--sporsmal",
        "--enkeltvalg",
        "—single",
        "--question=",
        "10:00-12:00",
        "10.00 – 12.00",
        "25:00",
        "31.02",
        "29.02",
        "05.01",
        "20.01.2026",
        "2026-01-20",
        "#3",
        "3.",
        "-",
        "\n",
        "\r\n",
        "\t",
        "  ",
        "ingen",
        "leder",
        "på",
        "av",
        "\u202e",
        "\x00",
        "٣",
        "²",
        "ß",
        "İ",
    }
)
_TAIL = st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=10)), max_size=14).map(" ".join)
_MENTION_LISTS = st.lists(
    st.builds(
        Mention,
        st.text(max_size=5),
        st.one_of(st.text(max_size=15), st.sampled_from(["Kari", "Kari Nordmann"])),
    ),
    max_size=3,
)
_TODAY = st.one_of(st.none(), st.dates())
_VALID_TYPES = (
    ParseError,
    *(t for _, t in SAMPLE_ARGS.values()),
    GroupsNew,
    MeetingNew,
    MeetingItem,
    MeetingClose,
    MeetingReopen,
    MeetingDeadline,
    # The year's subcommands (issue 11).
    MeetingApproveMinutes,
    MeetingImport,
    GroupsDeadline,
    GroupsClose,
    GroupsExport,
    GroupsWithdraw,
    GroupsPost,
    GroupsDiscard,
    FollowUpDone,
    FollowUpList,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(), mentions=_MENTION_LISTS, today=_TODAY)
def test_never_raises_on_any_text(text: str, mentions: list[Mention], today: date | None) -> None:
    result = _parse(text, mentions, today)  # without parse()'s safety net
    assert isinstance(result, _VALID_TYPES)
    assert parse(text, mentions=mentions, today=today) == result


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(["", "/", "@Referent ", "referent /", " \n"]),
    word=st.sampled_from(_WORDS),
    tail=_TAIL,
    mentions=_MENTION_LISTS,
    today=_TODAY,
)
def test_never_raises_on_command_words_with_random_tails(
    prefix: str, word: str, tail: str, mentions: list[Mention], today: date | None
) -> None:
    result = _parse(f"{prefix}{word} {tail}", mentions, today)
    assert isinstance(result, _VALID_TYPES)
    if isinstance(result, ParseError):
        assert result.key in ERROR_KEYS | {"unknown_command"}
        assert all(isinstance(v, str) and len(v) <= 60 for v in result.params.values())


@settings(max_examples=300, deadline=None)
@given(body=st.text(min_size=1).filter(lambda s: s.strip() != "" and not s[0].isspace()))
def test_runde_text_round_trips(body: str) -> None:
    result = _parse("runde " + body, (), TODAY)
    if isinstance(result, Round) and not result.nothing and result.text:
        assert result.text == body


def test_attendance_for_others_by_mention_and_by_typed_name() -> None:
    from handlers.events import Mention
    from handlers.parsed import PersonRef

    kari = Mention("U1", "Kari Nordmann")
    assert parse("tilstede @Kari Nordmann @Per Berg, @Åse Øvre", mentions=[kari]) == Present(
        (PersonRef("Kari Nordmann", "U1"), PersonRef("Per Berg"), PersonRef("Åse Øvre"))
    )
    assert parse("forfall @Kari Nordmann", mentions=[kari]) == Excused((PersonRef("Kari Nordmann", "U1"),))
    assert parse("forfall syk i dag") == Excused()
    assert parse("tilstede") == Present()
