"""The Slack half of Referent end to end: signed requests shaped like Slack's go to the real server
over HTTP; the fake Web API records what the bot sent; the database shows what was stored.

The group is set up the way a secretariat would do it, through the commands themselves:
`/referent oppsett`, `/mote ny` (which posts the collection message), `/mote sak`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, update

from bot.offline.fakes.slack_api import FakeUser
from storage.models import (
    AgendaItem,
    Attendance,
    AttendanceStatus,
    ChannelBinding,
    ChannelMessage,
    FollowUp,
    Meeting,
    Member,
    Poll,
    ProcessedEvent,
    Role,
    Submission,
    SubmissionKind,
    Vote,
)
from storage.repositories import reminders as reminder_repo
from tests.e2e.slack_fixtures import (
    ANNE,
    BOT_USER,
    CHANNEL,
    KARI,
    OLA,
    OTHER_TEAM,
    PER,
    SIRI,
    STRANGER,
    TEAM,
    Answer,
    SlackWorld,
)

pytestmark = pytest.mark.e2e


def ephemeral_text(answer: Answer) -> str:
    """The text of a slash command's answer, asserting it is only for the asker."""
    assert answer.status == 200, answer.text
    body = answer.json()
    assert body.get("response_type") == "ephemeral", body
    return str(body.get("text", ""))


def no_pings(slack: SlackWorld) -> None:
    """Nothing the bot sent can ping or mention anyone."""
    sent = slack.api.all_text()
    for markup in ("<!channel>", "<!here>", "<!everyone>", "<@U0"):
        assert markup not in sent, markup


@dataclass
class Story:
    meeting_id: int
    collection_ts: str


async def set_up_group(slack: SlackWorld) -> Story:
    """Siri binds the channel, creates a meeting with two agenda items, Kari and Ola are on the
    roster (as `roster import` would leave them)."""
    text = ephemeral_text(
        await slack.command("/referent", "oppsett Faggruppe for test | Testregionen", user=SIRI)
    )
    assert "Faggruppe for test" in text
    [binding] = await slack.rows(ChannelBinding)
    assert (binding.workspace_id, binding.channel_id) == (TEAM, CHANNEL)
    async with slack.db.session() as session:
        for user in (KARI, OLA, PER, ANNE):
            first, _, last = user.real_name.partition(" ")
            session.add(
                Member(
                    group_id=binding.group_id,
                    first_name=first,
                    last_name=last,
                    organisation="Testkommune",
                    email=(user.email or "").lower(),
                    role=Role.MEMBER,
                )
            )

    day = (date.today() + timedelta(days=3)).strftime("%d.%m.%Y")
    ephemeral_text(await slack.command("/mote", f"ny {day} 10:00-12:00 Teams", user=SIRI))
    [meeting] = await slack.rows(Meeting)
    # The collection message went out in the channel, and its ts was recorded.
    posted = [p for p in slack.api.params("chat.postMessage") if p["channel"] == CHANNEL]
    assert len(posted) == 1
    [collection] = await slack.rows(ChannelMessage, ChannelMessage.purpose == "collection")
    assert collection.subject_id == meeting.id and collection.channel_id == CHANNEL

    ephemeral_text(await slack.command("/mote", "sak 1 Godkjenning av innkalling og referat", user=SIRI))
    ephemeral_text(await slack.command("/mote", "sak 2 Orientering om digitalisering", user=SIRI))
    assert await slack.count(AgendaItem) == 2
    slack.api.reset()
    return Story(meeting_id=meeting.id, collection_ts=collection.message_ref)


async def _round_texts(slack: SlackWorld, user: FakeUser) -> list[str]:
    member = [m for m in await slack.rows(Member) if m.email == (user.email or "").lower()]
    assert member, user
    subs = await slack.rows(
        Submission, Submission.member_id == member[0].id, Submission.kind == SubmissionKind.ROUND
    )
    return [s.text for s in subs]


