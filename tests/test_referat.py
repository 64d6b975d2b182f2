"""The referat draft: loading (SQLite and PostgreSQL), content and order in md, html and docx,
inert member text, the secretariat's box, nb and en. All people are fictional."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from sqlalchemy import delete, event, select, update

from handlers.referat import RenderedDraft, compile_draft
from handlers.referat.blocks import ItemList, Para, md_blocks, parse_text, plain_text
from handlers.referat.deadline import collection_open, submission_deadline
from handlers.referat.view import normalise_locale, slugify
from handlers.richtext.model import Text as TextNode
from storage.db import Database
from storage.models import (
    AgendaItem,
    AgendaKind,
    Attendance,
    AttendanceStatus,
    Group,
    Meeting,
    MeetingStatus,
    Member,
    Poll,
    PollOption,
)
from storage.repositories.referat import latest_meeting_id, load_referat, meeting_id_by_date
from tests.referat_fixtures import MeetingFixture, build_meeting

NOW = datetime(2026, 1, 22, 12, 0, tzinfo=UTC)  # two days after the meeting, collection open
AFTER_DEADLINE = datetime(2026, 1, 28, 0, 0, tzinfo=UTC)  # 01.00 on the 28th in Oslo
FORMATS = ("md", "html", "docx")


# --- helpers ---------------------------------------------------------------------------------


def docx_lines(content: bytes) -> list[str]:
    """Every paragraph of the body in document order, table cells included (one line per row)."""
    doc = Document(io.BytesIO(content))
    lines: list[str] = []
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:p"):
            lines.append(Paragraph(child, doc).text)
        elif child.tag == qn("w:tbl"):
            for row in Table(child, doc).rows:
                lines.append(" | ".join(cell.text for cell in row.cells))
    return lines


def text_of(draft: RenderedDraft) -> str:
    """The draft as searchable text: md/html as written, docx as its paragraphs."""
    if draft.text is not None:
        return draft.text
    return "\n".join(docx_lines(draft.content))


def html_text(draft: RenderedDraft) -> str:
    """What a reader of the HTML page sees."""
    assert draft.text is not None
    return str(lxml.html.document_fromstring(draft.text).body.text_content())


def md_as_html(draft: RenderedDraft) -> str:
    assert draft.text is not None
    return str(MarkdownIt("commonmark").render(draft.text))


def assert_in_order(text: str, markers: list[str]) -> None:
    pos = 0
    for marker in markers:
        found = text.find(marker, pos)
        assert found >= 0, f"{marker!r} missing after position {pos}: …{text[max(0, pos - 80) : pos + 80]!r}…"
        pos = found + len(marker)


async def render_all(db: Database, meeting_id: int, **kwargs: object) -> dict[str, RenderedDraft]:
    out: dict[str, RenderedDraft] = {}
    now = kwargs.pop("now", NOW)
    for fmt in FORMATS:
        draft = await compile_draft(db, meeting_id, fmt, now=now, **kwargs)  # type: ignore[arg-type]
        assert draft is not None
        out[fmt] = draft
    return out


def visible(draft: RenderedDraft) -> str:
    """Text as a reader sees it: rendered Markdown, the HTML page's text, the Word paragraphs."""
    if draft.filename.endswith(".md"):
        return str(lxml.html.fragment_fromstring(md_as_html(draft), create_parent="div").text_content())
    if draft.filename.endswith(".html"):
        return html_text(draft)
    return text_of(draft)


# --- loading ---------------------------------------------------------------------------------


async def test_load_orders_everything_and_uses_few_queries(db: Database) -> None:
    small = await build_meeting(db, members=6, items=6, group_name="Liten gruppe")
    big = await build_meeting(db, members=60, items=6, group_name="Stor gruppe")

    counts: list[int] = []

    def count(*_args: object) -> None:
        counts[-1] += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        loaded = {}
        for fx in (small, big):
            counts.append(0)
            async with db.session() as s:
                loaded[fx.meeting_id] = await load_referat(s, fx.meeting_id)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert counts[0] == counts[1], "query count must not grow with the number of members"
    assert counts[0] <= 13  # one each for the carried follow-ups and the unreachable members

    data = loaded[big.meeting_id]
    assert data is not None
    assert [item.number for item in data.agenda] == [1, 2, 11, 3, 4, 5]
    assert [s.created_at for s in data.submissions] == sorted(s.created_at for s in data.submissions)
    assert len(data.members) == 60 + 2 + 1  # roster, secretariat, one vara who joined by posting
    assert len(data.roster) == 62
    assert data.previous_meeting is not None and data.previous_meeting.id == big.previous_meeting_id
    assert data.next_meeting is None
    assert len(data.polls) == 1 and [o.position for o in data.options] == [1, 2]
    assert [v.created_at for v in data.votes] == sorted(v.created_at for v in data.votes)
    # everything is loaded: nothing on the result needs the (closed) session
    assert data.group.name == "Stor gruppe"


