"""What the bot says back about a member's text, end to end: a signed Slack slash command and a
real-shaped Teams activity go to the real server on loopback; the answer the member sees (the
slash command's response, the activity sent to the fake Bot Connector) shows their list, link,
bold text and emoji in the platform's own formatting, cuts a long text only between whole
pieces, and never pings anyone for them."""

from __future__ import annotations

import json
import re
from typing import Any

import lxml.html
import pytest

from storage.models import Submission
from tests.e2e.slack_fixtures import KARI, SlackWorld
from tests.e2e.teams_fixtures import KARI as TEAMS_KARI
from tests.e2e.teams_fixtures import TeamsWorld
from tests.e2e.test_slack_flows import no_pings, set_up_group

pytestmark = pytest.mark.e2e

# What a member types in Slack's composer for `/runde`: mrkdwn, as Slack sends it (links and
# `&<>` escaped by Slack, emoji as shortcodes).
SLACK_ENTRY = (
    "Status fra *Bergen* :tada:\n"
    "• Bredbånd er _ferdig_\n"
    "• Se <https://www.nkom.no/rapport?a=1&amp;b=2|rapporten fra Nkom>"
)


def slash_answer(answer: Any) -> tuple[str, list[str]]:
    """A slash command's ephemeral answer: its fallback text and its section texts."""
    assert answer.status == 200, answer.text
    body = answer.json()
    assert body.get("response_type") == "ephemeral", body
    sections = [b["text"]["text"] for b in body.get("blocks", []) if b.get("type") == "section"]
    assert all(b["text"].get("verbatim") is True for b in body["blocks"] if b.get("type") == "section")
    return str(body.get("text", "")), sections


def markup_is_whole(mrkdwn: str) -> None:
    """Every `<` opens a token that closes, and every `&` is a whole entity."""
    assert re.sub(r"<[^<>]*>", "", mrkdwn).count(">") == 0, mrkdwn
    assert "<" not in re.sub(r"<[^<>]*>", "", mrkdwn), mrkdwn
    for amp in re.finditer("&", mrkdwn):
        assert re.match(r"&(amp|lt|gt);", mrkdwn[amp.start() :]), mrkdwn[amp.start() : amp.start() + 8]


async def test_slack_runde_echoes_list_link_bold_and_emoji_as_mrkdwn(slack: SlackWorld) -> None:
    await set_up_group(slack)
    text, sections = slash_answer(await slack.command("/runde", SLACK_ENTRY, user=KARI))
    [entry] = await slack.rows(Submission)
    assert entry.text.startswith("Status fra *Bergen* 🎉")
    shown = "\n".join(sections)
    for wanted in (
        "Status fra *Bergen* 🎉",
        "• Bredbånd er _ferdig_",
        "• Se <https://www.nkom.no/rapport?a=1&amp;b=2|rapporten fra Nkom>",
    ):
        assert wanted in shown, shown
        assert wanted in text, text  # the notification text says the same
    assert shown.startswith("Takk, Kari!") and "Frist:" in shown
    markup_is_whole(shown)
    # the only `<…>` tokens are the member's own link
    assert re.findall(r"<([^<>]*)>", shown) == ["https://www.nkom.no/rapport?a=1&amp;b=2|rapporten fra Nkom"]


async def test_slack_literal_broadcasts_and_mentions_in_an_entry_never_ping(slack: SlackWorld) -> None:
    await set_up_group(slack)
    typed = "Hei <!channel> og <!here>, se &lt;!channel&gt; og &lt;@U0KARI&gt; &lt;script&gt;"
    text, sections = slash_answer(await slack.command("/runde", typed, user=KARI))
    shown = "\n".join([text, *sections])
    for markup in ("<!channel>", "<!here>", "<@U0", "<script>"):
        assert markup not in shown, markup
    assert "&lt;!channel&gt;" in shown and "&lt;@U0KARI&gt;" in shown and "&lt;script&gt;" in shown
    assert "@\u2060channel" in shown and "@\u2060here" in shown  # a broadcast shown as its name only
    await slack.settle()
    no_pings(slack)


async def test_slack_long_entry_is_cut_between_words_with_its_link_whole(slack: SlackWorld) -> None:
    await set_up_group(slack)
    url = "https://www.regjeringen.no/no/dokumenter/digitaliseringsstrategi/id2000000/?sprak=nb&amp;del=3"
    words = " ".join(f"ord{n}" for n in range(200))
    seen: set[int] = set()
    for lead in range(560, 640, 13):  # the link starts on either side of the cut, and across it
        typed = f"{words[:lead]} <{url}|strategien for digitalisering> og mer tekst etterpå {words}"
        text, sections = slash_answer(await slack.command("/runde", typed, user=KARI))
        for shown in (text, *sections):
            markup_is_whole(shown)
            links = re.findall(r"<([^<>]*)>", shown)
            assert links in ([], [f"{url}|strategien for digitalisering"]), links
            seen.add(len(links))
        echo = sections[0].split("\n\n")[1]
        assert echo.endswith("…") and len(echo) < 800, echo
        last = echo.removesuffix("…").split()[-1]
        assert last in typed.split() or last.endswith(">"), last  # cut after a whole word
    assert seen == {0, 1}  # kept whole when it fits before the cut, left out when it does not