async def test_every_command_from_slack(slack: SlackWorld) -> None:
    story = await set_up_group(slack)

    text = ephemeral_text(
        await slack.command("/runde", "Alt vel i Testkommune. Vi har <!channel> &amp; <@U0OLA>", user=KARI)
    )
    assert "Takk, Kari" in text and "@\u2060channel &amp; @Ola Nordmann" in text
    assert await _round_texts(slack, KARI) == ["Alt vel i Testkommune. Vi har @channel & @Ola Nordmann"]

    ephemeral_text(await slack.command("/innspill", "2 Vi støtter forslaget", user=KARI))
    [note] = await slack.rows(Submission, Submission.kind == SubmissionKind.INPUT)
    assert note.text == "Vi støtter forslaget"

    ephemeral_text(
        await slack.command("/oppfolging", "Sende ut høringssvar <@U0OLA|ola.nordmann>", user=KARI)
    )
    [follow_up] = await slack.rows(FollowUp)
    assert "høringssvar" in follow_up.text

    ephemeral_text(await slack.command("/tilstede", user=KARI))
    ephemeral_text(await slack.command("/referent", "forfall", user=OLA))
    # Kari is present, so no one can stand in for her; Ola has sent apologies, so Per can.
    refused_vara = ephemeral_text(
        await slack.command("/referent", "vara for <@U0KARI|kari.nordmann>", user=PER)
    )
    assert "Kari Nordmann er registrert som til stede" in refused_vara
    ephemeral_text(await slack.command("/referent", "vara for <@U0OLA|ola.nordmann>", user=PER))
    attendance = {a.member_id: a for a in await slack.rows(Attendance)}
    members = {m.email: m.id for m in await slack.rows(Member)}
    assert attendance[members["kari.nordmann@example.no"]].status == AttendanceStatus.PRESENT
    assert attendance[members["ola.nordmann@example.no"]].status == AttendanceStatus.EXCUSED
    substitute = attendance[members["per.olsen@example.no"]]
    assert substitute.status == AttendanceStatus.SUBSTITUTE
    assert substitute.substitute_for_member_id == members["ola.nordmann@example.no"]

    status = ephemeral_text(await slack.command("/mote", "status", user=SIRI))
    assert "Saker: 1. Godkjenning" in status, status

    help_text = ephemeral_text(await slack.command("/referent", "", user=KARI))
    assert "runde" in help_text
    english = ephemeral_text(await slack.command("/referent", "help", user=OLA))
    assert english and english != help_text  # Ola's Slack is in English

    refused = ephemeral_text(await slack.command("/mote", "lukk", user=KARI))
    assert (await slack.rows(Meeting))[0].status.value == "open", refused

    draft = ephemeral_text(await slack.command("/referat", "", user=KARI))
    assert "Alt vel i Testkommune" in draft
    assert story.meeting_id

    no_pings(slack)


async def test_referat_file_and_link(slack: SlackWorld) -> None:
    await set_up_group(slack)
    await slack.command("/runde", "Status fra Testkommune", user=KARI)

    answer = await slack.command("/referat", "docx", user=KARI)
    ephemeral_text(answer)
    # The .docx went to Kari as a file in a direct message (files upload v2).
    await slack.api.wait_for("files.completeUploadExternal")
    dm = slack.api.last("conversations.open")
    assert dm["users"] == KARI.id
    complete = slack.api.last("files.completeUploadExternal")
    assert complete["channel_id"] == "D" + KARI.id[1:]
    [uploaded] = complete["files"]
    assert slack.api.uploads[uploaded["id"]][:2] == b"PK"
    assert slack.api.last("files.getUploadURLExternal")["filename"].endswith(".docx")

    answer = await slack.command("/referat", "html", user=KARI)
    body = answer.json()
    urls = [
        e["url"]
        for b in body.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
        if "url" in e
    ]
    assert urls and urls[0].startswith("https://referent.example.no/drafts/")
    # The signed link is served by the server itself.
    token_path = urls[0].removeprefix("https://referent.example.no")
    async with slack.session.get(slack.server.url + token_path) as page:
        assert page.status == 200
        assert "Status fra Testkommune" in await page.text()
    async with slack.session.get(slack.server.url + token_path[:-3] + "xyz") as forged:
        assert forged.status == 404


