"""Roles, privacy rights and the audit log at the HTTP boundary (issue 10, items 7, 9, 10, 11, 13):
really signed Slack requests and real-shaped Teams activities against the real server on loopback;
only the platforms' APIs are fakes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.offline.fakes.slack_api import FakeUser
from storage.models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    ConversationReference,
    FollowUp,
    Meeting,
    Member,
    Platform,
    PlatformIdentity,
    Role,
    Submission,
)
from tests.e2e.slack_fixtures import ANNE, CHANNEL, KARI, OLA, PER, PUBLIC_URL, SIRI, TEAM, SlackWorld
from tests.e2e.teams_fixtures import KARI as TEAMS_KARI
from tests.e2e.teams_fixtures import SIRI as TEAMS_SIRI
from tests.e2e.teams_fixtures import TeamsWorld

pytestmark = pytest.mark.e2e

ROSTER = ((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER), (OLA, Role.MEMBER))


def _text(answer: Any) -> str:
    assert answer.status == 200, answer.text
    body = answer.json()
    return str(body.get("text", "")) + json.dumps(body.get("blocks", []), ensure_ascii=False)


def _urls(body: dict[str, object]) -> list[str]:
    blocks = body.get("blocks", [])
    assert isinstance(blocks, list)
    return [e["url"] for b in blocks if b["type"] == "actions" for e in b["elements"] if "url" in e]


async def _audit(world: SlackWorld | TeamsWorld) -> list[AuditEntry]:
    async with world.db.session() as session:
        return list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())


async def _get(world: SlackWorld | TeamsWorld, public: str) -> tuple[int, str]:
    async with world.session.get(world.server.url + public.removeprefix(PUBLIC_URL)) as page:
        return page.status, await page.text()


# -- item 7: roles ---------------------------------------------------------------------------------


async def test_a_guest_cannot_excuse_a_member_by_standing_in_for_them(slack: SlackWorld) -> None:
    """Per is not on the roster: after naming Kari's organisation he still may not `vara for` her
    (that would mark her excused); a member's `forfall @Kari` is refused too."""
    seeded = await slack.seed(members=ROSTER)
    assert "Testkommune" in _text(await slack.command("/referent", "profil Testkommune", user=PER))
    refused = _text(await slack.command("/referent", "vara for <@U0KARI|kari.nordmann>", user=PER))
    assert "deltakerlisten" in refused
    other = _text(await slack.command("/referent", "forfall <@U0KARI|kari.nordmann>", user=OLA))
    assert "only the secretariat (or the chair) can register attendance for others" in other.lower()
    assert await slack.count(Attendance) == 0
    # the secretariat may, and that is audited
    await slack.command("/referent", "forfall <@U0KARI|kari.nordmann>", user=SIRI)
    [row] = await slack.rows(Attendance)
    assert (row.member_id, row.status) == (seeded.members[KARI.id], AttendanceStatus.EXCUSED)
    [entry] = await _audit(slack)
    assert (entry.action, entry.actor_user_id, entry.detail) == (
        "attendance.excused",
        SIRI.id,
        {"people": ["Kari Nordmann"]},
    )


async def test_referat_is_for_the_roster_and_the_secretariat(slack: SlackWorld) -> None:
    await slack.seed(members=ROSTER)
    for fmt in ("", "html", "docx", "md"):
        answer = await slack.command("/referat", fmt, user=PER)  # in the workspace, not on the roster
        text = _text(answer)
        assert "medlemmene av Faggruppe for test" in text and not _urls(answer.json()), fmt
    # a guest who joined by posting is no roster member either
    await slack.command("/runde", "Hei fra gjest", user=ANNE)
    assert "medlemmene av" in _text(await slack.command("/referat", "html", user=ANNE))
    assert slack.api.count("files.completeUploadExternal") == 0
    assert _urls((await slack.command("/referat", "html", user=KARI)).json())
    assert _urls((await slack.command("/referat", "html", user=SIRI)).json())


