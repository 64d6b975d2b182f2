"""`oppsett <gruppe> [| organisasjon] [--språk en|nb]`: bind this channel to a group (and set
its language: a new group's, or, by its secretariat, an existing group's).

Group names belong to a workspace/tenant. `oppsett <navn>` finds the group of that name made in
this workspace (or already bound here), else creates one here, and its creator becomes its
secretariat. Binding a channel to an EXISTING group requires that the user is that group's
secretariat (by chat identity or e-mail): otherwise anyone could read a group's data by binding a
channel of their own to it. A group made in another workspace or tenant is never found by name:
the answer is the same whether or not one exists there.

Joining a group from another workspace or tenant is a request its secretariat must approve:
`oppsett bli med <gruppe-id>` stores a pending join and tells the group's channels (with a
button); `oppsett godkjenn <nr>`, typed by the group's secretariat in one of the group's own
channels, binds the asking channel. The asker always gets the same answer, so a request reveals
nothing about which group ids exist.
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import parser as grammar
from handlers.command_table import command
from handlers.commands.common import refuse_text
from handlers.context import HandlerContext
from handlers.events import ChatEvent, Effect, EffectKind, Reply
from handlers.i18n import t
from handlers.identity import member_by_email, platform_of, trusted_email
from handlers.parsed import Setup
from handlers.text import clean
from storage.models import Group, Member, Platform, Role
from storage.repositories import groups as group_repo
from storage.repositories import members as member_repo

OPPSETT = command(
    "oppsett",
    aliases=("setup",),
    usage_nb="oppsett <gruppe> [| organisasjon] [--språk nb|en]",
    usage_en="oppsett <group> [| organisation] [--language en|nb]",
    summary_nb="Knytt denne kanalen til en faggruppe",
    summary_en="Bind this channel to a working group",
    role="secretariat",
    grammar=grammar.oppsett,
    channel_only=True,  # it binds the channel it is typed in: no use in a 1:1 chat
    position=100,
)

_JOIN = re.compile(r"^(?:bli med|join)\s+#?(\d{1,9})$", re.IGNORECASE)
_APPROVE = re.compile(r"^(?:godkjenn|approve)\s+#?(\d{1,9})$", re.IGNORECASE)


@OPPSETT.handles_unbound(Setup, audit="setup")
async def run(cmd: Setup, event: ChatEvent, session: AsyncSession, ctx: HandlerContext, locale: str) -> Reply:
    """Works in bound and unbound channels alike (that is how a channel gets bound)."""
    if event.is_direct:
        return refuse_text(locale, "setup.direct")
    platform = platform_of(event)
    name = clean(cmd.group_name).strip()
    if (join := _JOIN.match(name)) is not None and not cmd.organisation:
        return await _request_join(int(join.group(1)), event, session, locale)
    if (approve := _APPROVE.match(name)) is not None and not cmd.organisation:
        return await _approve_join(int(approve.group(1)), event, session, locale)
    organisation = clean(cmd.organisation).strip() if cmd.organisation else None
    existing_binding = await group_repo.find_binding(session, platform, event.workspace_id, event.channel_id)
    group = await group_repo.visible_group_by_name(session, name, platform, event.workspace_id)
    if existing_binding is not None:
        bound = await group_repo.get_group(session, existing_binding.group_id)
        bound_name = bound.name if bound else ""
        if group is None or group.id != existing_binding.group_id:
            return refuse_text(locale, "setup.other_group", group=bound_name, wanted=name)
    if group is None:
        adopted = await _adopt_operator_group(session, name, event)
        if adopted is not None:
            group = adopted
    if group is None:
        group, _ = await group_repo.get_or_create_group(
            session,
            name,
            organisation=organisation,
            locale=cmd.locale or ctx.settings.default_locale,
            timezone=ctx.settings.default_timezone,
            home_platform=platform,
            home_workspace=event.workspace_id,
        )
        first, last = member_repo.split_name(event.user_name or event.user_id)
        creator = await member_repo.create_member(
            session, group.id, first or event.user_id, last, email=trusted_email(event), role=Role.SECRETARIAT
        )
        await member_repo.link_identity(
            session, creator, platform, event.workspace_id, event.user_id, event.user_name
        )
        await group_repo.bind_channel(session, group, platform, event.workspace_id, event.channel_id)
        return Reply(
            text="\n".join(
                (t(locale, "setup.created", group=group.name), t(locale, "setup.group_id", id=str(group.id)))
            )
        )
    member = await _secretariat_member(session, group.id, event)
    if member is None:
        return refuse_text(locale, "setup.not_secretariat", group=group.name)
    _, created = await group_repo.bind_channel(session, group, platform, event.workspace_id, event.channel_id)
    lines = [t(locale, "setup.bound", group=group.name)] if created else []
    if organisation and organisation != group.organisation:
        group.organisation = organisation
        lines.append(t(locale, "setup.organisation_set", organisation=organisation))
    if cmd.locale and cmd.locale != group.locale:
        group.locale = cmd.locale
        lines.append(t(cmd.locale, "language.set"))
    if not lines:
        lines.append(t(locale, "setup.already", group=group.name))
    return Reply(text="\n".join(lines))


async def _adopt_operator_group(session: AsyncSession, name: str, event: ChatEvent) -> Group | None:
    """A group the operator made with `roster import` (home: the command line, no channel yet)
    whose secretariat is the asker: it moves home here. Anyone else gets a new group of their own,
    so the answer never says that such a group exists."""
    for group in await group_repo.groups_named(session, name, platform=Platform.CLI.value, workspace=""):
        if await group_repo.bindings_of(session, group.id):
            continue
        if await _secretariat_member(session, group.id, event) is not None:
            group.home_platform = Platform(platform_of(event))
            group.home_workspace = event.workspace_id
            await session.flush()
            return group
    return None


async def _secretariat_member(session: AsyncSession, group_id: int, event: ChatEvent) -> Member | None:
    """The asking user as the group's secretariat (linking them on first use), or None."""
    platform = platform_of(event)
    member = await member_repo.by_identity(session, group_id, platform, event.workspace_id, event.user_id)
    linked = member is not None
    if member is None:
        group = await group_repo.get_group(session, group_id)
        member = await member_by_email(session, group, event) if group is not None else None
    if member is None or member.role != Role.SECRETARIAT:
        return None
    if not linked:
        await member_repo.link_identity(
            session, member, platform, event.workspace_id, event.user_id, event.user_name
        )
    return member


