"""Messages the bot posted and must find again: collection threads and copies of polls."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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


async def messages_for(session: AsyncSession, purpose: str, subject_id: int) -> list[ChannelMessage]:
    stmt = (
        select(ChannelMessage)
        .where(ChannelMessage.purpose == purpose, ChannelMessage.subject_id == subject_id)
        .order_by(ChannelMessage.id)
    )
    return list((await session.execute(stmt)).scalars())
