"""Engine, sessions and migrations: one object the runtime opens at start and closes at stop.

Three things here keep the submission hot path short:

- `ReadCache`: a small in-process TTL cache of rows that rarely change (channel binding → group,
  chat identity → member, a group's open meetings). Any commit in this process that touched one
  of those tables clears it (session events below), so this process never serves its own stale
  data; another replica's changes show within the TTL. Whatever a write depends on for
  correctness (the meeting still open, the identity still linked) is re-checked in the write's
  own transaction, so the cache only ever saves reads.
- `GroupCommit` (storage/group_commit.py): writers that queue instead of each taking the lock,
  drained in batches of one transaction each; a caller is answered only after its batch has
  committed. `Database.group_commit` keeps one per body.
- `Database.run_write`: a transaction of plain (synchronous) ORM code. On a SQLite file it runs
  on the loop's own thread with sqlite3: with aiosqlite every statement is several hand-offs
  between threads, each waiting for the event loop's next turn, and under load those waits,
  not the work, were what a transaction's time was made of.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import (
    OperationalError,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker

from storage.errors import is_retryable
from storage.group_commit import BatchBody, GroupCommit

__all__ = ["Database", "GroupCommit", "ReadCache", "is_retryable", "run_migrations"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Tables whose rows the read cache holds; a committed change to any of them clears it.
CACHED_TABLES = frozenset(
    {"groups", "channel_bindings", "members", "platform_identities", "meetings", "channel_messages"}
)
DEFAULT_CACHE_TTL_SECONDS = 5.0

_CACHE_INFO_KEY = "referent.read_cache"
_TOUCHED_INFO_KEY = "referent.touched_cached_tables"


def normalise_url(url: str) -> str:
    """Accept the usual sync-style URLs and pick the async driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///") and "+aiosqlite" not in url:
        url = "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


SQLITE_BUSY_TIMEOUT_MS = 10_000
_BUSY_TIMEOUT_OPTION = "referent_busy_timeout_ms"
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; busy_timeout queues writers instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _is_busy(exc: OperationalError) -> bool:
    """SQLite's "database is locked": another connection holds the write lock."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if code is not None:
        return int(code) & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return "database is locked" in str(exc.orig)


def _sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL, or None for an in-memory database (or not SQLite)."""
    if not url.startswith("sqlite") or ":///" not in url:
        return None
    path = url.split(":///", 1)[1].split("?", 1)[0]
    return path if path and path != ":memory:" and not path.startswith("file::memory:") else None


def _writer_connect(dbapi_connection: Any, record: Any) -> None:
    # The driver's own transaction handling would begin only at the first write, leaving the
    # reads before it outside the transaction; SQLAlchemy says when to begin instead (below).
    dbapi_connection.isolation_level = None
    _sqlite_pragmas(dbapi_connection, record)


def _writer_begin(conn: Connection) -> None:
    # How long to wait for another process's write lock: not at all on the event loop's thread.
    busy = int(conn.get_execution_options().get(_BUSY_TIMEOUT_OPTION, SQLITE_BUSY_TIMEOUT_MS))
    conn.exec_driver_sql(f"PRAGMA busy_timeout={busy}")
    # IMMEDIATE: take the write lock at the start, so what the transaction reads before it
    # writes cannot change under it.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class _Missing:
    """The cache's "not there" (None is a value worth caching for some lookups)."""


MISSING = _Missing()


