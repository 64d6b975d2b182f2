"""Across meetings on Slack, end to end (issue 11): importing an invitation from chat (pasted
and as a shared .docx), follow-ups carried to the next meeting, approving and freezing the
referat, and work-group polls that close. Signed requests go to the real server on loopback;
the fake Web API records what the bot sent; the database shows what was stored."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.scheduler import poll_close_job
from handlers.reminders import run_reminder_pass
from handlers.reminders.kinds import FOLLOW_UPS_OPEN
from storage.models import (
    AgendaItem,
    AuditEntry,
    ChannelMessage,
    FollowUp,
    FollowUpStatus,
    Meeting,
    MeetingStatus,
    Member,
    PendingImport,
    Poll,
    ReferatFinal,
    ReminderLog,
    Role,
    Submission,
    SubmissionKind,
    Vote,
)
from tests.e2e.slack_fixtures import BOT_TOKEN, CHANNEL, KARI, OLA, PER, SIRI, Answer, SlackWorld
from tests.invitation_fixtures import TXT_SAK, docx_bytes

pytestmark = pytest.mark.e2e

FUTURE_TXT = TXT_SAK.replace("tirsdag 20. januar 2026", "tirsdag 21. januar 2031")
BAD_TXT = "Innkalling\nTid: 45.01.2031 kl 10-12\nSak 1 Godkjenning\nSak Tull\n"


def ephemeral(answer: Answer) -> dict[str, Any]:
    assert answer.status == 200, answer.text
    body = answer.json()
    assert body.get("response_type") == "ephemeral", body
    return body


def button_values(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(action_id, value) of every button in a message's blocks."""
    found = []
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("type") == "button":
                found.append((element["action_id"], element.get("value", "")))
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            found.append((accessory["action_id"], accessory.get("value", "")))
    return found


def dm_of(user_id: str) -> str:
    return "D" + user_id[1:]


async def dm(slack: SlackWorld, user_id: str, text: str, **kw: Any) -> dict[str, Any]:
    """A message in the user's DM with the bot; returns what the bot posted there."""
    before = slack.api.count("chat.postMessage")
    request = slack.requests.message(text, user=user_id, channel=dm_of(user_id), channel_type="im", **kw)
    assert (await slack.send(request)).status == 200
    await slack.settle()
    posted = await slack.api.wait_for("chat.postMessage", before + 1)
    return posted[-1]


async def click(slack: SlackWorld, user_id: str, action_id: str, value: str, channel: str) -> dict[str, Any]:
    before = slack.api.count("response_url")
    request = slack.requests.block_actions(user=user_id, channel=channel, action_id=action_id, value=value)
    assert (await slack.send(request)).status == 200
    await slack.settle()
    answers = await slack.api.wait_for("response_url", before + 1)
    return answers[-1]


# --- 1. importing the invitation ---------------------------------------------------------------


async def test_pasted_invitation_previews_then_confirm_imports_it(slack: SlackWorld) -> None:
    seeded = await slack.seed(meeting=False)
    shown = await dm(slack, SIRI.id, "mote importer\n" + FUTURE_TXT)
    assert "21" in shown["text"] and "Klimabudsjett" in shown["text"]
    buttons = button_values(shown.get("blocks", []))
    [(confirm_id, confirm), (_cancel_id, cancel)] = buttons
    assert confirm.startswith("mote importer bekreft ") and cancel.startswith("mote importer avbryt ")
    # Only the preview is kept, server-side; nothing of the import is stored yet.
    assert await slack.count(Meeting) == 0
    [pending] = await slack.rows(PendingImport)
    assert pending.group_id == seeded.group_id and confirm.endswith(pending.token)
    assert pending.content.decode("utf-8").startswith("Innkalling til møte")

    # A member cannot confirm it, even with the button's value.
    refused = await click(slack, KARI.id, confirm_id, confirm, dm_of(KARI.id))
    assert "sekretariat" in refused["text"].lower()
    assert await slack.count(Meeting) == 0

    done = await click(slack, SIRI.id, confirm_id, confirm, dm_of(SIRI.id))
    assert "Importen er fullført" in done["text"]
    [meeting] = await slack.rows(Meeting)
    assert meeting.starts_at.date() == date(2031, 1, 21)
    items = sorted((i.number, i.title) for i in await slack.rows(AgendaItem))
    assert items[0] == (1, "Godkjenning av innkalling og dagsorden") and len(items) == 6
    names = {m.name for m in await slack.rows(Member)}
    assert {"Kari Fjellheim", "Per Olav Bakken", "Sigrid Nordvik"} <= names
    [poll] = await slack.rows(Poll)
    assert poll.meeting_id == meeting.id
    assert await slack.count(PendingImport) == 0
    [audit] = await slack.rows(AuditEntry, AuditEntry.action == "invitation.import")
    assert audit.detail["meeting_id"] == meeting.id
    # The collection message went out in the group's channel, as `mote ny` would post it.
    assert any(p["channel"] == CHANNEL for p in slack.api.params("chat.postMessage"))

    # The same button again finds nothing to apply: one import, however often it is pressed.
    again = await click(slack, SIRI.id, confirm_id, confirm, dm_of(SIRI.id))
    assert "finnes ikke lenger" in again["text"]
    assert await slack.count(Meeting) == 1


