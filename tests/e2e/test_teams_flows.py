"""Teams end to end: the real server on loopback, activities shaped as Teams sends them, a fake Bot
Connector as their serviceUrl. Assertions are on what the bot sent to the connector and on what
is stored; nothing of Referent is mocked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.offline.fakes.bot_connector import RecordedActivity
from bot.offline.fakes.teams_activities import find_actions
from bot.teams.activity import VERB_FORM, VERB_FORM_CANCEL, VERB_POLL
from handlers.events import DirectTarget, Reply
from handlers.i18n import t
from handlers.richtext import parse, plain
from storage.models import (
    ChannelBinding,
    ChannelMessage,
    ConversationReference,
    FollowUp,
    Meeting,
    Member,
    PlatformIdentity,
    Poll,
    ProcessedEvent,
    Role,
    Submission,
    SubmissionKind,
    Vote,
)
from tests.e2e.teams_fixtures import KARI, OLA, OTHER_TENANT, PER, SIRI, TENANT, TeamsWorld, card_text

pytestmark = pytest.mark.e2e


def no_mention_entities(sent: list[RecordedActivity]) -> bool:
    """The bot never pings anyone: no mention entity in anything it sent."""
    return all(not any(e.get("type") == "mention" for e in (a.body.get("entities") or [])) for a in sent)


async def test_bot_added_to_team_says_how_to_set_up_and_remembers_the_team(teams: TeamsWorld) -> None:
    answer = await teams.post(teams.scenario.bot_added_to_team(SIRI))
    assert answer.status == 200
    sent = teams.connector.activities(teams.scenario.team_id)
    assert len(sent) == 1
    assert "oppsett" in sent[0].text
    refs = await teams.rows(ConversationReference)
    assert {r.key for r in refs} >= {f"channel:{teams.scenario.team_id}", f"user:{SIRI.aad_object_id}"}
    channel_ref = next(r.reference for r in refs if r.key.startswith("channel:"))
    assert channel_ref["serviceUrl"] == teams.connector.url
    assert channel_ref["conversation"]["tenantId"] == TENANT


async def test_setup_and_new_meeting_post_the_collection_message_in_the_channel(teams: TeamsWorld) -> None:
    scenario = teams.scenario
    setup = scenario.channel_message(SIRI, "oppsett Faggruppe digitalisering | Testregionen")
    assert (await teams.post(setup)).status == 200
    assert "Faggruppe digitalisering" in teams.reply_text(setup)
    # The channel is bound, and the one stored reference of the channel says how to reach it.
    [binding] = await teams.rows(ChannelBinding)
    assert (binding.workspace_id, binding.channel_id) == (TENANT, scenario.channel_id)
    assert not hasattr(binding, "reference")
    [channel_ref] = [
        r.reference
        for r in await teams.rows(ConversationReference)
        if (r.workspace_id, r.key) == (TENANT, f"channel:{scenario.channel_id}")
    ]
    assert channel_ref["serviceUrl"] == teams.connector.url
    assert channel_ref["conversation"]["id"] == scenario.channel_id

    meeting = scenario.channel_message(SIRI, "mote ny 20.01.2031 10:00-12:00 Teams")
    assert (await teams.post(meeting)).status == 200
    assert "20. januar 2031" in teams.reply_text(meeting)
    # The collection message opens a new thread in the channel (not a reply to the command).
    collection = [a for a in teams.connector.activities(scenario.channel_id) if a.reply_to_id is None]
    assert len(collection) == 1
    assert collection[0].conversation_id == scenario.channel_id
    assert "Runde rundt bordet" in collection[0].text
    [recorded] = await teams.rows(ChannelMessage, ChannelMessage.purpose == "collection")
    assert recorded.message_ref == collection[0].activity_id

    # Replies in that thread, without mentioning the bot, are round-table entries.
    reply = scenario.thread_reply(KARI, collection[0].activity_id, "Vi har startet en pilot.")
    assert (await teams.post(reply)).status == 200
    [entry] = await teams.rows(Submission)
    assert entry.text == "Vi har startet en pilot."
    assert entry.source_ref == reply["id"]
    assert "Kari" in teams.reply_text(reply)


async def test_channel_command_with_mention_markup_and_leading_slash(teams: TeamsWorld) -> None:
    seeded = await teams.seed()
    activity = teams.scenario.channel_message(
        KARI,
        "/runde Vi har <script>alert(1)</script> og <at>Ola</at> testet **nytt** @Per Olsen",
        mentions=(PER,),
    )
    assert (await teams.post(activity)).status == 200
    [entry] = await teams.rows(Submission)
    # Stored as written: the bot's mention gone, the other person as @Name, markup kept as text.
    # (typed asterisks are escaped in the stored rich-text form, so they read back as typed)
    assert entry.text == "Vi har <script>alert(1)</script> og <at>Ola</at> testet \\*\\*nytt\\*\\* @Per Olsen"
    typed = "Vi har <script>alert(1)</script> og <at>Ola</at> testet **nytt** @Per Olsen"
    assert plain(parse(entry.text)) == typed
    assert entry.meeting_id == seeded.meeting_id
    [reply] = teams.replies_to(activity)
    # Answered in the command's thread; member text is inert in Teams' Markdown.
    assert reply.conversation_id.endswith(f";messageid={activity['id']}")
    assert "<script>" not in reply.text and "&lt;script&gt;" in reply.text
    assert "<at>" not in reply.text and "&lt;at&gt;Ola&lt;/at&gt;" in reply.text
    assert no_mention_entities(teams.connector.activities())


async def test_identity_is_linked_by_email_and_references_are_stored(teams: TeamsWorld) -> None:
    seeded = await teams.seed()
    activity = teams.scenario.channel_message(KARI, "tilstede")
    assert (await teams.post(activity)).status == 200
    # The e-mail came from the connector's member lookup, and linked the roster member.
    assert (teams.scenario.team_id, KARI.id) in teams.connector.member_lookups
    [identity] = await teams.rows(PlatformIdentity, PlatformIdentity.member_id == seeded.members[KARI.id])
    assert identity.user_id == KARI.aad_object_id
    assert identity.workspace_id == TENANT
    refs = {r.key: r.reference for r in await teams.rows(ConversationReference)}
    user_ref = refs[f"user:{KARI.aad_object_id}"]
    assert user_ref["user"]["id"] == KARI.id
    assert user_ref["serviceUrl"] == teams.connector.url
    assert refs[f"channel:{teams.scenario.channel_id}"]["conversation"]["id"] == teams.scenario.channel_id
    # A second message from the same user looks nothing up again and stores nothing new.
    lookups = len(teams.connector.member_lookups)
    await teams.post(teams.scenario.channel_message(KARI, "tilstede"))
    assert len(teams.connector.member_lookups) == lookups


async def test_thread_reply_edit_and_delete_update_the_entry(teams: TeamsWorld) -> None:
    seeded = await teams.seed()
    assert seeded.collection_id
    scenario = teams.scenario
    reply = scenario.thread_reply(KARI, seeded.collection_id, "Første versjon")
    await teams.post(reply)
    [entry] = await teams.rows(Submission)
    assert entry.text == "Første versjon"

    edit = scenario.message_update(
        KARI, reply["id"], "Andre versjon, med <b>mer</b>", root_id=seeded.collection_id
    )
    assert (await teams.post(edit)).status == 200
    [entry] = await teams.rows(Submission)
    assert entry.text == "Andre versjon, med <b>mer</b>"

    # Someone else's message in the thread, and an edit of a message that is no entry: ignored.
    stray = scenario.message_update(OLA, "1111111111111", "Ikke et innlegg", root_id=seeded.collection_id)
    assert (await teams.post(stray)).status == 200
    assert [s.text for s in await teams.rows(Submission)] == ["Andre versjon, med <b>mer</b>"]

    delete = scenario.message_delete(KARI, reply["id"], root_id=seeded.collection_id)
    assert (await teams.post(delete)).status == 200
    assert await teams.count(Submission) == 0


async def test_edits_and_deletes_after_the_deadline_are_refused_alike(teams: TeamsWorld) -> None:
    seeded = await teams.seed()
    assert seeded.collection_id
    scenario = teams.scenario
    reply = scenario.thread_reply(KARI, seeded.collection_id, "Status fra Bodø")
    await teams.post(reply)
    async with teams.db.write() as session:
        await session.execute(
            update(Meeting).values(deadline_override=datetime.now(UTC) - timedelta(minutes=5))
        )
    edit = scenario.message_update(KARI, reply["id"], "Endret for sent", root_id=seeded.collection_id)
    delete = scenario.message_delete(KARI, reply["id"], root_id=seeded.collection_id)
    for activity in (edit, delete):
        assert (await teams.post(activity)).status == 200
        await teams.settle()
        # an edit or delete carries the message's own id: the newest answer to it is this one
        newest = teams.replies_to(activity)[-1].text
        assert newest.startswith("Endringen ble ikke lagret fordi fristen"), (activity["type"], newest)
    assert [s.text for s in await teams.rows(Submission)] == ["Status fra Bodø"]


async def test_unmentioned_posts_outside_collection_threads_are_ignored(teams: TeamsWorld) -> None:
    await teams.seed()
    top = teams.scenario.channel_message(KARI, "Hei alle sammen", mention_bot=False)
    other_thread = teams.scenario.thread_reply(KARI, "1700000000000", "Svar i en annen tråd")
    for activity in (top, other_thread):
        assert (await teams.post(activity)).status == 200
    assert await teams.count(Submission) == 0
    assert teams.connector.activities() == []


async def test_redelivered_activity_is_stored_once(teams: TeamsWorld) -> None:
    seeded = await teams.seed()
    assert seeded.collection_id
    command = teams.scenario.channel_message(KARI, "runde Samme melding to ganger")
    thread = teams.scenario.thread_reply(KARI, seeded.collection_id, "Tråd-svar to ganger")
    for activity in (command, thread):
        assert (await teams.post(activity)).status == 200
        assert (await teams.post(json.loads(json.dumps(activity)))).status == 200
    texts = sorted(s.text for s in await teams.rows(Submission))
    assert texts == ["Samme melding to ganger", "Tråd-svar to ganger"]
    assert await teams.count(ProcessedEvent, ProcessedEvent.event_id == command["id"]) == 1


async def test_personal_chat_form_prefilled_and_saved_through_card_action(teams: TeamsWorld) -> None:
    seeded = await teams.seed()
    scenario = teams.scenario
    await teams.post(scenario.personal_message(KARI, "runde Første del"))
    ask = scenario.personal_message(KARI, "runde")
    assert (await teams.post(ask)).status == 200
    [reply] = teams.replies_to(ask)
    assert reply.conversation_id == scenario.personal_conversation_id(KARI)
    [card] = reply.cards
    [field] = [b for b in card["body"] if b.get("type") == "Input.Text"]
    assert field["value"] == "Første del"
    [save] = find_actions(card, VERB_FORM)

    # Someone else cannot save my form (it is visible to all in a channel).
    stranger = scenario.card_action_from(OLA, reply.activity_id, save, inputs={"text": "Kapret"})
    refused = await teams.post(stranger)
    assert refused.status == 200 and refused.json()["type"] == "application/vnd.microsoft.activity.message"
    assert refused.json()["value"] == t("nb", "teams.not_yours")  # the adapter's words, from the catalog

    click = scenario.card_action_from(
        KARI, reply.activity_id, save, personal=True, inputs={"text": "Første del\n- og et punkt"}
    )
    answer = await teams.post(click)
    assert answer.status == 200
    body = answer.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "lagret" in card_text(body["value"])
    [entry] = await teams.rows(Submission, Submission.kind == SubmissionKind.ROUND)
    assert entry.text == "Første del\n- og et punkt"
    assert entry.member_id == seeded.members[KARI.id]

    cancel = scenario.card_action_from(
        KARI, reply.activity_id, find_actions(card, VERB_FORM_CANCEL)[0], personal=True
    )
    cancelled = await teams.post(cancel)
    assert cancelled.status == 200 and cancelled.json()["type"] == "application/vnd.microsoft.card.adaptive"
    assert t("nb", "teams.cancelled") in card_text(cancelled.json()["value"])


def _long_entry(seed: str, paragraphs: int) -> str:
    line = f"{seed}: Kommunen jobber med næringsarealer, rekruttering og sirkulær økonomi."
    return "\n\n".join(f"{line} {n}\n- punkt æøå\n{line * 8}" for n in range(paragraphs))


async def test_a_long_entry_survives_an_unchanged_save_and_a_too_long_one_gets_no_form(
    teams: TeamsWorld,
) -> None:
    await teams.seed()
    scenario = teams.scenario
    posts = [_long_entry(f"Del {n}", 5) for n in range(3)]
    for post in posts:
        await teams.post(scenario.personal_message(KARI, f"runde {post}"))
    entry = "\n\n".join(posts)
    assert 9000 < len(entry) < 15000
    ask = scenario.personal_message(KARI, "runde")
    await teams.post(ask)
    [reply] = teams.replies_to(ask)
    [card] = reply.cards
    [field] = [b for b in card["body"] if b.get("type") == "Input.Text"]
    assert field["value"] == entry and field["maxLength"] >= len(entry)
    [save] = find_actions(card, VERB_FORM)
    click = scenario.card_action_from(
        KARI, reply.activity_id, save, personal=True, inputs={"text": field["value"]}
    )
    assert (await teams.post(click)).json()["statusCode"] == 200
    [stored] = await teams.rows(Submission, Submission.kind == SubmissionKind.ROUND)
    assert stored.text == entry

    # Longer than a Teams card can carry: no form that would cut it, but a plain answer.
    await teams.post(scenario.personal_message(KARI, "runde " + _long_entry("Mer", 8)))
    again = scenario.personal_message(KARI, "runde")
    await teams.post(again)
    [answer] = teams.replies_to(again)
    assert answer.cards == [] and "for langt til å redigeres" in answer.text


async def test_work_group_poll_card_votes_update_for_everyone(teams: TeamsWorld) -> None:
    await teams.seed(members=((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER), (OLA, Role.MEMBER)))
    scenario = teams.scenario
    create = scenario.channel_message(
        SIRI, 'grupper ny "Data | Kari Nordmann | maks 1" "Sikkerhet | Per Olsen"'
    )
    assert (await teams.post(create)).status == 200
    [posted] = [a for a in teams.connector.activities() if a.cards and a.reply_to_id is None]
    [card] = posted.cards
    assert "Data" in card_text(card) and "Sikkerhet" in card_text(card)
    data_join, security_join = find_actions(card, VERB_POLL)

    click = scenario.card_action_from(KARI, posted.activity_id, data_join)
    answer = await teams.post(click)
    assert answer.status == 200
    body = answer.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "(1/1)" in card_text(body["value"])
    # Every posted copy of the card was updated for everyone.
    updates = [a for a in teams.connector.activities() if a.is_update and a.activity_id == posted.activity_id]
    assert updates and "(1/1)" in card_text(updates[-1].cards[0])
    [vote] = await teams.rows(Vote)

    # The group is full: Ola is told politely, and nothing changes.
    full = await teams.post(scenario.card_action_from(OLA, posted.activity_id, data_join))
    assert full.status == 200
    assert full.json()["type"] == "application/vnd.microsoft.activity.message"
    assert "full" in full.json()["value"]
    assert await teams.count(Vote) == 1

    # The same click delivered twice toggles once; a second, new click leaves the group.
    again = json.loads(json.dumps(click))
    assert (await teams.post(again)).status == 200
    assert [v.id for v in await teams.rows(Vote)] == [vote.id]
    leave = await teams.post(scenario.card_action_from(KARI, posted.activity_id, data_join))
    assert leave.status == 200
    assert await teams.count(Vote) == 0
    assert "(0/1)" in card_text(leave.json()["value"])
    await teams.post(scenario.card_action_from(OLA, posted.activity_id, security_join))
    assert await teams.count(Vote) == 1


async def test_closed_poll_refuses_politely(teams: TeamsWorld) -> None:

    await teams.seed()
    scenario = teams.scenario
    new_poll = 'grupper ny "Data | Kari Nordmann" "Sikkerhet | Per Olsen"'
    await teams.post(scenario.channel_message(SIRI, new_poll))
    [posted] = [a for a in teams.connector.activities() if a.cards and a.reply_to_id is None]
    async with teams.db.session() as session:
        poll = await session.get(Poll, 1)
        assert poll is not None
        poll.closes_at = datetime.now(UTC) - timedelta(minutes=1)
    answer = await teams.post(
        scenario.card_action_from(KARI, posted.activity_id, find_actions(posted.cards[0])[0])
    )
    assert answer.status == 200
    assert answer.json()["type"] == "application/vnd.microsoft.activity.message"
    assert "stengt" in answer.json()["value"]
    assert await teams.count(Vote) == 0


async def test_stale_or_foreign_card_actions_are_answered_not_crashed(teams: TeamsWorld) -> None:
    await teams.seed()
    scenario = teams.scenario
    cases = [
        scenario.card_action(KARI, "1700000000001", VERB_POLL, {"poll_id": "x", "option_id": 1}),
        scenario.card_action(KARI, "1700000000001", VERB_POLL, {"poll_id": 999, "option_id": 999}),
        scenario.card_action(KARI, "1700000000001", "someone.elses.verb", {}),
        {**scenario.card_action(KARI, "1700000000001", VERB_POLL, {}), "value": None},
        {**scenario.card_action(KARI, "1700000000001", VERB_POLL, {}), "name": "task/fetch"},
    ]
    for activity in cases:
        answer = await teams.post(activity)
        assert 200 <= answer.status < 500, (activity.get("value"), answer.status, answer.text)
    assert await teams.count(Vote) == 0
    foreign = await teams.post(scenario.card_action(KARI, "1700000000001", VERB_POLL, {"poll_id": "x"}))
    assert foreign.json()["value"] == t("nb", "teams.stale")
    english = scenario.card_action(KARI, "1700000000001", VERB_POLL, {"poll_id": "x"})
    english["locale"] = "en-GB"
    stale = "This button no longer works. Type `hjelp` to see what I can do."
    assert (await teams.post(english)).json()["value"] == stale


async def test_referat_comes_as_markdown_with_links(teams: TeamsWorld) -> None:
    seeded = await teams.seed()
    assert seeded.collection_id
    await teams.post(teams.scenario.thread_reply(KARI, seeded.collection_id, "Status fra Testkommune"))
    ask = teams.scenario.channel_message(SIRI, "referat")
    assert (await teams.post(ask)).status == 200
    text = teams.reply_text(ask)
    assert "Status fra Testkommune" in text
    assert "https://referent.example.no/drafts/" in text
    assert ".docx" in text.lower() or "word" in text.lower()


async def test_english_locale_and_unbound_channel(teams: TeamsWorld) -> None:
    # No group bound yet: the channel is told how to set up, in the user's language.
    ask = teams.scenario.channel_message(OLA, "runde hello", locale="en-US")
    assert (await teams.post(ask)).status == 200
    assert "oppsett" in teams.reply_text(ask)
    assert "channel" in teams.reply_text(ask).lower()
    assert await teams.count(Submission) == 0


async def test_other_tenant_sees_nothing_of_the_group(teams: TeamsWorld) -> None:
    await teams.seed()
    other = teams.scenario.channel_message(KARI, "runde fra en annen tenant")
    other["channelData"]["tenant"]["id"] = OTHER_TENANT
    other["conversation"]["tenantId"] = OTHER_TENANT
    assert (await teams.post(other)).status == 200
    assert await teams.count(Submission) == 0
    assert "oppsett" in teams.reply_text(other)
    assert "Faggruppe for test" not in teams.reply_text(other)


async def test_throttled_connector_is_retried_after_retry_after(teams: TeamsWorld) -> None:
    await teams.seed()
    teams.connector.throttle(2, retry_after=0.05)
    ask = teams.scenario.channel_message(KARI, "runde Trass i 429")
    assert (await teams.post(ask)).status == 200
    assert teams.connector.throttled == 2
    assert len(teams.replies_to(ask)) == 1


async def test_reminders_reach_people_one_to_one(teams: TeamsWorld) -> None:
    """The Teams messenger (what the reminder pass uses) reaches a user met in a channel, and one
    never met at all through the team's member list by e-mail; the new 1:1 chats are stored."""
    await teams.seed(members=((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER), (PER, Role.MEMBER)))
    await teams.post(teams.scenario.channel_message(KARI, "tilstede"))
    messenger = teams.server.runtime.messengers.for_platform("teams")
    assert messenger is not None

    to_kari = DirectTarget(
        platform="teams", workspace_id=TENANT, user_id=KARI.aad_object_id, email=KARI.email
    )
    first = await messenger.send_direct(to_kari, Reply(text="Husk runden, <b>Kari</b>!"))
    assert first
    to_per = DirectTarget(
        platform="teams", workspace_id=TENANT, user_id="", email=PER.email.upper() if PER.email else None
    )
    assert await messenger.send_direct(to_per, Reply(text="Husk runden, Per!"))

    created = teams.connector.created_conversations
    assert [c["members"][0]["id"] for c in created] == [KARI.id, PER.id]
    assert all(c["tenantId"] == TENANT and c["isGroup"] is False for c in created)
    sent = [a for a in teams.connector.activities() if a.conversation_id.startswith("a:")]
    assert "&lt;b&gt;Kari&lt;/b&gt;" in sent[0].text
    # The next reminder goes straight to the stored 1:1 chat.
    await messenger.send_direct(to_kari, Reply(text="Siste påminnelse"))
    assert len(teams.connector.created_conversations) == 2
    refs = {r.key: r.reference for r in await teams.rows(ConversationReference)}
    assert refs[f"user:{KARI.aad_object_id}"]["conversation"]["conversationType"] == "personal"
    assert refs[f"user:{PER.aad_object_id}"]["conversation"]["conversationType"] == "personal"
    assert await teams.count(Member) == 3