async def test_referat_pdf_is_uploaded_and_its_link_serves_pdfa(slack: SlackWorld) -> None:
    await set_up_group(slack)
    await slack.command("/runde", "Status fra Testkommune – Ås og Ørje", user=KARI)
    answer = await slack.command("/referat", "pdf", user=KARI)
    body = answer.json()
    await slack.api.wait_for("files.completeUploadExternal")
    assert slack.api.last("files.getUploadURLExternal")["filename"].endswith(".pdf")
    [uploaded] = slack.api.last("files.completeUploadExternal")["files"]
    assert slack.api.uploads[uploaded["id"]].startswith(b"%PDF-")
    urls = [
        e["url"]
        for b in body.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
        if "url" in e
    ]
    assert urls and urls[0].startswith("https://referent.example.no/drafts/")
    path = urls[0].removeprefix("https://referent.example.no")
    async with slack.session.get(slack.server.url + path) as got:
        assert got.status == 200 and got.content_type == "application/pdf"
        assert "attachment" in got.headers["Content-Disposition"]
        assert (await got.read()).startswith(b"%PDF-")


async def test_thread_reply_edit_and_delete(slack: SlackWorld) -> None:
    story = await set_up_group(slack)
    ts = slack.requests.next_ts()
    reply = slack.requests.thread_reply(
        "Fra oss: alt vel &lt;script&gt;", user=KARI.id, channel=CHANNEL, thread_ts=story.collection_ts, ts=ts
    )
    assert (await slack.send(reply)).status == 200
    await slack.settle()
    [post] = await slack.rows(Submission)
    assert (post.text, post.source_ref) == ("Fra oss: alt vel <script>", ts)
    confirmation = await slack.api.wait_for("chat.postEphemeral")
    assert confirmation[-1]["user"] == KARI.id and confirmation[-1]["thread_ts"] == story.collection_ts
    assert "<script>" not in slack.api.all_text()

    edit = slack.requests.message_changed(
        user=KARI.id,
        channel=CHANNEL,
        ts=ts,
        new_text="Rettet: alt vel",
        old_text="Fra oss: alt vel",
        thread_ts=story.collection_ts,
    )
    assert (await slack.send(edit)).status == 200
    await slack.settle()
    [post] = await slack.rows(Submission)
    assert post.text == "Rettet: alt vel"

    delete = slack.requests.message_deleted(
        user=KARI.id, channel=CHANNEL, ts=ts, old_text="Rettet: alt vel", thread_ts=story.collection_ts
    )
    assert (await slack.send(delete)).status == 200
    await slack.settle()
    assert await slack.count(Submission) == 0


async def test_edits_and_deletes_after_the_deadline_are_refused_alike(slack: SlackWorld) -> None:
    """After the deadline an edit and a deletion of a thread reply are both refused, and told so
    plainly; the entry stays as it stood at the deadline."""
    story = await set_up_group(slack)
    ts = slack.requests.next_ts()
    reply = slack.requests.thread_reply(
        "Status fra Nesodden", user=KARI.id, channel=CHANNEL, thread_ts=story.collection_ts, ts=ts
    )
    assert (await slack.send(reply)).status == 200
    await slack.settle()
    async with slack.db.write() as session:
        await session.execute(
            update(Meeting).values(deadline_override=datetime.now(UTC) - timedelta(minutes=5))
        )
    slack.api.reset()
    edit = slack.requests.message_changed(
        user=KARI.id,
        channel=CHANNEL,
        ts=ts,
        new_text="Endret etter fristen",
        old_text="Status fra Nesodden",
        thread_ts=story.collection_ts,
    )
    delete = slack.requests.message_deleted(
        user=KARI.id, channel=CHANNEL, ts=ts, old_text="Status fra Nesodden", thread_ts=story.collection_ts
    )
    for request in (edit, delete):
        assert (await slack.send(request)).status == 200
        await slack.settle()
    told = [p["text"] for p in await slack.api.wait_for("chat.postEphemeral", count=2)]
    assert len(told) == 2 and all(t.startswith("Endringen ble ikke lagret fordi fristen") for t in told), told
    assert all(p["user"] == KARI.id for p in slack.api.params("chat.postEphemeral"))
    [post] = await slack.rows(Submission)
    assert post.text == "Status fra Nesodden"


