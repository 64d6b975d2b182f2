"""Every member reached (issue 8): a mixed Slack and Teams group, and one `referent remind` pass.

The group has 20 roster members and is bound to a Slack channel first and a Teams channel second:

- 8 have posted their round-table entry (4 with `/runde` on Slack, 4 in the Teams channel);
- 6 are Teams users who never wrote a word: two installed the app for themselves (a personal
  `conversationUpdate`), two were in the team when the bot was added to it, and two joined the
  team later (one of them listed only by UPN, not e-mail);
- 4 are Slack users who never wrote (found by users.lookupByEmail);
- 2 are on neither platform: one with an e-mail nobody knows, one with no e-mail at all.

Everything runs for real: the server on loopback with really signed Slack requests and
real-shaped Teams activities, `referent remind` as its own process against the fake Slack Web API
and the fake Bot Connector. One pass reminds the 10 reachable members, each once, on their own
platform; lists the 2 as unreachable, with why, and exits 0. A second pass at the same time sends
nothing. The draft's box for the secretariat lists the same two, with the same reasons.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.offline.fakes.bot_connector import FakeBotConnector, FakeTeamsUser
from bot.offline.fakes.slack_api import FakeSlackApi, FakeUser
from bot.offline.fakes.slack_requests import SlackRequests
from bot.offline.fakes.teams_activities import TeamsScenario, fictional_user
from handlers.referat.deadline import submission_deadline
from handlers.reminders.schedule import rule_from_settings
from storage.db import Database
from storage.models import (
    ChannelBinding,
    Group,
    Meeting,
    MeetingStatus,
    Member,
    Platform,
    PlatformIdentity,
    ReminderLog,
    ReminderState,
    Role,
    Submission,
)
from tests.e2e.meeting_clock import OSLO, first_reminder_pass, meeting_next_week
from tests.e2e.processes import BOT_TOKEN, process_env, run_cli
from tests.e2e.server import RunningServer, start_server
from tests.e2e.slack_fixtures import BOT_USER, SIGNING_SECRET, TEAM, slack_settings
from tests.e2e.teams_fixtures import APP_ID, TENANT

pytestmark = [pytest.mark.e2e]

SLACK_CHANNEL = "C0BLANDET"
GROUP = "Faggruppe for blandet plattform"

# Fictional people only.
SLACK_POSTED = [
    FakeUser(f"U0SP{i}", f"Slackpost{i} Testesen", f"slackpost{i}@kommune.example", team_id=TEAM)
    for i in range(4)
]
SLACK_SILENT = [
    FakeUser(f"U0SS{i}", f"Slackstille{i} Testesen", f"slackstille{i}@kommune.example", team_id=TEAM)
    for i in range(4)
]
TEAMS_POSTED = [fictional_user(f"Teamspost{i}", "Testesen", "kommune.example") for i in range(4)]
INSTALLED = [fictional_user(f"Installert{i}", "Testesen", "kommune.example") for i in range(2)]
IN_TEAM = [fictional_user(f"Iteamet{i}", "Testesen", "kommune.example") for i in range(2)]
JOINED_LATER = fictional_user("Senere", "Testesen", "kommune.example")
# In the member list by UPN only (no e-mail attribute), as for accounts without a mailbox.
UPN_ONLY = FakeTeamsUser(
    id="29:1upnonly0000000000000",
    aad_object_id="5b0e2f4a-1c3d-4e5f-8a9b-0c1d2e3f4a5b",
    name="Upn Testesen",
    email=None,
    user_principal_name="upn.testesen@kommune.example",
)
TEAMS_SILENT = [*INSTALLED, *IN_TEAM, JOINED_LATER, UPN_ONLY]
UNKNOWN_EMAIL = ("Ukjent", "Testesen", "ukjent.testesen@kommune.example")
NO_EMAIL = ("Utenepost", "Testesen", None)


def table_rows(output: str) -> list[list[str]]:
    """The rows of the CLI's table, each cell whole again (a long cell folds onto the lines
    below, whose first cell is empty)."""
    rows: list[list[str]] = []
    for line in output.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if cells[0] or not rows:
            rows.append(cells)
        else:
            rows[-1] = [" ".join(filter(None, (a, b))) for a, b in zip(rows[-1], cells, strict=True)]
    return rows


def statuses(output: str) -> dict[str, str]:
    """Recipient → status, from the CLI's table (direct messages only)."""
    return {row[4]: row[8] for row in table_rows(output) if not row[4].startswith("#")}


