"""Applying an invitation: preview, one transaction, re-import changes nothing, nobody removed.
Runs on SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.invitation.apply import GroupNotFound, NotImportable, import_invitation, plan_import
from handlers.invitation.parse_docx import parse_docx
from handlers.invitation.parse_text import parse_text
from handlers.invitation.render import render_preview, render_result
from storage.db import Database
from storage.models import AgendaItem, AgendaKind, AuditEntry, Meeting, Member, Poll, PollOption
from storage.repositories import groups as group_repo
from storage.repositories import meetings as meeting_repo
from storage.repositories import members as member_repo
from storage.repositories import polls as poll_repo
from tests.invitation_fixtures import TXT_SAK, docx_bytes, shared_example

GROUP = "Faggruppe for klima"
OSLO = ZoneInfo("Europe/Oslo")


async def _setup(db: Database) -> None:
    """A group whose roster knows Sigrid (by e-mail, no organisation yet), Per Olav (by name)
    and Tove, whom the invitation does not name."""
    async with db.write() as session:
        group, _ = await group_repo.get_or_create_group(session, GROUP)
        await member_repo.create_member(
            session, group.id, "Sigrid", "Nordvik", email="Sigrid.Nordvik@example.org"
        )
        await member_repo.create_member(session, group.id, "Per Olav", "Bakken", organisation="Lier kommune")
        await member_repo.create_member(session, group.id, "Tove", "Lund", organisation="Røyken")


async def _counts(db: Database) -> dict[str, int]:
    async with db.session() as session:
        return {
            model.__name__: int((await session.execute(select(func.count()).select_from(model))).scalar_one())
            for model in (Meeting, AgendaItem, Member, Poll, PollOption)
        }


async def test_preview_then_apply_in_one_go(db: Database) -> None:
    await _setup(db)
    invitation = parse_text(TXT_SAK)
    async with db.session() as session:
        preview = await plan_import(session, invitation, GROUP)
    assert preview.meeting_id is None and preview.has_changes
    assert [e.number for e in preview.items_added] == [1, 2, 3, 4, 5, 6]
    assert [i.name for i in preview.members_added] == ["Kari Fjellheim"]
    assert preview.members_known == ("Per Olav Bakken", "Sigrid Nordvik")
    assert [(f.name, f.email, f.organisation) for f in preview.members_filled] == [
        ("Sigrid Nordvik", None, "Asker kommune")
    ]
    assert preview.members_kept == ("Tove Lund",)
    assert preview.poll_options == (("Klimabudsjett", "Kari Fjellheim"), ("Transport", "Per Olav Bakken"))
    assert await _counts(db) == {"Meeting": 0, "AgendaItem": 0, "Member": 3, "Poll": 0, "PollOption": 0}

    text = render_preview(preview, "nb")
    assert "Nytt møte tirsdag 20. januar 2026, kl. 10.00–12.00, Drammen rådhus, møterom Elva" in text
    assert "Nye i deltakerlisten (1): Kari Fjellheim" in text
    assert "Ikke i innkallingen, beholdes (1): Tove Lund" in text
    assert "Work-group poll ready to post: “Meld deg på arbeidsgrupper” with 2 groups" in render_preview(
        preview, "en"
    )

    result = await import_invitation(db, invitation, GROUP, now=datetime(2026, 1, 5, tzinfo=UTC))
    assert result.applied and result.poll_id is not None
    assert await _counts(db) == {"Meeting": 1, "AgendaItem": 6, "Member": 4, "Poll": 1, "PollOption": 2}
    async with db.session() as session:
        meeting = await meeting_repo.get_meeting(session, result.meeting_id)
        assert meeting is not None
        assert meeting.starts_at == datetime(2026, 1, 20, 10, tzinfo=OSLO)
        assert meeting.ends_at == datetime(2026, 1, 20, 12, tzinfo=OSLO)
        assert meeting.place == "Drammen rådhus, møterom Elva"
        assert meeting.papers_url == "https://example.org/klima/2026-01-20"
        assert meeting.round_question == "Hva er kommunens viktigste klimatiltak i 2026?"
        items = await meeting_repo.agenda_items(session, meeting.id)
        assert [(i.number, i.title, i.kind) for i in items][2:5] == [
            (3, "Klimabudsjett 2026", AgendaKind.OTHER),
            (4, "Orientering om regional transportplan", AgendaKind.ORIENTATION),
            (5, "Runde rundt bordet", AgendaKind.ROUND_TABLE),
        ]
        assert (items[2].presenter, items[2].description) == (
            "Kari Fjellheim",
            "Status for kommunenes klimabudsjett.",
        )
        assert items[3].presenter == "Per Olav Bakken"
        group = await group_repo.group_by_name(session, GROUP)
        assert group is not None
        members = {m.name: m for m in await member_repo.members_of(session, group.id)}
        assert set(members) == {"Sigrid Nordvik", "Per Olav Bakken", "Tove Lund", "Kari Fjellheim"}
        assert members["Sigrid Nordvik"].organisation == "Asker kommune"
        assert members["Kari Fjellheim"].email == "kari.fjellheim@example.org"
        poll = await poll_repo.get_poll(session, result.poll_id)
        assert poll is not None and poll.is_work_groups and poll.meeting_id == meeting.id
        options = await poll_repo.options_of(session, poll.id)
        assert [(o.label, o.responsible_text, o.responsible_member_id) for o in options] == [
            ("Klimabudsjett", "Kari Fjellheim", members["Kari Fjellheim"].id),
            ("Transport", "Per Olav Bakken", members["Per Olav Bakken"].id),
        ]
        audit = (await session.execute(select(AuditEntry))).scalars().all()
        assert [(a.action, a.detail["items_added"], a.detail["members_added"]) for a in audit] == [
            ("invitation.import", 6, 1)
        ]
    done = render_result(result, "en")
    assert f"Meeting no. {result.meeting_id}" in done and f"Poll no. {result.poll_id} is ready" in done


async def test_reimport_changes_nothing(db: Database) -> None:
    await _setup(db)
    invitation = parse_text(TXT_SAK)
    first = await import_invitation(db, invitation, GROUP)
    before = await _counts(db)
    again = await import_invitation(db, parse_text(TXT_SAK), GROUP)
    assert await _counts(db) == before
    preview = again.preview
    assert not preview.has_changes
    assert (preview.meeting_id, preview.poll_existing_id) == (first.meeting_id, first.poll_id)
    assert preview.items_added == () and preview.items_changed == () and preview.members_added == ()
    assert "Ingenting å endre: alt er allerede importert." in render_preview(preview, "nb")


async def test_existing_meeting_is_updated_and_extra_items_kept(db: Database) -> None:
    await _setup(db)
    async with db.write() as session:
        group = await group_repo.group_by_name(session, GROUP)
        assert group is not None
        starts = datetime(2026, 1, 20, 9, tzinfo=OSLO)
        meeting = await meeting_repo.create_meeting(session, group.id, starts, starts.replace(hour=11))
        await meeting_repo.add_agenda_item(session, meeting.id, 2, "Referat", kind=AgendaKind.OTHER)
        await meeting_repo.add_agenda_item(session, meeting.id, 9, "Julebord")
        meeting_id = meeting.id
    result = await import_invitation(db, parse_text(TXT_SAK), GROUP)
    preview = result.preview
    assert result.meeting_id == meeting_id == preview.meeting_id
    assert preview.meeting_fields == ("time", "place", "papers_url", "round_question")
    assert [(c.number, c.old_title, c.fields) for c in preview.items_changed] == [(2, "Referat", ("kind",))]
    assert preview.items_kept == ((9, "Julebord"),)
    assert "Sak 2 får ny tittel: «Referat» → «Godkjenning av referat fra møtet 25.11.2025»" in render_preview(
        preview, "nb"
    )
    async with db.session() as session:
        meeting = await meeting_repo.get_meeting(session, meeting_id)
        assert meeting is not None and meeting.starts_at == datetime(2026, 1, 20, 10, tzinfo=OSLO)
        items = await meeting_repo.agenda_items(session, meeting_id)
        assert [i.number for i in items] == [1, 2, 3, 4, 5, 6, 9]
        assert items[1].title == "Godkjenning av referat fra møtet 25.11.2025"
        assert items[1].kind == AgendaKind.APPROVAL


async def test_nothing_is_half_imported(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    await _setup(db)
    before = await _counts(db)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the poll could not be stored")

    monkeypatch.setattr(poll_repo, "create_poll", broken)
    with pytest.raises(RuntimeError):
        await import_invitation(db, parse_text(TXT_SAK), GROUP)
    assert await _counts(db) == before  # no meeting, no agenda, no new member


async def test_bad_input_and_unknown_group_store_nothing(db: Database) -> None:
    await _setup(db)
    before = await _counts(db)
    bad = parse_text("Innkalling\nSak 1 Godkjenning\nSak tre: Budsjett\n")
    assert [p.key for p in bad.problems] == ["no_date", "agenda_number"]
    with pytest.raises(NotImportable):
        await import_invitation(db, bad, GROUP)
    with pytest.raises(GroupNotFound):
        await import_invitation(db, parse_text(TXT_SAK), "Faggruppe for Klima")  # exact name only
    assert await _counts(db) == before


async def test_docx_import(db: Database) -> None:
    await _setup(db)
    result = await import_invitation(db, parse_docx(docx_bytes(agenda_in_table=True)), GROUP)
    assert result.preview.poll_options == () and result.poll_id is None  # no work groups: no poll
    counts = await _counts(db)
    assert (counts["AgendaItem"], counts["Member"], counts["Poll"]) == (4, 5, 0)


async def test_shared_example_import(db: Database) -> None:
    path = shared_example()
    if path is None:
        pytest.skip("../shared/examples is not beside the repository")
    async with db.write() as session:
        await group_repo.get_or_create_group(session, "Nærings samarbeid")
    invitation = parse_text(path.read_text(encoding="utf-8"), group_name="Nærings samarbeid")
    result = await import_invitation(db, invitation, "Nærings samarbeid")
    assert await _counts(db) == {"Meeting": 1, "AgendaItem": 7, "Member": 45, "Poll": 1, "PollOption": 5}
    async with db.session() as session:
        assert result.poll_id is not None
        options = await poll_repo.options_of(session, result.poll_id)
        assert sum(o.responsible_member_id is not None for o in options) == 4
        assert all(o.responsible_text for o in options)
    again = await import_invitation(db, invitation, "Nærings samarbeid")
    assert not again.preview.has_changes