async def test_messages_that_are_not_submissions_are_ignored(slack: SlackWorld) -> None:
    story = await set_up_group(slack)
    other_thread = slack.requests.next_ts()
    ignored = [
        slack.requests.message("Hei alle sammen", user=KARI.id, channel=CHANNEL),  # not in the thread
        slack.requests.thread_reply("Annen tråd", user=KARI.id, channel=CHANNEL, thread_ts=other_thread),
        slack.requests.thread_reply(
            "Fra en bot", user=KARI.id, channel=CHANNEL, thread_ts=story.collection_ts, bot_id="B0ANNEN"
        ),
        slack.requests.thread_reply(
            "Fra meg selv", user=BOT_USER, channel=CHANNEL, thread_ts=story.collection_ts
        ),
        slack.requests.message_changed(
            user=KARI.id,
            channel=CHANNEL,
            ts=slack.requests.next_ts(),
            new_text="endret",
            old_text="før",
            thread_ts=other_thread,
        ),
        slack.requests.message_deleted(
            user=KARI.id, channel=CHANNEL, ts=slack.requests.next_ts(), thread_ts=story.collection_ts
        ),
        # an unfurl on a thread reply: same text, not an edit
        slack.requests.message_changed(
            user=KARI.id,
            channel=CHANNEL,
            ts=slack.requests.next_ts(),
            new_text="samme",
            old_text="samme",
            thread_ts=story.collection_ts,
        ),
        slack.requests.event(
            {
                "type": "reaction_added",
                "user": KARI.id,
                "reaction": "tada",
                "item": {"type": "message", "channel": CHANNEL, "ts": story.collection_ts},
            }
        ),
    ]
    for request in ignored:
        answer = await slack.send(request)
        assert answer.status == 200, answer.text
    await slack.settle()
    assert await slack.count(Submission) == 0
    assert slack.api.count("chat.postEphemeral") == 0 and slack.api.count("chat.postMessage") == 0


async def test_retried_event_is_stored_once(slack: SlackWorld) -> None:
    story = await set_up_group(slack)
    ts = slack.requests.next_ts()
    first = slack.requests.thread_reply(
        "Bare én gang",
        user=KARI.id,
        channel=CHANNEL,
        thread_ts=story.collection_ts,
        ts=ts,
        event_id="Ev0RETRY1",
    )
    retry = slack.requests.thread_reply(
        "Bare én gang",
        user=KARI.id,
        channel=CHANNEL,
        thread_ts=story.collection_ts,
        ts=ts,
        event_id="Ev0RETRY1",
        retry_num=1,
    )
    assert (await slack.send(first)).status == 200
    assert (await slack.send(retry)).status == 200
    await slack.settle()
    assert await slack.count(Submission) == 1
    assert await slack.count(ProcessedEvent, ProcessedEvent.event_id == "Ev0RETRY1") == 1


async def test_app_mention_works_like_the_slash_command(slack: SlackWorld) -> None:
    await set_up_group(slack)
    mention = slack.requests.app_mention(f"<@{BOT_USER}> runde Via omtale", user=OLA.id, channel=CHANNEL)
    assert (await slack.send(mention)).status == 200
    await slack.settle()
    assert await _round_texts(slack, OLA) == ["Via omtale"]
    [shown] = await slack.api.wait_for("chat.postEphemeral")
    assert shown["user"] == OLA.id and shown["channel"] == CHANNEL
    # The same text also arrives as a plain channel message: it is not stored twice.
    message = slack.requests.message(f"<@{BOT_USER}> runde Via omtale", user=OLA.id, channel=CHANNEL)
    assert (await slack.send(message)).status == 200
    await slack.settle()
    assert await slack.count(Submission) == 1