async def test_personal_install_says_hello_in_the_chat(teams: TeamsWorld) -> None:
    assert (await teams.post(teams.scenario.bot_added_personal(OLA))).status == 200
    [hello] = teams.connector.activities()
    assert hello.conversation_id == teams.scenario.personal_conversation_id(OLA)
    assert "Referent" in hello.text


async def test_mentioned_people_are_resolved_to_roster_members(teams: TeamsWorld) -> None:
    seeded = await teams.seed(members=((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER), (OLA, Role.MEMBER)))
    ask = teams.scenario.channel_message(KARI, "oppfolging Send tallene @Ola Nordmann", mentions=(OLA,))
    assert (await teams.post(ask)).status == 200
    [follow_up] = await teams.rows(FollowUp)
    assert follow_up.owner_member_id == seeded.members[OLA.id]
    assert "Ola Nordmann" in teams.reply_text(ask)
    assert no_mention_entities(teams.connector.activities())


async def test_form_saved_after_closing_is_refused_and_keeps_the_form(teams: TeamsWorld) -> None:
    await teams.seed()
    scenario = teams.scenario
    await teams.post(scenario.channel_message(KARI, "runde Første del"))
    ask = scenario.channel_message(KARI, "runde")
    await teams.post(ask)
    [reply] = teams.replies_to(ask)
    [save] = find_actions(reply.cards[0], VERB_FORM)
    await teams.post(scenario.channel_message(SIRI, "mote lukk"))
    answer = await teams.post(
        scenario.card_action_from(KARI, reply.activity_id, save, inputs={"text": "For sent"})
    )
    assert answer.status == 200
    body = answer.json()
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert "stengt" in body["value"]
    assert [s.text for s in await teams.rows(Submission)] == ["Første del"]


