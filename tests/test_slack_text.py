"""Slack markup → plain text (what handlers see), and the escaping of what goes back out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.text import (
    SlackUser,
    defang,
    escape,
    strip_leading_mention,
    to_plain,
    to_plain_resolving,
    unescape,
    user_ids_in,
)

KARI = SlackUser(id="U0KARI", name="Kari Nordmann", email="kari@example.no", locale="nb-NO")


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("Hei <!channel> og <!here>", "Hei @channel og @here"),
        ("<!everyone> se her", "@everyone se her"),
        ("Se <#C123|faggruppe-test>", "Se #faggruppe-test"),
        ("Se <#C123>", "Se #C123"),
        ("Les <https://example.no/sak?a=1&amp;b=2|saken>", "Les saken (https://example.no/sak?a=1&b=2)"),
        ("Les <https://example.no>", "Les https://example.no"),
        ("Les <https://example.no|example.no>", "Les https://example.no"),
        ("Skriv til <mailto:post@example.no|post@example.no>", "Skriv til post@example.no"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),
        ("&amp;lt;script&amp;gt;", "&lt;script&gt;"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
        ("<!subteam^S123|@ledere> hei", "@ledere hei"),
        ("<!date^1392734382^{date}|13. februar 2014>", "13. februar 2014"),
        ("Ingen markup her", "Ingen markup her"),
        ("", ""),
    ],
)
def test_markup_becomes_plain_text(slack: str, plain: str) -> None:
    assert to_plain(slack).text == plain


def test_mentions_become_names_with_their_email() -> None:
    result = to_plain("vara for <@U0KARI> og <@U0UKJENT|ola>", {"U0KARI": KARI})
    assert result.text == "vara for @Kari Nordmann og @ola"
    assert [(m.user_id, m.display_name, m.email) for m in result.mentions] == [
        ("U0KARI", "Kari Nordmann", "kari@example.no"),
        ("U0UKJENT", "ola", None),
    ]


def test_a_mention_without_label_or_lookup_shows_the_id() -> None:
    assert to_plain("<@U0NOBODY>").text == "@U0NOBODY"


async def test_resolving_looks_each_user_up_once() -> None:
    asked: list[str] = []

    async def lookup(uid: str) -> SlackUser | None:
        asked.append(uid)
        return KARI if uid == "U0KARI" else None

    result = await to_plain_resolving("<@U0KARI> <@U0KARI> <@U0OLA|ola>", lookup)
    assert result.text == "@Kari Nordmann @Kari Nordmann @ola"
    assert asked == ["U0KARI", "U0OLA"]
    assert user_ids_in("<@U0KARI> <#C1|x> <@W0ENT|y> <!here>") == ["U0KARI", "W0ENT"]


def test_escape_and_unescape_round_trip() -> None:
    text = "<@U123> & <!channel> > <script>"
    assert escape(text) == "&lt;@U123&gt; &amp; &lt;!channel&gt; &gt; &lt;script&gt;"
    assert unescape(escape(text)) == text


@given(st.text())
def test_escaped_text_has_no_markup_and_round_trips(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert unescape(escaped) == text
    # What Slack sends back for typed text reads as the text itself.
    assert to_plain(escaped).text == text


def test_defang_keeps_broadcast_words_from_pinging() -> None:
    out = defang("Hei @channel, @Here og @everyone — men ikke e-post@channelx.no")
    assert "@channel," not in out and "@Here" not in out and "@everyone" not in out
    assert out.replace("\u2060", "") == "Hei @channel, @Here og @everyone — men ikke e-post@channelx.no"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U0REFERENT> runde Alt vel", "runde Alt vel"),
        ("<@U0REFERENT|referent>: hjelp", "hjelp"),
        ("  <@U0REFERENT>   tilstede", "tilstede"),
        ("hei <@U0REFERENT>", "hei <@U0REFERENT>"),
        ("<@U0ANNEN> runde", "<@U0ANNEN> runde"),
    ],
)
def test_strip_leading_mention(text: str, expected: str) -> None:
    assert strip_leading_mention(text, "U0REFERENT") == expected