async def test_missing_meeting(db: Database) -> None:
    async with db.session() as s:
        assert await load_referat(s, 999) is None
    assert await compile_draft(db, 999, "md", now=NOW) is None


async def test_unknown_format_is_refused(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=6)
    with pytest.raises(ValueError):
        await compile_draft(sqlite_db, fx.meeting_id, "odt", now=NOW)  # pdf is a format now


async def test_latest_meeting_and_meeting_by_local_date(db: Database) -> None:
    first = await build_meeting(db, members=6, group_name="Næringssamarbeid")
    second = await build_meeting(
        db, members=6, group_name="Samferdsel", starts_at=datetime(2026, 1, 10, 9, tzinfo=UTC)
    )
    async with db.session() as s:
        # 23.30 in Oslo on 3 February is 22.30 UTC: its local date is the 3rd
        late = Meeting(
            group_id=first.group_id,
            starts_at=datetime(2026, 2, 3, 22, 30, tzinfo=UTC),
            ends_at=datetime(2026, 2, 3, 22, 50, tzinfo=UTC),
        )
        s.add(late)
        await s.flush()
        late_id = late.id
    async with db.session() as s:
        assert await latest_meeting_id(s, None) == late_id
        assert await latest_meeting_id(s, "Samferdsel") == second.meeting_id
        assert await latest_meeting_id(s, "NÆRINGSSAMARBEID") == late_id
        assert await latest_meeting_id(s, "Finnes ikke") is None
        assert await meeting_id_by_date(s, first.group_id, date(2026, 2, 3)) == late_id
        assert await meeting_id_by_date(s, first.group_id, date(2026, 2, 4)) is None
        assert await meeting_id_by_date(s, first.group_id, date(2026, 1, 20)) == first.meeting_id
        assert await meeting_id_by_date(s, second.group_id, date(2026, 1, 20)) is None
        assert await meeting_id_by_date(s, 12345, date(2026, 1, 20)) is None


async def test_work_group_poll_since_the_previous_meeting(db: Database) -> None:
    fx = await build_meeting(db, members=6, work_groups=2, poll_on_meeting=False)
    async with db.session() as s:
        meeting = await s.get(Meeting, fx.meeting_id)
        assert meeting is not None
        # older than the previous meeting: not this meeting's
        old = Poll(
            group_id=fx.group_id, question="Gammel", created_at=meeting.starts_at - timedelta(days=100)
        )
        s.add(old)
        await s.flush()
        s.add(PollOption(poll_id=old.id, position=1, label="Gammel gruppe"))
    async with db.session() as s:
        data = await load_referat(s, fx.meeting_id)
    assert data is not None
    assert [o.label for o in data.options] == fx.work_group_labels
    drafts = await render_all(db, fx.meeting_id)
    for draft in drafts.values():
        text = visible(draft)
        assert "Gruppe 1 – Næringsarealer og kartlegging" in text
        assert "Gammel gruppe" not in text