async def test_runde_without_text_opens_a_prefilled_form_and_save_replaces(slack: SlackWorld) -> None:
    await set_up_group(slack)
    await slack.command("/runde", "Første utkast", user=OLA)
    await slack.command("/runde", "Andre avsnitt", user=OLA)

    answer = await slack.command("/runde", "", user=OLA)
    assert answer.status == 200
    opened = slack.api.last("views.open")
    view = opened["view"]
    assert view["type"] == "modal" and view["callback_id"] == "referent_form"
    [field] = view["blocks"]
    assert field["element"]["initial_value"] == "Første utkast\n\nAndre avsnitt"

    submit = slack.requests.view_submission(
        user=OLA.id, values={field["block_id"]: "Helt ny runde"}, private_metadata=view["private_metadata"]
    )
    saved = await slack.send(submit)
    assert saved.status == 200 and saved.text in ("", "{}"), saved.text  # closes the modal
    await slack.settle()
    assert await _round_texts(slack, OLA) == ["Helt ny runde"]
    [confirm] = await slack.api.wait_for("chat.postEphemeral")
    assert confirm["user"] == OLA.id


def _long_entry(seed: str, paragraphs: int) -> str:
    """About 750 characters a paragraph, with line breaks, bullets and Norwegian letters."""
    lines = [
        f"{seed} avsnitt {n}: Kommunen jobber med næringsarealer, rekruttering og sirkulær økonomi."
        for n in range(paragraphs)
    ]
    return "\n\n".join(f"{line}\n- punkt æøå {line}\n{line} {line} {line} {line} {line}" for line in lines)


async def test_a_long_entry_survives_an_unchanged_save_in_the_form(slack: SlackWorld) -> None:
    """A 9,000-character entry does not fit one Slack input (3,000): the form spreads it over
    several, and saving it unchanged keeps every character."""
    await set_up_group(slack)
    posts = [_long_entry(f"Del {n}", 5) for n in range(3)]
    for post in posts:
        assert (await slack.command("/runde", post, user=OLA)).status == 200
    entry = "\n\n".join(posts)
    assert len(entry) > 9000

    assert (await slack.command("/runde", "", user=OLA)).status == 200
    view = slack.api.last("views.open")["view"]
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert len(inputs) >= 4
    assert all(len(b["element"].get("initial_value", "")) <= 3000 for b in inputs)
    assert inputs[1]["label"]["text"].endswith(f"(part 2 of {len(inputs)})")  # Ola reads English
    submit = slack.requests.view_submission(
        user=OLA.id,
        values={b["block_id"]: b["element"]["initial_value"] for b in inputs},
        private_metadata=view["private_metadata"],
    )
    assert (await slack.send(submit)).status == 200
    await slack.settle()
    assert await _round_texts(slack, OLA) == [entry]


async def test_form_save_after_close_is_refused_in_the_form(slack: SlackWorld) -> None:
    await set_up_group(slack)
    await slack.command("/runde", "", user=KARI)
    view = slack.api.last("views.open")["view"]
    await slack.command("/mote", "lukk", user=SIRI)
    submit = slack.requests.view_submission(
        user=KARI.id, values={"text": "For sent"}, private_metadata=view["private_metadata"]
    )
    answer = await slack.send(submit)
    assert answer.status == 200
    body = answer.json()
    assert body["response_action"] == "errors" and body["errors"]["text"]
    assert await slack.count(Submission) == 0


