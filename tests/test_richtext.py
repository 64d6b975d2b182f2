"""Rich text in, rich text out: real-shaped Teams and Slack payloads through the adapters' parsers
into the stored form, and from there into every output (Markdown, HTML, Word, Slack mrkdwn,
Teams HTML). Golden values are written out in full, so a change in any format shows here."""

from __future__ import annotations

import importlib.util
import io
import re
from pathlib import Path
from typing import Any

import lxml.html
from docx import Document
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.offline.fakes.teams_activities import TeamsScenario, fictional_user
from bot.slack.richtext import emojize, member_text, to_mrkdwn
from bot.slack.text import SlackUser
from bot.teams import activity as ta
from bot.teams.richtext import parse_html, to_teams_html
from handlers.referat.blocks import md_blocks
from handlers.richtext import parse, plain, to_source
from handlers.richtext.model import Code, CodeBlock, ItemList, Link, Mention, Para, Styled, Text
from storage.db import Database
from tests.referat_fixtures import build_meeting
from tests.test_referat import render_all

KARI = fictional_user("Kari", "Nordmann", "example.no")
OLA = fictional_user("Ola", "Nordmann", "example.no")
SCENARIO = TeamsScenario(
    service_url="https://smba.trafficmanager.net/emea/", app_id="6f1c3b52-8d2e-4a7f-9b0c-1d2e3f4a5b6c"
)
ROOT = "1768900000000"


# --- Teams ----------------------------------------------------------------------------------


