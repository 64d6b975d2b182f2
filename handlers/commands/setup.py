"""`oppsett <gruppe> [| organisasjon]`: bind this channel to a group.

A new group is created and its creator becomes its secretariat. Binding a channel to an
EXISTING group requires that the user is that group's secretariat (by chat identity or e-mail):
otherwise anyone could read a group's data by binding a channel of their own to it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import parser as grammar
from handlers.command_table import command
from handlers.commands.common import refuse_text
from handlers.context import HandlerContext
from handlers.events import ChatEvent, Reply
from handlers.i18n import t
from handlers.identity import member_by_email, platform_of, trusted_email
from handlers.parsed import Setup
from handlers.text import clean
from storage.models import Role
from storage.repositories import groups as group_repo
from storage.repositories import members as member_repo

OPPSETT = command(
    "oppsett",
    aliases=("setup",),
    usage_nb="oppsett <gruppe> [| organisasjon]",
    usage_en="oppsett <group> [| organisation]",
    summary_nb="Knytt denne kanalen til en faggruppe",
    summary_en="Bind this channel to a working group",
    role="secretariat",
    grammar=grammar.oppsett,
    channel_only=True,  # it binds the channel it is typed in: no use in a 1:1 chat
    position=100,
)


@OPPSETT.handles_unbound(Setup)
async def run(cmd: Setup, event: ChatEvent, session: AsyncSession, ctx: HandlerContext, locale: str) -> Reply:
    """Works in bound and unbound channels alike (that is how a channel gets bound)."""
    if event.is_direct:
        return refuse_text(locale, "setup.direct")
    platform = platform_of(event)
    name = clean(cmd.group_name).strip()
    organisation = clean(cmd.organisation).strip() if cmd.organisation else None
    existing_binding = await group_repo.find_binding(session, platform, event.workspace_id, event.channel_id)
    group = await group_repo.group_by_name(session, name)
    if existing_binding is not None:
        bound = await group_repo.get_group(session, existing_binding.group_id)
        bound_name = bound.name if bound else ""
        if group is None or group.id != existing_binding.group_id:
            return refuse_text(locale, "setup.other_group", group=bound_name, wanted=name)
    if group is None:
        group, _ = await group_repo.get_or_create_group(
            session,
            name,
            organisation=organisation,
            locale=ctx.settings.default_locale,
            timezone=ctx.settings.default_timezone,
        )
        first, last = member_repo.split_name(event.user_name or event.user_id)
        creator = await member_repo.create_member(
            session, group.id, first or event.user_id, last, email=trusted_email(event), role=Role.SECRETARIAT
        )
        await member_repo.link_identity(
            session, creator, platform, event.workspace_id, event.user_id, event.user_name
        )
        await group_repo.bind_channel(session, group, platform, event.workspace_id, event.channel_id)
        return Reply(text=t(locale, "setup.created", group=group.name))
    member = await member_repo.by_identity(session, group.id, platform, event.workspace_id, event.user_id)
    linked = member is not None
    if member is None:
        member = await member_by_email(session, group, event)
    if member is None or member.role != Role.SECRETARIAT:
        return refuse_text(locale, "setup.not_secretariat", group=group.name)
    if not linked:
        await member_repo.link_identity(
            session, member, platform, event.workspace_id, event.user_id, event.user_name
        )
    _, created = await group_repo.bind_channel(session, group, platform, event.workspace_id, event.channel_id)
    lines = [t(locale, "setup.bound", group=group.name)] if created else []
    if organisation and organisation != group.organisation:
        group.organisation = organisation
        lines.append(t(locale, "setup.organisation_set", organisation=organisation))
    if not lines:
        lines.append(t(locale, "setup.already", group=group.name))
    return Reply(text="\n".join(lines))
