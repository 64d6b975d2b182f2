"""Migration 0005_richtext: older rows' plain member text is escaped into the rich-text source
form, so it renders exactly as before (no `*`/`_` turning into emphasis), and back on downgrade;
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Connection

from handlers.richtext import parse, plain
from handlers.richtext.model import Para, Text
from storage.db import Database
from storage.models import Submission
from tests.migration_fixtures import migrate_to

LEGACY = "Vi har *to* saker_nå og `kode`\n\n- punkt med [lenke](https://x.no)\n  - under <b>\n1. én"


def _seed(connection: Connection) -> None:
    """Rows as they stood at 0004_year, written with Core on the tables as they were then (the
    ORM models already know later columns)."""
    tables = MetaData()
    tables.reflect(bind=connection, only=["groups", "members", "meetings", "submissions"])
    groups, members, meetings, submissions = (
        tables.tables[n] for n in ("groups", "members", "meetings", "submissions")
    )
    now = datetime(2026, 1, 20, 10, tzinfo=UTC)
    group_id = connection.execute(
        groups.insert().values(
            name="Faggruppe",
            organisation="Regionen",
            locale="nb",
            timezone="Europe/Oslo",
            deadline_days=7,
            deadline_time="23:59",
            reminder_offsets=[3, 1],
            reminder_time="09:00",
            reminders_enabled=True,
            created_at=now,
        )
    ).inserted_primary_key[0]
    member_id = connection.execute(
        members.insert().values(
            group_id=group_id,
            first_name="Kari",
            last_name="Nordmann",
            organisation="Bergen",
            title="",
            role="member",
            on_roster=True,
            created_at=now,
        )
    ).inserted_primary_key[0]
    meeting_id = connection.execute(
        meetings.insert().values(
            group_id=group_id,
            title="Møte",
            starts_at=now,
            ends_at=now,
            place="Teams",
            status="open",
            created_at=now,
        )
    ).inserted_primary_key[0]
    connection.execute(
        submissions.insert().values(
            meeting_id=meeting_id,
            member_id=member_id,
            kind="round",
            text=LEGACY,
            source_platform="slack",
            created_at=now,
            updated_at=now,
        )
    )


def _text(connection: Connection) -> str:
    return str(connection.execute(select(Submission.text)).scalar_one())


async def test_older_rows_keep_their_reading(empty_db: Database) -> None:
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(migrate_to("0004_year"))
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(_seed)
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(migrate_to("0005_richtext"))
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
        await conn.run_sync(migrate_to("0004_year", down=True))
    async with empty_db.engine.connect() as conn:
        assert await conn.run_sync(_text) == LEGACY