async def test_cancel_and_forged_tokens_store_nothing(slack: SlackWorld) -> None:
    await slack.seed(meeting=False)
    shown = await dm(slack, SIRI.id, "mote importer\n" + FUTURE_TXT)
    [_, (cancel_id, cancel)] = button_values(shown.get("blocks", []))
    cancelled = await click(slack, SIRI.id, cancel_id, cancel, dm_of(SIRI.id))
    assert "avbrutt" in cancelled["text"]
    assert await slack.count(PendingImport) == 0
    forged = await click(
        slack,
        SIRI.id,
        "mote:importer:bekreft:x",
        "mote importer bekreft AAAAAAAAAAAAAAAAAAAAAAAA",
        dm_of(SIRI.id),
    )
    assert "finnes ikke lenger" in forged["text"]
    assert await slack.count(Meeting) == 0


async def test_bad_invitation_lists_problems_with_line_numbers_and_stores_nothing(slack: SlackWorld) -> None:
    await slack.seed(meeting=False)
    body = ephemeral(await slack.command("/mote", "importer\n" + BAD_TXT, user=SIRI))
    assert "linje 2" in body["text"] and "45.01.2031" in body["text"]
    assert "linje 4" in body["text"]
    assert await slack.count(Meeting) == 0 and await slack.count(PendingImport) == 0


async def test_docx_shared_in_the_dm_is_fetched_with_the_bot_token(slack: SlackWorld) -> None:
    await slack.seed(meeting=False)
    shared = slack.api.share_file("innkalling.docx", docx_bytes(agenda_in_table=True))
    shown = await dm(slack, SIRI.id, "mote importer", files=[shared])
    [download] = slack.api.params("files.download")
    assert download["token"] == BOT_TOKEN  # fetched with the bot token, as Slack requires
    assert "Arealplan for Vestfold" in shown["text"]
    [(confirm_id, confirm), _] = button_values(shown.get("blocks", []))
    await click(slack, SIRI.id, confirm_id, confirm, dm_of(SIRI.id))
    titles = {i.title for i in await slack.rows(AgendaItem)}
    assert "Arealplan for Vestfold" in titles


async def test_mention_with_a_shared_file_in_the_channel(slack: SlackWorld) -> None:
    await slack.seed(meeting=False)
    shared = slack.api.share_file("innkalling.txt", FUTURE_TXT.encode("utf-8"))
    request = slack.requests.app_mention(
        f"<@{slack.requests.bot_user_id}> mote importer", user=SIRI.id, channel=CHANNEL, files=[shared]
    )
    assert (await slack.send(request)).status == 200
    await slack.settle()
    [shown] = await slack.api.wait_for("chat.postEphemeral")
    assert "Klimabudsjett" in shown["text"]
    assert await slack.count(PendingImport) == 1


# --- 2. follow-ups carried forward ---------------------------------------------------------------