async def test_data_slett_asks_first_and_the_last_secretariat_member_stays(slack: SlackWorld) -> None:
    await slack.seed(members=ROSTER)
    await slack.command("/runde", "Mitt innlegg", user=KARI)
    asked = await slack.command("/referent", "data slett", user=KARI)
    assert "data slett bekreft" in _text(asked)
    buttons = [e for b in asked.json()["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b.get("value") for b in buttons] == ["data slett bekreft"]
    assert await slack.count(Submission) == 1 and await _audit(slack) == []
    # the button runs `data slett bekreft`
    [button] = buttons
    click = slack.requests.block_actions(
        user=KARI.id, channel=CHANNEL, action_id=button["action_id"], value=button["value"], is_ephemeral=True
    )
    assert (await slack.send(click)).status == 200
    await slack.settle()
    assert await slack.count(Submission) == 0
    done = " ".join(str(p) for p in slack.api.params("response_url"))
    assert "slettet" in done and "organisasjonens arkiv" in done
    # the only secretariat member cannot delete themselves
    last = _text(await slack.command("/referent", "data slett bekreft", user=SIRI))
    assert "rolle" in last and "sekretariat" in last
    assert await slack.count(Member, Member.email == SIRI.email) == 1
    assert [e.action for e in await _audit(slack)] == ["data.delete"]


# -- item 9: revoking links ------------------------------------------------------------------------


async def test_referat_lenker_trekk_revokes_and_is_secretariat_only(slack: SlackWorld) -> None:
    seeded = await slack.seed(members=ROSTER)
    [old] = _urls((await slack.command("/referat", "html", user=KARI)).json())
    assert (await _get(slack, old))[0] == 200
    refused = _text(await slack.command("/referat", "lenker trekk", user=KARI))
    assert "sekretariatet" in refused.lower() and (await _get(slack, old))[0] == 200
    done = _text(await slack.command("/referat", "lenker trekk", user=SIRI))
    assert "trukket tilbake" in done and "4 formater" in done
    assert (await _get(slack, old))[0] == 404
    english = _text(await slack.command("/referent", "minutes links revoke", user=SIRI))
    assert "trukket" in english or "revoked" in english
    [meeting] = await slack.rows(Meeting, Meeting.id == seeded.meeting_id)
    assert meeting.link_generation == 2
    entries = await _audit(slack)
    assert [(e.action, e.actor_user_id, e.platform) for e in entries] == [
        ("referat.links_revoked", SIRI.id, Platform.SLACK)
    ] * 2


# -- item 13: the audit log ------------------------------------------------------------------------


async def test_every_admin_action_leaves_one_entry_and_a_refusal_none(slack: SlackWorld) -> None:
    await slack.seed(members=ROSTER, meeting=False)
    actions: list[tuple[str, FakeUser, str, str]] = [
        ("/mote", SIRI, "ny 10.12.2030 10:00-12:00", "meeting.new"),
        ("/mote", SIRI, "frist 15.12.2030", "meeting.deadline"),
        ("/mote", SIRI, "lukk", "meeting.close"),
        ("/mote", SIRI, "apne", "meeting.reopen"),
        ("/referent", SIRI, "rolle <@U0OLA|ola> leder", "role.set"),
        ("/referent", SIRI, "tilstede <@U0KARI|kari>", "attendance.present"),
        ("/referent", SIRI, "oppsett Faggruppe for test", "setup"),
        ("/referent", KARI, "data eksport", "data.export"),
    ]
    for command, user, text, action in actions:
        before = len(await _audit(slack))
        await slack.command(command, text, user=user)
        entries = await _audit(slack)
        assert len(entries) == before + 1, (text, [e.action for e in entries])
        entry = entries[-1]
        assert (entry.action, entry.actor_user_id, entry.platform, entry.workspace_id) == (
            action,
            user.id,
            Platform.SLACK,
            TEAM,
        ), text
        assert entry.group_name == "Faggruppe for test" and entry.actor_name, text
    # refused: a member tries admin commands; my own attendance is no admin action
    before = len(await _audit(slack))
    for command, text in (
        ("/mote", "ny 11.12.2030 10:00-12:00"),
        ("/mote", "lukk"),
        ("/referent", "rolle <@U0OLA|ola> sekretariat"),
        ("/referent", "tilstede <@U0OLA|ola>"),
        ("/referat", "lenker trekk"),
        ("/referent", "tilstede"),
    ):
        await slack.command(command, text, user=KARI)
    assert len(await _audit(slack)) == before
    # no message text in the log
    assert "Mitt" not in json.dumps([e.detail for e in await _audit(slack)])


# -- items 10 and 11: export and deletion ----------------------------------------------------------


async def test_slack_export_from_a_channel_goes_to_the_dm(slack: SlackWorld) -> None:
    await slack.seed(members=ROSTER)
    await slack.command("/runde", "Kari sitt innlegg", user=KARI)
    answer = await slack.command("/referent", "data eksport", user=KARI)
    text = _text(answer)
    assert "privat melding" in text and "Kari sitt innlegg" not in answer.text
    assert not _urls(answer.json())
    [dm] = [p for p in slack.api.params("chat.postMessage") if p.get("channel") == "D0KARI"]
    links = re.findall(re.escape(PUBLIC_URL) + r"/exports/[A-Za-z0-9_.\-]+", json.dumps(dm))
    assert len(set(links)) == 2
    uploads = slack.api.params("files.completeUploadExternal")
    assert uploads and all(u.get("channel_id") == "D0KARI" for u in uploads)
    contents = [v for v in slack.api.uploads.values()]
    assert any(b"Kari sitt innlegg" in c and c.lstrip().startswith(b"{") for c in contents)
    assert any(b"Mine data fra Referent" in c for c in contents)


async def test_teams_export_in_the_personal_chat_with_signed_links(teams: TeamsWorld) -> None:
    await teams.seed(members=((TEAMS_SIRI, Role.SECRETARIAT), (TEAMS_KARI, Role.MEMBER)))
    await teams.post(teams.scenario.channel_message(TEAMS_KARI, "runde Innlegg fra Teams"))
    asked = teams.scenario.personal_message(TEAMS_KARI, "data eksport")
    assert (await teams.post(asked)).status in (200, 201)
    body = json.dumps([r.body for r in teams.replies_to(asked)], ensure_ascii=False)
    links = sorted(set(re.findall(re.escape(PUBLIC_URL) + r"/exports/[A-Za-z0-9_.\-]+", body)))
    assert len(links) == 2, body
    pages = [await _get(teams, link) for link in links]
    assert all(status == 200 for status, _ in pages)
    [data] = [json.loads(text) for _, text in pages if text.lstrip().startswith("{")]
    [summary] = [text for _, text in pages if not text.lstrip().startswith("{")]
    [mine] = data["memberships"]
    assert [s["text"] for s in mine["submissions"]] == ["Innlegg fra Teams"]
    assert "Innlegg fra Teams" in summary and "Mine data fra Referent" in summary
    # a tampered token is refused; after the deletion the old links show nothing
    assert (await _get(teams, links[0][:-3] + "abc"))[0] == 404
    await teams.post(teams.scenario.personal_message(TEAMS_KARI, "data slett bekreft"))
    assert [(await _get(teams, link))[0] for link in links] == [404, 404]


async def test_teams_export_asked_in_a_channel_is_sent_privately(teams: TeamsWorld) -> None:
    await teams.seed(members=((TEAMS_SIRI, Role.SECRETARIAT), (TEAMS_KARI, Role.MEMBER)))
    await teams.post(teams.scenario.personal_message(TEAMS_KARI, "hjelp"))  # a 1:1 chat exists
    teams.connector.reset()
    asked = teams.scenario.channel_message(TEAMS_KARI, "data eksport")
    await teams.post(asked)
    said = teams.reply_text(asked)
    in_channel = json.dumps([r.body for r in teams.replies_to(asked)])
    assert "privat melding" in said and "/exports/" not in in_channel
    personal = teams.scenario.personal_conversation_id(TEAMS_KARI)
    sent = json.dumps([a.body for a in teams.connector.activities(personal)])
    assert len(set(re.findall(re.escape(PUBLIC_URL) + r"/exports/[A-Za-z0-9_.\-]+", sent))) == 2


async def test_data_slett_removes_references_identities_and_every_text(teams: TeamsWorld) -> None:
    seeded = await teams.seed(members=((TEAMS_SIRI, Role.SECRETARIAT), (TEAMS_KARI, Role.MEMBER)))
    await teams.post(teams.scenario.channel_message(TEAMS_KARI, "runde Mitt innlegg"))
    await teams.post(teams.scenario.channel_message(TEAMS_KARI, "oppfolging Sende svar"))
    await teams.post(teams.scenario.personal_message(TEAMS_KARI, "hjelp"))
    kari = seeded.members[TEAMS_KARI.id]
    assert await teams.count(FollowUp, FollowUp.created_by_member_id == kari) == 1
    user_keys = [
        r.key
        for r in await teams.rows(ConversationReference)
        if r.key.startswith("user:") and TEAMS_KARI.aad_object_id in r.key
    ]
    assert user_keys
    asked = teams.scenario.personal_message(TEAMS_KARI, "data slett")
    await teams.post(asked)
    assert "data slett bekreft" in teams.reply_text(asked)
    assert await teams.count(Submission) == 1
    await teams.post(teams.scenario.personal_message(TEAMS_KARI, "data slett bekreft"))
    assert await teams.count(Submission) == 0
    assert await teams.count(FollowUp) == 0
    assert await teams.count(PlatformIdentity, PlatformIdentity.member_id == kari) == 0
    assert await teams.count(ConversationReference, ConversationReference.key.in_(user_keys)) == 0
    [entry] = await teams.rows(AuditEntry)
    assert (entry.action, entry.platform, entry.actor_member_id) == ("data.delete", Platform.TEAMS, kari)
