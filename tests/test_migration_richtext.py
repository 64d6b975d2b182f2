"""Migration 0005_richtext: older rows' plain member text is escaped into the rich-text source
form, so it renders exactly as before (no `*`/`_` turning into emphasis), and back on downgrade;
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from handlers.richtext import parse, plain
from handlers.richtext.model import Para, Text
from storage.db import Database
from storage.models import Group, Meeting, Member, Platform, Submission, SubmissionKind
from tests.test_migration_references import _to, empty_db

__all__ = ["empty_db"]

LEGACY = "Vi har *to* saker_nå og `kode`\n\n- punkt med [lenke](https://x.no)\n  - under <b>\n1. én"


def _seed(connection: Connection) -> None:
    with Session(bind=connection) as session:
        group = Group(name="Faggruppe", organisation="Regionen", locale="nb")
        session.add(group)
        session.flush()
        member = Member(group_id=group.id, first_name="Kari", last_name="Nordmann", organisation="Bergen")
        start = datetime(2026, 1, 20, 10, tzinfo=UTC)
        meeting = Meeting(group_id=group.id, title="Møte", starts_at=start, ends_at=start)
        session.add_all([member, meeting])
        session.flush()
        session.add(
            Submission(
                meeting_id=meeting.id,
                member_id=member.id,
                kind=SubmissionKind.ROUND,
                text=LEGACY,
                source_platform=Platform.SLACK,
            )
        )
        session.commit()


def _text(connection: Connection) -> str:
    return str(connection.execute(select(Submission.text)).scalar_one())


async def test_older_rows_keep_their_reading(empty_db: Database) -> None:
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(_to("0004_year"))
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(_seed)
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(_to("0005_richtext"))
    async with empty_db.engine.connect() as conn:
        stored = await conn.run_sync(_text)
    assert stored == (
        "Vi har \\*to\\* saker\\_nå og \\`kode\\`\n\n"
        "- punkt med \\[lenke\\](https://x.no)\n  - under \\<b\\>\n1. én"
    )
    doc = parse(stored)
    assert doc[0] == Para(((Text("Vi har *to* saker_nå og `kode`"),),))
    assert plain(doc).splitlines()[1:] == ["- punkt med [lenke](https://x.no)", "  - under <b>", "1. én"]

    async with empty_db.engine.begin() as conn:
        await conn.run_sync(_to("0004_year", down=True))
    async with empty_db.engine.connect() as conn:
        assert await conn.run_sync(_text) == LEGACY