async def test_work_group_poll_clicks_by_several_users(slack: SlackWorld) -> None:
    await set_up_group(slack)
    created = await slack.command(
        "/grupper",
        'ny "Digitalisering | Kari Nordmann | maks 2" "Beredskap & sikkerhet | Per Olsen"',
        user=SIRI,
    )
    ephemeral_text(created)
    [posted] = await slack.api.wait_for("chat.postMessage")
    assert posted["channel"] == CHANNEL
    buttons = [b["accessory"] for b in posted["blocks"] if "accessory" in b]
    assert len(buttons) == 2
    digital, beredskap = (b["action_id"] for b in buttons)
    [poll_message] = await slack.rows(ChannelMessage, ChannelMessage.purpose == "poll")

    async def click(user: FakeUser, action_id: str) -> None:
        request = slack.requests.block_actions(
            user=user.id,
            channel=CHANNEL,
            action_id=action_id,
            value=action_id,
            message_ts=poll_message.message_ref,
        )
        answer = await slack.send(request)
        assert answer.status == 200
        await slack.settle()

    await click(KARI, digital)
    await click(OLA, digital)
    await click(PER, digital)  # full: refused politely
    await click(PER, beredskap)
    await click(KARI, digital)  # second click leaves
    await click(ANNE, digital)

    votes = await slack.rows(Vote)
    by_member = {m.id: m.first_name for m in await slack.rows(Member)}
    assert sorted(by_member[v.member_id] for v in votes) == ["Anne", "Ola", "Per"]
    # Each clicker got an answer only they see, through the click's response_url.
    answers = slack.api.params("response_url")
    assert all(a["response_type"] == "ephemeral" and a["replace_original"] is False for a in answers)
    confirmations = [a["text"] for a in answers]
    assert len(confirmations) == 6
    assert "full" in confirmations[2]
    # Every accepted click updated the poll message in place.
    updates = slack.api.params("chat.update")
    assert len(updates) == 5 and {u["ts"] for u in updates} == {poll_message.message_ref}
    last = " ".join(b["text"]["text"] for b in updates[-1]["blocks"] if b["type"] == "section")
    assert "Ola Nordmann" in last and "Anne Hansen" in last and "Kari Nordmann, " not in last

    # After the poll closes, a click is refused politely and nothing changes.
    async with slack.db.session() as session:
        await session.execute(update(Poll).values(closes_at=datetime.now(UTC) - timedelta(minutes=1)))
    await click(PER, beredskap)
    assert await slack.count(Vote) == 3
    assert "stengt" in slack.api.params("response_url")[-1]["text"]
    no_pings(slack)


async def test_foreign_team_sees_nothing(slack: SlackWorld) -> None:
    """The same channel id from another workspace is another channel: no group, nothing stored."""
    story = await set_up_group(slack)
    answer = await slack.command("/runde", "Fra et annet arbeidsområde", user=STRANGER, team_id=OTHER_TEAM)
    text = ephemeral_text(answer)
    assert "oppsett" in text and "Faggruppe for test" not in text
    reply = slack.requests.thread_reply(
        "Fra utsiden", user=STRANGER.id, channel=CHANNEL, thread_ts=story.collection_ts, team_id=OTHER_TEAM
    )
    assert (await slack.send(reply)).status == 200
    await slack.settle()
    assert await slack.count(Submission) == 0


async def test_unbound_channel_is_told_how_to_set_up(slack: SlackWorld) -> None:
    text = ephemeral_text(await slack.command("/runde", "Hei", user=KARI, channel="C0UBUNDET"))
    assert "oppsett" in text
    assert await slack.count(Submission) == 0


async def test_bot_added_to_a_channel_introduces_itself(slack: SlackWorld) -> None:
    joined = slack.requests.member_joined(user=BOT_USER, channel="C0NY", inviter=SIRI.id)
    assert (await slack.send(joined)).status == 200
    [hello] = await slack.api.wait_for("chat.postMessage")
    assert hello["channel"] == "C0NY" and "oppsett" in hello["text"]
    # Someone else joining is not the bot's business.
    other = slack.requests.member_joined(user=KARI.id, channel="C0NY")
    assert (await slack.send(other)).status == 200
    await slack.settle()
    assert slack.api.count("chat.postMessage") == 1