async def two_meetings(slack: SlackWorld) -> tuple[int, int, int, dict[str, int]]:
    """A meeting held a week ago, the next in two days, and one a month later; Kari owns a
    follow-up from the first."""
    seeded = await slack.seed(
        members=((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER), (OLA, Role.MEMBER)),
        starts_in=timedelta(days=-7),
    )
    assert seeded.meeting_id is not None
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    async with slack.db.session() as session:
        held = await session.get(Meeting, seeded.meeting_id)
        assert held is not None
        held.status = MeetingStatus.CLOSED
        nxt = Meeting(
            group_id=seeded.group_id,
            starts_at=now + timedelta(days=2),
            ends_at=now + timedelta(days=2, hours=2),
        )
        later = Meeting(
            group_id=seeded.group_id,
            starts_at=now + timedelta(days=30),
            ends_at=now + timedelta(days=30, hours=2),
        )
        session.add_all([nxt, later])
        await session.flush()
        follow_up = FollowUp(
            meeting_id=held.id,
            text="Sende høringssvar om vannforskriften",
            owner_member_id=seeded.members[KARI.id],
            due_date=date.today() + timedelta(days=1),
        )
        session.add(follow_up)
        await session.flush()
        ids = (held.id, nxt.id, later.id, follow_up.id)
    return ids[0], ids[1], ids[2], {"follow_up": ids[3], **seeded.members}


async def meeting_day(slack: SlackWorld, meeting_id: int) -> str:
    [meeting] = await slack.rows(Meeting, Meeting.id == meeting_id)
    return meeting.starts_at.astimezone(ZoneInfo("Europe/Oslo")).strftime("%d.%m.%Y")


async def test_follow_ups_carry_to_the_next_draft_and_close_there(slack: SlackWorld) -> None:
    held, nxt, later, ids = await two_meetings(slack)
    number = ids["follow_up"]

    status = ephemeral(await slack.command("/oppfolging", "status", user=OLA))["text"]
    assert f"#{number}" in status and "høringssvar" in status and "Kari Nordmann" in status
    mine = ephemeral(await slack.command("/oppfolging", "mine", user=KARI))["text"]
    assert f"#{number}" in mine
    # Ola's Slack is in English.
    assert "no open follow-ups" in ephemeral(await slack.command("/oppfolging", "mine", user=OLA))["text"]

    draft = ephemeral(await slack.command("/referat", await meeting_day(slack, nxt), user=KARI))["text"]
    assert "Oppfølging fra tidligere møter" in draft
    carried = draft.split("Oppfølging fra tidligere møter", 1)[1]
    assert "høringssvar" in carried and "status: åpen" in carried and "fra møtet" in carried
    assert "Kari Nordmann" in carried and "frist" in carried

    # Ola may not close Kari's item; Kari may.
    refused = ephemeral(await slack.command("/oppfolging", f"ferdig {number}", user=OLA))["text"]
    assert "Only its owner, the secretariat or the chair" in refused
    [item] = await slack.rows(FollowUp)
    assert item.status == FollowUpStatus.OPEN
    closed = ephemeral(await slack.command("/oppfolging", f"ferdig {number}", user=KARI))["text"]
    assert "er ferdig" in closed
    [item] = await slack.rows(FollowUp)
    assert item.status == FollowUpStatus.DONE and item.closed_in_meeting_id == nxt

    draft = ephemeral(await slack.command("/referat", await meeting_day(slack, nxt), user=KARI))["text"]
    assert "status: utført" in draft.split("Oppfølging fra tidligere møter", 1)[1]
    later_draft = ephemeral(await slack.command("/referat", await meeting_day(slack, later), user=KARI))[
        "text"
    ]
    assert "høringssvar" not in later_draft
    assert "no open follow-ups" in ephemeral(await slack.command("/oppfolging", "status", user=OLA))["text"]
    assert held


