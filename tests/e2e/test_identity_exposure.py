"""E-mail proves identity only inside the group's own workspaces and tenants: a Slack Connect
external user, a Teams guest or another tenant's user with the secretariat's e-mail gets no role;
an existing link is never taken over by an e-mail match; the secretariat's `koble` links by hand.
Real server, really signed Slack requests, real-shaped Teams activities."""

from __future__ import annotations

import dataclasses

import pytest

from bot.offline.fakes.slack_api import FakeUser
from bot.offline.fakes.teams_activities import fictional_user
from storage.models import Member, PlatformIdentity, Role
from tests.e2e.slack_fixtures import CHANNEL, OTHER_TEAM, TEAM, SlackWorld
from tests.e2e.slack_fixtures import KARI as SLACK_KARI
from tests.e2e.slack_fixtures import SIRI as SLACK_SIRI
from tests.e2e.teams_fixtures import KARI, OTHER_TENANT, SIRI, TeamsWorld

pytestmark = pytest.mark.e2e


async def _role_of(world: SlackWorld | TeamsWorld, email: str) -> Role:
    [member] = await world.rows(Member, Member.email == email)
    return Role(member.role)


def _slack_text(answer: object) -> str:
    body = answer.json()  # type: ignore[attr-defined]
    return str(body.get("text", ""))


# -- Slack -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "impostor",
    [
        # A Slack Connect user from another organisation, whose directory says Siri's address.
        FakeUser("U0CONNECT", "Siri Sekretær", SLACK_SIRI.email, team_id=OTHER_TEAM),
        # Slack marks users of an organisation not connected to ours as strangers.
        FakeUser("U0STRANGE", "Siri Sekretær", SLACK_SIRI.email, team_id=TEAM, is_stranger=True),
    ],
    ids=["other-home-team", "stranger"],
)
async def test_a_slack_connect_user_with_the_secretariats_email_gets_no_role(
    slack: SlackWorld, impostor: FakeUser
) -> None:
    await slack.seed()
    slack.api.add_user(impostor)
    answer = await slack.command("/referent", "rolle Kari Nordmann sekretariat", user=impostor)
    assert answer.status == 200
    assert "sekretariatet" in _slack_text(answer).lower()
    assert await _role_of(slack, str(SLACK_KARI.email)) == Role.MEMBER
    assert await slack.count(PlatformIdentity, PlatformIdentity.user_id == impostor.id) == 0


async def test_a_mention_whose_payload_names_another_home_team_gets_no_role(slack: SlackWorld) -> None:
    """The event's own `user_team` says Slack Connect, even if users.info is not telling."""
    await slack.seed()
    guest = FakeUser("U0GJEST", "Siri Sekretær", SLACK_SIRI.email, team_id=TEAM)
    slack.api.add_user(guest)
    request = slack.requests.app_mention(
        "<@U0REFERENT> rolle Kari Nordmann sekretariat", user=guest.id, channel=CHANNEL, user_team=OTHER_TEAM
    )
    assert (await slack.send(request)).status == 200
    await slack.settle()
    assert await _role_of(slack, str(SLACK_KARI.email)) == Role.MEMBER
    assert await slack.count(PlatformIdentity, PlatformIdentity.user_id == guest.id) == 0


async def test_an_existing_slack_link_is_not_taken_over_by_an_email_match(slack: SlackWorld) -> None:
    await slack.seed()
    # Siri acts once: her chat identity is linked to her roster row.
    await slack.command("/referent", "rolle Kari Nordmann leder", user=SLACK_SIRI)
    assert await _role_of(slack, str(SLACK_KARI.email)) == Role.CHAIR
    # A second account in the same workspace reports the same address (a renamed or recreated
    # account, or a directory edited by someone): it does not become Siri.
    second = dataclasses.replace(SLACK_SIRI, id="U0SIRI2")
    slack.api.add_user(second)
    answer = await slack.command("/referent", "rolle Kari Nordmann sekretariat", user=second)
    assert "sekretariatet" in _slack_text(answer).lower()
    assert await _role_of(slack, str(SLACK_KARI.email)) == Role.CHAIR
    [siri_link] = await slack.rows(PlatformIdentity, PlatformIdentity.user_id.in_(["U0SIRI", "U0SIRI2"]))
    assert siri_link.user_id == "U0SIRI"


# -- Teams -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "impostor",
    [
        dataclasses.replace(
            fictional_user("Gjest", "Gjestesen", "example.no"), email=SIRI.email, user_role="guest"
        ),
        dataclasses.replace(
            fictional_user("Annen", "Tenant", "example.no"), email=SIRI.email, home_tenant=OTHER_TENANT
        ),
    ],
    ids=["guest", "other-tenant"],
)
async def test_a_teams_guest_or_other_tenant_user_with_the_secretariats_email_gets_no_role(
    teams: TeamsWorld, impostor: object
) -> None:
    await teams.seed()
    teams.connector.add_member(impostor)  # type: ignore[arg-type]
    activity = teams.scenario.channel_message(impostor, "rolle Kari Nordmann sekretariat")  # type: ignore[arg-type]
    assert (await teams.post(activity)).status == 200
    assert "sekretariatet" in teams.reply_text(activity).lower()
    assert await _role_of(teams, str(KARI.email)) == Role.MEMBER
    assert await teams.count(PlatformIdentity) == 0


