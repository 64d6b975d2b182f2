"""Delivery ids already handled, so a retried Slack event or redelivered Teams activity is
acted on once. Insert in the same transaction as the write it guards."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Platform, ProcessedEvent


async def is_processed(session: AsyncSession, platform: str, event_id: str) -> bool:
    stmt = select(ProcessedEvent.id).where(
        ProcessedEvent.platform == Platform(platform), ProcessedEvent.event_id == event_id
    )
    return (await session.execute(stmt)).first() is not None


async def mark_processed(session: AsyncSession, platform: str, event_id: str) -> None:
    """Insert the id; a concurrent twin makes the flush (or commit) raise IntegrityError."""
    session.add(ProcessedEvent(platform=Platform(platform), event_id=event_id))
    await session.flush()
