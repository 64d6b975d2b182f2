"""Rich text end to end: a Teams message with an HTML list and a Slack message with rich_text
blocks, sent to the real server on loopback, end up in the referat draft with their lists,
emphasis, links, emoji and mentions (Markdown, HTML and Word)."""

from __future__ import annotations

import io
from typing import Any

import lxml.html
import pytest
from docx import Document

from handlers.referat import compile_draft
from storage.models import Submission
from tests.e2e.slack_fixtures import CHANNEL, KARI, OLA, SlackWorld
from tests.e2e.teams_fixtures import KARI as TEAMS_KARI
from tests.e2e.teams_fixtures import OLA as TEAMS_OLA
from tests.e2e.teams_fixtures import TeamsWorld
from tests.e2e.test_slack_flows import set_up_group

pytestmark = pytest.mark.e2e


async def _drafts(db: Any, meeting_id: int) -> dict[str, Any]:
    from datetime import UTC, datetime

    out = {}
    for fmt in ("md", "html", "docx"):
        draft = await compile_draft(db, meeting_id, fmt, now=datetime.now(UTC))
        assert draft is not None
        out[fmt] = draft
    return out


async def test_teams_list_message_reaches_the_draft(teams: TeamsWorld) -> None:
    seeded = await teams.seed()
    assert seeded.collection_id and seeded.meeting_id
    activity = teams.scenario.thread_reply(TEAMS_KARI, seeded.collection_id, "x")
    mentioned = {"id": TEAMS_OLA.id, "name": "Ola Nordmann"}
    html = (
        '<p>Status fra oss <img itemtype="http://schema.skype.com/Emoji" alt="😄" src="x.png"></p>'
        '<ul><li><b>Bredbånd</b>: ferdig</li><li>Se <a href="https://www.nkom.no/" rel="noreferrer noopener" '
        'target="_blank">Nkom</a><ol><li>første</li><li>andre</li></ol></li></ul>'
        "<p>Takk til <at>Ola</at>&nbsp;<at>Nordmann</at></p>"
    )
    activity["text"] = html
    activity["textFormat"] = "xml"
    activity["attachments"] = [{"contentType": "text/html", "content": html}]
    activity["entities"] = [
        {"type": "mention", "text": "<at>Ola</at>", "mentioned": mentioned},
        {"type": "mention", "text": "<at>Nordmann</at>", "mentioned": mentioned},
        *[e for e in activity["entities"] if e.get("type") != "mention"],
    ]
    assert (await teams.post(activity)).status == 200
    [entry] = await teams.rows(Submission)
    assert entry.text == (
        "Status fra oss 😄\n\n- **Bredbånd**: ferdig\n- Se [Nkom](https://www.nkom.no/)\n"
        "  1. første\n  2. andre\n\nTakk til @Ola Nordmann"
    )

    drafts = await _drafts(teams.db, seeded.meeting_id)
    md = drafts["md"].text
    assert "- **Bredbånd**: ferdig\n- Se [Nkom](<https://www.nkom.no/>)\n  1. første\n  2. andre" in md
    assert "Takk til @Ola Nordmann" in md and "<at>" not in md and "&lt;" not in md
    page = lxml.html.document_fromstring(drafts["html"].text)
    [item] = page.xpath("//li[strong='Bredbånd']")
    assert item.text_content() == "Bredbånd: ferdig"
    assert page.xpath("//li[a[@href='https://www.nkom.no/']='Nkom']/ol/li[.='andre']")
    assert "Punkt" not in drafts["html"].text and "&lt;a href" not in drafts["html"].text
    doc = Document(io.BytesIO(drafts["docx"].content))
    by_text = {p.text: p for p in doc.paragraphs}
    assert by_text["Bredbånd: ferdig"].style.name == "List Bullet"
    assert by_text["Se Nkom"].style.name == "List Bullet"
    # numbered items are real Word list paragraphs (numPr), nested one level under the bullet
    [andre] = [p for p in doc.paragraphs if p.text == "andre"]
    assert andre.style is not None and andre.style.name == "List Number 2"
    assert andre._p.pPr is not None and andre._p.pPr.numPr is not None
    assert "Takk til @Ola Nordmann" in by_text


async def test_slack_rich_text_message_reaches_the_draft(slack: SlackWorld) -> None:
    story = await set_up_group(slack)
    event = slack.requests.message_event(
        "Fra oss: *fet* og lenke <https://www.ks.no/|KS> :tada:",
        user=KARI.id,
        channel=CHANNEL,
        thread_ts=story.collection_ts,
    )
    event["blocks"] = [
        {
            "type": "rich_text",
            "block_id": "a1B2",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Fra oss: "},
                        {"type": "text", "text": "fet", "style": {"bold": True}},
                        {"type": "text", "text": " og lenke "},
                        {"type": "link", "url": "https://www.ks.no/", "text": "KS"},
                        {"type": "text", "text": " "},
                        {"type": "emoji", "name": "tada", "unicode": "1f389"},
                        {"type": "text", "text": " til "},
                        {"type": "user", "user_id": OLA.id},
                        {"type": "text", "text": " og "},
                        {"type": "user", "user_id": "U0UNKNOWN1"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "bullet",
                    "indent": 0,
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "punkt a"}]},
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "punkt b"}]},
                    ],
                },
            ],
        }
    ]
    assert (await slack.send(slack.requests.event(event))).status == 200
    await slack.settle()
    [entry] = await slack.rows(Submission)
    assert entry.text == (
        f"Fra oss: **fet** og lenke [KS](https://www.ks.no/) 🎉 til @{OLA.real_name} og @ukjent bruker\n\n"
        "- punkt a\n- punkt b"
    )
    drafts = await _drafts(slack.db, story.meeting_id)
    assert "Fra oss: **fet** og lenke [KS](<https://www.ks.no/>) 🎉" in drafts["md"].text
    assert "U0UNKNOWN1" not in drafts["md"].text and "@ukjent bruker" in drafts["md"].text
    page = lxml.html.document_fromstring(drafts["html"].text)
    assert page.xpath("//p[strong='fet'][a[@href='https://www.ks.no/']='KS']")
    assert page.xpath("//ul/li[.='punkt a'] and //ul/li[.='punkt b']")
    doc = Document(io.BytesIO(drafts["docx"].content))
    assert [p.style.name for p in doc.paragraphs if p.text.startswith("punkt ")] == ["List Bullet"] * 2