async def test_slow_answer_is_acknowledged_in_time_and_follows(slack: SlackWorld) -> None:
    """When the work overruns Slack's 3 seconds (here: a slow users.info), Slack gets "working on
    it" in time and the real answer follows through the response_url."""
    await set_up_group(slack)
    slack.api.delay("users.info", 3.0)
    newcomer = FakeUser("U0TREG", "Trine Treg", "trine.treg@example.no", team_id=TEAM)
    slack.api.add_user(newcomer)
    started = asyncio.get_running_loop().time()
    answer = await slack.send(
        slack.requests.slash("/runde", "Sent men sikkert", user=newcomer.id, channel=CHANNEL)
    )
    assert asyncio.get_running_loop().time() - started < 3.0
    assert answer.status == 200 and "Jobber med det" in answer.json()["text"]
    [late] = await slack.api.wait_for("response_url", timeout=10)
    assert "Takk" in late["text"] and late["response_type"] == "ephemeral"
    await slack.settle()
    assert await slack.count(Submission) == 1


async def test_collection_button_opens_the_editor(slack: SlackWorld) -> None:
    story = await set_up_group(slack)
    click = slack.requests.block_actions(
        user=KARI.id,
        channel=CHANNEL,
        action_id="runde:open",
        value=str(story.meeting_id),
        message_ts=story.collection_ts,
    )
    assert (await slack.send(click)).status == 200
    await slack.settle()
    view = slack.api.last("views.open")["view"]
    assert view["callback_id"] == "referent_form"


async def test_direct_message_and_reminder_buttons(slack: SlackWorld) -> None:
    """In the DM with the bot, a typed command and a reminder's button both work."""
    await set_up_group(slack)
    dm = "D" + KARI.id[1:]
    message = slack.requests.message(
        "runde Fra direktemeldingen", user=KARI.id, channel=dm, channel_type="im"
    )
    assert (await slack.send(message)).status == 200
    await slack.settle()
    assert await _round_texts(slack, KARI) == ["Fra direktemeldingen"]
    [answer] = await slack.api.wait_for("chat.postMessage")
    assert answer["channel"] == dm

    click = slack.requests.block_actions(
        user=OLA.id, channel="D" + OLA.id[1:], action_id="runde:ingen:1", value="runde ingen"
    )
    assert (await slack.send(click)).status == 200
    await slack.settle()
    [nothing] = await slack.rows(Submission, Submission.kind == SubmissionKind.NOTHING)
    assert nothing.text == ""
    assert slack.api.params("response_url")[-1]["response_type"] == "ephemeral"


def _update_text(params: dict[str, object]) -> str:
    """All a chat.update says: its fallback text and every section block."""
    blocks = params.get("blocks") or []
    assert isinstance(blocks, list)
    sections = [b["text"]["text"] for b in blocks if b.get("type") == "section"]
    return " ".join([str(params.get("text", "")), *sections])


async def test_deadline_and_state_changes_update_the_collection_message(slack: SlackWorld) -> None:
    story = await set_up_group(slack)
    new_day = date.today() + timedelta(days=20)
    ephemeral_text(await slack.command("/mote", f"frist {new_day:%d.%m.%Y}", user=SIRI))
    [moved] = slack.api.params("chat.update")
    assert moved["channel"] == CHANNEL and moved["ts"] == story.collection_ts
    assert f"{new_day.day}. " in _update_text(moved) and "Stengt" not in _update_text(moved)

    ephemeral_text(await slack.command("/mote", "lukk", user=SIRI))
    closed = slack.api.params("chat.update")[-1]
    assert closed["ts"] == story.collection_ts
    assert "Stengt" in _update_text(closed)
    assert not any(b.get("type") == "actions" for b in closed.get("blocks") or [])

    ephemeral_text(await slack.command("/mote", "apne", user=SIRI))
    reopened = slack.api.params("chat.update")[-1]
    assert reopened["ts"] == story.collection_ts
    assert "Stengt" not in _update_text(reopened)
    assert any(b.get("type") == "actions" for b in reopened.get("blocks") or [])
    # Updated in place: nothing new was posted in the channel.
    assert [p for p in slack.api.params("chat.postMessage") if p["channel"] == CHANNEL] == []
    assert len(slack.api.params("chat.update")) == 3


