"""Conversation references: where the bot can reach a Teams user or channel later.

This table is the one store of them: the Teams messenger resolves a handler's neutral target
(a member's identity, a group's channel) to its reference here, and nothing else keeps a copy.
Keys are `user:<aadObjectId or id>` and `channel:<id>`. A user's 1:1 chat reference is worth
more than the channel reference they were last seen in (it lets a reminder go out without
creating a conversation), so a channel sighting never overwrites a personal one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConversationReference, Platform


def user_key(user_id: str) -> str:
    return f"user:{user_id}"


def channel_key(channel_id: str) -> str:
    return f"channel:{channel_id}"


def is_personal(reference: dict[str, Any] | None) -> bool:
    conversation = (reference or {}).get("conversation")
    return isinstance(conversation, dict) and conversation.get("conversationType") == "personal"


async def find_reference(
    session: AsyncSession, platform: str, workspace_id: str, key: str
) -> dict[str, Any] | None:
    stmt = select(ConversationReference.reference).where(
        ConversationReference.platform == Platform(platform),
        ConversationReference.workspace_id == workspace_id,
        ConversationReference.key == key,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def save_reference(
    session: AsyncSession, platform: str, workspace_id: str, key: str, reference: dict[str, Any]
) -> bool:
    """Insert or update; returns whether anything changed. A personal (1:1) reference for a user
    is only replaced by another personal one."""
    stmt = select(ConversationReference).where(
        ConversationReference.platform == Platform(platform),
        ConversationReference.workspace_id == workspace_id,
        ConversationReference.key == key,
    )
    existing = (await session.execute(stmt)).scalar_one_or_none()
    if existing is None:
        row = ConversationReference(
            platform=Platform(platform), workspace_id=workspace_id, key=key, reference=reference
        )
        try:
            async with session.begin_nested():
                session.add(row)
        except IntegrityError:  # a concurrent twin inserted it first: update that one instead
            return await save_reference(session, platform, workspace_id, key, reference)
        return True
    if key.startswith("user:") and is_personal(existing.reference) and not is_personal(reference):
        merged = dict(existing.reference)
        if reference.get("serviceUrl") and reference.get("serviceUrl") != merged.get("serviceUrl"):
            merged["serviceUrl"] = reference["serviceUrl"]
            existing.reference = merged
            return True
        return False
    if existing.reference == reference:
        return False
    existing.reference = reference
    return True


async def save_references(
    session: AsyncSession,
    platform: str,
    workspace_id: str,
    references: Iterable[tuple[str, dict[str, Any]]],
) -> int:
    """Save several (key, reference) pairs (a sender's and their conversation's); how many changed."""
    changed = 0
    for key, reference in references:
        changed += await save_reference(session, platform, workspace_id, key, reference)
    return changed


async def references_in_workspace(
    session: AsyncSession, platform: str, workspace_id: str, prefix: str = "channel:"
) -> list[tuple[str, dict[str, Any]]]:
    """Every stored reference of one kind in a tenant (to find a team's member list)."""
    stmt = (
        select(ConversationReference.key, ConversationReference.reference)
        .where(
            ConversationReference.platform == Platform(platform),
            ConversationReference.workspace_id == workspace_id,
            ConversationReference.key.startswith(prefix),
        )
        .order_by(ConversationReference.updated_at.desc())
    )
    return [(k, r) for k, r in (await session.execute(stmt)).all()]


async def delete_reference(session: AsyncSession, platform: str, workspace_id: str, key: str) -> int:
    """Forget one reference (`data slett`: the member's own)."""
    result = await session.execute(
        delete(ConversationReference).where(
            ConversationReference.platform == Platform(platform),
            ConversationReference.workspace_id == workspace_id,
            ConversationReference.key == key,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
