"""Shared fixtures: a migrated database on SQLite and, when the server is up, on PostgreSQL.

Each pytest run creates its own PostgreSQL database (so parallel runs never meet) and drops it at
the end; each test gets empty tables. Without a PostgreSQL server the postgres cases are skipped,
and the run says so in its summary.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.models import Base

PG_ADMIN_URL = os.environ.get("REFERENT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, object] = {}


def _pg_available() -> bool:
    if "available" not in _pg_state:
        import socket

        host, port = "127.0.0.1", 5432
        try:
            with socket.create_connection((host, port), timeout=1):
                _pg_state["available"] = True
        except OSError:
            _pg_state["available"] = False
    return bool(_pg_state["available"])


def _run_isolated(coro_factory: object) -> None:
    """Run a coroutine on its own loop in a worker thread (the caller may be inside a loop)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro_factory()).result()  # type: ignore[operator]


async def _admin_execute(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run."""
    if not _pg_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432: storage tests ran on SQLite only")
    name = f"referent_test_{uuid.uuid4().hex[:12]}"
    _run_isolated(lambda: _admin_execute(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    async def _migrate() -> None:
        db = Database(url)
        await db.migrate()
        await db.close()

    _run_isolated(_migrate)
    yield url
    _run_isolated(lambda: _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _table_names() -> list[str]:
    return [t.name for t in reversed(Base.metadata.sorted_tables)]


async def _truncate(db: Database) -> None:
    async with db.engine.begin() as conn:
        names = ", ".join(f'"{n}"' for n in _table_names())
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: one test on SQLite, the same test again on PostgreSQL."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'referent.db'}")
        await database.migrate()
    else:
        url = request.getfixturevalue("pg_url")
        database = Database(url)
        await _truncate(database)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite only, for tests that are about something other than storage."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'referent.db'}")
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _pg_state.get("available") is False:
        terminalreporter.write_line(
            "NOTE: PostgreSQL was not reachable on 127.0.0.1:5432; the PostgreSQL cases were skipped.",
            yellow=True,
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database with no schema at all (this test migrates it step by step)."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        try:
            yield database
        finally:
            await database.close()
        return
    if not _pg_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"referent_mig_{uuid.uuid4().hex[:12]}"
    await _admin_execute(f'CREATE DATABASE "{name}"')
    database = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    try:
        yield database
    finally:
        await database.close()
        await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
