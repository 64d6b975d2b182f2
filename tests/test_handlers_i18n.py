"""The chat catalog, locale resolution and the Norwegian/English date formats."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers import i18n
from handlers.i18n import Raw, format_deadline, format_meeting_time, resolve_locale, t

OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize(
    ("event", "group", "expected"),
    [
        ("en-US", "nb", "en"),
        ("en-GB", "nb", "en"),
        ("en_GB", "nb", "en"),
        ("nb-NO", "en", "nb"),
        ("nn-NO", "en", "nb"),
        ("no", "en", "nb"),
        (None, "en", "en"),
        (None, "nb", "nb"),
        (None, None, "nb"),
        ("sv-SE", "en", "en"),  # a language we do not have: the group's
        ("", None, "nb"),
    ],
)
def test_locale_resolution(event: str | None, group: str | None, expected: str) -> None:
    assert resolve_locale(event, group_locale=group) == expected


def test_member_choice_comes_before_the_group() -> None:
    assert resolve_locale(None, member_locale="en", group_locale="nb") == "en"


def test_meeting_time_as_norwegians_write_it() -> None:
    start = datetime(2026, 1, 20, 10, 0, tzinfo=OSLO)
    end = datetime(2026, 1, 20, 12, 0, tzinfo=OSLO)
    assert format_meeting_time(start, end, "Europe/Oslo", "nb") == "tirsdag 20. januar 2026 kl. 10.00–12.00"
    assert format_meeting_time(start, end, "Europe/Oslo", "en") == "Tuesday 20 January 2026, 10:00–12:00"


def test_meeting_time_is_shown_in_the_group_time_zone() -> None:
    start = datetime(2026, 6, 2, 8, 0, tzinfo=ZoneInfo("UTC"))
    end = datetime(2026, 6, 2, 10, 0, tzinfo=ZoneInfo("UTC"))
    assert format_meeting_time(start, end, "Europe/Oslo", "nb") == "tirsdag 2. juni 2026 kl. 10.00–12.00"


def test_deadline_format() -> None:
    deadline = datetime(2026, 1, 30, 23, 59, tzinfo=OSLO)
    now = datetime(2026, 1, 20, 12, 0, tzinfo=OSLO)
    assert format_deadline(deadline, "Europe/Oslo", "nb", now=now) == "fredag 30. januar kl. 23.59"
    assert format_deadline(deadline, "Europe/Oslo", "en", now=now) == "Friday 30 January, 23:59"
    later = datetime(2025, 12, 20, tzinfo=OSLO)
    assert format_deadline(deadline, "Europe/Oslo", "nb", now=later) == "fredag 30. januar 2026 kl. 23.59"


def test_short_dates() -> None:
    assert i18n.format_short_date(date(2026, 1, 5), "nb") == "05.01.2026"
    assert i18n.format_day_month(date(2026, 3, 15), "nb") == "15. mars"
    assert i18n.format_day_month(date(2026, 3, 15), "en") == "15 March"


def test_both_catalogs_have_the_same_keys() -> None:
    assert i18n.keys("nb") == i18n.keys("en")
    assert len(i18n.keys("nb")) > 100


def test_every_message_renders_in_both_languages() -> None:
    for locale in ("nb", "en"):
        for key in i18n.keys(locale):
            assert t(locale, key).strip(), key


def test_values_are_made_inert_but_raw_text_is_not() -> None:
    text = t("nb", "profile.saved", organisation="<script>alert(1)</script> <!channel> <@U123> *fet*")
    assert "<script>" not in text and "\\<script\\>" in text
    assert "\\<\\!channel\\>" in text and "\\<@U123\\>" in text
    assert "\\*fet\\*" in text
    assert (
        t("nb", "profile.saved", organisation=Raw("**Asker**")) == "Organisasjonen din er satt til **Asker**."
    )


def test_unknown_key_and_missing_parameter_do_not_raise() -> None:
    assert t("nb", "no.such.key") == "no.such.key"
    assert "Organisasjonen din er satt til" in t("nb", "profile.saved")


def test_english_falls_back_to_bokmal_for_unknown_locales() -> None:
    assert t("de", "poll.join") == "Bli med"
    assert t("en-US", "poll.join") == "Join"


@pytest.mark.parametrize(
    ("names", "locale", "expected"),
    [
        ([], "nb", ""),
        (["Kari"], "nb", "Kari"),
        (["Kari", "Ola"], "nb-NO", "Kari og Ola"),
        (["Kari", "Ola", "Per"], "nb", "Kari, Ola og Per"),
        (["Kari", "Ola", "Per"], "en-US", "Kari, Ola and Per"),  # no Oxford comma, as before
        (["Kari", "Ola"], None, "Kari og Ola"),
    ],
)
def test_join_names(names: list[str], locale: str | None, expected: str) -> None:
    assert i18n.join_names(names, locale) == expected


def test_one_locale_rule_with_and_without_a_default() -> None:
    assert i18n.normalise_locale("EN_gb") == "en" and i18n.normalise_locale("nn-NO") == "nb"
    assert i18n.normalise_locale("de-DE") is None and i18n.normalise_locale(None) is None
    assert i18n.normalise_locale("de-DE", "en") == "en" and i18n.normalise_locale("", "xx") == "nb"