async def seed(db: Database, scenario: TeamsScenario, start: datetime) -> dict[str, int]:
    """What `oppsett` in both channels, `roster import` and `mote ny` leave behind."""
    roster: list[tuple[str, str, str | None]] = [
        *((u.real_name.split()[0], "Testesen", u.email) for u in SLACK_POSTED + SLACK_SILENT),
        *((u.name.split()[0], "Testesen", u.email or u.user_principal_name) for u in TEAMS_POSTED),
        *((u.name.split()[0], "Testesen", u.email or u.user_principal_name) for u in TEAMS_SILENT),
        UNKNOWN_EMAIL,
        NO_EMAIL,
    ]
    assert len(roster) == 20
    async with db.write() as session:
        group = Group(name=GROUP, organisation="Testregionen")
        session.add(group)
        await session.flush()
        session.add(
            ChannelBinding(
                group_id=group.id, platform=Platform.SLACK, workspace_id=TEAM, channel_id=SLACK_CHANNEL
            )
        )
        await session.flush()
        session.add(
            ChannelBinding(
                group_id=group.id,
                platform=Platform.TEAMS,
                workspace_id=TENANT,
                channel_id=scenario.channel_id,
            )
        )
        ids: dict[str, int] = {}
        for first, last, email in roster:
            # The secretariat typed the UPN-only person's address in capitals: case never matters.
            typed = email.upper() if email and email.startswith("upn.") else email
            member = Member(
                group_id=group.id,
                first_name=first,
                last_name=last,
                organisation="Testkommune",
                email=(typed or "").lower() or None,
                role=Role.MEMBER,
            )
            session.add(member)
            await session.flush()
            ids[first] = member.id
        session.add(
            Meeting(
                group_id=group.id,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                place="Teams",
                status=MeetingStatus.OPEN,
            )
        )
    return ids


async def reminder_time(db: Database) -> str:
    async with db.session() as session:
        meeting = (await session.execute(select(Meeting))).scalar_one()
        group = await session.get(Group, meeting.group_id)
        assert group is not None
        deadline = submission_deadline(meeting, group)
        rule = rule_from_settings(
            group.reminder_offsets, group.reminder_time, group.timezone, group.reminders_enabled
        )
    return first_reminder_pass(deadline, rule).astimezone(OSLO).isoformat()


async def post_teams(server: RunningServer, session: aiohttp.ClientSession, activity: dict) -> None:
    async with session.post(server.url + "/api/messages", json=activity) as response:
        assert response.status == 200, await response.text()
    await server.runtime.drain(timeout=10)