def teams_reply(html: str, entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A thread reply as Teams sends a formatted message: HTML in `text`, textFormat xml, and
    the same HTML as a text/html attachment."""
    activity = SCENARIO.thread_reply(KARI, ROOT, "x")
    activity["text"] = html
    activity["textFormat"] = "xml"
    activity["attachments"] = [{"contentType": "text/html", "content": html}]
    activity["entities"] = [
        *(entities or []),
        *[e for e in activity["entities"] if e.get("type") != "mention"],
    ]
    return activity


def stored_from_teams(html: str, entities: list[dict[str, Any]] | None = None) -> str:
    event = ta.message_event(teams_reply(html, entities))
    assert event is not None
    return event.text


def test_teams_lists_stay_lists() -> None:
    assert stored_from_teams("<p>Punkt en</p><ul><li>a</li><li>b</li></ul>") == "Punkt en\n\n- a\n- b"
    assert stored_from_teams("<div>Innledning</div><ol><li>første</li><li>andre</li></ol>") == (
        "Innledning\n\n1. første\n2. andre"
    )
    nested = '<ul><li>a<ul><li>a1</li><li>a2</li></ul></li><li>b</li></ul><ol start="3"><li>tre</li></ol>'
    assert stored_from_teams(nested) == "- a\n  - a1\n  - a2\n- b\n\n3. tre"


def test_teams_links_emoji_headings_rules_and_tables_never_leak_markup() -> None:
    html = (
        '<p>Se <a href="https://www.regjeringen.no/no/id4/" rel="noreferrer noopener" target="_blank" '
        'title="https://www.regjeringen.no/no/id4/">https://www.regjeringen.no/no/id4/</a> og skriv til '
        '<a href="mailto:post@example.no">post@example.no</a> '
        '<img itemtype="http://schema.skype.com/Emoji" itemscope="" src="https://statics.teams.cdn.office.net/'
        'evergreen-assets/personal-expressions/v2/assets/emoticons/smile/default/20_f.png" alt="😄" '
        'title="Smil" style="width:20px;height:20px"></p>'
        "<h2>Overskrift</h2><hr><table><tbody><tr><td>Kommune</td><td>Tall</td></tr>"
        "<tr><td>Bergen</td><td>12</td></tr></tbody></table>"
        '<p><a href="javascript:alert(1)">klikk</a> <span style="color:red">rød</span> <u>under</u>'
        "<script>alert(2)</script></p>"
    )
    stored = stored_from_teams(html)
    assert stored == (
        "Se https://www.regjeringen.no/no/id4/ og skriv til <mailto:post@example.no> 😄\n\n"
        "**Overskrift**\n\n"
        "Kommune | Tall\nBergen | 12\n\n"
        "klikk rød under"
    )
    assert "<" not in stored.replace("<mailto:post@example.no>", "")
    doc = parse(stored)
    assert doc[0] == Para(
        (
            (
                Text("Se "),
                Link("https://www.regjeringen.no/no/id4/", (Text("https://www.regjeringen.no/no/id4/"),)),
                Text(" og skriv til "),
                Link("mailto:post@example.no", (Text("post@example.no"),)),
                Text(" 😄"),
            ),
        )
    )


def test_teams_split_mention_reads_as_one_name() -> None:
    mentioned = {"id": OLA.id, "name": "Ola Nordmann"}
    entities = [
        {"type": "mention", "text": "<at>Ola</at>", "mentioned": mentioned},
        {"type": "mention", "text": "<at>Nordmann</at>", "mentioned": mentioned},
    ]
    stored = stored_from_teams(
        "<p>Takk til <at>Ola</at>&nbsp;<at>Nordmann</at> for <b>innspillet</b>!</p>", entities
    )
    assert stored == "Takk til @Ola Nordmann for **innspillet**!"
    event = ta.message_event(teams_reply("<p><at>Ola</at>&nbsp;<at>Nordmann</at></p>", entities))
    assert event is not None and [m.display_name for m in event.mentions] == ["Ola Nordmann"]


def test_teams_emphasis_code_and_code_block() -> None:
    html = (
        "<p><strong>fet</strong> <em>kursiv</em> <s>streket</s> <code>kode_x</code> 2*3*4 "
        "&lt;b&gt;ikke tagg&lt;/b&gt;</p><pre>linje 1\n  linje *2*</pre>"
    )
    stored = stored_from_teams(html)
    assert (
        stored
        == "**fet** _kursiv_ ~~streket~~ `kode_x` 2*3*4 <b>ikke tagg</b>\n\n```\nlinje 1\n  linje *2*\n```"
    )
    assert parse(stored)[1] == CodeBlock("linje 1\n  linje *2*")


# --- Slack ----------------------------------------------------------------------------------

USERS = {"U0KARI": SlackUser("U0KARI", "Kari Nordmann", "kari@example.no")}


def test_slack_mrkdwn_text() -> None:
    text = (
        "*fet* _kursiv_ ~streket~ `kode` :tada: :flag-no: :partyparrot: kl. 12:30:00 "
        "<@U0KARI> <@U0UNKNOWN1> <#C0123ABC> <#C0456DEF|styret> <!here> "
        "<https://www.ks.no/|KS> <https://www.ks.no/a_b> <mailto:post@example.no|post@example.no> "
        "&lt;script&gt; snake_case"
    )
    result = member_text(text, None, USERS, locale="nb")
    # mrkdwn is kept as typed (it is already the stored dialect), tokens resolved
    assert result.text == (
        "*fet* _kursiv_ ~streket~ `kode` 🎉 🇳🇴 :partyparrot: kl. 12:30:00 "
        "@Kari Nordmann @ukjent bruker #ukjent kanal #styret @here "
        "[KS](https://www.ks.no/) <https://www.ks.no/a_b> <mailto:post@example.no> "
        "<script> snake_case"
    )
    assert md_blocks(parse(result.text)).startswith("**fet** *kursiv* ~~streket~~ `kode` 🎉 🇳🇴")
    assert [m.user_id for m in result.mentions] == ["U0KARI"]
    assert member_text("<@U0UNKNOWN1>", None, {}, locale="en").text == "@unknown user"
    assert emojize(":+1::skin-tone-3: :white_check_mark:") == "👍🏼 ✅"


def slack_rich_text(*elements: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "rich_text", "block_id": "Xy1z", "elements": list(elements)}]


SLACK_BLOCKS = slack_rich_text(
    {
        "type": "rich_text_section",
        "elements": [
            {"type": "user", "user_id": "UBOT"},
            {"type": "text", "text": " Status fra "},
            {"type": "text", "text": "Bergen", "style": {"bold": True}},
            {"type": "text", "text": " og "},
            {"type": "text", "text": "Fjell", "style": {"italic": True}},
            {"type": "text", "text": ", se "},
            {"type": "link", "url": "https://www.bergen.kommune.no/", "text": "kommunen"},
            {"type": "text", "text": " "},
            {"type": "emoji", "name": "tada", "unicode": "1f389"},
            {"type": "text", "text": " "},
            {"type": "user", "user_id": "U0KARI"},
            {"type": "text", "text": " "},
            {"type": "channel", "channel_id": "C0123ABC"},
            {"type": "text", "text": "\n"},
        ],
    },
    {
        "type": "rich_text_list",
        "style": "bullet",
        "indent": 0,
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "Punkt "},
                    {"type": "text", "text": "gammelt", "style": {"strike": True}},
                ],
            },
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "Punkt to"}]},
        ],
        "border": 0,
    },
    {
        "type": "rich_text_list",
        "style": "ordered",
        "indent": 1,
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [{"type": "text", "text": "under", "style": {"code": True}}],
            }
        ],
        "border": 0,
    },
    {
        "type": "rich_text_preformatted",
        "elements": [{"type": "text", "text": "SELECT *\nFROM t;"}],
        "border": 0,
    },
    {
        "type": "rich_text_quote",
        "elements": [{"type": "text", "text": "Sitat med "}, {"type": "broadcast", "range": "channel"}],
    },
)
SLACK_SOURCE = (
    "Status fra **Bergen** og _Fjell_, se [kommunen](https://www.bergen.kommune.no/) 🎉 @Kari Nordmann "
    "#ukjent kanal\n\n"
    "- Punkt ~~gammelt~~\n- Punkt to\n  1. `under`\n\n"
    "```\nSELECT *\nFROM t;\n```\n\n"
    "Sitat med @channel"
)


def test_slack_rich_text_blocks_are_preferred_to_the_text() -> None:
    result = member_text("<@UBOT> Status fra *Bergen* (mrkdwn copy)", SLACK_BLOCKS, USERS, skip_user="UBOT")
    assert result.text == SLACK_SOURCE
    assert [m.display_name for m in result.mentions] == ["Kari Nordmann"]


# --- every output -------------------------------------------------------------------------

GOLDEN_MD = (
    "Status fra **Bergen** og *Fjell*, se [kommunen](<https://www.bergen.kommune.no/>) 🎉 @Kari Nordmann "
    "\\#ukjent kanal\n\n"
    "- Punkt ~~gammelt~~\n- Punkt to\n  1. `under`\n\n"
    "```\nSELECT *\nFROM t;\n```\n\n"
    "Sitat med @channel"
)
GOLDEN_MRKDWN = (
    "Status fra *Bergen* og _Fjell_, se <https://www.bergen.kommune.no/|kommunen> 🎉 @Kari Nordmann "
    "#ukjent kanal\n\n"
    "• Punkt ~gammelt~\n• Punkt to\n    1. `under`\n\n"
    "```\nSELECT *\nFROM t;\n```\n\n"
    "Sitat med @\u2060channel"  # a word joiner: typed `@channel` never reads as a broadcast
)
GOLDEN_TEAMS = (
    '<p>Status fra <b>Bergen</b> og <i>Fjell</i>, se <a href="https://www.bergen.kommune.no/">kommunen</a> '
    "🎉 @Kari Nordmann #ukjent kanal</p>"
    "<ul><li>Punkt <s>gammelt</s></li><li>Punkt to<ol><li><code>under</code></li></ol></li></ul>"
    "<pre>SELECT *\nFROM t;</pre><p>Sitat med @channel</p>"
)


def test_markdown_mrkdwn_and_teams_html_golden() -> None:
    doc = parse(SLACK_SOURCE)
    assert md_blocks(doc) == GOLDEN_MD
    assert to_mrkdwn(doc) == GOLDEN_MRKDWN
    assert to_teams_html(doc) == GOLDEN_TEAMS
    # and the Teams HTML echo reads back as the same tree
    assert parse(to_source(parse_html(GOLDEN_TEAMS))) == doc


async def test_html_and_word_show_the_formatting(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=6, texts={0: SLACK_SOURCE})
    drafts = await render_all(sqlite_db, fx.meeting_id)

    page = lxml.html.document_fromstring(drafts["html"].text or "")
    [member_text_div] = [d for d in page.xpath("//div[@class='member-text']") if "Bergen" in d.text_content()]
    inner = lxml.html.tostring(member_text_div, encoding="unicode")
    assert (
        "<p>Status fra <strong>Bergen</strong> og <em>Fjell</em>, se "
        '<a href="https://www.bergen.kommune.no/" rel="noopener noreferrer">kommunen</a> 🎉 @Kari Nordmann '
        "#ukjent kanal</p>"
    ) in inner
    assert member_text_div.xpath("./ul/li[1]/s[.='gammelt'] and ./ul/li[2]/ol/li/code[.='under']")
    assert member_text_div.xpath("./pre/code[.='SELECT *\nFROM t;']")

    doc = Document(io.BytesIO(drafts["docx"].content))
    body = doc.element.body
    [para] = [
        p for p in body.iter(qn("w:p")) if "Status fra" in "".join(t.text or "" for t in p.iter(qn("w:t")))
    ]
    runs = [(r.findtext(qn("w:t")), r.find(f"{qn('w:rPr')}/{qn('w:b')}") is not None,
             r.find(f"{qn('w:rPr')}/{qn('w:i')}") is not None) for r in para.iter(qn("w:r"))]  # fmt: skip
    assert ("Bergen", True, False) in runs and ("Fjell", False, True) in runs
    [hyperlink] = para.findall(qn("w:hyperlink"))
    rel = doc.part.rels[hyperlink.get(qn("r:id"))]
    assert rel.is_external and rel.target_ref == "https://www.bergen.kommune.no/"
    assert "".join(t.text or "" for t in hyperlink.iter(qn("w:t"))) == "kommunen"
    strike = [r for r in body.iter(qn("w:r")) if r.find(f"{qn('w:rPr')}/{qn('w:strike')}") is not None]
    assert [r.findtext(qn("w:t")) for r in strike] == ["gammelt"]
    styles = {p.style.name for p in doc.paragraphs if p.style is not None and "Punkt" in p.text}
    assert styles == {"List Bullet"}
    assert any(p.text == "SELECT *FROM t;" or "SELECT *" in p.text for p in doc.paragraphs)


# --- the stored form ----------------------------------------------------------------------


def test_plain_text_of_older_rows_reads_as_before() -> None:
    doc = parse("Første linje\nandre linje\n\n- a\n  - a1\n1. en\n\nhttps://example.org/x_y_z (lenke)")
    assert plain(doc) == "Første linje\nandre linje\n- a\n  - a1\n1. en\nhttps://example.org/x_y_z (lenke)"
    assert isinstance(doc[1], ItemList) and isinstance(doc[2], ItemList)


def _migration() -> Any:
    path = Path(__file__).parents[1] / "storage" / "migrations" / "versions" / "0005_richtext.py"
    spec = importlib.util.spec_from_file_location("migration_0005_richtext", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _has_formatting(nodes: Any) -> bool:
    for node in nodes:
        if isinstance(node, Styled | Code):
            return True
        if isinstance(node, Link) and _has_formatting(node.children):
            return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([*"ab *_~`[]()<>\\-1.\n#!:/", "https://x.no/a_b"]), max_size=60).map("".join))
def test_migration_escapes_older_rows_to_the_same_reading(text: str) -> None:
    migration = _migration()
    escaped = migration.escape_legacy(text)
    assert migration.unescape_legacy(escaped) == text
    doc = parse(escaped)
    lines = [line for block in doc if isinstance(block, Para) for line in block.lines]
    items = []
    stack = [b for b in doc if isinstance(b, ItemList)]
    while stack:
        lst = stack.pop()
        for item in lst.items:
            items.append(item.content)
            stack.extend(item.children)
    assert not any(_has_formatting(line) for line in [*lines, *items])
    assert not [b for b in doc if isinstance(b, CodeBlock)]


# --- Hypothesis: anything renders, nothing is live markup ---------------------------------

_ALLOWED_MD_TAGS = {"div", "p", "br", "ul", "ol", "li", "strong", "em", "code", "pre", "a"}
_markup_alphabet = st.sampled_from(
    [
        *"ab æ*_~`[]()<>\\-1.\n\t#!|&;:/\"'=",
        *(
            "https://x.no",
            "mailto:a@b.no",
            "javascript:alert(1)",
            "<script>",
            "<b>",
            "```",
            "**",
            "- ",
            "1. ",
        ),
    ]
)


def _check_inert_html(html: str) -> None:
    fragment = lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")
    for element in fragment.iter():
        assert element.tag in _ALLOWED_MD_TAGS | {"s"}, element.tag
        if element.tag == "a":
            assert re.match(r"^(https?://|mailto:)", element.get("href", "")), element.get("href")
        assert not [k for k in element.attrib if k not in ("href", "start", "rel")]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_markup_alphabet, max_size=40).map("".join))
def test_any_source_renders_inert_in_every_format(text: str) -> None:
    doc = parse(text)
    assert parse(to_source(doc)) == doc  # the stored form is stable
    _check_inert_html(MarkdownIt("commonmark").render(md_blocks(doc)))
    _check_inert_html(to_teams_html(doc).replace("<b>", "<strong>").replace("</b>", "</strong>")
                      .replace("<i>", "<em>").replace("</i>", "</em>"))  # fmt: skip
    mrkdwn = to_mrkdwn(doc)
    for token in re.findall(r"<([^<>]*)>", mrkdwn):  # the only Slack markup left: our own links
        assert re.match(r"^(https?://|mailto:)[^|]*\|", token), token


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        _markup_alphabet
        | st.sampled_from(
            [
                "<p>",
                "</p>",
                "<ul><li>",
                "</li></ul>",
                "<at>",
                "</at>",
                "<br>",
                '<a href="https://x.no">',
                "</a>",
                "&lt;",
                "&amp;",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_any_teams_html_parses_to_a_stable_stored_form(html: str) -> None:
    stored = to_source(parse_html(html))
    doc = parse(stored)
    assert parse(to_source(doc)) == doc
    assert "<script>" not in plain(doc) or "&lt;script&gt;" in html or "<script>" in html


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        _markup_alphabet
        | st.sampled_from(
            ["<@U0KARI>", "<@U0X>", "<#C1|x>", "<!channel>", "<https://x.no|y>", ":tada:", "&lt;", "&amp;"]
        ),
        max_size=40,
    ).map("".join)
)
def test_any_slack_text_parses_to_a_stable_stored_form(text: str) -> None:
    stored = member_text(text, None, USERS).text
    doc = parse(stored)
    assert parse(to_source(doc)) == doc
    assert "U0X" not in plain(doc) or "U0X" in text.replace("<@U0X>", "")


def test_mention_node_renders_as_its_name() -> None:
    doc = (Para(((Text("Hei "), Mention("@Kari_Nordmann")),)),)
    assert parse(to_source(doc)) == (Para(((Text("Hei @Kari_Nordmann"),),)),)
