"""Messages the bot posted and must find again: collection threads and copies of polls."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import ChannelMessage, Platform

COLLECTION = "collection"  # subject: meeting id; replies in its thread are round-table entries
POLL = "poll"  # subject: poll id; every copy is updated when someone votes


async def record_message(
    session: AsyncSession,
    *,
    purpose: str,
    subject_id: int,
    platform: str,
    workspace_id: str,
    channel_id: str,
    message_ref: str,
) -> ChannelMessage:
    existing = await find_message(session, platform, workspace_id, channel_id, message_ref)
    if existing is not None:
        existing.purpose = purpose
        existing.subject_id = subject_id
        await session.flush()
        return existing
    message = ChannelMessage(
        purpose=purpose,
        subject_id=subject_id,
        platform=Platform(platform),
        workspace_id=workspace_id,
        channel_id=channel_id,
        message_ref=message_ref,
    )
    session.add(message)
    await session.flush()
    return message


async def find_message(
    session: AsyncSession, platform: str, workspace_id: str, channel_id: str, message_ref: str
) -> ChannelMessage | None:
    stmt = select(ChannelMessage).where(
        ChannelMessage.platform == Platform(platform),
        ChannelMessage.workspace_id == workspace_id,
        ChannelMessage.channel_id == channel_id,
        ChannelMessage.message_ref == message_ref,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def cached_message(
    db: Database, platform: str, workspace_id: str, channel_id: str, message_ref: str
) -> ChannelMessage | None:
    """`find_message` through the read cache (a detached, read-only copy); only messages found
    are cached, since most threads in a channel are not ours and each is asked about once."""

    async def load() -> ChannelMessage | None:
        async with db.session() as session:
            return await find_message(session, platform, workspace_id, channel_id, message_ref)

    key = ("channel_message", platform, workspace_id, channel_id, message_ref)
    message = await db.cache.get_or_load(key, load, keep=lambda found: found is not None)
    return message if isinstance(message, ChannelMessage) else None


async def messages_for(session: AsyncSession, purpose: str, subject_id: int) -> list[ChannelMessage]:
    stmt = (
        select(ChannelMessage)
        .where(ChannelMessage.purpose == purpose, ChannelMessage.subject_id == subject_id)
        .order_by(ChannelMessage.id)
    )
    return list((await session.execute(stmt)).scalars())