# --- content and order -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_sections_in_house_style_order(sqlite_db: Database, fmt: str) -> None:
    fx = await build_meeting(sqlite_db, members=10, items=8, work_groups=2)
    draft = await compile_draft(sqlite_db, fx.meeting_id, fmt, now=NOW)
    assert draft is not None
    assert draft.filename == f"referat-naeringssamarbeid-2026-01-20.{fmt}"
    text = visible(draft)
    chair = fx.names[fx.chair_id]
    first_poster = next(iter(fx.round_texts))  # first to post
    assert_in_order(
        text,
        [
            "Referat fra møte i Fjordregionens faggruppe for Næringssamarbeid",
            "UTKAST",
            "Sammenstilt torsdag 22. januar 2026 kl. 13.00",
            "Tid:",
            "tirsdag 20. januar 2026 kl. 10.00–12.00",
            "Sted:",
            "Teams",
            "Sakspapirer og underlag:",
            "https://example.org/faggruppe/sakspapirer-januar",
            "Til sekretariatet",
            "Tilstede på møtet",
            chair,
            "møteleder",
            "Møteleder:",
            f"{chair}, leder av faggruppen",
            "Sekretariat:",
            "Fjordregionen IPR",
            "Forfall:",
            "Referat fra saklisten",
            "Sak 1. Godkjenning av innkalling og dagsorden",
            "Innkalling og dagsorden ble godkjent.",
            "Sak 2. Godkjenning av referat fra forrige møte",
            "Referatet fra møtet 11. november 2025 ble godkjent.",
            "Sak 11. Internasjonal profilering og talentattraksjon",
            "Sak 3. ",
            "Sak 4. ",
            "Sak 5. ",
            "Sak 6. Runde rundt bordet",
            "Spørsmål til runden: Hva er to ting som er viktig for kommunene ut året?",
            f"{fx.names[first_poster]}, {fx.organisations[first_poster]}:",
            "Arbeidsgrupper",
            "Gruppe 1 – Næringsarealer og kartlegging",
            "Ansvarlig:",
            "Gruppe 2 – Internasjonal rekruttering",
            "Ansvarlig: Sekretariatet",
            "Oppfølging",
            "Sende ut forslag til webinarserie per e-post",
            "Ansvarlig: Sekretariatet, frist 15. februar 2026, sak 3",
            "Sak 7. Eventuelt",
            "Ingen innmeldte saker.",
            "Ta kontakt med sekretariatet",
        ],
    )
    # the substitute and the member they stand in for
    assert f"{fx.names[fx.substitute_id or 0]}" in text
    assert f"vara for {fx.names[fx.substituted_id or 0]}" in text
    # the discussion item without notes shows visible placeholders, and the input under it
    assert_in_order(
        text,
        [
            "Sak 3. ",
            "[Skriv referat fra saken her]",
            "Vedtak:",
            "[Skriv vedtak her]",
            "Innspill fra",
            "Sak 4. ",
        ],
    )


async def test_html_is_a_complete_accessible_page(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=8)
    draft = await compile_draft(sqlite_db, fx.meeting_id, "html", now=NOW)
    assert draft is not None and draft.text is not None
    assert draft.mime_type == "text/html; charset=utf-8"
    assert draft.text.startswith("<!DOCTYPE html>")
    assert draft.content == draft.text.encode("utf-8")
    page = lxml.html.document_fromstring(draft.text)
    assert page.get("lang") == "nb"
    assert len(page.xpath("//h1")) == 1
    assert page.xpath("//table//thead//th/text()") == ["NAVN", "KOMMUNE / REGION"]
    assert all(th.get("scope") == "col" for th in page.xpath("//th"))
    assert page.xpath("//head/style") and "@media print" in page.xpath("//head/style/text()")[0]
    assert page.xpath("//h2") and page.xpath("//h3")
    rows = page.xpath("//table/tbody/tr")
    assert len(rows) == 8 - 1 - 1 + 1  # minus forfall and the absent member, plus the substitute
    assert not page.xpath("//script")


