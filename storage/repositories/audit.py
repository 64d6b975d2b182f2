"""The audit log of admin actions: append and read, never update.

What is recorded is decided by the handlers (see handlers/audit.py); this module only stores it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, Platform


async def append(
    session: AsyncSession,
    *,
    action: str,
    platform: Platform,
    at: datetime,
    group_id: int | None = None,
    group_name: str = "",
    workspace_id: str = "",
    actor_user_id: str = "",
    actor_member_id: int | None = None,
    actor_name: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        platform=platform,
        at=at,
        group_id=group_id,
        group_name=group_name,
        workspace_id=workspace_id,
        actor_user_id=actor_user_id,
        actor_member_id=actor_member_id,
        actor_name=actor_name,
        detail=detail or {},
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries(
    session: AsyncSession, *, group_ids: Sequence[int] | None = None, since: datetime | None = None
) -> list[AuditEntry]:
    """Oldest first; `group_ids` narrows to those groups, `since` to entries at or after it."""
    query = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id)
    if group_ids is not None:
        query = query.where(AuditEntry.group_id.in_(list(group_ids)))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return list((await session.execute(query)).scalars())


async def purge_before(session: AsyncSession, cutoff: datetime) -> int:
    """Retention: entries older than `cutoff` go (the only way a row ever leaves the log)."""
    result = await session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
