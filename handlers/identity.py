"""Who is asking, and in which group: every request is scoped here before anything is read.

The group comes from the channel binding (platform, workspace, channel), never from anything the
user typed, so a channel sees only its own group. In a 1:1 chat the user's own memberships decide,
limited to groups bound in the same workspace or tenant. The member is found by platform identity,
then by e-mail (ignoring case); a newcomer is only created when they actually store something.

E-mail proves identity only inside the group's own workspaces and tenants: every group reached
here is bound in the event's workspace (the channel's binding, or `groups_bound_in_workspace`),
an external user's e-mail (Slack Connect, a Teams guest or another tenant's user) is never used,
and an e-mail match never takes over a member already linked on that platform.

`lookup` does this outside any transaction, from the read cache (a `ScopeView`, for deciding
and answering); `resolve` does it inside the transaction that acts (a `Scope`, whose objects can
be changed).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import HandlerContext
from handlers.events import ChatEvent
from handlers.i18n import normalise_locale, resolve_locale
from storage.models import ChannelBinding, Group, Member, Platform, Role
from storage.repositories import groups as group_repo
from storage.repositories import members as member_repo


class Unresolved(enum.StrEnum):
    """Why a request could not be tied to a group (the answer is "how to set up")."""

    UNBOUND = "unbound"  # a channel no group is bound to (or from another workspace)
    DIRECT_UNKNOWN = "direct_unknown"  # a 1:1 chat with someone who is in no group here


@dataclass
class ScopeView:
    """The resolved request without a session: the group, the member (if known), the language
    and the moment; everything an answer needs. The group and member may be the read cache's
    detached copies: read them, never change them."""

    event: ChatEvent
    group: Group
    member: Member | None
    locale: str
    now: datetime
    linked: bool = False  # the member was found through this platform identity

    @property
    def timezone(self) -> str:
        return self.group.timezone or "Europe/Oslo"

    @property
    def role(self) -> Role | None:
        return self.member.role if self.member is not None else None

    @property
    def is_secretariat(self) -> bool:
        return self.role == Role.SECRETARIAT


@dataclass
class Scope(ScopeView):
    """The resolved request inside the transaction that acts on it: its objects can be changed."""

    session: AsyncSession = field(kw_only=True)
    binding: ChannelBinding | None = None
    duplicate: bool = False  # a redelivered event: answer, but change nothing


def trusted_email(event: ChatEvent) -> str | None:
    """The e-mail that may link this chat identity to a roster member: none for an external user."""
    return None if event.is_external else member_repo.normalise_email(event.user_email)


async def member_by_email(session: AsyncSession, group: Group, event: ChatEvent) -> Member | None:
    """The roster member this event's sender is by e-mail, when that may link them (see above)."""
    return await member_repo.by_email_to_link(session, group.id, platform_of(event), trusted_email(event))


def platform_of(event: ChatEvent) -> str:
    """The event's platform as stored (unknown values are treated as the CLI)."""
    try:
        return Platform(event.platform).value
    except ValueError:
        return Platform.CLI.value


async def _direct_group(session: AsyncSession, event: ChatEvent) -> tuple[Group, Member, bool] | None:
    platform = platform_of(event)
    candidates = await group_repo.groups_bound_in_workspace(session, platform, event.workspace_id)
    if not candidates:
        return None
    found: list[tuple[Group, Member, bool]] = []
    for group in candidates:
        member = await member_repo.by_identity(session, group.id, platform, event.workspace_id, event.user_id)
        linked = member is not None
        if member is None:
            member = await member_by_email(session, group, event)
        if member is not None:
            found.append((group, member, linked))
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    starts = await group_repo.latest_meeting_start(session, [g.id for g, _, _ in found])
    never = datetime.min.replace(tzinfo=UTC)

    def recency(entry: tuple[Group, Member, bool]) -> tuple[datetime, int]:
        return (starts.get(entry[0].id) or never, entry[0].id)

    return max(found, key=recency)


def _locale(event: ChatEvent, ctx: HandlerContext, group: Group, member: Member | None) -> str:
    return resolve_locale(
        event.locale,
        member_locale=member.locale if member is not None else None,
        group_locale=group.locale,
        default=ctx.settings.default_locale,
    )


async def lookup(event: ChatEvent, ctx: HandlerContext) -> ScopeView | Unresolved:
    """`resolve` outside any transaction, through the read cache: on the hot path (a bound
    channel, a linked member) it costs no SQL at all. For deciding and answering; a write
    re-checks what it depends on in its own transaction."""
    if event.is_direct:
        async with ctx.db.session() as session:
            resolved = await resolve(session, event, ctx)
        return resolved
    platform = platform_of(event)
    group = await group_repo.cached_group_of_channel(ctx.db, platform, event.workspace_id, event.channel_id)
    if group is None:
        return Unresolved.UNBOUND
    member = await member_repo.cached_by_identity(
        ctx.db, group.id, platform, event.workspace_id, event.user_id
    )
    linked = member is not None
    if member is None and trusted_email(event):
        async with ctx.db.session() as session:
            member = await member_by_email(session, group, event)
    return ScopeView(
        event=event,
        group=group,
        member=member,
        locale=_locale(event, ctx, group, member),
        now=ctx.now(),
        linked=linked,
    )


async def resolve(session: AsyncSession, event: ChatEvent, ctx: HandlerContext) -> Scope | Unresolved:
    """The group and member an event belongs to, or why there is none."""
    platform = platform_of(event)
    binding = await group_repo.find_binding(session, platform, event.workspace_id, event.channel_id)
    member: Member | None = None
    linked = False
    if binding is not None:
        group = await group_repo.get_group(session, binding.group_id)
        if group is None:  # pragma: no cover - the foreign key forbids it
            return Unresolved.UNBOUND
        member = await member_repo.by_identity(session, group.id, platform, event.workspace_id, event.user_id)
        linked = member is not None
        if member is None:
            member = await member_by_email(session, group, event)
    elif event.is_direct:
        direct = await _direct_group(session, event)
        if direct is None:
            return Unresolved.DIRECT_UNKNOWN
        group, member, linked = direct
    else:
        return Unresolved.UNBOUND
    return Scope(
        session=session,
        event=event,
        group=group,
        member=member,
        locale=_locale(event, ctx, group, member),
        now=ctx.now(),
        binding=binding,
        linked=linked,
    )


async def ensure_member(scope: Scope) -> Member:
    """The asking member, linked to this chat identity; a newcomer joins the group (off-roster)
    under their chat display name. Only called by commands that store something. Remembers the
    member's platform language for messages sent without an event (reminders)."""
    event = scope.event
    platform = platform_of(event)
    member = scope.member
    if member is None:
        first, last = member_repo.split_name(event.user_name or event.user_id)
        email = trusted_email(event)
        if email is not None and await member_repo.by_email(scope.session, scope.group.id, email):
            email = None  # that address belongs to a member linked to someone else: not theirs
        member = await member_repo.create_member(
            scope.session,
            scope.group.id,
            first or event.user_id,
            last,
            email=email,
            on_roster=False,
        )
        scope.member = member
    seen = normalise_locale(event.locale)
    if seen is not None and member.locale != seen:
        member.locale = seen  # so reminders, sent without an event, speak the member's language
    if not scope.linked:
        await member_repo.link_identity(
            scope.session, member, platform, event.workspace_id, event.user_id, event.user_name
        )
        scope.linked = True
    return member