async def test_the_secretariat_links_a_guest_by_hand_with_koble(teams: TeamsWorld) -> None:
    await teams.seed()
    guest = dataclasses.replace(fictional_user("Kari", "Gjest", "gjest.example.no"), user_role="guest")
    teams.connector.add_member(guest)
    # Before: the guest is nobody in the group.
    before = teams.scenario.channel_message(guest, "rolle Kari Nordmann leder")
    await teams.post(before)
    assert "sekretariatet" in teams.reply_text(before).lower()
    # A member cannot link.
    by_member = teams.scenario.channel_message(KARI, "koble @Kari Gjest Kari Nordmann", mentions=(guest,))
    await teams.post(by_member)
    assert "sekretariatet" in teams.reply_text(by_member).lower()
    # The secretariat links the guest account to Kari's roster row.
    linked = teams.scenario.channel_message(SIRI, "koble @Kari Gjest Kari Nordmann", mentions=(guest,))
    await teams.post(linked)
    assert "koblet til Kari Nordmann" in teams.reply_text(linked), teams.reply_text(linked)
    [kari] = await teams.rows(Member, Member.email == KARI.email)
    links = await teams.rows(PlatformIdentity, PlatformIdentity.member_id == kari.id)
    assert [link.user_id for link in links] == [guest.aad_object_id]
    # Now the guest speaks as Kari (her own data, her role), nothing more.
    mine = teams.scenario.channel_message(guest, "profil Gjestekommunen")
    await teams.post(mine)
    [kari] = await teams.rows(Member, Member.email == KARI.email)
    assert kari.organisation == "Gjestekommunen" and kari.role == Role.MEMBER


# -- group names belong to a workspace/tenant -------------------------------------------------------


async def test_oppsett_never_reveals_a_group_of_that_name_elsewhere(slack: SlackWorld) -> None:
    """The group "Faggruppe for test" lives in another Slack workspace; here `oppsett` with its
    name makes a new group, with the answer a never-used name gets."""
    from storage.models import ChannelBinding, Group

    theirs = await slack.seed(team=OTHER_TEAM, channel="C0ANDRE")
    taken = await slack.command("/referent", "oppsett Faggruppe for test", user=SLACK_SIRI)
    fresh = await slack.command("/referent", "oppsett Helt ny gruppe", user=SLACK_SIRI, channel="C0NY")
    same_shape = _slack_text(taken).replace("Faggruppe for test", "X").split("\n")[0]
    assert same_shape == _slack_text(fresh).replace("Helt ny gruppe", "X").split("\n")[0]
    groups = await slack.rows(Group, Group.name == "Faggruppe for test")
    assert [(g.home_platform.value, g.home_workspace) for g in groups] == [
        ("slack", OTHER_TEAM),
        ("slack", TEAM),
    ]
    assert await slack.count(ChannelBinding, ChannelBinding.group_id == theirs.group_id) == 1


async def test_another_tenant_joins_only_when_the_secretariat_approves(teams: TeamsWorld) -> None:
    from bot.offline.fakes.teams_activities import TeamsScenario
    from storage.models import ChannelBinding, PendingJoin

    seeded = await teams.seed(meeting=False, collection=False)
    # The group's channel has spoken once, so the bot can post there.
    assert (await teams.post(teams.scenario.channel_message(SIRI, "hjelp"))).status == 200
    elsewhere = TeamsScenario(
        service_url=teams.scenario.service_url,
        app_id=teams.scenario.app_id,
        tenant_id=OTHER_TENANT,
        channel_id="19:annen-kanal@thread.tacv2",
        team_id="19:annet-team@thread.tacv2",
    )
    teams.connector.add_member(dataclasses.replace(SIRI, home_tenant=OTHER_TENANT))
    ask = elsewhere.channel_message(SIRI, f"oppsett bli med {seeded.group_id}")
    assert (await teams.post(ask)).status == 200
    unknown = elsewhere.channel_message(SIRI, "oppsett bli med 9999")
    await teams.post(unknown)
    assert teams.reply_text(ask) == teams.reply_text(unknown)  # nothing said about the group
    assert "Faggruppe for test" not in teams.reply_text(ask)
    assert await teams.count(ChannelBinding) == 1
    # The group's own channel is told, with a button that approves.
    [pending] = await teams.rows(PendingJoin)
    notices = [
        a for a in teams.connector.activities(teams.scenario.channel_id) if f"godkjenn {pending.id}" in a.text
    ]
    assert notices, [a.text for a in teams.connector.activities()]
    # A member of the group cannot approve; the secretariat can, in the group's channel.
    by_member = teams.scenario.channel_message(KARI, f"oppsett godkjenn {pending.id}")
    await teams.post(by_member)
    assert await teams.count(ChannelBinding) == 1
    approve = teams.scenario.channel_message(SIRI, f"oppsett godkjenn {pending.id}")
    await teams.post(approve)
    assert "koblet til faggruppen" in teams.reply_text(approve), teams.reply_text(approve)
    bindings = await teams.rows(ChannelBinding, ChannelBinding.group_id == seeded.group_id)
    assert sorted(b.workspace_id for b in bindings) == sorted([teams.scenario.tenant_id, OTHER_TENANT])
    assert await teams.count(PendingJoin) == 0