class ReadCache:
    """Rarely-changing rows by key, for at most `ttl` seconds.

    Values must be treated as read-only snapshots (detached ORM objects or plain values): never
    add them to a session, never change them. `generation` moves on every invalidation; a loader
    takes it before reading and passes it to `put`, so a value read before a concurrent commit
    is not stored after that commit has cleared the cache.
    """

    def __init__(self, ttl: float = DEFAULT_CACHE_TTL_SECONDS, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.generation = 0
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._loading: dict[Hashable, asyncio.Future[Any]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any:
        """The value, or MISSING when absent or older than the TTL."""
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            self.misses += 1
            return MISSING
        self.hits += 1
        return entry[1]

    def put(self, key: Hashable, value: Any, generation: int) -> None:
        """Store unless the cache was cleared since `generation` was taken (the value may be stale)."""
        if generation != self.generation or self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # crude, but the working set is small: bound memory, no LRU
        # Each entry lives 75–100 % of the TTL, so entries loaded together (every member's first
        # post after a restart) do not all expire, and reload, in the same instant.
        self._entries[key] = (time.monotonic() + self.ttl * (0.75 + 0.25 * random.random()), value)

    async def get_or_load(
        self,
        key: Hashable,
        load: Callable[[], Awaitable[Any]],
        *,
        keep: Callable[[Any], bool] = lambda _value: True,
    ) -> Any:
        """The cached value, or `load()`'s, stored when `keep(value)`. Concurrent misses of one
        key share one load: when a popular entry expires under load, the requests that find it
        gone do not all run the same query at once."""
        value = self.get(key)
        if value is not MISSING:
            return value
        loading = self._loading.get(key)
        if loading is not None:
            return await asyncio.shield(loading)
        generation = self.generation
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_consume_exception)  # nobody else may be waiting for it
        self._loading[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("load cancelled"))
            raise
        finally:
            self._loading.pop(key, None)
        future.set_result(value)
        if keep(value):
            self.put(key, value, generation)
        return value

    def invalidate(self) -> None:
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _consume_exception(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class _TrackedSession(Session):
    """The sync session behind every AsyncSession: its events tell the read cache what changed."""


def _table_of(obj: object) -> str | None:
    table = getattr(type(obj), "__table__", None)
    return getattr(table, "name", None)


@event.listens_for(_TrackedSession, "after_flush")
def _note_flushed(session: Session, _flush: UOWTransaction) -> None:
    # Still the pre-flush state here: new, dirty and deleted list what this flush wrote.
    if session.info.get(_TOUCHED_INFO_KEY):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _table_of(obj) in CACHED_TABLES:
            session.info[_TOUCHED_INFO_KEY] = True
            return


@event.listens_for(_TrackedSession, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    # Bulk UPDATE/DELETE/INSERT statements bypass the unit of work (and after_flush).
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in CACHED_TABLES:
            state.session.info[_TOUCHED_INFO_KEY] = True


@event.listens_for(_TrackedSession, "after_commit")
def _invalidate_after_commit(session: Session) -> None:
    if session.info.pop(_TOUCHED_INFO_KEY, False):
        cache = session.info.get(_CACHE_INFO_KEY)
        if isinstance(cache, ReadCache):
            cache.invalidate()


@event.listens_for(_TrackedSession, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_TOUCHED_INFO_KEY, None)


class Database:
    """Owns the async engine; `session()` gives a unit of work that commits or rolls back."""

    def __init__(self, url: str, *, echo: bool = False, cache_ttl: float = DEFAULT_CACHE_TTL_SECONDS) -> None:
        self.url = normalise_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            path = self.url.split(":///", 1)[1] if ":///" in self.url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.cache = ReadCache(cache_ttl)
        self.sessions = async_sessionmaker(
            self.engine,
            expire_on_commit=False,
            sync_session_class=_TrackedSession,
            info={_CACHE_INFO_KEY: self.cache},
        )
        self._sqlite_write_lock = asyncio.Lock()
        self._group_commits: dict[Callable[..., Any], GroupCommit[Any, Any]] = {}
        # The writer thread's own engine (SQLite files only), made on first use.
        self._writer_file = _sqlite_file(self.url)
        self._writer_engine: Engine | None = None
        self._writer_sessions: sessionmaker[Session] | None = None
        self._writer_thread: ThreadPoolExecutor | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A transaction: commits when the block ends, rolls back if it raises."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction. On SQLite, writers in this process queue on a lock rather than
        on SQLite's busy handler, which keeps latency flat under concurrent submissions."""
        if not self.is_sqlite:
            async with self.session() as session:
                yield session
            return
        async with self._sqlite_write_lock, self.session() as session:
            yield session

    async def run_write(self, work: Callable[[Session], T]) -> T:
        """Run `work`, synchronous ORM code, in one write transaction, committed when it returns.

        On a SQLite file, under the same lock as `write()`, with a plain sqlite3 connection and
        right here on the event loop's thread: a short transaction costs a millisecond or two
        of CPU, less than handing its statements to other threads would cost in waiting (with
        aiosqlite, several hand-offs per statement, each waiting for the loop's next turn; with
        a writer thread, the GIL, handed back and forth for every row sqlite3 steps through).
        The loop never waits on another process's lock, though: if the database is locked,
        the transaction is tried again in a thread that can wait (`busy_timeout`) for it.

        Otherwise (PostgreSQL, or SQLite in memory): through an AsyncSession's `run_sync`.
        """
        if self._writer_file is None:
            async with self.write() as session:
                return await session.run_sync(work)
        async with self._sqlite_write_lock:
            try:
                return self._write_now(work, busy_timeout_ms=0)
            except OperationalError as exc:
                if not _is_busy(exc):
                    raise
            log.info("SQLite database locked by another process: waiting for it off the loop")
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._waiter(), self._write_now, work, SQLITE_BUSY_TIMEOUT_MS)

    def _waiter(self) -> ThreadPoolExecutor:
        if self._writer_thread is None:
            self._writer_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        return self._writer_thread

    def _write_now(self, work: Callable[[Session], T], busy_timeout_ms: int) -> T:
        if self._writer_sessions is None:
            engine = create_engine(
                f"sqlite:///{self._writer_file}",
                # One connection, used from the loop's thread and (when waiting) the writer's.
                connect_args={"check_same_thread": False},
            )
            event.listen(engine, "connect", _writer_connect)
            event.listen(engine, "begin", _writer_begin)
            self._writer_engine = engine
            self._writer_sessions = sessionmaker(
                engine,
                expire_on_commit=False,
                class_=_TrackedSession,
                info={_CACHE_INFO_KEY: self.cache},
            )
        with self._writer_sessions() as session, session.begin():
            session.connection(execution_options={_BUSY_TIMEOUT_OPTION: busy_timeout_ms})
            return work(session)

    async def disconnect(self) -> None:
        """Close every pooled connection (the next use connects afresh), keeping the Database
        usable: after the database moved or failed over."""
        await self.engine.dispose()
        if self._writer_engine is not None:
            async with self._sqlite_write_lock:
                self._writer_engine.dispose()

    def group_commit(self, body: BatchBody[T, R]) -> GroupCommit[T, R]:
        """The one group-commit queue of this database for `body` (a module-level function)."""
        queue = self._group_commits.get(body)
        if queue is None:
            queue = GroupCommit(self, body)
            self._group_commits[body] = queue
        return queue

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        async with self.engine.begin() as conn:
            await conn.run_sync(run_migrations)
        self.cache.invalidate()

    async def is_empty(self) -> bool:
        async with self.engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        return "alembic_version" not in names

    async def close(self) -> None:
        self.cache.invalidate()
        await self.disconnect()
        if self._writer_thread is not None:
            self._writer_thread.shutdown(wait=False)
            self._writer_thread = None


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def run_migrations(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")