async def test_owner_of_an_open_follow_up_is_reminded_once_before_the_next_meeting(slack: SlackWorld) -> None:
    _held, nxt, _later, ids = await two_meetings(slack)
    [meeting] = await slack.rows(Meeting, Meeting.id == nxt)
    ctx = slack.server.runtime.ctx
    # Just before the meeting: the reminder (the working day before) is due.
    moment = meeting.starts_at - timedelta(minutes=30)
    first = await run_reminder_pass(ctx, now=moment)
    second = await run_reminder_pass(ctx, now=moment + timedelta(minutes=5))
    sent = [o for o in first.sent if o.reminder.kind == FOLLOW_UPS_OPEN]
    assert len(sent) == 1 and sent[0].reminder.member_id == ids[KARI.id]
    assert not [o for o in second.sent if o.reminder.kind == FOLLOW_UPS_OPEN]
    [row] = await slack.rows(ReminderLog, ReminderLog.kind == FOLLOW_UPS_OPEN)
    assert row.meeting_id == nxt and row.member_id == ids[KARI.id]
    texts = [p["text"] for p in slack.api.params("chat.postMessage") if "høringssvar" in p.get("text", "")]
    assert len(texts) == 1 and f"#{ids['follow_up']}" in texts[0]


# --- 3. approval and the final referat ---------------------------------------------------------


async def test_approve_and_freeze_survive_later_edits_and_deletes(slack: SlackWorld) -> None:
    held, nxt, _later, ids = await two_meetings(slack)
    async with slack.db.session() as session:
        session.add(
            AgendaItem(meeting_id=nxt, number=1, position=1, title="Godkjenning av referat", kind="approval")
        )
        entry = Submission(
            meeting_id=held,
            member_id=ids[KARI.id],
            kind=SubmissionKind.ROUND,
            text="Vi har ansatt en ny rådgiver.",
            source_platform="slack",
        )
        session.add(entry)
    # The approving meeting is today's; move the next meeting to today for this.
    async with slack.db.session() as session:
        now = datetime.now(UTC)
        await session.execute(
            update(Meeting)
            .where(Meeting.id == nxt)
            .values(starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=2))
        )
    refused = ephemeral(await slack.command("/mote", "godkjenn-referat", user=KARI))
    assert "sekretariat" in refused["text"].lower()
    approved = ephemeral(await slack.command("/mote", "godkjenn-referat", user=SIRI))["text"]
    assert "godkjent" in approved
    [first] = await slack.rows(Meeting, Meeting.id == held)
    assert first.referat_approved_at is not None and first.referat_approved_by == "Siri Sekretær"
    [item] = await slack.rows(AgendaItem, AgendaItem.meeting_id == nxt)
    assert item.decision and "godkjent" in item.decision

    day = await meeting_day(slack, held)
    member_try = ephemeral(await slack.command("/referat", f"endelig {day}", user=KARI))["text"]
    assert "ingen endelig versjon" in member_try
    frozen = ephemeral(await slack.command("/referat", f"endelig {day}", user=SIRI))["text"]
    assert "SHA-256" in frozen and "ENDELIG" in frozen and "Vi har ansatt en ny rådgiver" in frozen
    rows = {r.fmt: r for r in await slack.rows(ReferatFinal)}
    assert set(rows) == {"md", "html", "docx", "pdf"}
    assert all(hashlib.sha256(r.content).hexdigest() == r.sha256 for r in rows.values())
    assert rows["md"].sha256 in frozen
    assert "Godkjent" in rows["md"].content.decode()

    # Later edits and deletions do not reach the final version.
    async with slack.db.session() as session:
        [sub] = list((await session.execute(select(Submission))).scalars())
        sub.text = "Endret etterpå"
    async with slack.db.session() as session:
        session.add(
            Submission(
                meeting_id=held,
                member_id=ids[OLA.id],
                kind=SubmissionKind.ROUND,
                text="Kom for sent",
                source_platform="slack",
            )
        )
    fetched = ephemeral(await slack.command("/referat", f"endelig {day}", user=KARI))["text"]
    assert "Vi har ansatt en ny rådgiver" in fetched and "Endret etterpå" not in fetched
    assert "Kom for sent" not in fetched
    assert {r.fmt: r.sha256 for r in await slack.rows(ReferatFinal)} == {f: r.sha256 for f, r in rows.items()}
    # A draft asked for afterwards says that a final version exists.
    draft = ephemeral(await slack.command("/referat", day, user=KARI))["text"]
    assert "Endret etterpå" in draft and "endelig versjon ble låst" in draft


# --- 4. polls that close -------------------------------------------------------------------------


