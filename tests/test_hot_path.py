"""The submission hot path: the read cache and what clears it, scope lookups that cost no SQL,
group commit, the checks a write makes again in its own transaction (against another replica's
changes the cache has not seen), and which failures are worth a redelivery.

"Another replica" is a second `Database` on the same database (the same SQLite file, or the same
PostgreSQL database): its own engine, its own cache, as a second process would have.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from handlers.events import EventKind
from handlers.identity import ScopeView, lookup
from storage.db import MISSING, Database, ReadCache, is_retryable
from storage.models import (
    ChannelMessage,
    Group,
    Meeting,
    MeetingStatus,
    Member,
    PlatformIdentity,
    ProcessedEvent,
    Submission,
    SubmissionKind,
)
from storage.repositories.submissions import store_posts
from tests.transcript import KARI, OLA, PER, SARA, TranscriptBot, count, rows, seed


async def _collection_ref(db: Database) -> str:
    (message,) = await rows(db, ChannelMessage, ChannelMessage.purpose == "collection")
    return str(message.message_ref)


# --- the read cache on its own -----------------------------------------------------------------


async def test_cache_entries_expire_and_a_stale_load_is_not_stored() -> None:
    cache = ReadCache(ttl=0.05)
    generation = cache.generation
    cache.put("k", 1, generation)
    assert cache.get("k") == 1
    await asyncio.sleep(0.06)
    assert cache.get("k") is MISSING

    # A value read before an invalidation must not be stored after it: it may be stale.
    generation = cache.generation
    cache.invalidate()
    cache.put("k", 2, generation)
    assert cache.get("k") is MISSING


async def test_concurrent_misses_share_one_load_and_only_kept_values_are_stored() -> None:
    cache = ReadCache(ttl=60)
    loads = 0

    async def load() -> str:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return "value"

    results = await asyncio.gather(*(cache.get_or_load("k", load) for _ in range(20)))
    assert results == ["value"] * 20 and loads == 1
    assert await cache.get_or_load("k", load) == "value" and loads == 1

    async def nothing() -> None:
        return None

    assert await cache.get_or_load("absent", nothing, keep=lambda v: v is not None) is None
    assert cache.get("absent") is MISSING  # a miss is asked again next time


async def test_a_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    cache = ReadCache(ttl=60)

    async def down() -> str:
        await asyncio.sleep(0.01)
        raise OperationalError("SELECT 1", {}, Exception("unable to open database file"))

    outcomes = await asyncio.gather(*(cache.get_or_load("k", down) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(o, OperationalError) for o in outcomes)
    assert cache.get("k") is MISSING


# --- what clears it ----------------------------------------------------------------------------


async def test_a_commit_that_changes_a_cached_table_clears_the_cache(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("runde Første", as_=KARI)  # links Kari: a change, so it clears the cache
    await bot.say("runde Andre", as_=KARI)  # fills it
    warm = len(db.cache)
    assert warm > 0

    # Writing a table the cache does not hold leaves it alone...
    async with db.session() as s:
        s.add(ProcessedEvent(platform="slack", event_id="Ev-unrelated"))
    assert len(db.cache) == warm

    # ...as does a rolled-back change to one it does hold...
    with pytest.raises(RuntimeError):
        async with db.session() as s:
            (meeting,) = (await s.execute(select(Meeting))).scalars()
            meeting.title = "Endret"
            await s.flush()
            raise RuntimeError("roll back")
    assert len(db.cache) == warm

    # ...but a committed change (unit of work, or a bulk statement) clears it.
    async with db.session() as s:
        (meeting,) = (await s.execute(select(Meeting))).scalars()
        meeting.title = "Endret"
    assert len(db.cache) == 0
    await bot.say("runde Tredje", as_=KARI)
    assert len(db.cache) > 0
    async with db.session() as s:
        await s.execute(update(Member).where(Member.first_name == "Nils").values(organisation="Ny"))
    assert len(db.cache) == 0


async def test_closing_the_meeting_here_is_seen_at_once(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    assert (await bot.say("runde Før lukking", as_=KARI)).ok
    assert (await bot.say("mote lukk", as_=SARA)).ok
    reply = await bot.say("runde Etter lukking", as_=KARI)
    assert not reply.ok and "stengt" in reply.text.lower()
    assert [s.text for s in await rows(db, Submission)] == ["Før lukking"]


# --- the scope, once, from the cache -----------------------------------------------------------


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements `db`'s engines run while the block runs (reads and writes alike)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engines = [db.engine.sync_engine]
    writer = getattr(db, "_writer_engine", None)
    if writer is not None:
        engines.append(writer)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def test_a_warm_runde_reads_nothing_outside_its_one_write(sqlite_db: Database) -> None:
    db = sqlite_db
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("runde Første", as_=KARI)  # links Kari, fills the cache
    await bot.say("runde Andre", as_=KARI)  # and the writer's engine exists now

    with statements(db) as seen:
        view = await lookup(bot.event(EventKind.COMMAND, text="runde x", as_=KARI), bot.ctx)
    assert isinstance(view, ScopeView) and view.linked and view.member is not None
    assert seen == []  # the scope came from the cache

    with statements(db) as seen:
        reply = await bot.say("runde Tredje", as_=KARI)
    assert reply.ok and reply.text.startswith("Takk, Kari!")
    reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    writes = [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    # One transaction: the meeting and the member checked again, then the insert; no lookup of
    # binding, group or member, and no reads before the write.
    assert len(reads) == 2, reads
    assert len(writes) == 1 and writes[0].lstrip().upper().startswith("INSERT INTO SUBMISSIONS")
    assert [s.text for s in await rows(db, Submission, order_by=Submission.id)] == [
        "Første",
        "Andre",
        "Tredje",
    ]


async def test_a_first_post_links_the_member_then_the_fast_path_takes_over(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    assert (await bot.say("runde ingen", as_=OLA)).ok  # nothing to report...
    assert (await bot.say("runde Likevel noe", as_=OLA)).ok  # ...gives way to an entry
    assert (await bot.say("runde Og mer", as_=OLA)).ok
    posts = await rows(db, Submission, order_by=Submission.id)
    assert [(p.kind, p.text) for p in posts] == [
        (SubmissionKind.ROUND, "Likevel noe"),
        (SubmissionKind.ROUND, "Og mer"),
    ]
    assert await count(db, PlatformIdentity) >= 2  # Sara (oppsett) and Ola


async def test_many_members_posting_at_once_share_transactions(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    people = (KARI, OLA, PER, SARA)
    for person in people:  # first posts link them (the full path)
        assert (await bot.say("runde Hei", as_=person)).ok
    queue = db.group_commit(store_posts)
    batches_before = queue.batches
    replies = await asyncio.gather(
        *(bot.say(f"runde Innlegg {i}", as_=people[i % len(people)]) for i in range(40))
    )
    assert all(r.ok for r in replies), [r.text for r in replies if not r.ok]
    assert await count(db, Submission) == 44
    assert queue.items >= 40 and queue.batches - batches_before < 40  # batched


# --- another replica's changes -----------------------------------------------------------------


@pytest.fixture
async def replica(db: Database) -> AsyncIterator[Database]:
    """A second process on the same database: its own engine and its own (cold) cache."""
    other = Database(db.url)
    try:
        yield other
    finally:
        await other.close()


async def test_a_meeting_closed_by_another_replica_refuses_posts_here(
    db: Database, replica: Database
) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    assert (await bot.say("runde Første", as_=KARI)).ok  # this replica's cache: the meeting is open
    assert (await bot.reply_in_thread("I tråden", await _collection_ref(db), as_=KARI)).ok
    async with replica.session() as s:  # this replica's cache still has the meeting open
        await s.execute(update(Meeting).values(status=MeetingStatus.CLOSED))

    reply = await bot.say("runde Etter lukking", as_=KARI)
    assert not reply.ok and "stengt" in reply.text.lower()
    thread = await bot.reply_in_thread("I tråden igjen", await _collection_ref(db), as_=KARI)
    assert not thread.ok and "stengt" in thread.text.lower()
    assert [s.text for s in await rows(db, Submission, order_by=Submission.id)] == ["Første", "I tråden"]


async def test_a_newer_current_meeting_from_another_replica_gets_the_post(
    db: Database, replica: Database
) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    assert (await bot.say("runde Første", as_=KARI)).ok
    (first,) = await rows(db, Meeting)
    # Another replica records a meeting held earlier, still collecting: it is now the current one.
    async with replica.session() as s:
        earlier = Meeting(
            group_id=first.group_id,
            starts_at=first.starts_at - timedelta(days=5),
            ends_at=first.ends_at - timedelta(days=5),
            status=MeetingStatus.OPEN,
        )
        s.add(earlier)
        await s.flush()
        earlier_id = earlier.id
    bot.clock.advance(days=4)  # after that meeting, before its deadline and before the other
    assert (await bot.say("runde Andre", as_=KARI)).ok
    posts = await rows(db, Submission, order_by=Submission.id)
    assert [(p.text, p.meeting_id) for p in posts] == [("Første", first.id), ("Andre", earlier_id)]


async def test_an_identity_removed_by_another_replica_is_not_posted_under(
    db: Database, replica: Database
) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    assert (await bot.say("runde Første", as_=KARI)).ok
    (kari,) = await rows(db, Member, Member.email == KARI.email)
    async with replica.session() as s:  # e.g. Kari deleted her data there
        identity = (
            await s.execute(select(PlatformIdentity).where(PlatformIdentity.member_id == kari.id))
        ).scalar_one()
        await s.delete(identity)
    assert (await bot.say("runde Andre", as_=KARI)).ok  # the full path links her again
    assert await count(db, PlatformIdentity, PlatformIdentity.member_id == kari.id) == 1
    assert [s.member_id for s in await rows(db, Submission, order_by=Submission.id)] == [kari.id, kari.id]


async def test_another_replicas_change_is_seen_here_within_the_ttl(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'referent.db'}"
    db = Database(url, cache_ttl=0.2)
    await db.migrate()
    other = Database(url)
    try:
        bot = TranscriptBot(db)
        await seed(bot)
        assert (await bot.say("runde Første", as_=KARI)).text.startswith("Takk")
        async with other.session() as s:
            await s.execute(update(Group).values(locale="en"))
            await s.execute(update(Member).where(Member.email == KARI.email).values(first_name="Karianne"))
        await asyncio.sleep(0.25)
        reply = await bot.say("runde Andre", as_=KARI)
        assert reply.ok and reply.text.startswith("Thanks, Karianne!"), reply.text
    finally:
        await other.close()
        await db.close()


# --- duplicates inside one batch ---------------------------------------------------------------


async def test_a_redelivered_thread_reply_in_the_same_batch_is_stored_once(db: Database) -> None:
    bot = TranscriptBot(db)
    await seed(bot)
    thread = await _collection_ref(db)
    assert (await bot.reply_in_thread("Først", thread, as_=KARI)).ok  # links Kari
    replies = await asyncio.gather(
        *(
            bot.reply_in_thread("Samme innlegg", thread, as_=KARI, message_ref="ts-twin", event_id="Ev-twin")
            for _ in range(3)
        )
    )
    assert all(r.ok and r.text for r in replies)
    assert await count(db, Submission, Submission.source_ref == "ts-twin") == 1
    assert await count(db, ProcessedEvent, ProcessedEvent.event_id == "Ev-twin") == 1


# --- which failures are worth a redelivery ----------------------------------------------------


def _operational() -> OperationalError:
    return OperationalError("INSERT", {}, Exception("attempt to write a readonly database"))


def test_storage_failures_are_retryable_and_bad_input_is_not() -> None:
    assert is_retryable(_operational())
    assert is_retryable(TimeoutError())
    assert is_retryable(ConnectionRefusedError())
    try:
        try:
            raise _operational()
        except OperationalError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert is_retryable(wrapped)
    assert not is_retryable(IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")))
    assert not is_retryable(DataError("INSERT", {}, Exception("value too long")))
    assert not is_retryable(ValueError("a bug"))


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///{tmp}/is-a-directory",  # the file cannot be opened
        "postgresql+asyncpg://referent@127.0.0.1:9/none",  # nothing listens there
    ],
)
async def test_an_unreachable_database_gives_a_retryable_apology(url: str, tmp_path: Path) -> None:
    (tmp_path / "is-a-directory").mkdir()
    db = Database(url.format(tmp=tmp_path))
    try:
        bot = TranscriptBot(db)
        for kind, text in ((EventKind.THREAD_REPLY, "Innlegg"), (EventKind.COMMAND, "runde Innlegg")):
            reply = await bot.send(bot.event(kind, text=text, as_=KARI, thread_ref="t1", message_ref="m1"))
            assert not reply.ok and reply.retryable, reply
            assert "ingenting ble lagret" in reply.text
        # Bad input is answered as before, database or not: not retryable.
        reply = await bot.say("ukjentkommando", as_=KARI)
        assert not reply.retryable
    finally:
        await db.close()


async def test_an_answer_given_without_storage_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Storage down, a line the parser refuses is still answered, and the outage is not silent."""
    db = Database("postgresql+asyncpg://referent@127.0.0.1:9/none")  # nothing listens there
    try:
        bot = TranscriptBot(db)
        with caplog.at_level(logging.WARNING, logger="handlers.dispatch"):
            reply = await bot.say("ukjentkommando", as_=KARI)
        assert not reply.ok and not reply.retryable
        assert any("answered without it" in r.getMessage() for r in caplog.records), caplog.text
    finally:
        await db.close()


