"""Migration 0007_poll_state: every existing poll becomes `posted` (it was out, or ready to post),
and going back drops the pending previews with their options, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.db import Database
from tests.migration_fixtures import migrate_to


def _now(connection: Connection) -> datetime:
    now = datetime(2026, 11, 30, 10, tzinfo=UTC)
    return now.replace(tzinfo=None) if connection.dialect.name == "sqlite" else now


def _seed_0006(connection: Connection) -> None:
    """A group with one poll (two options), as the schema before 0007 held it."""
    now = _now(connection)
    connection.execute(
        text(
            "INSERT INTO groups (id, name, organisation, locale, timezone, deadline_days, deadline_time,"
            " reminder_offsets, reminder_time, reminders_enabled, created_at)"
            " VALUES (1, 'Faggruppe', '', 'nb', 'Europe/Oslo', 2, '12:00', '[3, 1]', '09:00', true, :now)"
        ),
        {"now": now},
    )
    _poll(connection, 1, "Meld deg på")


def _poll(connection: Connection, poll_id: int, question: str, status: str | None = None) -> None:
    columns = "id, group_id, question, is_work_groups, multiple, created_at"
    values = ":id, 1, :q, true, true, :now"
    if status is not None:
        columns, values = f"{columns}, status", f"{values}, :status"
    connection.execute(
        text(f"INSERT INTO polls ({columns}) VALUES ({values})"),
        {"id": poll_id, "q": question, "now": _now(connection), "status": status},
    )
    for position, label in enumerate(("Data", "Sikkerhet"), start=1):
        connection.execute(
            text("INSERT INTO poll_options (poll_id, position, label) VALUES (:poll, :position, :label)"),
            {"poll": poll_id, "position": position, "label": label},
        )


def _statuses(connection: Connection) -> dict[int, str]:
    return {row[0]: row[1] for row in connection.execute(text("SELECT id, status FROM polls ORDER BY id"))}


def _count(connection: Connection, table: str) -> int:
    return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def _poll_columns(connection: Connection) -> set[str]:
    return {c["name"] for c in inspect(connection).get_columns("polls")}


async def test_existing_polls_become_posted_and_pending_ones_go_on_downgrade(empty_db: Database) -> None:
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(migrate_to("0006_exposure"))
        await conn.run_sync(_seed_0006)
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(migrate_to("0007_poll_state"))
    async with empty_db.engine.begin() as conn:
        assert await conn.run_sync(_statuses) == {1: "posted"}
        assert await conn.run_sync(lambda c: _count(c, "poll_options")) == 2
        # A preview waiting for its author, and a poll made without naming a status.
        await conn.run_sync(lambda c: _poll(c, 2, "Forhåndsvist", "pending"))
        await conn.run_sync(lambda c: _poll(c, 3, "Ny"))
        assert await conn.run_sync(_statuses) == {1: "posted", 2: "pending", 3: "posted"}

    async with empty_db.engine.begin() as conn:
        await conn.run_sync(migrate_to("0006_exposure", down=True))
    async with empty_db.engine.connect() as conn:
        assert "status" not in await conn.run_sync(_poll_columns)
        ids = [row[0] for row in await conn.execute(text("SELECT id FROM polls ORDER BY id"))]
        assert ids == [1, 3]
        assert await conn.run_sync(lambda c: _count(c, "poll_options")) == 4  # the preview's two went too

    async with empty_db.engine.begin() as conn:
        await conn.run_sync(migrate_to("0007_poll_state"))
    async with empty_db.engine.connect() as conn:
        assert await conn.run_sync(_statuses) == {1: "posted", 3: "posted"}
