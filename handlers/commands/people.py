"""`rolle @person <rolle>` (secretariat) and `profil <organisasjon>` (anyone)."""

from __future__ import annotations

from handlers import parser as grammar
from handlers.command_table import command
from handlers.commands.common import answer, find_person, refuse, require_secretariat, role_name
from handlers.context import HandlerContext
from handlers.events import Reply
from handlers.identity import Scope, ensure_member
from handlers.parsed import Profile, SetRole
from handlers.text import clean
from storage.models import Role
from storage.repositories import members as member_repo

ROLLE = command(
    "rolle",
    aliases=("role",),
    usage_nb="rolle @person <medlem|leder|sekretariat>",
    usage_en="rolle @person <member|chair|secretariat>",
    summary_nb="Gi en person en rolle i gruppen",
    summary_en="Give someone a role in the group",
    role="secretariat",
    grammar=grammar.rolle,
    in_menu=False,
    position=110,
)
PROFIL = command(
    "profil",
    aliases=("profile",),
    usage_nb="profil <organisasjon>",
    usage_en="profil <organisation>",
    summary_nb="Sett organisasjonen min (kommune, region …)",
    summary_en="Set my organisation (municipality, region …)",
    role="anyone",
    grammar=grammar.profil,
    position=120,
)


@ROLLE.handles(SetRole, audit=lambda c: ("role.set", {"person": c.person, "role": c.role}))
async def set_role(cmd: SetRole, scope: Scope, ctx: HandlerContext) -> Reply:
    refusal = await require_secretariat(scope, "rolle")
    if refusal is not None:
        return refusal
    person = await find_person(scope, cmd.person, cmd.person_user_id)
    if isinstance(person, Reply):
        return person
    role = Role(cmd.role)
    shown = role_name(scope.locale, role)
    if person.role == role:
        return answer(scope, "role.unchanged", name=person.name, role=shown)
    if person.role == Role.SECRETARIAT:
        secretariat = await member_repo.with_role(scope.session, scope.group.id, Role.SECRETARIAT)
        if len(secretariat) <= 1:
            return refuse(scope, "role.last_secretariat")
    await ensure_member(scope)
    person.role = role
    return answer(scope, "role.set", name=person.name, role=shown, group=scope.group.name)


@PROFIL.handles(Profile)
async def set_profile(cmd: Profile, scope: Scope, ctx: HandlerContext) -> Reply:
    organisation = clean(cmd.organisation).strip()
    member = await ensure_member(scope)
    member.organisation = organisation
    return answer(scope, "profile.saved", organisation=organisation)
