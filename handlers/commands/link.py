"""`koble @bruker <navn>` (secretariat): link a chat user to a roster member by hand.

E-mail links a chat user to the roster only inside the group's own workspaces and tenants, and
never over an existing link (handlers/identity.py). The rare real case beyond that (a member who
chats from a guest account, or whose address differs) is the secretariat's explicit decision:
this command, recorded in the audit log. The member is named by name, the chat user by a real
platform mention, so neither can be a look-alike.
"""

from __future__ import annotations

from handlers import parser as grammar
from handlers.command_table import command
from handlers.commands.common import answer, find_person, require_secretariat
from handlers.context import HandlerContext
from handlers.events import Reply
from handlers.identity import Scope, ensure_member, platform_of
from handlers.parsed import LinkIdentity
from storage.repositories import members as member_repo

KOBLE = command(
    "koble",
    aliases=("link",),
    usage_nb="koble @bruker <navn på listen>",
    usage_en="koble @user <name on the roster>",
    summary_nb="Koble en chat-bruker til et medlem på deltakerlisten",
    summary_en="Link a chat user to a member on the roster",
    role="secretariat",
    grammar=grammar.koble,
    in_menu=False,
    position=115,
)


@KOBLE.handles(
    LinkIdentity, audit=lambda c: ("identity.link", {"user_id": c.user_id, "member": c.member})
)
async def link(cmd: LinkIdentity, scope: Scope, ctx: HandlerContext) -> Reply:
    refusal = await require_secretariat(scope, "koble")
    if refusal is not None:
        return refusal
    person = await find_person(scope, cmd.member, None)
    if isinstance(person, Reply):
        return person
    await ensure_member(scope)
    event = scope.event
    platform = platform_of(event)
    # The chat user stops being whoever they were linked to in this group before.
    await member_repo.unlink_user(
        scope.session, scope.group.id, platform, event.workspace_id, cmd.user_id, keep=person.id
    )
    await member_repo.link_identity(
        scope.session, person, platform, event.workspace_id, cmd.user_id, cmd.user_name
    )
    return answer(scope, "link.linked", user=cmd.user_name, name=person.name, group=scope.group.name)