async def test_past_meeting_opened_with_frist_gets_its_collection_message(slack: SlackWorld) -> None:
    ephemeral_text(await slack.command("/referent", "oppsett Faggruppe for test | Testregionen", user=SIRI))
    past = date.today() - timedelta(days=10)
    text = ephemeral_text(await slack.command("/mote", f"ny {past:%d.%m.%Y} 10:00-12:00 Teams", user=SIRI))
    assert "mote frist" in text
    assert [p for p in slack.api.params("chat.postMessage") if p["channel"] == CHANNEL] == []
    assert await slack.count(ChannelMessage) == 0

    new_day = date.today() + timedelta(days=5)
    ephemeral_text(await slack.command("/mote", f"frist {new_day:%d.%m.%Y}", user=SIRI))
    [posted] = [p for p in slack.api.params("chat.postMessage") if p["channel"] == CHANNEL]
    assert "Runde rundt bordet" in str(posted["text"]) and f"{new_day.day}. " in str(posted["text"])
    [meeting] = await slack.rows(Meeting)
    [recorded] = await slack.rows(ChannelMessage, ChannelMessage.purpose == "collection")
    assert recorded.subject_id == meeting.id and recorded.channel_id == CHANNEL
    assert slack.api.params("chat.update") == []


async def test_attendance_cannot_contradict_itself(slack: SlackWorld) -> None:
    story = await set_up_group(slack)
    members = {m.first_name: m.id for m in await slack.rows(Member)}

    # Kari is present: Per cannot stand in for her, and is told who is registered and what to do.
    ephemeral_text(await slack.command("/tilstede", user=KARI))
    refused = ephemeral_text(await slack.command("/referent", "vara for <@U0KARI|kari.nordmann>", user=PER))
    assert "Kari Nordmann er registrert som til stede" in refused and "`forfall`" in refused
    assert [a.member_id for a in await slack.rows(Attendance)] == [members["Kari"]]

    # Once Kari has sent apologies, Per stands in for her.
    ephemeral_text(await slack.command("/referent", "forfall", user=KARI))
    ephemeral_text(await slack.command("/referent", "vara for <@U0KARI|kari.nordmann>", user=PER))
    # Now neither Kari herself nor the secretariat can mark her present: Per is registered.
    for answer in (
        await slack.command("/tilstede", user=KARI),
        await slack.command("/tilstede", "<@U0KARI|kari.nordmann>", user=SIRI),
    ):
        text = ephemeral_text(answer)
        assert "Per Olsen er registrert som vara for Kari Nordmann" in text and "`tilstede`" in text
    attendance = {a.member_id: a for a in await slack.rows(Attendance)}
    assert attendance[members["Kari"]].status == AttendanceStatus.EXCUSED
    assert attendance[members["Per"]].substitute_for_member_id == members["Kari"]

    # Anne stands in for Ola, who said nothing: Ola has sent apologies everywhere.
    ephemeral_text(await slack.command("/referent", "vara for <@U0OLA|ola.nordmann>", user=ANNE))
    async with slack.db.session() as session:
        # as if the old rule had left Ola without a row of his own
        await session.execute(
            delete(Attendance).where(Attendance.member_id == members["Ola"])
        )
    status = ephemeral_text(await slack.command("/mote", "status", user=SIRI))
    excused_line = next(line for line in status.splitlines() if line.startswith("Forfall:"))
    assert "Kari Nordmann" in excused_line and "Ola Nordmann" in excused_line
    async with slack.db.session() as session:
        statuses = {s.member_id: s.excused for s in await reminder_repo.member_statuses(
            session, story.meeting_id, (await slack.rows(Meeting))[0].group_id
        )}
    assert statuses[members["Kari"]] and statuses[members["Ola"]] and not statuses[members["Per"]]

    draft = ephemeral_text(await slack.command("/referat", "", user=SIRI))
    assert "Per Olsen (Testkommune, vara for Kari Nordmann)" in draft
    assert "Anne Hansen (Testkommune, vara for Ola Nordmann)" in draft
    assert ") (vara for" not in draft
