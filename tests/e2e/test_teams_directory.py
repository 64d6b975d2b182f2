"""Teams members who never wrote (issue 8): the real server links them to the roster from the
connector's member lists, and the messenger says "not found" for someone in none of them.

Against the fake Bot Connector over HTTP, with real-shaped activities: the bot added to a team
(GET /v3/conversations/{teamId}/pagedmembers), a personal install (GET …/members/{id}), people
joining a team later, and the Directory read a reminder pass does first.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.offline.fakes.teams_activities import fictional_user
from bot.teams.messenger import TeamsMessenger
from handlers.events import DirectTarget, Reply
from handlers.ports import DeliveryError, NotFound
from storage.models import ConversationReference, Platform, PlatformIdentity, Role
from tests.e2e.teams_fixtures import KARI, OLA, PER, SIRI, TENANT, TeamsWorld

pytestmark = [pytest.mark.e2e]

# Fictional people only.
LATER = fictional_user("Lise", "Senere", "example.no")


async def identities(teams: TeamsWorld) -> dict[int, tuple[str, str]]:
    async with teams.db.session() as s:
        rows = (
            await s.execute(select(PlatformIdentity).where(PlatformIdentity.platform == Platform.TEAMS))
        ).scalars()
        return {r.member_id: (r.workspace_id, r.user_id) for r in rows}


def messenger_of(teams: TeamsWorld) -> TeamsMessenger:
    messenger = teams.server.runtime.messengers.for_platform("teams")
    assert isinstance(messenger, TeamsMessenger)
    return messenger


async def test_added_to_a_team_the_bot_links_the_roster_members_in_its_member_list(teams: TeamsWorld) -> None:
    seeded = await teams.seed(
        members=((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER), (OLA, Role.MEMBER), (PER, Role.MEMBER))
    )
    teams.connector.add_team(teams.scenario.team_id, [SIRI, KARI, OLA])  # Per is not in the team
    assert (await teams.post(teams.scenario.bot_added_to_team(SIRI))).status == 200

    assert teams.scenario.team_id in teams.connector.member_list_reads
    linked = await identities(teams)
    assert linked == {seeded.members[user.id]: (TENANT, user.aad_object_id) for user in (SIRI, KARI, OLA)}
    # How to reach each of them later is kept (their account in the team), not a 1:1 chat yet.
    refs = {r.key: r.reference for r in await teams.rows(ConversationReference)}
    kari = refs[f"user:{KARI.aad_object_id}"]
    assert kari["user"]["id"] == KARI.id and kari["serviceUrl"] == teams.connector.url
    assert kari["conversation"]["conversationType"] == "channel"

    # Her first reminder creates the 1:1 chat proactively, and that chat is kept.
    target = DirectTarget("teams", TENANT, KARI.aad_object_id, KARI.email)
    assert await messenger_of(teams).send_direct(target, Reply(text="Husk runden"))
    [created] = teams.connector.created_conversations
    assert created["members"] == [{"id": KARI.id}] and created["tenantId"] == TENANT
    assert created["channelData"] == {"tenant": {"id": TENANT}}
    refs = {r.key: r.reference for r in await teams.rows(ConversationReference)}
    assert refs[f"user:{KARI.aad_object_id}"]["conversation"]["conversationType"] == "personal"


async def test_a_personal_install_links_the_installer_at_once(teams: TeamsWorld) -> None:
    seeded = await teams.seed(members=((SIRI, Role.SECRETARIAT), (OLA, Role.MEMBER)))
    assert (await teams.post(teams.scenario.bot_added_personal(OLA))).status == 200
    assert (teams.scenario.personal_conversation_id(OLA), OLA.id) in teams.connector.member_lookups
    assert (await identities(teams))[seeded.members[OLA.id]] == (TENANT, OLA.aad_object_id)
    # The reminder goes to the chat the install opened: nothing is created.
    target = DirectTarget("teams", TENANT, OLA.aad_object_id, OLA.email)
    await messenger_of(teams).send_direct(target, Reply(text="Husk runden"))
    assert teams.connector.created_conversations == []
    assert (
        len(teams.connector.activities(teams.scenario.personal_conversation_id(OLA))) == 2
    )  # hello, reminder


async def test_someone_who_joins_the_team_later_is_linked(teams: TeamsWorld) -> None:
    seeded = await teams.seed(members=((SIRI, Role.SECRETARIAT), (LATER, Role.MEMBER)))
    teams.connector.add_team(teams.scenario.team_id, [SIRI])
    await teams.post(teams.scenario.bot_added_to_team(SIRI))
    assert seeded.members[LATER.id] not in await identities(teams)
    teams.connector.add_member(LATER, team=teams.scenario.team_id)
    joined = teams.scenario.bot_added_to_team(SIRI)
    joined["membersAdded"] = [{"id": LATER.id, "aadObjectId": LATER.aad_object_id}]
    assert (await teams.post(joined)).status == 200
    assert (await identities(teams))[seeded.members[LATER.id]] == (TENANT, LATER.aad_object_id)


async def test_the_directory_read_before_a_pass_links_members_who_joined_meanwhile(teams: TeamsWorld) -> None:
    seeded = await teams.seed(members=((SIRI, Role.SECRETARIAT), (LATER, Role.MEMBER)))
    teams.connector.add_team(teams.scenario.team_id, [SIRI])
    await teams.post(teams.scenario.bot_added_to_team(SIRI))
    teams.connector.add_member(LATER, team=teams.scenario.team_id)  # no conversationUpdate heard
    messenger = messenger_of(teams)
    # The install's read is cached for a while; a pass after it has expired reads afresh.
    messenger._members.clear()
    assert await messenger.sync_members(TENANT) == 1
    assert (await identities(teams))[seeded.members[LATER.id]] == (TENANT, LATER.aad_object_id)
    assert await messenger.sync_members(TENANT) == 0


async def test_someone_in_no_member_list_is_not_found_and_an_unreadable_list_is_no_verdict(
    teams: TeamsWorld,
) -> None:
    await teams.seed(members=((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER)))
    teams.connector.add_team(teams.scenario.team_id, [SIRI, KARI])
    await teams.post(teams.scenario.bot_added_to_team(SIRI))
    messenger = messenger_of(teams)
    nobody = DirectTarget("teams", TENANT, "", "ingen.her@example.no")
    with pytest.raises(NotFound):
        await messenger.send_direct(nobody, Reply(text="Husk runden"))
    # When the member list cannot be read (the connector is throttling), that is no "not found".
    messenger._members.clear()
    teams.connector.throttle_member_lists(50, retry_after=60)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send_direct(nobody, Reply(text="Husk runden"))
    assert not isinstance(caught.value, NotFound) and not caught.value.permanent


async def test_a_guest_or_another_tenants_user_in_a_team_is_not_linked_by_email(teams: TeamsWorld) -> None:
    """A team's member list may hold guests and users of other tenants carrying a roster e-mail:
    an e-mail proves identity only inside the group's own tenant, so neither is linked."""
    import dataclasses

    seeded = await teams.seed(members=((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER), (OLA, Role.MEMBER)))
    guest = dataclasses.replace(fictional_user("Gjest", "Utenfra"), email=KARI.email, user_role="guest")
    foreign = dataclasses.replace(
        fictional_user("Annen", "Leietaker"), email=OLA.email, home_tenant="other-tenant-0000"
    )
    teams.connector.add_team(teams.scenario.team_id, [SIRI, guest, foreign])
    assert (await teams.post(teams.scenario.bot_added_to_team(SIRI))).status == 200
    linked = await identities(teams)
    assert seeded.members[KARI.id] not in linked and seeded.members[OLA.id] not in linked
    assert linked[seeded.members[SIRI.id]] == (TENANT, SIRI.aad_object_id)
