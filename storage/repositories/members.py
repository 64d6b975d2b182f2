"""Members of a group's roster and the chat identities linked to them.

E-mail is stored lower-case and compared without regard to case, because rosters are typed by
hand and chat platforms report addresses in whatever case the directory holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Member, Platform, PlatformIdentity, ReminderLog, Role


def normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def split_name(full_name: str) -> tuple[str, str]:
    """`"Kari Nordmann Hansen"` → (`"Kari Nordmann"`, `"Hansen"`): the last word is the surname."""
    words = full_name.split()
    if not words:
        return ("", "")
    if len(words) == 1:
        return (words[0], "")
    return (" ".join(words[:-1]), words[-1])


async def get_member(session: AsyncSession, member_id: int) -> Member | None:
    return await session.get(Member, member_id)


async def by_identity(
    session: AsyncSession, group_id: int, platform: str, workspace_id: str, user_id: str
) -> Member | None:
    stmt = (
        select(Member)
        .join(PlatformIdentity, PlatformIdentity.member_id == Member.id)
        .where(
            Member.group_id == group_id,
            PlatformIdentity.platform == Platform(platform),
            PlatformIdentity.workspace_id == workspace_id,
            PlatformIdentity.user_id == user_id,
        )
    )
    return (await session.execute(stmt)).scalars().first()


async def linked_members(
    session: AsyncSession, group_id: int, platform: str, workspace_id: str
) -> dict[str, Member]:
    """The group's members linked to a chat identity on this platform and workspace, by user id."""
    stmt = (
        select(PlatformIdentity.user_id, Member)
        .join(Member, Member.id == PlatformIdentity.member_id)
        .where(
            Member.group_id == group_id,
            PlatformIdentity.platform == Platform(platform),
            PlatformIdentity.workspace_id == workspace_id,
        )
        .order_by(PlatformIdentity.id)
    )
    return {user_id: member for user_id, member in (await session.execute(stmt)).all()}


async def cached_by_identity(
    db: Database, group_id: int, platform: str, workspace_id: str, user_id: str
) -> Member | None:
    """`by_identity` through the read cache (a detached, read-only copy). The cache holds all of
    a group's linked members as one entry, so refreshing it is one query however many post. A
    user not linked yet is not in it: their first write links them, and clears the cache."""

    async def load() -> dict[str, Member]:
        async with db.session() as session:
            return await linked_members(session, group_id, platform, workspace_id)

    linked = await db.cache.get_or_load(("linked_members", group_id, platform, workspace_id), load)
    member = linked.get(user_id) if isinstance(linked, dict) else None
    return member if isinstance(member, Member) else None


async def by_email(session: AsyncSession, group_id: int, email: str | None) -> Member | None:
    email = normalise_email(email)
    if email is None:
        return None
    stmt = select(Member).where(Member.group_id == group_id, func.lower(Member.email) == email)
    return (await session.execute(stmt)).scalars().first()


async def unlinked_by_email(
    session: AsyncSession, group_ids: Sequence[int], platform: str, emails: Sequence[str]
) -> list[Member]:
    """Roster members of these groups whose e-mail is one of `emails` (lower-case) and who have
    no identity on this platform yet: the ones a platform's member list can link."""
    if not group_ids or not emails:
        return []
    linked = select(PlatformIdentity.member_id).where(PlatformIdentity.platform == Platform(platform))
    found: list[Member] = []
    wanted = sorted(set(emails))
    for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
        stmt = (
            select(Member)
            .where(
                Member.group_id.in_(group_ids),
                Member.on_roster.is_(True),
                func.lower(Member.email).in_(wanted[start : start + 500]),
                Member.id.not_in(linked),
            )
            .order_by(Member.id)
        )
        found.extend((await session.execute(stmt)).scalars())
    return found


async def has_identity(session: AsyncSession, member_id: int, platform: str) -> bool:
    """Whether the member is already linked to a chat identity on this platform."""
    stmt = select(PlatformIdentity.id).where(
        PlatformIdentity.member_id == member_id, PlatformIdentity.platform == Platform(platform)
    )
    return (await session.execute(stmt.limit(1))).first() is not None


async def by_email_to_link(
    session: AsyncSession, group_id: int, platform: str, email: str | None
) -> Member | None:
    """The member this e-mail may link a new chat identity to: one not yet linked on this
    platform. An existing link is never overwritten by an e-mail match (the secretariat's
    `koble` does that, on purpose)."""
    member = await by_email(session, group_id, email)
    if member is None or await has_identity(session, member.id, platform):
        return None
    return member


async def memberships(
    session: AsyncSession,
    group_ids: Sequence[int],
    platform: str,
    workspace_id: str,
    user_id: str,
    email: str | None,
) -> list[Member]:
    """Members (one per group at most) that this chat user is, by identity first, then e-mail
    (only a member not linked on this platform yet; the caller passes no e-mail for an external
    user)."""
    found: dict[int, Member] = {}
    for group_id in group_ids:
        member = await by_identity(session, group_id, platform, workspace_id, user_id)
        if member is None:
            member = await by_email_to_link(session, group_id, platform, email)
        if member is not None:
            found[group_id] = member
    return list(found.values())


