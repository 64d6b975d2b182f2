"""Member text shown back in chat (`Echo`): cut on the tree, rendered from the tree on each
platform, and never cut through Slack link markup, an entity, a tag or an emoji."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser

import lxml.html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.blocks import MAX_FALLBACK_CHARS, MAX_SECTION_CHARS, _cut, message_payload, mrkdwn
from bot.slack.richtext import echo_mrkdwn, to_mrkdwn
from bot.teams.cards import MAX_MESSAGE_CHARS, render_reply
from bot.teams.html import body_blocks, markdown_blocks
from bot.teams.richtext import echo_html, to_teams_html
from handlers.events import Echo, Reply
from handlers.i18n import t_echo
from handlers.referat import compile_draft
from handlers.reminders.messages import FollowUpItem, MeetingFacts, follow_ups_open
from handlers.richtext import parse, plain
from handlers.richtext.echo import echo, echo_doc
from handlers.richtext.model import (
    Block,
    Code,
    CodeBlock,
    Doc,
    Inline,
    ItemList,
    Link,
    ListItem,
    Mention,
    Para,
    Styled,
    Text,
)
from handlers.richtext.shorten import ELLIPSIS, flatten, grapheme_cut, markup_cut, shorten, size
from storage.db import Database
from storage.models import FollowUp
from tests.referat_fixtures import build_meeting
from tests.transcript import SARA, TranscriptBot, rows, seed

LINK = Link(
    "https://www.nkom.no/rapport?a=1&b=2|x", (Text("rapporten fra "), Styled("bold", (Text("Nkom"),)))
)


def _links(doc: Doc) -> list[Link]:
    found: list[Link] = []

    def inline(nodes: tuple[Inline, ...]) -> None:
        for node in nodes:
            if isinstance(node, Link):
                found.append(node)
            elif isinstance(node, Styled):
                inline(node.children)

    def walk(lst: ItemList) -> None:
        for item in lst.items:
            inline(item.content)
            for child in item.children:
                walk(child)

    for block in doc:
        if isinstance(block, Para):
            for line in block.lines:
                inline(line)
        elif isinstance(block, ItemList):
            walk(block)
    return found


# --- the tree --------------------------------------------------------------------------------


def test_shorten_cuts_after_a_word_and_marks_the_cut() -> None:
    doc = parse("Dette er en ganske lang setning om bredbånd i distriktene")
    assert shorten(doc, 100) == doc
    assert plain(shorten(doc, 20)) == "Dette er en ganske…"
    assert size(shorten(doc, 20)) <= 20


def test_shorten_keeps_a_link_whole_or_leaves_it_out() -> None:
    doc = (Para(((Text("Se her: "), LINK, Text(" og mer tekst etter lenken")),)),)
    outcomes = set()
    for limit in range(0, size(doc)):
        cut = shorten(doc, limit)
        assert all(found == LINK for found in _links(cut)), cut
        outcomes.add(len(_links(cut)))
        assert plain(cut).endswith(ELLIPSIS)
    assert outcomes == {0, 1}


def test_shorten_keeps_lists_and_cuts_inside_the_last_item() -> None:
    doc = parse("Innledning\n\n- første punkt\n- andre punkt med mer tekst\n  - under\n- tredje")
    cut = shorten(doc, 45)
    assert isinstance(cut[1], ItemList)
    first, second = cut[1].items
    assert first.text == "første punkt" and second.text.endswith(ELLIPSIS) and not second.children
    assert second.text.removesuffix(ELLIPSIS) in ("andre", "andre punkt", "andre punkt med")
    assert "tredje" not in plain(cut)


def test_flatten_puts_a_text_on_one_line() -> None:
    doc = parse("Første linje\nandre **linje**\n\n- a\n- b\n\n```\nkode\n  her\n```")
    [para] = flatten(doc)
    assert isinstance(para, Para) and len(para.lines) == 1
    assert plain((para,)) == "Første linje andre linje • a • b kode her"
    assert Styled("bold", (Text("linje"),)) in para.lines[0] and Code("kode her") in para.lines[0]


def test_grapheme_cut_never_splits_what_a_reader_sees_as_one_character() -> None:
    assert grapheme_cut("ab🇳🇴🇸🇪", 3) == 2 and grapheme_cut("ab🇳🇴🇸🇪", 5) == 4
    assert grapheme_cut("a👍🏽b", 2) == 1
    assert grapheme_cut("a👩‍👩‍👧b", 3) == 1 and grapheme_cut("a👩‍👩‍👧b", 6) == 6
    assert grapheme_cut("ae\u0301b", 2) == 1
    assert grapheme_cut("a❤️b", 2) == 1
    assert grapheme_cut("a\ud83d\ude00b", 2) == 1  # a surrogate pair, as some JSON decoders leave it


def test_one_long_word_is_cut_where_a_character_ends() -> None:
    doc = (Para(((Text("x" * 30 + "👍🏽" + "y" * 30),),)),)
    assert plain(shorten(doc, 31)) == "x" * 30 + ELLIPSIS
    assert plain(shorten(doc, 32)) == "x" * 30 + ELLIPSIS  # not the thumb without its skin tone
    assert plain(shorten(doc, 33)) == "x" * 30 + "👍🏽" + ELLIPSIS


def test_markup_cut_never_lands_inside_a_token() -> None:
    text = "Se <https://www.nkom.no/a?b=1&amp;c=2|rapporten fra Nkom> og &lt;mer&gt; tekst"
    for limit in range(1, len(text)):
        kept = text[: markup_cut(text, limit)]
        assert kept.count("<") == kept.count(">"), kept
        assert not re.search(r"&[a-z]*$", kept), kept


# --- Echo and Reply ------------------------------------------------------------------------


def test_echo_fallback_is_inert_markdown_and_the_reply_keeps_its_body() -> None:
    e = echo("Hei **fet** <script> og [KS](https://www.ks.no/)\n\n- a\n- b")
    assert e.fallback == "Hei **fet** \\<script\\> og [KS](<https://www.ks.no/>)\n\n- a\n- b"
    text, body = t_echo("nb", "round.saved", name="Kari", meeting="20. januar 2026", preview=e, deadline="x")
    reply = Reply(text=text, body=body)
    assert reply.rich() == body and e in body
    assert "Hei **fet** \\<script\\>" in text
    # an adapter that replaces the text (a refusal instead of a form) shows that text instead
    assert replace(reply, text="Skjemaet er for langt.").rich() is None
    assert Reply(text="bare tekst").rich() is None


def test_a_slot_character_in_a_name_cannot_forge_an_echo() -> None:
    text, body = t_echo(
        "nb", "round.saved", name="Kari\x000\x00", meeting="m", preview=echo("ekte"), deadline="x"
    )
    assert [p for p in body if isinstance(p, Echo)] == [echo("ekte")]
    assert "\x00" not in text


def test_follow_up_reminder_lists_each_text_on_its_line() -> None:
    when = datetime(2026, 1, 20, 9, tzinfo=UTC)
    facts = MeetingFacts(
        meeting_id=1,
        group_name="Næringssamarbeid",
        timezone="Europe/Oslo",
        starts_at=when,
        deadline=when,
        now=when,
    )
    reply = follow_ups_open(
        facts, "Kari", [FollowUpItem(3, "Send **oversikt**\n- til KS\n- til <!channel>", None)], "nb"
    )
    body = reply.rich()
    assert body is not None
    [item] = [p for p in body if isinstance(p, Echo)]
    assert item.inline and plain(item.doc) == "Send oversikt • til KS • til <!channel>"
    rendered = message_payload(reply)["text"]
    assert "#3 Send *oversikt* • til KS • til &lt;!channel&gt;" in rendered


# --- Slack ---------------------------------------------------------------------------------

_WORDS = st.sampled_from(
    [*("ord", "æøå", " ", "  ", "\n", "<", ">", "&", "&amp;", "|", "*", "_", "~", "`"),
     *("@channel", "<!here>", "<@U123>", "🇳🇴", "👍🏽", "👩‍👩‍👧", "e\u0301", "https://x.no/a?b=1&c=2")]
)  # fmt: skip
_TEXT = st.lists(_WORDS, min_size=1, max_size=8).map("".join)
_URLS = st.sampled_from(["https://x.no/a?b=1&c=2", "https://x.no/|<!channel>", "mailto:kari@example.no"])


def _inlines(depth: int = 2) -> st.SearchStrategy[Inline]:
    leaves: st.SearchStrategy[Inline] = st.one_of(
        _TEXT.map(Text),
        _TEXT.map(Code),
        st.sampled_from(["@Kari Nordmann", "@channel", "#styret"]).map(Mention),
    )
    if depth == 0:
        return leaves
    inner = st.lists(_inlines(depth - 1), min_size=1, max_size=3).map(tuple)
    return st.one_of(
        leaves,
        st.builds(Styled, st.sampled_from(["bold", "italic", "strike"]), inner),
        st.builds(Link, _URLS, inner),
    )


_LINE = st.lists(_inlines(), min_size=1, max_size=4).map(tuple)


def _items(depth: int) -> st.SearchStrategy[ItemList]:
    child = _items(depth - 1).map(lambda lst: (lst,)) if depth else st.just(())
    item = st.builds(ListItem, _LINE, st.sampled_from([None, "1.", "7."]), child | st.just(()))
    return st.builds(ItemList, st.lists(item, min_size=1, max_size=3).map(tuple), st.booleans())


_BLOCK: st.SearchStrategy[Block] = st.one_of(
    st.lists(_LINE, min_size=1, max_size=3).map(lambda lines: Para(tuple(lines))),
    _items(1),
    _TEXT.map(CodeBlock),
)
_DOCS = st.lists(_BLOCK, min_size=1, max_size=4).map(tuple)


def assert_whole_mrkdwn(text: str) -> None:
    """Balanced `<…>` (only our own links inside), and every `&` a whole entity."""
    depth = 0
    for ch in text:
        depth += ch == "<"
        depth -= ch == ">"
        assert depth in (0, 1), text
    assert depth == 0, text
    for token in re.findall(r"<([^<>]*)>", text):
        assert re.match(r"^(https?://|mailto:)[^|]*\|", token), token
    for amp in re.finditer("&", text):
        assert re.match(r"&(amp|lt|gt);", text[amp.start() :]), text[amp.start() : amp.start() + 6]
    assert not re.search(r"@(channel|here|everyone)\b", text), text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCS, st.integers(min_value=2, max_value=400), st.booleans())
def test_any_tree_echoes_as_whole_mrkdwn_at_any_length(doc: Doc, budget: int, inline: bool) -> None:
    e = echo_doc(doc, inline=inline)
    atoms = echo_mrkdwn(e, budget)
    assert atoms and all(len(atom) <= budget for atom in atoms), (budget, atoms)
    for atom in atoms:
        assert_whole_mrkdwn(atom)
    if inline:
        assert len(atoms) == 1 and "\n" not in atoms[0]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCS, st.integers(min_value=1, max_value=300))
def test_the_truncated_echo_of_to_mrkdwn_is_whole_markup(doc: Doc, limit: int) -> None:
    """However the tree or the rendered text is cut, `<`…`>` stay balanced, no entity is split."""
    assert_whole_mrkdwn(to_mrkdwn(shorten(doc, limit)))
    rendered = to_mrkdwn(doc)
    cut = _cut(rendered, limit)
    assert len(cut) <= limit
    assert_whole_mrkdwn(cut.removesuffix("…"))


def test_a_long_echo_fills_sections_without_splitting_markup() -> None:
    link = "<https://www.example.no/sak?id=1&amp;b=2|saken>"
    source = "\n".join(
        f"- Punkt {i}: se [saken](https://www.example.no/sak?id=1&b=2) " + "ord " * 30 for i in range(120)
    )
    e = echo(source, limit=None)
    reply = Reply(text=f"Utkast:\n\n{e.fallback}", body=("Utkast:\n\n", e))
    payload = message_payload(reply)
    sections = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    assert len(sections) > 3 and all(len(s) <= MAX_SECTION_CHARS for s in sections)
    for section in sections:
        assert_whole_mrkdwn(section)
        assert section.count(link) == section.count("<")
    assert sum(s.count(link) for s in sections) == 120  # nothing lost between sections
    assert len(payload["text"]) <= MAX_FALLBACK_CHARS and payload["text"].endswith("…")
    assert_whole_mrkdwn(payload["text"].removesuffix("…"))


def test_slack_shows_the_reply_text_when_an_adapter_replaced_it() -> None:
    e = echo("**fet**")
    text, body = t_echo("nb", "input.saved", number=1, title="Sak", meeting="m", preview=e)
    assert "*fet*" in message_payload(Reply(text=text, body=body))["text"]
    replaced = replace(Reply(text=text, body=body), text="Noe annet")
    assert message_payload(replaced)["text"] == "Noe annet"


# --- Teams ---------------------------------------------------------------------------------

_ALLOWED_TAGS = {"div", "p", "br", "ul", "ol", "li", "b", "i", "s", "code", "pre", "a", "h1", "h2", "h3",
                 "hr", "blockquote"}  # fmt: skip


class _Balance(HTMLParser):
    """Every tag closed in order (br and hr stand alone)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in _ALLOWED_TAGS, tag
        assert all(k in ("href", "start") for k, _ in attrs), attrs
        if tag not in ("br", "hr"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, (tag, self.stack)

    def handle_entityref(self, name: str) -> None:
        assert name in ("amp", "lt", "gt", "quot"), name


def assert_whole_html(fragment: str) -> None:
    parser = _Balance()
    parser.feed(fragment)
    parser.close()
    assert not parser.stack, parser.stack
    assert not re.search(r"&(?!(amp|lt|gt|quot|#x27);)", fragment), fragment
    for element in lxml.html.fragment_fromstring(fragment or "<p></p>", create_parent="div").iter("a"):
        assert re.match(r"^(https?://|mailto:)", element.get("href", "")), element.get("href")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCS, st.integers(min_value=2, max_value=600), st.booleans())
