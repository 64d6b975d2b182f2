"""Groups and the channels bound to them: the lookups that scope every request to one group."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import ChannelBinding, Group, Meeting, PendingJoin, Platform


class ChannelAlreadyBound(Exception):
    """The channel belongs to another group; one channel serves at most one group."""

    def __init__(self, binding: ChannelBinding) -> None:
        super().__init__(f"channel already bound to group {binding.group_id}")
        self.binding = binding


async def get_group(session: AsyncSession, group_id: int) -> Group | None:
    return await session.get(Group, group_id)


class AmbiguousGroupName(LookupError):
    """Several groups (in different workspaces or tenants) have this name; `candidates` says
    which, for the operator to name one exactly."""

    def __init__(self, name: str, candidates: Sequence[Group]) -> None:
        super().__init__(f"{len(candidates)} groups are named {name!r}")
        self.name = name
        self.candidates = list(candidates)


def _same_name(group: Group, wanted: str) -> bool:
    # Compared in Python: SQLite's lower() only folds ASCII (æ, ø, å).
    return group.name.casefold() == wanted


async def groups_named(
    session: AsyncSession, name: str, *, platform: str | None = None, workspace: str | None = None
) -> list[Group]:
    """Groups with this name (ignoring case), optionally only those homed in one workspace."""
    wanted = name.strip().casefold()
    stmt = select(Group).order_by(Group.id)
    if platform is not None:
        stmt = stmt.where(Group.home_platform == Platform(platform))
    if workspace is not None:
        stmt = stmt.where(Group.home_workspace == workspace)
    return [g for g in (await session.execute(stmt)).scalars() if _same_name(g, wanted)]


async def group_by_name(
    session: AsyncSession, name: str, *, platform: str | None = None, workspace: str | None = None
) -> Group | None:
    """Case-insensitive, so `oppsett næring` finds the group imported as "Næring". Raises
    AmbiguousGroupName when several groups (in different homes) match and no home is given."""
    found = await groups_named(session, name, platform=platform, workspace=workspace)
    exact = [g for g in found if g.name == name.strip()]
    if len(found) > 1 and len(exact) == 1 and platform is not None:
        return exact[0]
    if len(found) > 1:
        raise AmbiguousGroupName(name, found)
    return found[0] if found else None


async def visible_group_by_name(
    session: AsyncSession, name: str, platform: str, workspace_id: str
) -> Group | None:
    """The group of this name as seen from one workspace/tenant: one made here, else one with a
    channel bound here (joined with its secretariat's approval). Never a group only elsewhere:
    what `oppsett` answers must not say whether such a group exists."""
    home = await groups_named(session, name, platform=platform, workspace=workspace_id)
    if home:
        return home[0]
    bound = await groups_bound_in_workspace(session, platform, workspace_id)
    wanted = name.strip().casefold()
    return next((g for g in bound if _same_name(g, wanted)), None)


async def get_or_create_group(
    session: AsyncSession,
    name: str,
    *,
    organisation: str | None = None,
    locale: str | None = None,
    timezone: str | None = None,
    home_platform: str = Platform.CLI.value,
    home_workspace: str = "",
) -> tuple[Group, bool]:
    """The group with this name in this home (by default the command line's), or a new one
    there; the flag says whether it was created."""
    found = await groups_named(session, name, platform=home_platform, workspace=home_workspace)
    if found:
        return found[0], False
    group = Group(
        name=name.strip(),
        organisation=organisation or "",
        home_platform=Platform(home_platform),
        home_workspace=home_workspace,
    )
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


async def add_pending_join(
    session: AsyncSession,
    group: Group,
    platform: str,
    workspace_id: str,
    channel_id: str,
    user_id: str,
    user_name: str = "",
) -> tuple[PendingJoin, bool]:
    """A channel's request to join a group (one per channel and group); the flag says whether
    it is new."""
    stmt = select(PendingJoin).where(
        PendingJoin.group_id == group.id,
        PendingJoin.platform == Platform(platform),
        PendingJoin.workspace_id == workspace_id,
        PendingJoin.channel_id == channel_id,
    )
    existing = (await session.execute(stmt)).scalar_one_or_none()
    if existing is not None:
        return existing, False
    pending = PendingJoin(
        group_id=group.id,
        platform=Platform(platform),
        workspace_id=workspace_id,
        channel_id=channel_id,
        requested_by=user_id,
        requested_by_name=user_name[:300],
    )
    session.add(pending)
    await session.flush()
    return pending, True


async def get_pending_join(session: AsyncSession, pending_id: int) -> PendingJoin | None:
    return await session.get(PendingJoin, pending_id)