async def test_one_pass_reaches_every_member_on_their_own_platform(tmp_path: Path) -> None:
    api = FakeSlackApi(
        token=BOT_TOKEN,
        team_id=TEAM,
        bot_user_id=BOT_USER,
        users=[*SLACK_POSTED, *SLACK_SILENT],
    )
    await api.start()
    connector = FakeBotConnector(tenant_id=TENANT)
    await connector.start()
    scenario = TeamsScenario(service_url=connector.url, app_id=APP_ID, tenant_id=TENANT)
    # The team as it is when the bot is added: the posters, the two installers, the two members.
    connector.add_team(scenario.team_id, [*TEAMS_POSTED, *INSTALLED, *IN_TEAM])
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'referent.db'}"
    server = await start_server(
        slack_settings(
            api,
            tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            MICROSOFT_APP_ID="",
            MICROSOFT_APP_PASSWORD="",
            REFERENT_TEAMS_EMULATOR="1",  # unauthenticated Teams, loopback only: an explicit opt-in
        )
    )
    slack = SlackRequests(
        signing_secret=SIGNING_SECRET,
        team_id=TEAM,
        bot_user_id=BOT_USER,
        response_url_base=api.base + "/response",
    )
    db = server.runtime.db
    try:
        start = datetime.combine(meeting_next_week(), datetime.min.time(), OSLO).replace(hour=10)
        ids = await seed(db, scenario, start)
        async with aiohttp.ClientSession() as session:
            # The bot is added to the team: its member list links the roster members in it.
            await post_teams(server, session, scenario.bot_added_to_team(TEAMS_POSTED[0]))
            # Two people install the app for themselves: each is looked up and linked at once.
            for user in INSTALLED:
                await post_teams(server, session, scenario.bot_added_personal(user))
            # Eight post their round-table entry, four on each platform.
            for user in SLACK_POSTED:
                request = slack.slash(
                    "/runde", f"Nytt fra {user.real_name}", user=user.id, channel=SLACK_CHANNEL
                )
                async with session.post(
                    server.url + request.path, data=request.body, headers=request.headers
                ) as r:
                    assert r.status == 200, await r.text()
                await server.runtime.drain(timeout=10)
            for user in TEAMS_POSTED:
                await post_teams(
                    server, session, scenario.channel_message(user, f"runde Nytt fra {user.name}")
                )
        # Two more join the team later, without the bot hearing of it.
        connector.add_member(JOINED_LATER, team=scenario.team_id)
        connector.add_member(UPN_ONLY, team=scenario.team_id)

        async with db.session() as s:
            assert len((await s.execute(select(Submission))).scalars().all()) == 8
            linked_before = {m for m in (await s.execute(select(PlatformIdentity.member_id))).scalars()}
        # Linked before any reminder: the team's members and the installers (and the posters).
        for user in [*INSTALLED, *IN_TEAM]:
            assert ids[user.name.split()[0]] in linked_before, user.name
        assert ids["Senere"] not in linked_before and ids["Upn"] not in linked_before

        env = process_env(database_url, api)
        now = await reminder_time(db)
        slack_before = len(api.params("chat.postMessage"))
        teams_before = len(connector.activities())

        status, output = await run_cli(["remind", "--now", now], env, tmp_path, timeout=90)
        assert status == 0, output

        # Slack: the four silent Slack members, one DM each; the channel's summary once.
        posts = api.params("chat.postMessage")[slack_before:]
        dms = Counter(str(p["channel"]) for p in posts if str(p["channel"]).startswith("D"))
        assert dms == {"D" + u.id[1:]: 1 for u in SLACK_SILENT}, dms
        assert [p["channel"] for p in posts if not str(p["channel"]).startswith("D")] == [SLACK_CHANNEL]
        for user in SLACK_SILENT:  # each greeted by name, in their own DM
            [dm] = [p for p in posts if p["channel"] == "D" + user.id[1:]]
            assert user.real_name.split()[0] in str(dm.get("text")), dm
        # Slack was asked about the e-mails it might know, never about the Teams members'.
        looked_up = {str(p["email"]) for p in api.params("users.lookupByEmail")}
        assert looked_up == {u.email for u in SLACK_SILENT} | {UNKNOWN_EMAIL[2]}, looked_up

        # Teams: the installers in the chats they opened; the others in 1:1 chats the bot created
        # proactively (the member, the bot, the tenant); one message each; the summary once.
        sent = connector.activities()[teams_before:]
        per_conversation = Counter(a.conversation_id for a in sent if a.method == "POST")
        for user in INSTALLED:
            assert per_conversation[scenario.personal_conversation_id(user)] == 1, user.name
        created = {c["members"][0]["id"]: c for c in connector.created_conversations}
        assert set(created) == {u.id for u in [*IN_TEAM, JOINED_LATER, UPN_ONLY]}, list(created)
        for conversation in created.values():
            assert conversation["tenantId"] == TENANT
            assert conversation["channelData"] == {"tenant": {"id": TENANT}}
            assert conversation["bot"]["id"] == scenario.bot_id
            assert per_conversation[conversation["id"]] == 1
        for user in [*INSTALLED, *IN_TEAM, JOINED_LATER, UPN_ONLY]:
            chat = created[user.id]["id"] if user.id in created else scenario.personal_conversation_id(user)
            [reminder] = [a for a in sent if a.conversation_id == chat]
            assert user.name.split()[0] in reminder.text, reminder.text
        assert per_conversation[scenario.channel_id] == 1  # the summary
        assert sum(per_conversation.values()) == 6 + 1

        # The log: ten reminders and two summaries sent, the unknown e-mail unreachable.
        async with db.session() as s:
            rows = list((await s.execute(select(ReminderLog))).scalars())
            linked_after = {m for m in (await s.execute(select(PlatformIdentity.member_id))).scalars()}
        states = Counter(r.state for r in rows)
        assert states == {ReminderState.SENT: 12, ReminderState.UNREACHABLE: 1}, states
        [unreachable] = [r for r in rows if r.state == ReminderState.UNREACHABLE]
        assert unreachable.member_id == ids["Ukjent"]
        assert unreachable.error == "not_found:slack,teams"
        assert {ids["Senere"], ids["Upn"]} <= linked_after  # linked before the pass needed them

        # The table lists both, with why; the summary line counts them (and the two summaries).
        table = statuses(output)
        assert table["Ukjent Testesen"] == "kan ikke nås: ikke funnet i Slack eller Teams", output
        assert table["Utenepost Testesen"] == "kan ikke nås: ingen e-post i deltakerlisten", output
        assert Counter(table.values())["sendt"] == 10, output
        assert "12 sendt, 0 hoppet over, 0 feilet, 2 kan ikke nås, 0 utsatt." in output, output

        # A second pass at the same time sends nothing, and still says who cannot be reached.
        status, again = await run_cli(["remind", "--now", now], env, tmp_path, timeout=90)
        assert status == 0, again
        assert len(api.params("chat.postMessage")) == slack_before + len(posts)
        assert len(connector.activities()) == teams_before + len(sent)
        assert len(connector.created_conversations) == len(created)
        assert "0 sendt, 0 hoppet over, 0 feilet, 2 kan ikke nås, 0 utsatt." in again, again
        assert statuses(again) == {
            "Ukjent Testesen": "kan ikke nås: ikke funnet i Slack eller Teams",
            "Utenepost Testesen": "kan ikke nås: ingen e-post i deltakerlisten",
        }, again

        # The draft's box for the secretariat names the same two, with the same reasons.
        status, draft = await run_cli(
            ["referat", "--latest", "--format", "md", "-o", "-"], env, tmp_path, timeout=60
        )
        assert status == 0, draft
        assert "Kan ikke nås med påminnelser (2):" in draft, draft
        assert "Ukjent Testesen (Testkommune): ikke funnet i Slack eller Teams" in draft, draft
        assert "Utenepost Testesen (Testkommune): ingen e-post i deltakerlisten" in draft, draft
    finally:
        await server.stop()
        await connector.stop()
        await api.stop()