def test_any_tree_echoes_as_whole_teams_html(doc: Doc, budget: int, inline: bool) -> None:
    e = echo_doc(doc, inline=inline)
    parts = echo_html(e, budget)
    smallest = len(to_teams_html((Para(((Text(ELLIPSIS),),)),)))  # "<p>…</p>"
    for part in parts:
        assert len(part) <= max(budget, smallest), part
        assert_whole_html(part)
    if inline:
        assert not re.search(r"<(p|ul|ol|li|pre)\b", parts[0])


def test_teams_bot_markdown_becomes_html() -> None:
    blocks = markdown_blocks(
        "# Referat\n**Tid:** i dag  \n_kursiv_ og `kode` og \\*stjerne\\* <script>\n\n"
        "- punkt\n  - under\n1. første\n   _detaljer_\n\n> **Boks**\n> tekst\n\n---\n"
        "Se [siden](<https://x.no/a?b=1&c=2>) og https://x.no/b. [farlig](javascript:alert(1))"
    )
    html = "".join(blocks)
    assert blocks[0] == "<h1>Referat</h1>"
    assert (
        "<p><b>Tid:</b> i dag<br><i>kursiv</i> og <code>kode</code> og *stjerne* &lt;script&gt;</p>" in html
    )
    assert "<ul><li>punkt<ul><li>under</li></ul></li></ul><ol><li>første<br><i>detaljer</i></li></ol>" in html
    assert "<blockquote><b>Boks</b><br>tekst</blockquote><hr>" in html
    assert '<a href="https://x.no/a?b=1&amp;c=2">siden</a>' in html and '<a href="https://x.no/b">' in html
    assert 'href="javascript' not in html and "[farlig](javascript:alert(1))" in html
    assert_whole_html(html)
    # the draft's autolinks, and a list with blank lines between its items, which is one list
    loose = "".join(markdown_blocks("**Sakspapirer:** <https://x.no/s>\n\n- Kari\n\n- Ola\n\nEtter"))
    assert loose == (
        '<p><b>Sakspapirer:</b> <a href="https://x.no/s">https://x.no/s</a></p>'
        "<ul><li>Kari</li><li>Ola</li></ul><p>Etter</p>"
    )


