"""The audit log: an append-only record of every admin action (who, when, what, on which platform).

Recorded in the same transaction as the action itself, so an action that rolls back leaves no
entry and an entry never describes something that did not happen. What counts as an admin action:
binding a channel (`oppsett`), granting roles, creating, closing, reopening a meeting and moving
its deadline, attendance set for others, data export and deletion, roster import and revoking
draft links. Message text is never recorded: an entry names the action and its targets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.events import ChatEvent
from handlers.identity import ScopeView, platform_of
from storage.models import AuditEntry, Group, Member, Platform
from storage.repositories import audit as audit_repo


async def record(
    session: AsyncSession, scope: ScopeView, action: str, detail: Mapping[str, Any] | None = None
) -> AuditEntry:
    """An admin action done in chat by the scope's user, in the scope's group."""
    event = scope.event
    member = scope.member
    return await audit_repo.append(
        session,
        action=action,
        platform=Platform(platform_of(event)),
        at=scope.now,
        group_id=scope.group.id,
        group_name=scope.group.name,
        workspace_id=event.workspace_id,
        actor_user_id=event.user_id,
        actor_member_id=member.id if member is not None else None,
        actor_name=member.name if member is not None else event.user_name,
        detail=dict(detail or {}),
    )


async def record_event(
    session: AsyncSession,
    event: ChatEvent,
    action: str,
    *,
    at: datetime,
    group: Group | None,
    member: Member | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """An admin action done in chat outside a bound group's scope (`oppsett`, `data`): the
    actor is the event's user, `member` their row in `group` when known."""
    return await audit_repo.append(
        session,
        action=action,
        platform=Platform(platform_of(event)),
        at=at,
        group_id=group.id if group is not None else None,
        group_name=group.name if group is not None else "",
        workspace_id=event.workspace_id,
        actor_user_id=event.user_id,
        actor_member_id=member.id if member is not None else None,
        actor_name=member.name if member is not None else event.user_name,
        detail=dict(detail or {}),
    )


async def record_cli(
    session: AsyncSession,
    action: str,
    *,
    at: datetime,
    group: Group | None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """An admin action done from the command line (roster import): the actor is the operator."""
    return await audit_repo.append(
        session,
        action=action,
        platform=Platform.CLI,
        at=at,
        group_id=group.id if group is not None else None,
        group_name=group.name if group is not None else "",
        actor_name="referent CLI",
        detail=dict(detail or {}),
    )
