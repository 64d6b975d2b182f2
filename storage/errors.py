"""Which database failures are the infrastructure's (retry later) rather than the request's.

Shared by the write paths (group commit, dispatch's answers): a retryable failure makes Slack
get a 503 and redeliver, or a batch try again; anything bad input can cause never becomes a 5xx.
"""

from __future__ import annotations

from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as SATimeoutError

# PostgreSQL's "transaction rolled back, try again": serialization failure, deadlock detected
# (asyncpg's errors reach SQLAlchemy as a plain DBAPIError, so the SQLSTATE is what tells).
_ROLLED_BACK = frozenset({"40001", "40P01"})


def is_retryable(exc: BaseException) -> bool:
    """Whether the failure was the infrastructure's (the database unreachable, locked, read-only,
    a connection dropped, a timeout) rather than the request's: then the same request can succeed
    later, and a platform that redelivers should be asked to. An error that bad input can cause
    (an integrity or data error, a bug) is not, so it never turns into a 5xx. A serialization
    failure or deadlock between replicas is retryable: the transaction was rolled back whole.
    The exception's causes are looked through, so a wrapped database error counts as one."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (IntegrityError, DataError)):
            return False
        if isinstance(current, (OperationalError, InterfaceError, DisconnectionError, SATimeoutError)):
            return True
        if isinstance(current, DBAPIError) and (
            current.connection_invalidated or getattr(current.orig, "sqlstate", None) in _ROLLED_BACK
        ):
            return True
        if isinstance(current, (TimeoutError, ConnectionError)):
            return True
        current = current.__cause__ or current.__context__
    return False