def test_teams_html_places_echoes_where_the_bot_put_them_and_no_one_can_forge_one() -> None:
    block = echo("Status med **fet**\n\n- punkt a", limit=None)
    line = echo("Send _oversikt_", limit=None, inline=True)
    # the bot's text with a member's name that looks like a slot (the slot character is dropped)
    body = ("Kari \x1a1\x1a Nordmann:\n- Kari:\n", block, "- Ola: ", line, " https://x.no/a\\_b\\&c=1.")
    blocks = body_blocks(body, 1000)
    assert blocks == [
        "<p>Kari 1 Nordmann:</p>",
        "<ul><li>Kari:</li></ul>",
        "<p>Status med <b>fet</b></p><ul><li>punkt a</li></ul>",  # the member's text, whole
        '<ul><li>Ola: Send <i>oversikt</i> <a href="https://x.no/a_b&amp;c=1">https://x.no/a_b&amp;c=1</a>.</li></ul>',
    ]
    assert_whole_html("".join(blocks))


def test_slack_reads_the_drafts_autolinks_and_angle_bracket_links() -> None:
    assert (
        mrkdwn("**Sakspapirer:** <https://x.no/s?a=1&b=2>") == "*Sakspapirer:* <https://x.no/s?a=1&amp;b=2>"
    )
    assert mrkdwn("Se [saken](<https://x.no/a_b>)") == "Se <https://x.no/a_b|saken>"
    assert (
        mrkdwn("\\<javascript:alert(1)\\> <javascript:x>")
        == "&lt;javascript:alert(1)&gt; &lt;javascript:x&gt;"
    )


