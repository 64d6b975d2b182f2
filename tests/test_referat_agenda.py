"""The draft follows the invitation (issue 8, part 2): agenda order with a numbered "Eventuelt"
that has items after it, the round table under any of its names with its theme, and the approved
minutes' date taken from the approval item's title. Every case in md, html and docx."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from handlers.agenda import agenda_kind, date_in_title, is_any_other, round_table_title, split_theme
from storage.db import Database
from storage.models import AgendaItem, AgendaKind, Group
from tests.referat_fixtures import build_meeting
from tests.test_referat import NOW, assert_in_order, render_all, visible

# --- reading titles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "name", "theme"),
    [
        ("Runde rundt bordet", "Runde rundt bordet", None),
        ("Rundt bordet", "Rundt bordet", None),
        ("Bordet rundt", "Bordet rundt", None),
        ("Runden", "Runden", None),
        ("runde", "runde", None),
        ("RUNDT BORDET", "RUNDT BORDET", None),
        ("Runden – temaet er hva vi nå bør spille inn", "Runden", "temaet er hva vi nå bør spille inn"),
        ("Runde rundt bordet: Aktuelle saker i regionen", "Runde rundt bordet", "Aktuelle saker i regionen"),
        ("Bordet rundt - status fra kommunene", "Bordet rundt", "status fra kommunene"),
    ],
)
def test_round_table_names(title: str, name: str, theme: str | None) -> None:
    found = round_table_title(title)
    assert found is not None and (found.name, found.theme) == (name, theme)
    assert agenda_kind(title) == AgendaKind.ROUND_TABLE


@pytest.mark.parametrize(
    "title",
    ["Rundskriv om arealplan", "Business friendly-kommuner", "Runde-rundt-bordet", "Runder av høring"],
)
def test_titles_that_are_not_the_round_table(title: str) -> None:
    assert round_table_title(title) is None and round_table_title(title, "en") is None


def test_round_table_in_english_only_in_an_english_group() -> None:
    assert round_table_title("Round table") is None
    assert agenda_kind("Round table") == AgendaKind.OTHER
    found = round_table_title("Round table: priorities for 2027", "en")
    assert found is not None and (found.name, found.theme) == ("Round table", "priorities for 2027")
    assert agenda_kind("Round table", "en") == AgendaKind.ROUND_TABLE
    # the Norwegian names still count in an English group
    assert agenda_kind("Runden", "en") == AgendaKind.ROUND_TABLE


def test_a_hyphen_inside_a_word_is_not_a_theme_separator() -> None:
    assert split_theme("Handlingsprogram 2026 – effekt- og resultatmål") == (
        "Handlingsprogram 2026",
        "effekt- og resultatmål",
    )
    assert split_theme("Business friendly-kommuner") == ("Business friendly-kommuner", None)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Godkjenning av referat fra møtet 24.08.2022", "24.08.2022"),
        ("Godkjenning av referat fra møte 7. november 2024", "7. november 2024"),
        ("Godkjenning av referat fra møtet 16.03.23", "16.03.23"),
        ("Godkjenning av referat fra forrige møte", None),
        ("Godkjenning av referat fra møtet 31.02.2022", None),
        ("Godkjenning av referat 2022", None),
    ],
)
def test_date_in_title(title: str, expected: str | None) -> None:
    assert date_in_title(title) == expected


def test_any_other_spellings() -> None:
    assert all(is_any_other(t) for t in ("Eventuelt", "EVENTUELT", "Evt.", "Any other business", "AOB"))
    assert not any(is_any_other(t) for t in ("Eventuelle endringer i mandatet", "Takk for i dag"))


# --- in the draft -------------------------------------------------------------------------------


async def _retitle(
    db: Database, meeting_id: int, titles: dict[int, str], extra: list[tuple[int, str]]
) -> None:
    """Rename agenda items by number and append items after the last one, as an invitation has them."""
    async with db.write() as s:
        for number, title in titles.items():
            await s.execute(
                update(AgendaItem)
                .where(AgendaItem.meeting_id == meeting_id, AgendaItem.number == number)
                .values(title=title, kind=agenda_kind(title))
            )
        last = max(
            (
                await s.execute(select(AgendaItem.position).where(AgendaItem.meeting_id == meeting_id))
            ).scalars()
        )
        for offset, (number, title) in enumerate(extra, start=1):
            s.add(
                AgendaItem(
                    meeting_id=meeting_id,
                    number=number,
                    position=last + offset,
                    title=title,
                    kind=agenda_kind(title),
                )
            )


async def _agenda(db: Database, meeting_id: int) -> list[tuple[int, str]]:
    async with db.session() as s:
        rows = await s.execute(
            select(AgendaItem.number, AgendaItem.title)
            .where(AgendaItem.meeting_id == meeting_id)
            .order_by(AgendaItem.position)
        )
        return [(n, t) for n, t in rows]


async def test_eventuelt_with_items_after_it_keeps_its_place(sqlite_db: Database) -> None:
    """'Sak 10 Eventuelt', then 'Sak 11 Takk for i dag': in that order, and no second Eventuelt."""
    fx = await build_meeting(sqlite_db, members=8, items=6, out_of_sequence=None)
    agenda = await _agenda(sqlite_db, fx.meeting_id)
    eventuelt = next(n for n, t in agenda if t == "Eventuelt")
    await _retitle(sqlite_db, fx.meeting_id, {}, [(eventuelt + 1, "Takk for i dag")])
    drafts = await render_all(sqlite_db, fx.meeting_id)
    for fmt, draft in drafts.items():
        text = visible(draft)
        assert_in_order(
            text,
            [
                "Sak 1. Godkjenning av innkalling",
                "Runde rundt bordet",
                f"Sak {eventuelt}. Eventuelt",
                "Ingen innmeldte saker.",
                f"Sak {eventuelt + 1}. Takk for i dag",
                "Arbeidsgrupper",
                "Oppfølging",
            ],
        )
        assert text.count("Eventuelt") == 1, fmt


async def test_eventuelt_as_the_last_item_closes_the_referat(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=8, items=6, out_of_sequence=None)
    drafts = await render_all(sqlite_db, fx.meeting_id)
    for fmt, draft in drafts.items():
        text = visible(draft)
        assert_in_order(text, ["Runde rundt bordet", "Arbeidsgrupper", "Oppfølging", "Eventuelt"])
        assert text.count("Eventuelt") == 1, fmt


async def test_the_round_table_under_another_name_with_its_theme(sqlite_db: Database) -> None:
    """'Runden – tema …' placed early in the agenda hosts every entry, and shows its theme."""
    fx = await build_meeting(sqlite_db, members=8, items=6, out_of_sequence=None)
    agenda = await _agenda(sqlite_db, fx.meeting_id)
    round_number = next(n for n, t in agenda if t == "Runde rundt bordet")
    third = agenda[2][0]
    await _retitle(
        sqlite_db,
        fx.meeting_id,
        {round_number: "Budsjett 2027", third: "Runden – temaet er hva vi nå bør spille inn"},
        [],
    )
    first_poster = next(iter(fx.round_texts))
    drafts = await render_all(sqlite_db, fx.meeting_id)
    for fmt, draft in drafts.items():
        text = visible(draft)
        assert_in_order(
            text,
            [
                f"Sak {third}. Runden",
                "Tema: temaet er hva vi nå bør spille inn",
                f"{fx.names[first_poster]}, {fx.organisations[first_poster]}:",
                f"Sak {round_number}. Budsjett 2027",
                "Arbeidsgrupper",
            ],
        )
        # no separate round-table section after the agenda
        assert "Runde rundt bordet" not in text, fmt
        assert text.count(f"{fx.names[first_poster]}, {fx.organisations[first_poster]}:") == 1, fmt


async def test_round_table_in_english_group_and_not_in_a_norwegian_one(sqlite_db: Database) -> None:
    for locale, hosts in (("en", True), ("nb", False)):
        fx = await build_meeting(
            sqlite_db,
            members=6,
            items=5,
            out_of_sequence=None,
            locale=locale,
            group_name=f"Samarbeid {locale}",
        )
        agenda = await _agenda(sqlite_db, fx.meeting_id)
        round_number = next(n for n, t in agenda if t == "Runde rundt bordet")
        async with sqlite_db.write() as s:
            # stored as an ordinary item, the way an older `mote sak` stored it
            await s.execute(
                update(AgendaItem)
                .where(AgendaItem.meeting_id == fx.meeting_id, AgendaItem.number == round_number)
                .values(title="Round table: what matters this spring", kind=AgendaKind.OTHER)
            )
        first_poster = next(iter(fx.round_texts))
        entry = f"{fx.names[first_poster]}, {fx.organisations[first_poster]}:"
        for fmt, draft in (await render_all(sqlite_db, fx.meeting_id)).items():
            text = visible(draft)
            if hosts:
                item = "Item" if locale == "en" else "Sak"
                assert_in_order(
                    text, [f"{item} {round_number}. Round table", "Theme: what matters this spring", entry]
                )
            else:
                # the item is an ordinary one; the round gets its own section after the agenda
                assert_in_order(
                    text,
                    [
                        f"Sak {round_number}. Round table: what matters this spring",
                        "Runde rundt bordet",
                        entry,
                    ],
                )
            assert fmt


async def test_approved_minutes_date_from_the_title_then_the_previous_meeting(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=6, items=5, out_of_sequence=None)
    await _retitle(sqlite_db, fx.meeting_id, {2: "Godkjenning av referat fra møtet 24.08.2022"}, [])
    for draft in (await render_all(sqlite_db, fx.meeting_id)).values():
        assert "Referatet fra møtet 24.08.2022 ble godkjent." in visible(draft)

    # No date in the title: the group's previous meeting (the fixture's, on 11 November 2025).
    await _retitle(sqlite_db, fx.meeting_id, {2: "Godkjenning av referat fra forrige møte"}, [])
    for draft in (await render_all(sqlite_db, fx.meeting_id, now=NOW)).values():
        assert "Referatet fra møtet 11. november 2025 ble godkjent." in visible(draft)


async def test_approved_minutes_in_english(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=6, items=5, out_of_sequence=None, locale="en")
    await _retitle(sqlite_db, fx.meeting_id, {2: "Approval of the minutes of 11 September 2025"}, [])
    async with sqlite_db.session() as s:
        assert (await s.execute(select(Group.locale))).scalar_one() == "en"
    for draft in (await render_all(sqlite_db, fx.meeting_id)).values():
        assert "The minutes of the meeting of 11 September 2025 were approved." in visible(draft)