async def _request_join(group_id: int, event: ChatEvent, session: AsyncSession, locale: str) -> Reply:
    """Store a request to bind this channel to group `group_id` and tell the group's channels.
    The answer is the same whether the group exists or not."""
    platform = platform_of(event)
    binding = await group_repo.find_binding(session, platform, event.workspace_id, event.channel_id)
    if binding is not None:
        bound = await group_repo.get_group(session, binding.group_id)
        if binding.group_id == group_id:
            return Reply(text=t(locale, "setup.already", group=bound.name if bound else ""))
        return refuse_text(
            locale, "setup.other_group", group=bound.name if bound else "", wanted=str(group_id)
        )
    answer = Reply(text=t(locale, "setup.join_requested"))
    group = await group_repo.get_group(session, group_id)
    if group is None:
        return answer
    pending, created = await group_repo.add_pending_join(
        session, group, platform, event.workspace_id, event.channel_id, event.user_id, event.user_name
    )
    if not created:
        return answer
    return Reply(
        text=answer.text,
        effects=(Effect(EffectKind.JOIN_REQUESTED, pending.id, locale=group.locale),),
    )


async def _approve_join(pending_id: int, event: ChatEvent, session: AsyncSession, locale: str) -> Reply:
    """The group's secretariat, in one of the group's own channels, binds the asking channel."""
    platform = platform_of(event)
    binding = await group_repo.find_binding(session, platform, event.workspace_id, event.channel_id)
    pending = await group_repo.get_pending_join(session, pending_id)
    if binding is None or pending is None or pending.group_id != binding.group_id:
        return refuse_text(locale, "setup.join_unknown", number=str(pending_id))
    group = await group_repo.get_group(session, binding.group_id)
    if group is None or await _secretariat_member(session, group.id, event) is None:
        return refuse_text(locale, "setup.not_secretariat", group=group.name if group else "")
    try:
        await group_repo.bind_channel(
            session, group, pending.platform.value, pending.workspace_id, pending.channel_id
        )
    except group_repo.ChannelAlreadyBound:
        await session.delete(pending)
        return refuse_text(locale, "setup.join_unknown", number=str(pending_id))
    where = _where(pending.platform, pending.workspace_id)
    await session.delete(pending)
    return Reply(text=t(locale, "setup.join_approved", group=group.name, where=where))


def _where(platform: Platform, workspace_id: str) -> str:
    return f"{platform.value.capitalize()} {workspace_id}"