def test_teams_long_reply_with_echoes_is_split_between_whole_blocks() -> None:
    source = "\n\n".join(
        f"Avsnitt {i} med **fet** tekst og [lenke](https://x.no/{i}). " + "ord " * 200 for i in range(40)
    )
    e = echo(source, limit=None)
    reply = Reply(text=f"Utkast:\n\n{e.fallback}", body=("Utkast:\n\n", e))
    messages = render_reply(reply)
    assert len(messages) > 1
    for message in messages:
        assert message["textFormat"] == "xml" and len(message["text"]) <= MAX_MESSAGE_CHARS
        assert_whole_html(message["text"])
    joined = "".join(m["text"] for m in messages)
    assert joined.count("<b>fet</b>") == 40 and joined.count('<a href="https://x.no/') == 40


# --- the draft in chat -------------------------------------------------------------------------


async def test_the_draft_in_chat_has_every_member_text_as_an_echo(sqlite_db: Database) -> None:
    member_text = "Status med **fet** og [kommunen](https://www.example.no/) 🎉\n\n- punkt a\n- punkt b"
    fx = await build_meeting(sqlite_db, members=6, texts={0: member_text})
    now = datetime(2026, 1, 22, 12, 0, tzinfo=UTC)
    chat = await compile_draft(sqlite_db, fx.meeting_id, "md", now=now, chat=True)
    plain_md = await compile_draft(sqlite_db, fx.meeting_id, "md", now=now)
    assert chat is not None and plain_md is not None
    assert chat.text == plain_md.text  # the same draft; only its member text comes as trees
    reply = Reply(text=chat.text or "", body=chat.body)
    assert reply.rich() is not None
    echoes = [p for p in chat.body if isinstance(p, Echo)]
    assert any(plain(e.doc).startswith("Status med fet") for e in echoes)
    slack = "\n".join(b["text"]["text"] for b in message_payload(reply)["blocks"] if b["type"] == "section")
    assert "Status med *fet* og <https://www.example.no/|kommunen> 🎉\n\n• punkt a\n• punkt b" in slack
    teams = "".join(m["text"] for m in render_reply(reply))
    assert '<p>Status med <b>fet</b> og <a href="https://www.example.no/">kommunen</a> 🎉</p>' in teams
    assert "<ul><li>punkt a</li><li>punkt b</li></ul>" in teams
    assert_whole_html(teams)


