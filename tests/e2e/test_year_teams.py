"""Across meetings on Teams, end to end (issue 11): activities shaped as Teams sends them go to the
real server on loopback; a fake Bot Connector records what the bot sent and serves the files a
user sends in the personal chat. Nothing of Referent is mocked."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update

from bot.offline.fakes.bot_connector import RecordedActivity
from bot.offline.fakes.teams_activities import find_actions
from bot.scheduler import poll_close_job
from bot.teams.activity import VERB_BUTTON, VERB_POLL
from handlers.reminders import run_reminder_pass
from handlers.reminders.kinds import FOLLOW_UPS_OPEN
from storage.models import (
    AgendaItem,
    FollowUp,
    FollowUpStatus,
    Meeting,
    PendingImport,
    Poll,
    ReferatFinal,
    Role,
    Submission,
    SubmissionKind,
    Vote,
)
from tests.e2e.teams_fixtures import KARI, OLA, PER, SIRI, TeamsWorld
from tests.e2e.test_teams_flows import card_text
from tests.e2e.year_seeding import add_year, meeting_day, move_to_today
from tests.invitation_fixtures import TXT_SAK, docx_bytes

pytestmark = pytest.mark.e2e

FUTURE_TXT = TXT_SAK.replace("tirsdag 20. januar 2026", "tirsdag 21. januar 2031")
BAD_TXT = "Innkalling\nTid: 45.01.2031 kl 10-12\nSak 1 Godkjenning\nSak Tull\n"
MEMBERS = ((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER), (OLA, Role.MEMBER), (PER, Role.MEMBER))


def personal(teams: TeamsWorld, user: Any) -> list[RecordedActivity]:
    return teams.connector.activities(teams.scenario.personal_conversation_id(user))


async def personal_command(teams: TeamsWorld, user: Any, text: str, **kw: Any) -> list[RecordedActivity]:
    activity = teams.scenario.personal_message(user, text, **kw)
    assert (await teams.post(activity)).status == 200
    return teams.replies_to(activity) or personal(teams, user)[-1:]


async def channel_command(teams: TeamsWorld, user: Any, text: str) -> str:
    activity = teams.scenario.channel_message(user, text)
    assert (await teams.post(activity)).status == 200
    return teams.reply_text(activity)


async def press(teams: TeamsWorld, user: Any, message: RecordedActivity, label: str) -> str:
    """Press the button with this label on the card in `message` (personal chat); the command's
    answer goes to the conversation, like a typed one."""
    [card] = message.cards
    [action] = [a for a in find_actions(card, VERB_BUTTON) if a.get("title") == label]
    before = len(personal(teams, user))
    answer = await teams.post(
        teams.scenario.card_action_from(user, message.activity_id, action, personal=True)
    )
    assert answer.status == 200
    return "\n".join(a.text for a in personal(teams, user)[before:])


# --- 1. importing the invitation ------------------------------------------------------------------


async def test_pasted_invitation_in_the_personal_chat_then_confirm(teams: TeamsWorld) -> None:
    await teams.seed(meeting=False, members=MEMBERS)
    await channel_command(teams, SIRI, "hjelp")  # the bot now knows how to reach the channel
    replies = await personal_command(teams, SIRI, "mote importer\n" + FUTURE_TXT)
    shown = "\n".join(r.text for r in replies)
    assert "Klimabudsjett" in shown and "21. januar 2031" in shown
    [with_card] = [r for r in replies if r.cards]
    actions = find_actions(with_card.cards[0], VERB_BUTTON)
    assert [a["title"] for a in actions] == ["Importer", "Avbryt"]
    [pending] = await teams.rows(PendingImport)
    assert actions[0]["data"]["command"] == f"mote importer bekreft {pending.token}"
    assert await teams.count(Meeting) == 0

    # Kari (a member) pressing the same button imports nothing.
    [action] = [a for a in actions if a["title"] == "Importer"]
    stranger = await teams.post(
        teams.scenario.card_action_from(KARI, with_card.activity_id, action, personal=True)
    )
    assert stranger.status == 200
    assert await teams.count(Meeting) == 0

    done = await press(teams, SIRI, with_card, "Importer")
    assert "Importen er fullført" in done
    [meeting] = await teams.rows(Meeting)
    assert meeting.starts_at.astimezone().year == 2031
    assert await teams.count(AgendaItem) == 6
    assert await teams.count(PendingImport) == 0
    # The collection message went out in the group's channel.
    assert [
        a for a in teams.connector.activities(teams.scenario.channel_id) if "Runde rundt bordet" in a.text
    ]


async def test_docx_sent_in_the_personal_chat_is_fetched_and_imported(teams: TeamsWorld) -> None:
    await teams.seed(meeting=False, members=MEMBERS)
    attachment = teams.connector.share_file("innkalling.docx", docx_bytes())
    replies = await personal_command(teams, SIRI, "mote importer", files=(attachment,))
    assert teams.connector.downloads == ["file-0001"]
    assert "Arealplan for Vestfold" in "\n".join(r.text for r in replies)
    [with_card] = [r for r in replies if r.cards]
    await press(teams, SIRI, with_card, "Importer")
    assert "Arealplan for Vestfold" in {i.title for i in await teams.rows(AgendaItem)}


async def test_bad_invitation_lists_problems_and_cancel_keeps_nothing(teams: TeamsWorld) -> None:
    await teams.seed(meeting=False, members=MEMBERS)
    bad = "\n".join(r.text for r in await personal_command(teams, SIRI, "mote importer\n" + BAD_TXT))
    assert "linje 2" in bad and "linje 4" in bad
    assert await teams.count(PendingImport) == 0 and await teams.count(Meeting) == 0

    replies = await personal_command(teams, SIRI, "mote importer\n" + FUTURE_TXT)
    [with_card] = [r for r in replies if r.cards]
    cancelled = await press(teams, SIRI, with_card, "Avbryt")
    assert "avbrutt" in cancelled
    assert await teams.count(PendingImport) == 0 and await teams.count(Meeting) == 0


# --- 2. follow-ups carried forward ---------------------------------------------------------------


async def test_follow_ups_carried_closed_and_reminded_on_teams(teams: TeamsWorld) -> None:
    seeded = await teams.seed(members=MEMBERS, starts_in=timedelta(days=-7))
    assert seeded.meeting_id is not None
    year = await add_year(teams.db, seeded.group_id, seeded.meeting_id, seeded.members[KARI.id])

    status = await channel_command(teams, OLA, "oppfolging status")
    assert f"#{year.follow_up}" in status and "høringssvar" in status
    draft = await channel_command(teams, KARI, f"referat {await meeting_day(teams.db, year.next)}")
    carried = draft.split("Oppfølging fra tidligere møter", 1)[1]
    assert "høringssvar" in carried and "status: åpen" in carried

    # Kari is reminded once before the next meeting, in her personal chat.
    [meeting] = await teams.rows(Meeting, Meeting.id == year.next)
    ctx = teams.server.runtime.ctx
    report = await run_reminder_pass(ctx, now=meeting.starts_at - timedelta(minutes=30))
    assert [o.reminder.member_id for o in report.sent if o.reminder.kind == FOLLOW_UPS_OPEN] == [
        seeded.members[KARI.id]
    ]
    again = await run_reminder_pass(ctx, now=meeting.starts_at - timedelta(minutes=20))
    assert not [o for o in again.sent if o.reminder.kind == FOLLOW_UPS_OPEN]
    reminded = [
        a
        for a in teams.connector.activities()
        if not a.conversation_id.startswith(teams.scenario.channel_id) and "høringssvar" in a.text
    ]
    assert len(reminded) == 1

    refused = await channel_command(teams, PER, f"oppfolging ferdig {year.follow_up}")
    assert "bare meldes ferdig" in refused
    [item] = await teams.rows(FollowUp)
    assert item.status == FollowUpStatus.OPEN
    closed = await channel_command(teams, KARI, f"oppfolging ferdig {year.follow_up}")
    assert "er ferdig" in closed
    [item] = await teams.rows(FollowUp)
    assert item.status == FollowUpStatus.DONE and item.closed_in_meeting_id == year.next
    draft = await channel_command(teams, KARI, f"referat {await meeting_day(teams.db, year.next)}")
    assert "status: utført" in draft.split("Oppfølging fra tidligere møter", 1)[1]
    later = await channel_command(teams, KARI, f"referat {await meeting_day(teams.db, year.later)}")
    assert "høringssvar" not in later


# --- 3. approval and the final referat ---------------------------------------------------------


async def test_approve_freeze_and_fetch_the_final_version_on_teams(teams: TeamsWorld) -> None:
    seeded = await teams.seed(members=MEMBERS, starts_in=timedelta(days=-7))
    assert seeded.meeting_id is not None
    year = await add_year(teams.db, seeded.group_id, seeded.meeting_id, seeded.members[KARI.id])
    async with teams.db.session() as session:
        session.add(
            Submission(
                meeting_id=year.held,
                member_id=seeded.members[KARI.id],
                kind=SubmissionKind.ROUND,
                text="Vi har ansatt en ny rådgiver.",
                source_platform="teams",
            )
        )
    await move_to_today(teams.db, year.next)
    assert "godkjent" in await channel_command(teams, SIRI, "mote godkjenn-referat")
    [held] = await teams.rows(Meeting, Meeting.id == year.held)
    assert held.referat_approved_at is not None and held.referat_approved_by == SIRI.name

    day = await meeting_day(teams.db, year.held)
    frozen = await channel_command(teams, SIRI, f"referat endelig {day}")
    assert "SHA-256" in frozen and "Vi har ansatt en ny rådgiver" in frozen
    rows = {r.fmt: r for r in await teams.rows(ReferatFinal)}
    assert set(rows) == {"md", "html", "docx", "pdf"}
    assert rows["md"].sha256 in frozen

    # Teams cannot take a file from a bot: the Word file comes as a signed link to the stored bytes.
    word = await channel_command(teams, KARI, f"referat endelig docx {day}")
    links = dict(re.findall(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", word))
    link = next(url for label, url in links.items() if "Word" in label)
    path = link.split("referent.example.no", 1)[1]
    async with aiohttp.ClientSession() as http, http.get(teams.server.url + path) as response:
        assert response.status == 200
        body = await response.read()
    assert hashlib.sha256(body).hexdigest() == rows["docx"].sha256

    async with teams.db.session() as session:
        await session.execute(update(Submission).values(text="Endret etterpå"))
    again = await channel_command(teams, KARI, f"referat endelig {day}")
    assert "Vi har ansatt en ny rådgiver" in again and "Endret etterpå" not in again
    draft = await channel_command(teams, KARI, f"referat {day}")
    assert "Endret etterpå" in draft and "endelig versjon ble låst" in draft


# --- 4. polls that close -------------------------------------------------------------------------


async def test_poll_closes_on_teams_and_refuses_late_votes(teams: TeamsWorld) -> None:
    await teams.seed(members=MEMBERS)
    scenario = teams.scenario
    new_poll = 'grupper ny "Data | Kari Nordmann" "Sikkerhet | Per Olsen"'
    await teams.post(scenario.channel_message(SIRI, new_poll))
    [posted] = [a for a in teams.connector.activities() if a.cards and a.reply_to_id is None]
    join, _ = find_actions(posted.cards[0], VERB_POLL)
    assert (await teams.post(scenario.card_action_from(KARI, posted.activity_id, join))).status == 200

    assert "stenger" in await channel_command(teams, SIRI, "grupper frist 30.01.2031 12:00")
    [poll] = await teams.rows(Poll)
    assert poll.closes_at == datetime(2031, 1, 30, 11, 0, tzinfo=UTC)
    async with teams.db.session() as session:
        await session.execute(update(Poll).values(closes_at=datetime.now(UTC) - timedelta(seconds=1)))
    before = len([a for a in teams.connector.activities() if a.is_update])
    await poll_close_job(teams.server.runtime)
    await poll_close_job(teams.server.runtime)
    await teams.settle()
    updates = [a for a in teams.connector.activities() if a.is_update][before:]
    assert len(updates) == 1 and updates[0].activity_id == posted.activity_id
    shown = card_text(updates[0].cards[0])
    assert "stengt" in shown and "Kari Nordmann" in shown

    late = await teams.post(scenario.card_action_from(OLA, posted.activity_id, join))
    assert late.status == 200 and "stengt" in late.json()["value"]
    assert await teams.count(Vote) == 1

    exported = await channel_command(teams, SIRI, "grupper eksport")
    assert "Data: Kari Nordmann" in exported
    assert "sekretariat" in (await channel_command(teams, KARI, "grupper lukk")).lower()
    assert "allerede stengt" in await channel_command(teams, SIRI, "grupper lukk")
