"""Group commit: writers queue instead of each taking the lock, drained in batches of one
transaction each; a caller is answered only after its batch has committed.

The one engine for it: the submission hot path (`Database.group_commit`) and the reminder log
(handlers/reminders/fanout.py) both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.errors import is_retryable

if TYPE_CHECKING:
    from storage.db import Database

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


BatchBody = Callable[[Session, list[T]], list[R]]
AsyncBatchBody = Callable[[AsyncSession, list[T]], Awaitable[list[R]]]


class GroupCommit(Generic[T, R]):
    """Group commit: callers queue items; one drain at a time runs the body for everything
    queued, in one write transaction, and hands each caller its result only after that
    transaction has committed (an acknowledged write is a committed write).

    Whoever finds the queue idle starts a drain, which first lets the event loop run for
    `window` seconds (by default one turn, no delay): requests already under way reach the
    queue and share the transaction. Under load, batches grow with the load; alone, a write
    waits for nothing.

    The body is either `body(session, items)`, synchronous ORM code run through
    `Database.run_write` (the submission hot path), or `async_body(session, items)` on an
    AsyncSession from `Database.write()` (the reminder log, whose statements are async and
    dialect-specific). It must return one result per item, in order, and must not fail for one
    item's sake (it checks and skips instead).

    Failures: a batch that fails with a retryable error (`is_retryable`: a deadlock or
    serialization failure between replicas, a dropped connection) is run again whole, up to
    `retries` times, since it rolled back whole. If a batch then fails with an IntegrityError
    (a twin delivery committed by another replica), its items are retried one by one, so the
    others are stored; any other error (the database is down) fails every caller of the batch.

    Used as `async with` (a scoped queue, e.g. one reminder pass), leaving waits for the last
    drain; leaving through a crash (cancellation, not an Exception) cancels it instead, so
    nothing more is written: that is the case a reminder's claim timeout exists for. The queues
    of `Database.group_commit` live as long as the database.
    """

    def __init__(
        self,
        db: Database,
        body: BatchBody[T, R] | None = None,
        *,
        async_body: AsyncBatchBody[T, R] | None = None,
        max_batch: int = 256,
        window: float = 0.0,
        retries: int = 0,
        backoff: float = 0.05,
        name: str = "group-commit",
    ) -> None:
        if (body is None) == (async_body is None):
            raise ValueError("give a GroupCommit exactly one of body and async_body")
        self.db = db
        self.body = body
        self.async_body = async_body
        self.max_batch = max_batch
        self.window = window
        self.retries = retries
        self.backoff = backoff
        self.name = name
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self.batches = 0
        self.items = 0

    async def __aenter__(self) -> GroupCommit[T, R]:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        drainer = self._drainer
        if drainer is None:
            return
        if exc_type is not None and not issubclass(exc_type, Exception):
            drainer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drainer

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain(), name=self.name)
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while True:
                await asyncio.sleep(self.window)  # let what is under way join this batch
                if not self._pending:
                    break
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._run(batch)
                batch = []
        except BaseException as exc:  # cancelled at shutdown: nobody may wait for ever
            for _item, future in (*batch, *self._pending):
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("shut down"))
            self._pending.clear()
            raise
        finally:
            self._drainer = None

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        live = [(item, future) for item, future in batch if not future.done()]
        if not live:
            return
        try:
            results = await self._commit_retrying([item for item, _ in live])
        except IntegrityError as exc:
            if len(live) == 1:
                _fail(live[0][1], exc)
                return
            log.info("%s of %d failed on an integrity error; retrying one by one", self.name, len(live))
            for item, future in live:
                try:
                    (result,) = await self._commit_retrying([item])
                except Exception as single:
                    _fail(future, single)
                else:
                    _resolve(future, result)
            return
        except Exception as exc:
            log.warning("%s of %d failed: %s", self.name, len(live), exc)
            for _item, future in live:
                _fail(future, exc)
            return
        for (_item, future), result in zip(live, results, strict=True):
            _resolve(future, result)

    async def _commit_retrying(self, items: list[T]) -> list[R]:
        attempt = 0
        while True:
            try:
                return await self._commit(items)
            except Exception as exc:
                if attempt >= self.retries or not is_retryable(exc):
                    raise
                log.info("%s rolled back (%s); trying again", self.name, exc)
                await asyncio.sleep(self.backoff * 2**attempt)
                attempt += 1

    async def _commit(self, items: list[T]) -> list[R]:
        if self.async_body is not None:
            async with self.db.write() as session:
                results = await self.async_body(session, items)
        else:
            body = self.body
            if body is None:  # pragma: no cover - __init__ requires one of the two
                raise ValueError("no body")
            results = await self.db.run_write(lambda session: body(session, items))
        self.batches += 1
        self.items += len(items)
        return results


def _resolve(future: asyncio.Future[R], result: R) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