async def test_every_entry_of_45_members_in_every_format(db: Database) -> None:
    fx = await build_meeting(db, members=45, items=12, work_groups=3, missing=4, nothing=3, excused=2)
    drafts = await render_all(db, fx.meeting_id)
    assert len(fx.round_texts) == 45 - 4 - 3 - 2
    for fmt, draft in drafts.items():
        text = visible(draft)
        headings = [f"{fx.names[m]}, {fx.organisations[m]}:" for m in fx.round_texts]
        assert_in_order(
            text, ["Sak 2.", "Sak 11.", "Sak 3.", "Sak 10. Runde rundt bordet", *headings, "Sak 12."]
        )
        for member_id, posts in fx.round_texts.items():
            for post in posts:
                for line in plain_text(parse_text(post)).splitlines():
                    bare = line.lstrip(" -")
                    assert bare in text, f"{fmt}: {bare!r} of {fx.names[member_id]} missing"
            # several posts by one member: one heading, posts in posting order
            heading = f"{fx.names[member_id]}, {fx.organisations[member_id]}:"
            assert text.count(heading) - text.count(f"Innspill fra {heading}") == 1, (fmt, heading)
            if len(posts) > 1:
                assert_in_order(text, [heading, posts[0].splitlines()[0], posts[1]])
        for member_id in fx.nothing_ids + fx.missing_ids:  # no round entry (an innspill is fine)
            who = f"{fx.names[member_id]}, {fx.organisations[member_id]}:"
            assert text.count(who) == text.count(f"Innspill fra {who}"), (fmt, who)
        # each work group lists exactly its sign-ups, in sign-up order
        groups = text[text.index("Gruppe 1 – ") : text.rindex("Oppfølging")]
        for k, label in enumerate(fx.work_group_labels, start=1):
            start = groups.index(f"Gruppe {k} – {label}")
            end = groups.find(f"Gruppe {k + 1} – ", start)
            segment = groups[start : end if end >= 0 else len(groups)]
            names = [f"{fx.names[m]} ({fx.organisations[m]})" for m in fx.signups[label]]
            assert_in_order(segment, names)
            assert segment.count(" (") == len(names) + (1 if k == 1 else 0)  # + "(maks 8 deltakere)"
        assert "Gruppe 3 – Sirkulær økonomi" in text
    # docx is a real Word document with real list paragraphs for the bullets
    doc = Document(io.BytesIO(drafts["docx"].content))
    styles = {p.style.name for p in doc.paragraphs if p.style is not None}
    assert {"Title", "Heading 1", "Heading 2", "List Bullet", "List Bullet 2", "Innleggshode"} <= styles
    assert doc.core_properties.title.startswith("UTKAST")
    assert len(doc.tables[0].rows) == 1 + 45 - 2 - 1 + 1


# --- member text stays inert -----------------------------------------------------------------

INJECTION = (
    '<script>alert("x")</script> og <img src=x onerror=alert(1)>\n'
    "Hei <!channel> og <@U123ABC>, se [klikk her](javascript:alert(1)) og ![bilde](https://evil.example/x.png)\n"
    "**fet** _kursiv_ `kode` ~~strek~~ &amp; &lt;b&gt;\n"
    "# Ikke en overskrift\n"
    "---\n"
    "=====\n"
    "> ikke sitat\n"
    "| a | b |\n"
    "2026. Året vi satset\n\n"
    "- punkt med <b>fet</b> tekst\n"
    "  - underpunkt æøå ÆØÅ\n"
    "3. tredje som skrevet"
)


