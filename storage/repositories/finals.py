"""The frozen, final referat of a meeting: one immutable row per format, with its SHA-256.

Rows are inserted once (`referat endelig`) and never updated; the repository has no update.
The unique key (meeting, format) makes a second freeze, even a concurrent one on another
replica, find the first one's rows instead of writing its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ReferatFinal


@dataclass(frozen=True, slots=True)
class FinalFile:
    fmt: str
    filename: str
    mime_type: str
    content: bytes


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


async def finals_of(session: AsyncSession, meeting_id: int) -> dict[str, ReferatFinal]:
    """The frozen formats of a meeting, by format; empty when it has not been frozen."""
    stmt = select(ReferatFinal).where(ReferatFinal.meeting_id == meeting_id).order_by(ReferatFinal.id)
    return {row.fmt: row for row in (await session.execute(stmt)).scalars()}


async def store_finals(
    session: AsyncSession, meeting_id: int, files: Sequence[FinalFile], *, at: datetime, by: str
) -> list[ReferatFinal]:
    """Insert every format in the caller's transaction (all or nothing)."""
    rows = [
        ReferatFinal(
            meeting_id=meeting_id,
            fmt=f.fmt,
            filename=f.filename,
            mime_type=f.mime_type,
            content=f.content,
            sha256=sha256_of(f.content),
            frozen_at=at,
            frozen_by=by[:300],
        )
        for f in files
    ]
    session.add_all(rows)
    await session.flush()
    return rows