async def link_identity(
    session: AsyncSession,
    member: Member,
    platform: str,
    workspace_id: str,
    user_id: str,
    display_name: str = "",
) -> PlatformIdentity:
    """Link (or re-link) a chat user to a member; a member has one identity per platform."""
    stmt = select(PlatformIdentity).where(
        PlatformIdentity.member_id == member.id, PlatformIdentity.platform == Platform(platform)
    )
    identity = (await session.execute(stmt)).scalar_one_or_none()
    if identity is None:
        identity = PlatformIdentity(
            member_id=member.id,
            platform=Platform(platform),
            workspace_id=workspace_id,
            user_id=user_id,
            display_name=display_name,
        )
        session.add(identity)
    else:
        identity.workspace_id = workspace_id
        identity.user_id = user_id
        if display_name:
            identity.display_name = display_name
    await session.flush()
    return identity


async def unlink_user(
    session: AsyncSession, group_id: int, platform: str, workspace_id: str, user_id: str, *, keep: int
) -> None:
    """Remove this chat user's link to any member of the group other than `keep`."""
    in_group = select(Member.id).where(Member.group_id == group_id)
    await session.execute(
        delete(PlatformIdentity).where(
            PlatformIdentity.platform == Platform(platform),
            PlatformIdentity.workspace_id == workspace_id,
            PlatformIdentity.user_id == user_id,
            PlatformIdentity.member_id != keep,
            PlatformIdentity.member_id.in_(in_group),
        )
    )


async def touch_identity(
    session: AsyncSession,
    member_id: int,
    platform: str,
    now: datetime,
    *,
    every: timedelta = timedelta(days=1),
) -> None:
    """Note that a member's chat identity acted now (at most once per `every`, so a busy member
    costs one small UPDATE a day): retention forgets identities unused for its period."""
    await session.execute(
        update(PlatformIdentity)
        .where(
            PlatformIdentity.member_id == member_id,
            PlatformIdentity.platform == Platform(platform),
            PlatformIdentity.last_seen_at.is_(None) | (PlatformIdentity.last_seen_at < now - every),
        )
        .values(last_seen_at=now)
    )


async def identities_of(session: AsyncSession, member_id: int) -> list[PlatformIdentity]:
    stmt = (
        select(PlatformIdentity).where(PlatformIdentity.member_id == member_id).order_by(PlatformIdentity.id)
    )
    return list((await session.execute(stmt)).scalars())


async def create_member(
    session: AsyncSession,
    group_id: int,
    first_name: str,
    last_name: str = "",
    *,
    organisation: str = "",
    email: str | None = None,
    role: Role = Role.MEMBER,
    title: str = "",
    on_roster: bool = True,
) -> Member:
    member = Member(
        group_id=group_id,
        first_name=first_name,
        last_name=last_name,
        organisation=organisation,
        email=normalise_email(email),
        role=role,
        title=title,
        on_roster=on_roster,
    )
    session.add(member)
    await session.flush()
    return member


async def members_of(session: AsyncSession, group_id: int, *, roster_only: bool = False) -> list[Member]:
    """Members in roster order (the order they were imported or joined)."""
    stmt = select(Member).where(Member.group_id == group_id)
    if roster_only:
        stmt = stmt.where(Member.on_roster.is_(True))
    return list((await session.execute(stmt.order_by(Member.id))).scalars())


async def with_role(session: AsyncSession, group_id: int, role: Role) -> list[Member]:
    stmt = select(Member).where(Member.group_id == group_id, Member.role == role).order_by(Member.id)
    return list((await session.execute(stmt)).scalars())


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


async def by_name(session: AsyncSession, group_id: int, name: str) -> list[Member]:
    """Members whose full name matches (ignoring case and spacing); failing that, whose first
    name or surname alone matches. Several results mean the name is ambiguous."""
    wanted = _fold(name.lstrip("@"))
    if not wanted:
        return []
    members = await members_of(session, group_id)
    full = [m for m in members if _fold(m.name) == wanted]
    if full:
        return full
    stmt = (
        select(PlatformIdentity.member_id, PlatformIdentity.display_name)
        .join(Member, Member.id == PlatformIdentity.member_id)
        .where(Member.group_id == group_id)
    )
    shown = {mid for mid, display in (await session.execute(stmt)).all() if _fold(display or "") == wanted}
    if shown:
        return [m for m in members if m.id in shown]
    return [m for m in members if wanted in (_fold(m.first_name), _fold(m.last_name))]


async def anonymise(session: AsyncSession, member: Member, first_name: str, last_name: str) -> int:
    """Erase a member's personal data but keep the row, so meeting records stay consistent:
    identities go, the name becomes a placeholder, e-mail and organisation are cleared.
    Returns how many chat identities were unlinked."""
    result = await session.execute(delete(PlatformIdentity).where(PlatformIdentity.member_id == member.id))
    await session.execute(delete(ReminderLog).where(ReminderLog.member_id == member.id))
    member.first_name = first_name
    member.last_name = last_name
    member.email = None
    member.organisation = ""
    member.title = ""
    member.locale = None
    member.on_roster = False
    member.role = Role.MEMBER
    member.data_generation = (member.data_generation or 0) + 1  # personal-export links die
    await session.flush()
    return int(getattr(result, "rowcount", 0) or 0)