# --- the handlers ------------------------------------------------------------------------------


async def test_follow_up_commands_show_the_text_back_from_its_tree(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    saved = await bot.say(
        "oppfolging Send **oversikt** til [KS](https://www.ks.no/) <!here> @Sekretariatet", as_=SARA
    )
    assert saved.ok and saved.rich() is not None, saved.text
    [follow_up] = await rows(db, FollowUp)
    slack = message_payload(saved)["text"]
    assert "Send *oversikt* til <https://www.ks.no/|KS> &lt;!here&gt;" in slack, slack

    status = await bot.say("oppfolging status", as_=SARA)
    body = status.rich()
    assert body is not None
    [line_echo] = [p for p in body if isinstance(p, Echo)]
    assert line_echo.inline
    slack = message_payload(status)["text"]
    assert (
        f"• *#{follow_up.id}* Send *oversikt* til <https://www.ks.no/|KS> &lt;!here&gt; – ansvarlig:" in slack
    )
    teams = render_reply(status)[0]
    assert teams["textFormat"] == "xml"
    assert (
        f'<li><b>#{follow_up.id}</b> Send <b>oversikt</b> til <a href="https://www.ks.no/">KS</a>'
        in teams["text"]
    )

    done = await bot.say(f"oppfolging ferdig {follow_up.id}", as_=SARA)
    assert done.ok and done.rich() is not None
    assert "«Send *oversikt* til <https://www.ks.no/|KS> &lt;!here&gt;»" in message_payload(done)["text"]