async def test_action_submit_from_older_clients_votes_too(teams: TeamsWorld) -> None:
    await teams.seed()
    scenario = teams.scenario
    new_poll = 'grupper ny "Data | Kari Nordmann" "Sikkerhet | Per Olsen"'
    await teams.post(scenario.channel_message(SIRI, new_poll))
    [posted] = [a for a in teams.connector.activities() if a.cards and a.reply_to_id is None]
    join, _security = find_actions(posted.cards[0], VERB_POLL)
    # An Action.Submit click arrives as a message whose `value` is the action's data.
    submit = scenario.thread_reply(KARI, posted.activity_id, "")
    submit.pop("text")
    submit.pop("attachments")
    submit["value"] = join["data"]
    assert (await teams.post(submit)).status == 200
    assert await teams.count(Vote) == 1
    updates = [a for a in teams.connector.activities() if a.is_update and a.activity_id == posted.activity_id]
    assert updates and "Kari Nordmann" in card_text(updates[-1].cards[0])
    assert teams.replies_to(submit) == []  # no chatter in the channel for a vote


async def test_deadline_and_state_changes_update_the_collection_message(teams: TeamsWorld) -> None:
    scenario = teams.scenario
    setup = scenario.channel_message(SIRI, "oppsett Faggruppe digitalisering | Testregionen")
    assert (await teams.post(setup)).status == 200
    start = datetime.now(UTC).date() + timedelta(days=3)
    new_meeting = scenario.channel_message(SIRI, f"mote ny {start:%d.%m.%Y} 10:00-12:00 Teams")
    assert (await teams.post(new_meeting)).status == 200
    [collection] = [a for a in teams.connector.activities(scenario.channel_id) if a.reply_to_id is None]

    def updates() -> list[RecordedActivity]:
        return [a for a in teams.connector.activities() if a.is_update]

    new_day = start + timedelta(days=20)
    assert (await teams.post(scenario.channel_message(SIRI, f"mote frist {new_day:%d.%m.%Y}"))).status == 200
    [moved] = updates()
    assert moved.activity_id == collection.activity_id and moved.conversation_id == scenario.channel_id
    assert f"{new_day.day}. " in moved.text and "Stengt" not in moved.text

    assert (await teams.post(scenario.channel_message(SIRI, "mote lukk"))).status == 200
    closed = updates()[-1]
    assert closed.activity_id == collection.activity_id and "Stengt" in closed.text

    assert (await teams.post(scenario.channel_message(SIRI, "mote apne"))).status == 200
    reopened = updates()[-1]
    assert reopened.activity_id == collection.activity_id and "Stengt" not in reopened.text
    assert len(updates()) == 3
    # Updated in place: still one collection message in the channel.
    posted = teams.connector.activities(scenario.channel_id)
    assert len([a for a in posted if a.reply_to_id is None and not a.is_update]) == 1