async def test_member_text_is_inert_in_every_format(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=6, texts={0: INJECTION})
    member = fx.member_ids[0]
    async with sqlite_db.session() as s:
        await s.execute(
            update(Member)
            .where(Member.id == member)
            .values(
                first_name="<b>Ola</b>", last_name="*Nordmann*", organisation="<@U999> [Kommune](http://x)"
            )
        )
        await s.execute(
            update(AgendaItem)
            .where(AgendaItem.meeting_id == fx.meeting_id, AgendaItem.number == 3)
            .values(title="<script>tittel</script> **sak**", notes="<iframe src=x></iframe>")
        )
    drafts = await render_all(sqlite_db, fx.meeting_id)

    # HTML: escaped, no live elements, and a reader sees exactly what was typed
    html = drafts["html"].text or ""
    page = lxml.html.document_fromstring(html)
    assert not page.xpath("//script | //img | //iframe | //b")
    assert not [a for a in page.xpath("//a/@href") if a.startswith("javascript")]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    seen = html_text(drafts["html"])
    assert "<!channel>" in seen and "<@U123ABC>" in seen
    # Markdown emphasis in stored member text is the member's formatting (handlers.richtext):
    # it becomes real emphasis, while HTML tags and a javascript: link stay the characters typed
    assert "fet kursiv kode strek &amp; &lt;b&gt;" in seen and "[klikk her](javascript:alert(1))" in seen
    assert page.xpath("//strong[.='fet'] and //em[.='kursiv'] and //code[.='kode'] and //s[.='strek']")
    assert "<b>Ola</b> *Nordmann*, <@U999> [Kommune](http://x):" in seen
    assert "<script>tittel</script> **sak**" in seen

    # Markdown: rendered by a CommonMark parser, nothing but the escaped text appears
    rendered = md_as_html(drafts["md"])
    md_page = lxml.html.fragment_fromstring(rendered, create_parent="div")
    assert not md_page.xpath("//script | //img | //iframe | //b | //table")
    assert not md_page.xpath("//blockquote[contains(., 'ikke sitat')]")
    assert md_page.xpath("//strong[.='fet'] and //em[.='kursiv'] and //code[.='kode']")
    assert len(md_page.xpath("//h1")) == 1  # only the title; "# Ikke en overskrift" stays text
    assert not md_page.xpath("//h2[contains(., 'satset')] | //h2[contains(., 'Hei')]")  # no setext
    # the papers link, and the bare https URL the member typed (linked; the image syntax is not)
    hrefs = md_page.xpath("//a/@href")
    assert not [a for a in hrefs if not a.startswith(("https://example.org", "https://evil.example/x.png"))]
    md_seen = visible(drafts["md"])
    for literal in (
        '<script>alert("x")</script>',
        "<!channel>",
        "<@U123ABC>",
        "[klikk her](javascript:alert(1))",
        "&amp; &lt;b&gt;",
        "# Ikke en overskrift",
        "2026. Året vi satset",
        "<b>Ola</b> *Nordmann*, <@U999> [Kommune](http://x):",
    ):
        assert literal in md_seen, literal
    # bullets stay bullets, numbers as typed
    assert md_page.xpath("//ul/li[contains(., 'punkt med <b>fet</b> tekst')]/ul/li[.='underpunkt æøå ÆØÅ']")
    assert md_page.xpath("//ol[@start='3']/li[.='tredje som skrevet']")
    assert page.xpath("//ul/li[contains(., 'punkt med <b>fet</b> tekst')]/ul/li[.='underpunkt æøå ÆØÅ']")
    assert page.xpath("//ol/li[@value='3'][.='tredje som skrevet']")

    # Word: plain text runs, exactly as typed
    lines = docx_lines(drafts["docx"].content)
    joined = "\n".join(lines)
    for line in INJECTION.splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            stripped = stripped[2:]
        if stripped.startswith("3. "):
            stripped = stripped[3:]  # Word numbers it: a real list item that starts at 3
        if stripped.startswith("**fet**"):  # formatting is run properties in Word (see below)
            stripped = "fet kursiv kode strek &amp; &lt;b&gt;"
        if stripped:
            assert stripped in joined, stripped
    assert "<b>Ola</b> *Nordmann*, <@U999> [Kommune](http://x):" in lines
    word = Document(io.BytesIO(drafts["docx"].content))
    [third] = [p for p in word.paragraphs if p.text == "tredje som skrevet"]
    assert third.style is not None and third.style.name == "List Number"
    num_id = third._p.pPr.numPr.numId.val
    [start] = word.part.numbering_part.element.xpath(
        f'./w:num[@w:numId="{num_id}"]/w:lvlOverride/w:startOverride/@w:val'
    )
    assert start == "3"


async def test_unprintable_characters_do_not_break_word(sqlite_db: Database) -> None:
    fx = await build_meeting(
        sqlite_db, members=6, texts={0: "Kontroll\x00\x07tegn\ufffe og \u202eomvendt\u202c tekst"}
    )
    drafts = await render_all(sqlite_db, fx.meeting_id)
    for draft in drafts.values():
        assert "Kontrolltegn og omvendt tekst" in visible(draft)


# --- the secretariat's box -------------------------------------------------------------------