# --- another process holding SQLite's write lock ----------------------------------------------


async def test_a_write_waits_for_another_process_lock_without_blocking_the_loop(sqlite_db: Database) -> None:
    import sqlite3
    import threading

    db = sqlite_db
    bot = TranscriptBot(db)
    await seed(bot)
    await bot.say("runde Første", as_=KARI)
    await bot.say("runde Andre", as_=KARI)  # the next one takes the hot path

    path = db.url.split(":///", 1)[1]
    locked, release = threading.Event(), threading.Event()

    def other_process() -> None:  # e.g. `referent remind` from cron, mid-transaction
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(5)
        conn.execute("COMMIT")
        conn.close()

    holder = threading.Thread(target=other_process)
    holder.start()
    assert await asyncio.to_thread(locked.wait, 5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while not release.is_set():
            await asyncio.sleep(0.01)
            ticks += 1

    async def let_go() -> None:
        await asyncio.sleep(0.3)
        release.set()

    reply, *_ = await asyncio.gather(bot.say("runde Tredje", as_=KARI), ticker(), let_go())
    await asyncio.to_thread(holder.join, 5)
    assert reply.ok, reply.text
    assert ticks >= 10  # the loop went on while the write waited for the lock
    assert [s.text for s in await rows(db, Submission, order_by=Submission.id)][-1] == "Tredje"
