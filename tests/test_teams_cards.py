"""Reply → Teams messages and Adaptive Cards: inert member text, polls, forms, buttons, links."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from bot.teams.activity import VERB_BUTTON, VERB_FORM, VERB_POLL
from bot.teams.cards import (
    CARD_CONTENT_TYPE,
    MAX_MESSAGE_CHARS,
    form_card,
    poll_card,
    render_reply,
    split_text,
    teams_markdown,
)
from handlers.events import (
    Button,
    ButtonStyle,
    FileAttachment,
    FormField,
    FormView,
    Link,
    PollOptionView,
    PollView,
    Reply,
)
from handlers.text import escape_markdown_inline


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def _runs(card: dict[str, Any]) -> list[str]:
    return [r["text"] for block in card["body"] for r in _walk_runs(block)]


def _walk_runs(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "TextRun":
            out.append(node)
        for value in node.values():
            out.extend(_walk_runs(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(_walk_runs(item))
    return out


def test_member_text_is_inert_in_teams_markdown() -> None:
    member = "<script>alert(1)</script> <at>Ola</at> &lt;b&gt; **fet**"
    text = teams_markdown(f"Takk! «{escape_markdown_inline(member)}»")
    assert "<script>" not in text and "<at>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;at&gt;Ola&lt;/at&gt;" in text
    assert "&amp;lt;b&amp;gt;" in text  # a typed entity shows as typed, not as "<b>"
    assert "\\*\\*fet\\*\\*" in text


def test_markdown_keeps_paragraphs_line_breaks_and_lists() -> None:
    text = teams_markdown("**Tittel**\nlinje to\n\n- punkt en\n- punkt to\nEtter lista")
    assert text == "**Tittel**<br>linje to\n\n- punkt en\n- punkt to\n\nEtter lista"


def test_long_text_is_split_into_messages_that_fit() -> None:
    paragraphs = [f"Avsnitt {i}: " + "ord " * 400 for i in range(40)]
    chunks = split_text("\n\n".join(paragraphs))
    assert len(chunks) > 1
    assert all(len(c) <= MAX_MESSAGE_CHARS for c in chunks)
    assert "\n\n".join(chunks) == "\n\n".join(paragraphs)
    huge = split_text("x" * (MAX_MESSAGE_CHARS * 2 + 5))
    assert [len(c) for c in huge] == [MAX_MESSAGE_CHARS, MAX_MESSAGE_CHARS, 5]


def _poll(closed: bool = False) -> PollView:
    return PollView(
        poll_id=4,
        question="Meld deg på <b>arbeidsgrupper</b>",
        options=(
            PollOptionView(1, "Data **og** deling", "Kari Nordmann", ("Ola Nordmann", "<at>Per</at>"), cap=2),
            PollOptionView(2, "Sikkerhet", None, ()),
        ),
        closed=closed,
        closes_text="Stenger fredag 30. januar kl. 12.00",
        footer="Klikk for å melde deg på eller av.",
    )


def test_poll_card_one_action_per_group_with_who_signed_up() -> None:
    card = poll_card(_poll())
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    actions = _actions(card)
    assert [a["verb"] for a in actions] == [VERB_POLL, VERB_POLL]
    assert [a["data"]["option_id"] for a in actions] == [1, 2]
    assert all(a["type"] == "Action.Execute" and a["data"]["poll_id"] == 4 for a in actions)
    runs = _runs(card)
    # Names and labels are TextRuns (never read as Markdown), exactly as written.
    assert "Meld deg på <b>arbeidsgrupper</b>" in runs
    assert "Data **og** deling" in runs
    assert "Ola Nordmann, <at>Per</at>" in runs
    assert any("(2/2)" in r for r in runs)
    assert not any(b.get("type") == "TextBlock" for b in card["body"])


def test_closed_poll_has_no_buttons() -> None:
    assert _actions(poll_card(_poll(closed=True))) == []


def test_a_preview_shows_the_poll_without_vote_buttons() -> None:
    card = poll_card(dataclasses.replace(_poll(), preview=True))
    assert _actions(card) == [] and "Sikkerhet" in _runs(card)


def test_form_card_is_prefilled_and_names_its_owner() -> None:
    form = FormView(
        form_id="runde:7",
        title="Runde rundt bordet",
        fields=(FormField("text", "Innlegget ditt", "Mitt <b>innlegg</b>\n- punkt", True, "Skriv her"),),
        submit_label="Lagre",
        cancel_label="Avbryt",
    )
    card = form_card(form, owner="aad-123")
    [field] = [b for b in card["body"] if b["type"] == "Input.Text"]
    assert field["value"] == "Mitt <b>innlegg</b>\n- punkt" and field["isMultiline"] is True
    save, cancel = card["actions"]
    assert save["verb"] == VERB_FORM and save["data"] == {
        "verb": VERB_FORM,
        "form_id": "runde:7",
        "owner": "aad-123",
    }
    assert cancel["associatedInputs"] == "none"


def test_render_reply_text_links_buttons_and_silence() -> None:
    assert render_reply(Reply(text="")) == []
    reply = Reply(
        text="Utkast til referat",
        links=(
            Link("Les som HTML", "https://r.example.no/drafts/a"),
            Link("Word [docx]", "https://r.example.no/d/b"),
        ),
        buttons=(
            Button("Skriv runden", "runde:open", "runde", ButtonStyle.PRIMARY),
            Button("Åpne", "open", url="https://r.example.no/x"),
        ),
    )
    [message] = render_reply(reply)
    assert message["type"] == "message" and message["textFormat"] == "markdown"
    assert "[Les som HTML](https://r.example.no/drafts/a)" in message["text"]
    assert "[Word (docx)](https://r.example.no/d/b)" in message["text"]
    [attachment] = message["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    execute, open_url = attachment["content"]["actions"]
    assert execute["verb"] == VERB_BUTTON and execute["data"]["command"] == "runde"
    assert execute["style"] == "positive"
    assert open_url == {"type": "Action.OpenUrl", "title": "Åpne", "url": "https://r.example.no/x"}
    assert "entities" not in message  # the bot never mentions anyone


def test_poll_reply_does_not_repeat_its_question_as_text() -> None:
    view = _poll()
    [message] = render_reply(Reply(text=f"**{escape_markdown_inline(view.question)}**", poll=view))
    assert "text" not in message
    assert message["attachments"][0]["content"]["type"] == "AdaptiveCard"


def test_files_without_links_are_named() -> None:
    reply = Reply(text="Eksport", files=(FileAttachment("data.csv", b"a;b", "text/csv"),))
    [message] = render_reply(reply)
    assert "data.csv" in message["text"]


def test_cards_are_json() -> None:
    """The activity goes over the wire as JSON: it must survive a round trip unchanged."""
    activity = render_reply(Reply(text="x", poll=_poll()))
    assert json.loads(json.dumps(activity)) == activity