async def test_draft_box_while_open_and_gone_when_closed(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=12, missing=3, nothing=2, excused=1)
    expected_missing = [f"{fx.names[m]} ({fx.organisations[m]})" for m in fx.missing_ids]
    drafts = await render_all(sqlite_db, fx.meeting_id)
    for draft in drafts.values():
        text = visible(draft)
        # 12 on the roster, minus one forfall, minus the member whose substitute came
        assert_in_order(
            text,
            [
                "Til sekretariatet – fjernes før referatet sendes ut",
                "Har ikke levert runde rundt bordet ennå (3 av 10):",
                *expected_missing,
                "Frist for innlegg: tirsdag 27. januar 2026 kl. 23.59 (5 dager igjen).",
                "Tilstede på møtet",
            ],
        )
        box = text[text.index("Til sekretariatet") : text.index("Tilstede på møtet")]
        for member_id in [*fx.nothing_ids, *fx.excused_ids, *fx.secretariat_ids, fx.substituted_id or 0]:
            assert fx.names[member_id] not in box
        # an innspill alone does not count as a round-table entry
        assert fx.names[fx.missing_ids[0]] in box

    # the last day
    last_day = await compile_draft(sqlite_db, fx.meeting_id, "md", now=datetime(2026, 1, 27, 20, tzinfo=UTC))
    assert last_day is not None and "(siste dag i dag)" in visible(last_day)

    # deadline passed: no box
    for draft in (await render_all(sqlite_db, fx.meeting_id, now=AFTER_DEADLINE)).values():
        assert "Til sekretariatet" not in visible(draft)

    # closed by the secretariat: no box, even before the deadline
    async with sqlite_db.session() as s:
        await s.execute(
            update(Meeting).where(Meeting.id == fx.meeting_id).values(status=MeetingStatus.CLOSED)
        )
    for draft in (await render_all(sqlite_db, fx.meeting_id)).values():
        text = visible(draft)
        assert "Til sekretariatet" not in text and "Har ikke levert" not in text
        assert "Runde rundt bordet" in text  # the rest is still there

    # reopened with a moved deadline: the box is back, with the new deadline
    async with sqlite_db.session() as s:
        await s.execute(
            update(Meeting)
            .where(Meeting.id == fx.meeting_id)
            .values(status=MeetingStatus.OPEN, deadline_override=datetime(2026, 2, 2, 15, 0, tzinfo=UTC))
        )
    moved = await compile_draft(sqlite_db, fx.meeting_id, "md", now=AFTER_DEADLINE)
    assert moved is not None
    assert "Frist for innlegg: mandag 2. februar 2026 kl. 16.00 (5 dager igjen)." in visible(moved)


async def test_everyone_in(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=6, missing=0, nothing=1, excused=1)
    draft = await compile_draft(sqlite_db, fx.meeting_id, "html", now=NOW)
    assert draft is not None
    assert "Alle har levert runde rundt bordet." in visible(draft)


# --- language --------------------------------------------------------------------------------


async def test_english_draft(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=8)
    drafts = await render_all(sqlite_db, fx.meeting_id, locale="en-GB")
    for fmt, draft in drafts.items():
        text = visible(draft)
        assert_in_order(
            text,
            [
                "Minutes of the meeting of Fjordregionen's working group for Næringssamarbeid",
                "DRAFT",
                "Compiled Thursday 22 January 2026, 13:00",
                "Time:",
                "Tuesday 20 January 2026, 10:00–12:00",
                "For the secretariat",
                "Deadline for entries: Tuesday 27 January 2026, 23:59 (5 days left).",
                "Present",
                "Chair:",
                "Secretariat:",
                "Apologies:",
                "Item 1. ",
                "The notice of meeting and the agenda were approved.",
                "The minutes of the meeting of 11 November 2025 were approved.",
                "Item 11. ",
                "Item 3. ",
                "[Write the minutes of this item here]",
                "[Write the decision here]",
                "Input from ",
                "Item 4. Runde rundt bordet",
                "Work groups",
                "Group 1 – ",
                "Responsible:",
                "Follow-up",
                "due 15 February 2026",
                "Item 5. Eventuelt",
                "No items were raised.",
            ],
        )
        assert "Tilstede" not in text and "UTKAST" not in text, fmt
    page = lxml.html.document_fromstring(drafts["html"].text or "")
    assert page.get("lang") == "en"
    assert page.xpath("//thead//th/text()") == ["NAME", "MUNICIPALITY / REGION"]


async def test_locale_defaults_to_the_groups(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=6, locale="en")
    draft = await compile_draft(sqlite_db, fx.meeting_id, "md", now=NOW)
    assert draft is not None and "DRAFT" in (draft.text or "")
    draft = await compile_draft(sqlite_db, fx.meeting_id, "md", locale="nb-NO", now=NOW)
    assert draft is not None and "UTKAST" in (draft.text or "")


def test_normalise_locale() -> None:
    assert normalise_locale("nb-NO") == "nb"
    assert normalise_locale("no") == "nb"
    assert normalise_locale("en_US") == "en"
    assert normalise_locale(None, "en") == "en"
    assert normalise_locale("de-DE", "en") == "en"
    assert normalise_locale("de-DE", "xx") == "nb"


# --- placeholders and fixed texts ------------------------------------------------------------