async def test_poll_closes_at_its_deadline_once_and_exports_neutralised_csv(slack: SlackWorld) -> None:
    await slack.seed(members=((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER), (PER, Role.MEMBER)))
    created = await slack.command(
        "/grupper", 'ny "=1+2 | Kari Nordmann" "Beredskap | Per Olsen" --frist 30.01.2031 14:00', user=SIRI
    )
    ephemeral(created)
    [posted] = await slack.api.wait_for("chat.postMessage")
    [poll] = await slack.rows(Poll)
    assert poll.closes_at == datetime(2031, 1, 30, 13, 0, tzinfo=UTC)  # 14:00 in Oslo
    [poll_message] = await slack.rows(ChannelMessage, ChannelMessage.purpose == "poll")
    first_option = next(b["accessory"] for b in posted["blocks"] if "accessory" in b)["action_id"]
    vote = slack.requests.block_actions(
        user=KARI.id,
        channel=CHANNEL,
        action_id=first_option,
        value=first_option,
        message_ts=poll_message.message_ref,
    )
    assert (await slack.send(vote)).status == 200
    await slack.settle()
    assert await slack.count(Vote) == 1

    moved = ephemeral(await slack.command("/grupper", "frist 01.02.2031 12:00", user=SIRI))["text"]
    assert "stenger" in moved
    # The time comes: the scheduler's job closes it once, however many replicas run it.
    async with slack.db.session() as session:
        await session.execute(update(Poll).values(closes_at=datetime.now(UTC) - timedelta(seconds=1)))
    updates_before = slack.api.count("chat.update")
    await poll_close_job(slack.server.runtime)
    await poll_close_job(slack.server.runtime)
    await slack.settle()
    [poll] = await slack.rows(Poll)
    assert poll.closed_at is not None
    updates = slack.api.params("chat.update")[updates_before:]
    assert len(updates) == 1 and updates[0]["ts"] == poll_message.message_ref
    shown = " ".join(
        b.get("text", {}).get("text", "") for b in updates[0]["blocks"] if b["type"] in ("section", "context")
    ) + " ".join(
        e.get("text", "")
        for b in updates[0]["blocks"]
        if b["type"] == "context"
        for e in b.get("elements", [])
    )
    assert "stengt" in shown and "Kari Nordmann" in shown

    late = slack.requests.block_actions(
        user=PER.id,
        channel=CHANNEL,
        action_id=first_option,
        value=first_option,
        message_ts=poll_message.message_ref,
    )
    assert (await slack.send(late)).status == 200
    await slack.settle()
    assert await slack.count(Vote) == 1
    assert "stengt" in slack.api.params("response_url")[-1]["text"]

    # The export: a CSV file, formula-like cells made inert.
    assert "sekretariat" in ephemeral(await slack.command("/grupper", "eksport", user=KARI))["text"].lower()
    ephemeral(await slack.command("/grupper", "eksport", user=SIRI))
    await slack.api.wait_for("files.completeUploadExternal")
    [content] = [c for c in slack.api.uploads.values() if b"Kari Nordmann" in c]
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Gruppe", "Ansvarlig", "Navn"]
    assert rows[1][0] == "'=1+2" and rows[1][2] == "Kari Nordmann"


async def test_grupper_lukk_closes_at_once(slack: SlackWorld) -> None:
    await slack.seed()
    ephemeral(await slack.command("/grupper", 'ny "Data | Kari Nordmann" "Sikkerhet | Per Olsen"', user=SIRI))
    await slack.api.wait_for("chat.postMessage")
    closed = ephemeral(await slack.command("/grupper", "lukk", user=SIRI))["text"]
    assert "er stengt" in closed
    [update_] = await slack.api.wait_for("chat.update")
    assert "stengt" in str(update_["blocks"])
    again = ephemeral(await slack.command("/grupper", "lukk", user=SIRI))["text"]
    assert "allerede stengt" in again
    assert len(slack.api.params("chat.update")) == 1


async def test_files_shared_with_other_messages_are_not_fetched(slack: SlackWorld) -> None:
    await slack.seed()
    shared = slack.api.share_file("notater.txt", b"Hemmelig")
    await dm(slack, KARI.id, "runde Fra DM med vedlegg", files=[shared])
    assert slack.api.count("files.download") == 0
