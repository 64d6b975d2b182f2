"""The neutral Reply as Block Kit: escaping, Markdown → mrkdwn, polls, modals, Slack's limits."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.blocks import (
    MAX_BLOCKS,
    MAX_SECTION_CHARS,
    OPEN_FORM_ACTION_ID,
    message_payload,
    modal_errors,
    modal_values,
    modal_view,
    mrkdwn,
    parse_poll_action,
    poll_action_id,
    poll_blocks,
)
from handlers.events import (
    Button,
    ButtonStyle,
    FormField,
    FormView,
    Link,
    PollOptionView,
    PollView,
    Reply,
)
from handlers.text import escape_markdown_inline


def _texts(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_light_markdown_becomes_mrkdwn() -> None:
    md = "**Runde** for _tirsdag_\n- første\n  - under\nSe [saken](https://example.no/sak?a=1&b=2)"
    assert mrkdwn(md) == (
        "*Runde* for _tirsdag_\n• første\n    ◦ under\nSe <https://example.no/sak?a=1&amp;b=2|saken>"
    )


def test_member_text_escaped_by_the_handler_stays_inert() -> None:
    member = "<!channel> <@U123> <script>alert(1)</script> [klikk](javascript:alert(1)) & co"
    out = mrkdwn(f"Lagret: {escape_markdown_inline(member)}")
    assert "<!channel>" not in out and "<@U123>" not in out and "<script>" not in out
    assert "&lt;!channel&gt;" in out and "&lt;script&gt;" in out and "&amp; co" in out
    assert "<javascript" not in out


def test_unsafe_link_schemes_are_not_linked() -> None:
    assert mrkdwn("[x](javascript:alert(1))") == "x (javascript:alert(1))"
    assert mrkdwn("[x](https://a.no/|<!here>)").startswith("<https://a.no/%7C&lt;!here&gt;|x>")


def test_bare_urls_are_linked_explicitly() -> None:
    assert mrkdwn("Les https://example.no/a?b=1&c=2.") == "Les <https://example.no/a?b=1&amp;c=2>."


def test_literal_broadcast_words_are_defanged() -> None:
    out = mrkdwn("Hei @channel")
    assert "@channel" not in out and out.replace("\u2060", "") == "Hei @channel"


@given(st.text(max_size=300))
def test_any_member_text_renders_without_markup(text: str) -> None:
    """Whatever a member typed, once the handler has escaped it, no `<`, no pings come out."""
    out = mrkdwn(escape_markdown_inline(text))
    assert "<" not in out and ">" not in out
    assert "@channel" not in out.lower() and "@here" not in out.lower()


def test_every_text_object_is_verbatim_mrkdwn() -> None:
    reply = Reply(text="Hei @here\n\nNeste avsnitt", buttons=(Button("Åpne", "runde:open", "runde"),))
    payload = message_payload(reply)
    sections = [b for b in payload["blocks"] if b["type"] == "section"]
    assert sections and all(s["text"]["verbatim"] is True for s in sections)
    assert "@here" not in payload["text"]


def test_long_text_is_split_within_slack_limits() -> None:
    long = "\n".join(f"- Linje {i}: " + "ord " * 40 for i in range(400))
    payload = message_payload(Reply(text=long))
    assert len(payload["blocks"]) <= MAX_BLOCKS
    assert all(
        len(b["text"]["text"]) <= MAX_SECTION_CHARS for b in payload["blocks"] if b["type"] == "section"
    )
    assert len(payload["text"]) <= 3000


def test_one_very_long_line_is_split_too() -> None:
    payload = message_payload(Reply(text="&" * 10_000))
    sections = [b["text"]["text"] for b in payload["blocks"]]
    assert all(len(s) <= MAX_SECTION_CHARS for s in sections)
    assert all(not s.endswith("&am") and not s.startswith("p;") for s in sections)
    assert "".join(sections).count("&amp;") == 10_000


def test_buttons_links_and_styles() -> None:
    reply = Reply(
        text="Utkast klart",
        buttons=(Button("Skriv runde", "runde:open", "runde", ButtonStyle.PRIMARY),),
        links=(Link("Les utkastet (HTML)", "https://referent.example.no/drafts/abc"),),
    )
    blocks = message_payload(reply)["blocks"]
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(actions) == 1
    first, second = actions[0]["elements"]
    assert first == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Skriv runde", "emoji": True},
        "action_id": "runde:open",
        "value": "runde",
        "style": "primary",
    }
    assert second["url"] == "https://referent.example.no/drafts/abc" and second["action_id"].startswith(
        "link:"
    )


def test_a_form_that_cannot_be_opened_becomes_a_button() -> None:
    form = FormView("runde:3", "Min runde", (FormField("text", "Tekst"),), "Lagre", "Avbryt")
    blocks = message_payload(Reply(text="Rediger", form=form), form_command="runde")["blocks"]
    button = blocks[-1]["elements"][-1]
    assert button["action_id"] == OPEN_FORM_ACTION_ID and button["value"] == "runde"


def _poll(closed: bool = False) -> PollView:
    return PollView(
        poll_id=7,
        question="Hvilke arbeidsgrupper vil du være med i?",
        options=(
            PollOptionView(11, "Digitalisering", "Kari Nordmann", ("Ola Nordmann", "<!channel>"), cap=2),
            PollOptionView(12, "Beredskap & sikkerhet", None, ()),
        ),
        closed=closed,
        closes_text="Stenger fredag 30. januar kl. 12.00",
        footer="Klikk for å melde deg på eller av.",
    )


def test_poll_has_one_button_per_option_with_sign_ups() -> None:
    blocks = poll_blocks(_poll())
    options = [b for b in blocks if b.get("block_id", "").startswith("poll:")]
    assert len(options) == 2
    assert options[0]["accessory"]["action_id"] == poll_action_id(7, 11) == "poll:7:11"
    assert "`2/2`" in options[0]["text"]["text"] and "Ola Nordmann" in options[0]["text"]["text"]
    assert "Ansvarlig: Kari Nordmann" in options[0]["text"]["text"]
    assert "&amp; sikkerhet" in options[1]["text"]["text"] and "`0`" in options[1]["text"]["text"]
    assert "<!channel>" not in _texts(blocks)
    assert blocks[-1]["type"] == "context"


def test_closed_poll_has_no_buttons() -> None:
    blocks = poll_blocks(_poll(closed=True))
    assert not any("accessory" in b for b in blocks)
    assert "Stengt" in _texts(blocks)


def test_a_preview_shows_the_poll_without_vote_buttons() -> None:
    preview = dataclasses.replace(_poll(), preview=True)
    blocks = poll_blocks(preview)
    assert not any("accessory" in b for b in blocks)
    assert "Digitalisering" in _texts(blocks) and "Stengt" not in _texts(blocks)
    buttons = (Button("Legg ut", "grupper:publiser:7", "grupper publiser 7", ButtonStyle.PRIMARY),)
    payload = message_payload(Reply(text="Uvanlig", poll=preview, buttons=buttons))
    [actions] = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("grupper:publiser:7", "grupper publiser 7")
    ]


def test_poll_action_ids_parse_strictly() -> None:
    assert parse_poll_action("poll:7:11") == (7, 11)
    for bad in ("poll:7", "poll:a:b", "poll:7:11:1", "poll::", "runde:open", "poll:1:" + "9" * 20):
        assert parse_poll_action(bad) is None


def test_modal_round_trip() -> None:
    form = FormView(
        form_id="runde:3",
        title="Min runde rundt bordet i faggruppen",
        fields=(
            FormField("text", "Hva vil du melde?", value="Alt vel & <ingenting> nytt", placeholder="Skriv"),
        ),
        submit_label="Lagre",
        cancel_label="Avbryt",
    )
    view = modal_view(form, {"team": "T1", "channel": "C1"})
    assert len(view["title"]["text"]) <= 24
    element = view["blocks"][0]["element"]
    assert element["initial_value"] == "Alt vel & <ingenting> nytt"  # plain_text input: as written
    assert json.loads(view["private_metadata"]) == {"team": "T1", "channel": "C1", "form_id": "runde:3"}
    state = {"values": {"text": {"value": {"type": "plain_text_input", "value": "Ny tekst"}}}}
    assert modal_values(state) == {"text": "Ny tekst"}
    assert modal_values({"values": {"text": {"value": {"value": None}}}}) == {"text": ""}
    assert modal_values({}) == {}
    assert modal_errors(["text"], "For lang") == {"text": "For lang"}


def test_split_for_inputs_gives_the_text_back_exactly() -> None:
    from bot.slack.blocks import MAX_FORM_PARTS, form_fits, split_for_inputs
    from handlers.events import FormField, FormView

    for text in [
        "",
        "kort",
        "a" * 3000,
        "a" * 3001,
        ("ord " * 2000).strip(),
        "x\n" * 4000,
        ("avsnitt\n\n" * 900),
    ]:
        parts, separators = split_for_inputs(text)
        assert all(len(p) <= 3000 for p in parts)
        joined = parts[0] + "".join(s + p for s, p in zip(separators, parts[1:], strict=True))
        assert joined == text
    huge = FormView(
        "runde:1", "T", (FormField("text", "Runde", "y" * 3000 * (MAX_FORM_PARTS + 1)),), "Lagre", "Avbryt"
    )
    assert not form_fits(huge)
