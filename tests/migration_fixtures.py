"""Shared by the migration tests: one Alembic step at a time (the `empty_db` fixture is in conftest)."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from sqlalchemy.engine import Connection

from storage.db import alembic_config


def migrate_to(revision: str, *, down: bool = False) -> Callable[[Connection], None]:
    """For `connection.run_sync`: upgrade (or downgrade) to `revision`."""

    def run(connection: Connection) -> None:
        cfg = alembic_config(connection)
        (command.downgrade if down else command.upgrade)(cfg, revision)

    return run
