"""Migration 0002: a channel binding's copy of its conversation reference moves into the one
store (conversation_references) and the column goes, on SQLite (batch mode) and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.db import Database
from tests.migration_fixtures import migrate_to

OLD_REF = {"serviceUrl": "https://smba.example/emea/", "conversation": {"id": "19:a@thread.tacv2"}}
KEPT_REF = {"serviceUrl": "https://smba.example/newer/", "conversation": {"id": "19:b@thread.tacv2"}}
STALE_REF = {"serviceUrl": "https://smba.example/older/", "conversation": {"id": "19:b@thread.tacv2"}}


def _seed_0001(connection: Connection) -> None:
    now = datetime(2026, 11, 30, 10, tzinfo=UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as storage.models.UTCDateTime stores it there
    connection.execute(
        text(
            "INSERT INTO groups (id, name, organisation, locale, timezone, deadline_days, deadline_time,"
            " reminder_offsets, reminder_time, reminders_enabled, created_at)"
            " VALUES (1, 'Faggruppe', '', 'nb', 'Europe/Oslo', 2, '12:00', '[3, 1]', '09:00', true, :now)"
        ),
        {"now": now},
    )
    bindings = [
        (1, "teams", "19:a@thread.tacv2", json.dumps(OLD_REF)),  # only on the binding: copied
        (2, "teams", "19:b@thread.tacv2", json.dumps(STALE_REF)),  # the store's is newer: kept
        (3, "slack", "C1", None),
    ]
    for binding_id, platform, channel, ref in bindings:
        connection.execute(
            text(
                "INSERT INTO channel_bindings (id, group_id, platform, workspace_id, channel_id, reference,"
                " created_at) VALUES (:id, 1, :platform, 'tenant-1', :channel, :ref, :now)"
            ),
            {"id": binding_id, "platform": platform, "channel": channel, "ref": ref, "now": now},
        )
    connection.execute(
        text(
            "INSERT INTO conversation_references (platform, workspace_id, key, reference, updated_at)"
            " VALUES ('teams', 'tenant-1', 'channel:19:b@thread.tacv2', :ref, :now)"
        ),
        {"ref": json.dumps(KEPT_REF), "now": now},
    )


def _references(connection: Connection) -> dict[str, object]:
    rows = connection.execute(text("SELECT key, reference FROM conversation_references")).all()
    return {key: json.loads(ref) if isinstance(ref, str) else ref for key, ref in rows}


def _binding_columns(connection: Connection) -> set[str]:
    return {c["name"] for c in inspect(connection).get_columns("channel_bindings")}


async def test_binding_references_move_into_the_store_and_the_column_goes(empty_db: Database) -> None:
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(migrate_to("0001"))
        await conn.run_sync(_seed_0001)
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(migrate_to("head"))
    async with empty_db.engine.connect() as conn:
        refs = await conn.run_sync(_references)
        columns = await conn.run_sync(_binding_columns)
        bindings = (await conn.execute(text("SELECT count(*) FROM channel_bindings"))).scalar_one()
        home = tuple((await conn.execute(text("SELECT home_platform, home_workspace FROM groups"))).one())
    # 0004: the group's home is its oldest binding's workspace (rebuilt without cascading).
    assert home == ("teams", "tenant-1")
    assert refs == {"channel:19:a@thread.tacv2": OLD_REF, "channel:19:b@thread.tacv2": KEPT_REF}
    assert "reference" not in columns
    assert bindings == 3  # the table was rebuilt (SQLite) without losing a row

    # And back: the bindings get the store's reference again.
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(migrate_to("0001", down=True))
    async with empty_db.engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT channel_id, reference FROM channel_bindings ORDER BY id"))
        ).all()
    restored = {c: (json.loads(r) if isinstance(r, str) else r) for c, r in rows}
    assert restored == {"19:a@thread.tacv2": OLD_REF, "19:b@thread.tacv2": KEPT_REF, "C1": None}