async def test_empty_meeting_shows_placeholders_not_empty_headings(sqlite_db: Database) -> None:
    APPROVAL = AgendaKind.APPROVAL
    async with sqlite_db.session() as s:
        group = Group(name="Faggruppe for samferdsel", organisation="")
        s.add(group)
        await s.flush()
        meeting = Meeting(
            group_id=group.id,
            starts_at=datetime(2026, 3, 10, 8, tzinfo=UTC),
            ends_at=datetime(2026, 3, 10, 10, tzinfo=UTC),
            place="",
        )
        s.add(meeting)
        await s.flush()
        s.add_all(
            [
                AgendaItem(
                    meeting_id=meeting.id,
                    number=1,
                    position=1,
                    title="Godkjenning av innkalling",
                    kind=APPROVAL,
                ),
                AgendaItem(
                    meeting_id=meeting.id, number=2, position=2, title="Godkjenning av referat", kind=APPROVAL
                ),
                AgendaItem(
                    meeting_id=meeting.id, number=3, position=3, title="Budsjett", kind=AgendaKind.DISCUSSION
                ),
            ]
        )
        meeting_id = meeting.id
    drafts = await render_all(sqlite_db, meeting_id, now=datetime(2026, 3, 11, tzinfo=UTC))
    for draft in drafts.values():
        text = visible(draft)
        assert_in_order(
            text,
            [
                "Referat fra møte i faggruppe for samferdsel",
                "[Skriv møtested her]",
                "[Lim inn lenke til sakspapirer og presentasjoner]",
                "Ingen på deltakerlisten ennå.",
                "[Ingen har registrert oppmøte ennå",
                "[Skriv møteleder her]",
                "[Skriv hvem fra sekretariatet som møtte]",
                "Sak 1. Godkjenning av innkalling",
                "Innkallingen ble godkjent.",
                "Sak 2. Godkjenning av referat",
                "Referatet fra møtet [dato] ble godkjent.",
                "Sak 3. Budsjett",
                "[Skriv referat fra saken her]",
                "[Skriv vedtak her]",
                "Runde rundt bordet",
                "[Ingen har levert innlegg til runden rundt bordet ennå]",
                "Arbeidsgrupper",
                "Ingen påmeldte ennå.",
                "Oppfølging",
                "Ingen oppfølgingspunkter er registrert.",
                "Eventuelt",
                "Ingen innmeldte saker.",
            ],
        )
    assert drafts["md"].filename == "referat-faggruppe-for-samferdsel-2026-03-10.md"


async def test_previous_meeting_date_override_and_next_meeting(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=6)
    async with sqlite_db.session() as s:
        await s.execute(
            update(Meeting).where(Meeting.id == fx.meeting_id).values(previous_meeting_date=date(2025, 9, 11))
        )
        s.add(
            Meeting(
                group_id=fx.group_id,
                starts_at=datetime(2026, 3, 17, 9, tzinfo=UTC),
                ends_at=datetime(2026, 3, 17, 11, tzinfo=UTC),
                place="Thon Hotel Arendal",
            )
        )
    draft = await compile_draft(sqlite_db, fx.meeting_id, "html", now=NOW)
    assert draft is not None
    text = visible(draft)
    assert "Referatet fra møtet 11. september 2025 ble godkjent." in text
    assert "Neste møte: tirsdag 17. mars 2026 kl. 10.00–12.00, Thon Hotel Arendal." in text


# --- pure parts ------------------------------------------------------------------------------


def _meeting(end: datetime, **kw: object) -> tuple[Meeting, Group]:
    group = Group(name="G", timezone=str(kw.pop("tz", "Europe/Oslo")), deadline_days=kw.pop("days", 7))
    group.deadline_time = str(kw.pop("at", "23:59"))
    meeting = Meeting(group_id=1, starts_at=end - timedelta(hours=2), ends_at=end, **kw)
    return meeting, group