async def test_slack_draft_in_chat_shows_member_lists_and_links_as_mrkdwn(slack: SlackWorld) -> None:
    await set_up_group(slack)
    slash_answer(await slack.command("/runde", SLACK_ENTRY, user=KARI))
    answer = await slack.command("/referat", "", user=KARI)
    assert answer.status == 200, answer.text
    body = answer.json()
    shown = "\n".join(b["text"]["text"] for b in body["blocks"] if b.get("type") == "section")
    assert "• Se <https://www.nkom.no/rapport?a=1&amp;b=2|rapporten fra Nkom>" in shown, shown
    assert "Status fra *Bergen* 🎉" in shown
    markup_is_whole(shown)
    markup_is_whole(body["text"])


# --- Teams ----------------------------------------------------------------------------------


def teams_command(teams: TeamsWorld, html: str) -> dict[str, Any]:
    """`@Referent runde …` posted in the channel as Teams sends a formatted message: HTML in
    `text` (textFormat xml) and the same HTML as a text/html attachment."""
    activity = teams.scenario.channel_message(TEAMS_KARI, "x")
    activity["text"] = html
    activity["textFormat"] = "xml"
    activity["attachments"] = [{"contentType": "text/html", "content": html}]
    return activity


async def test_teams_runde_echoes_list_link_bold_and_emoji_as_html(teams: TeamsWorld) -> None:
    await teams.seed()
    activity = teams_command(
        teams,
        '<p><at>Referent</at> runde Status fra <b>Bergen</b> <img itemtype="http://schema.skype.com/Emoji" '
        'alt="🎉" src="x.png"></p><ul><li>Bredbånd er <i>ferdig</i></li>'
        '<li>Se <a href="https://www.nkom.no/rapport?a=1&amp;b=2">rapporten fra Nkom</a></li></ul>'
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;at&gt;Ola&lt;/at&gt;</p>",
    )
    assert (await teams.post(activity)).status == 200
    [entry] = await teams.rows(Submission)
    assert entry.text.startswith("Status fra **Bergen** 🎉")
    [reply] = teams.replies_to(activity)
    assert reply.body["textFormat"] == "xml"
    page = lxml.html.fragment_fromstring(reply.text, create_parent="div")
    assert page.xpath("//p[b='Bergen']") and "🎉" in page.text_content()
    items = [li.text_content() for li in page.xpath("//ul/li")]
    assert items == ["Bredbånd er ferdig", "Se rapporten fra Nkom"]
    assert page.xpath("//ul/li/i[.='ferdig']")
    [link] = page.xpath("//ul/li/a")
    assert link.get("href") == "https://www.nkom.no/rapport?a=1&b=2" and link.text == "rapporten fra Nkom"
    # what the member typed as markup is text: escaped, never a tag or a mention
    assert not page.xpath("//script | //at")
    assert "<script>alert(1)</script> <at>Ola</at>" in page.text_content()
    assert "&lt;script&gt;" in reply.text
    assert not reply.body.get("entities")


async def test_teams_long_entry_is_cut_with_its_link_whole(teams: TeamsWorld) -> None:
    await teams.seed()
    url = "https://www.regjeringen.no/no/dokumenter/digitaliseringsstrategi/id2000000/?sprak=nb&amp;del=3"
    words = " ".join(f"ord{n}" for n in range(200))
    seen: set[int] = set()
    for lead in (560, 590, 620):
        activity = teams_command(
            teams,
            f'<p><at>Referent</at> runde {words[:lead]} <a href="{url}">strategien for digitalisering</a> '
            f"og mer tekst etterpå {words}</p>",
        )
        assert (await teams.post(activity)).status == 200
        [reply] = teams.replies_to(activity)
        page = lxml.html.fragment_fromstring(reply.text, create_parent="div")
        echo = page.xpath("//p")[1]
        assert echo.text_content().endswith("…")
        links = [(a.get("href"), a.text_content()) for a in echo.xpath(".//a")]
        assert links in ([], [("https://www.regjeringen.no/no/dokumenter/digitaliseringsstrategi/id2000000/"
                               "?sprak=nb&del=3", "strategien for digitalisering")]), links  # fmt: skip
        assert json.dumps(reply.body).count("<a ") == len(links)
        seen.add(len(links))
    assert seen == {0, 1}
