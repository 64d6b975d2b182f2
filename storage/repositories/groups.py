"""Groups and the channels bound to them: the lookups that scope every request to one group."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import ChannelBinding, Group, Meeting, Platform


class ChannelAlreadyBound(Exception):
    """The channel belongs to another group; one channel serves at most one group."""

    def __init__(self, binding: ChannelBinding) -> None:
        super().__init__(f"channel already bound to group {binding.group_id}")
        self.binding = binding


async def get_group(session: AsyncSession, group_id: int) -> Group | None:
    return await session.get(Group, group_id)


async def group_by_name(session: AsyncSession, name: str) -> Group | None:
    """Case-insensitive, so `oppsett næring` finds the group imported as "Næring"."""
    name = name.strip()
    exact = (await session.execute(select(Group).where(Group.name == name))).scalar_one_or_none()
    if exact is not None:
        return exact
    rows = (await session.execute(select(Group).where(func.lower(Group.name) == name.lower()))).scalars()
    found = list(rows)
    if len(found) == 1:
        return found[0]
    # SQLite's lower() only folds ASCII: compare in Python for names with æ, ø, å.
    wanted = name.casefold()
    for group in (await session.execute(select(Group))).scalars():
        if group.name.casefold() == wanted:
            return group
    return None


async def get_or_create_group(
    session: AsyncSession,
    name: str,
    *,
    organisation: str | None = None,
    locale: str | None = None,
    timezone: str | None = None,
) -> tuple[Group, bool]:
    """The group with this name, or a new one; the flag says whether it was created."""
    group = await group_by_name(session, name)
    if group is not None:
        return group, False
    group = Group(name=name.strip(), organisation=organisation or "")
    if locale:
        group.locale = locale
    if timezone:
        group.timezone = timezone
    session.add(group)
    await session.flush()
    return group, True


async def find_binding(
    session: AsyncSession, platform: str, workspace_id: str, channel_id: str
) -> ChannelBinding | None:
    stmt = select(ChannelBinding).where(
        ChannelBinding.platform == Platform(platform),
        ChannelBinding.workspace_id == workspace_id,
        ChannelBinding.channel_id == channel_id,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def cached_group_of_channel(
    db: Database, platform: str, workspace_id: str, channel_id: str
) -> Group | None:
    """The group bound to this channel, from the read cache when it can be (a detached,
    read-only copy). Only found bindings are cached, so a channel just set up on another
    replica is seen at once."""

    async def load() -> Group | None:
        async with db.session() as session:
            binding = await find_binding(session, platform, workspace_id, channel_id)
            return await get_group(session, binding.group_id) if binding is not None else None

    key = ("group_of_channel", platform, workspace_id, channel_id)
    group = await db.cache.get_or_load(key, load, keep=lambda found: found is not None)
    return group if isinstance(group, Group) else None


async def bindings_of(session: AsyncSession, group_id: int) -> list[ChannelBinding]:
    stmt = select(ChannelBinding).where(ChannelBinding.group_id == group_id).order_by(ChannelBinding.id)
    return list((await session.execute(stmt)).scalars())


async def groups_bound_in_workspace(session: AsyncSession, platform: str, workspace_id: str) -> list[Group]:
    """Groups with at least one channel in this workspace/tenant: the only ones its users may see."""
    bound = select(ChannelBinding.group_id).where(
        ChannelBinding.platform == Platform(platform), ChannelBinding.workspace_id == workspace_id
    )
    stmt = select(Group).where(Group.id.in_(bound)).order_by(Group.id)
    return list((await session.execute(stmt)).scalars())


async def bind_channel(
    session: AsyncSession,
    group: Group,
    platform: str,
    workspace_id: str,
    channel_id: str,
) -> tuple[ChannelBinding, bool]:
    """Bind a channel to a group; the flag says whether the binding is new.

    Re-binding a channel to the group it already serves is a no-op; binding it to another group
    raises ChannelAlreadyBound. How to reach the channel (Teams) is kept apart, in the
    conversation references (conversations.py), in one copy.
    """
    existing = await find_binding(session, platform, workspace_id, channel_id)
    if existing is not None:
        if existing.group_id != group.id:
            raise ChannelAlreadyBound(existing)
        return existing, False
    binding = ChannelBinding(
        group_id=group.id,
        platform=Platform(platform),
        workspace_id=workspace_id,
        channel_id=channel_id,
    )
    session.add(binding)
    await session.flush()
    return binding, True


async def latest_meeting_start(session: AsyncSession, group_ids: Sequence[int]) -> dict[int, Any]:
    """Each group's most recent meeting start, to pick the liveliest group for a 1:1 chat."""
    if not group_ids:
        return {}
    stmt = (
        select(Meeting.group_id, func.max(Meeting.starts_at))
        .where(Meeting.group_id.in_(list(group_ids)))
        .group_by(Meeting.group_id)
    )
    return {gid: start for gid, start in (await session.execute(stmt)).all()}