def test_submission_deadline_rule() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    meeting, group = _meeting(datetime(2026, 1, 20, 11, tzinfo=UTC))
    assert submission_deadline(meeting, group) == datetime(2026, 1, 27, 23, 59, tzinfo=oslo)
    # across the change to summer time the deadline stays at 23.59 local
    meeting, group = _meeting(datetime(2026, 3, 24, 11, tzinfo=UTC))
    deadline = submission_deadline(meeting, group)
    assert deadline == datetime(2026, 3, 31, 21, 59, tzinfo=UTC)
    # a meeting ending before midnight UTC but after midnight in Oslo counts from the local day
    meeting, group = _meeting(datetime(2026, 1, 20, 23, 30, tzinfo=UTC))  # 00.30 on the 21st in Oslo
    assert submission_deadline(meeting, group).date() == date(2026, 1, 28)
    meeting, group = _meeting(datetime(2026, 1, 20, 11, tzinfo=UTC), days=3, at="12:00")
    assert submission_deadline(meeting, group) == datetime(2026, 1, 23, 12, 0, tzinfo=oslo)
    meeting, group = _meeting(datetime(2026, 1, 20, 11, tzinfo=UTC), at="bad", tz="Not/AZone")
    assert submission_deadline(meeting, group) == datetime(2026, 1, 27, 23, 59, tzinfo=oslo)
    override = datetime(2026, 2, 2, 15, tzinfo=UTC)
    meeting, group = _meeting(datetime(2026, 1, 20, 11, tzinfo=UTC), deadline_override=override)
    assert submission_deadline(meeting, group) == override
    assert collection_open(meeting, group, override - timedelta(seconds=1))
    assert not collection_open(meeting, group, override)
    meeting.status = MeetingStatus.CLOSED
    assert not collection_open(meeting, group, override - timedelta(days=5))


def test_text_blocks_keep_structure() -> None:
    blocks = parse_text("Første linje\nandre linje\n\n- a\n    - a1\n- b\n1. en\n7) sju\n\nSlutt")
    assert blocks[0] == Para(((TextNode("Første linje"),), (TextNode("andre linje"),)))
    bullets, numbered = blocks[1], blocks[2]
    assert isinstance(bullets, ItemList) and not bullets.ordered
    assert [i.text for i in bullets.items] == ["a", "b"]
    assert bullets.items[0].children[0].items[0].text == "a1"
    assert isinstance(numbered, ItemList) and numbered.ordered
    assert [i.marker for i in numbered.items] == ["1.", "7."]
    assert blocks[3] == Para(((TextNode("Slutt"),),))
    md = md_blocks(blocks)
    assert "- a\n  - a1\n- b" in md and "1. en\n7. sju" in md
    assert parse_text("") == () and parse_text(None) == ()


def test_slugify() -> None:
    assert slugify("Næringssamarbeid") == "naeringssamarbeid"
    assert slugify("Faggruppe Øst/Vest – Å") == "faggruppe-ost-vest-a"
    assert slugify("<script>") == "script"
    assert slugify("!!!") == "gruppe"


async def test_fixture_is_reusable(sqlite_db: Database) -> None:
    """Two groups in one database (names are unique), and the fixture reports what it made."""
    a: MeetingFixture = await build_meeting(sqlite_db, members=6, group_name="A")
    b = await build_meeting(sqlite_db, members=6, group_name="B", out_of_sequence=None, work_groups=0)
    assert a.item_numbers == [1, 2, 11, 3, 4, 5]
    assert b.item_numbers == [1, 2, 3, 4, 5, 6]
    async with sqlite_db.session() as s:
        groups = (await s.execute(select(Group.name).order_by(Group.id))).scalars().all()
    assert groups == ["A", "B"]


async def test_guests_chair_from_roster_and_secretariat_fallback(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=6)
    async with sqlite_db.session() as s:
        guest = Member(
            group_id=fx.group_id, first_name="Gjest", last_name="Innleder", organisation="KI Fjord"
        )
        guest.on_roster = False
        s.add(guest)
        await s.flush()
        s.add(Attendance(meeting_id=fx.meeting_id, member_id=guest.id, status=AttendanceStatus.PRESENT))
        # no chair on the meeting: the roster's chair leads; no secretariat marked present: all of it
        await s.execute(update(Meeting).where(Meeting.id == fx.meeting_id).values(chair_member_id=None))
        await s.execute(delete(Attendance).where(Attendance.member_id.in_(fx.secretariat_ids)))
    for draft in (await render_all(sqlite_db, fx.meeting_id)).values():
        text = visible(draft)
        secretariat = ", ".join(f"{fx.names[m]} ({fx.organisations[m]})" for m in fx.secretariat_ids)
        assert_in_order(
            text,
            [
                "Tilstede på møtet",
                fx.names[fx.chair_id],
                f"Møteleder: {fx.names[fx.chair_id]}, leder av faggruppen",
                f"Sekretariat: {secretariat}",
                "Andre: Gjest Innleder (KI Fjord)",
                "Forfall:",
            ],
        )
        attendance = text[text.index("Tilstede på møtet") : text.index("Møteleder:")]
        assert "Gjest Innleder" not in attendance
