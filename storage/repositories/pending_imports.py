"""Invitations previewed in chat and waiting for their confirm button (see models.PendingImport)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PendingImport


async def add(
    session: AsyncSession,
    *,
    token: str,
    group_id: int,
    member_id: int | None,
    filename: str,
    content: bytes,
    created_at: datetime,
    expires_at: datetime,
) -> PendingImport:
    row = PendingImport(
        token=token,
        group_id=group_id,
        member_id=member_id,
        filename=filename,
        content=content,
        created_at=created_at,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row


async def get(session: AsyncSession, token: str) -> PendingImport | None:
    return await session.get(PendingImport, token)


async def remove(session: AsyncSession, token: str) -> None:
    await session.execute(delete(PendingImport).where(PendingImport.token == token))


async def forget_expired(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(PendingImport).where(PendingImport.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
