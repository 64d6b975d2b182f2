"""Teams activity JSON → ChatEvent: mentions, threads, ids, tenants, locales, card actions."""

from __future__ import annotations

import pytest

from bot.offline.fakes.teams_activities import TeamsScenario, fictional_user
from bot.teams import activity as ta
from handlers.events import EventKind, Mention, PollAction
from handlers.richtext import parse, plain

KARI = fictional_user("Kari", "Nordmann", "example.no")
OLA = fictional_user("Ola", "Nordmann", "example.no")
SCENARIO = TeamsScenario(
    service_url="https://smba.trafficmanager.net/emea/", app_id="6f1c3b52-8d2e-4a7f-9b0c-1d2e3f4a5b6c"
)


def test_channel_command_strips_the_bot_mention_and_names_others() -> None:
    activity = SCENARIO.channel_message(
        KARI, "oppfolging Send tall @Ola Nordmann frist 01.02", mentions=(OLA,)
    )
    event = ta.message_event(activity, email="kari@example.no")
    assert event is not None
    assert event.kind is EventKind.COMMAND
    assert event.text == "oppfolging Send tall @Ola Nordmann frist 01.02"
    # Teams' mention entity carries the Bot Framework id; the adapter resolves it to the Entra id
    # through the connector (tests/e2e), or takes aadObjectId when the entity has it.
    assert event.mentions == (Mention(user_id=OLA.id, display_name="Ola Nordmann"),)
    activity["entities"][1]["mentioned"]["aadObjectId"] = OLA.aad_object_id
    again = ta.message_event(activity)
    assert again is not None and again.mentions[0].user_id == OLA.aad_object_id
    assert event.platform == "teams"
    assert event.workspace_id == SCENARIO.tenant_id
    assert event.channel_id == SCENARIO.channel_id
    assert event.user_id == KARI.aad_object_id
    assert event.user_name == "Kari Nordmann"
    assert event.user_email == "kari@example.no"
    assert event.locale == "nb-NO"
    assert not event.is_direct
    assert event.message_ref == event.event_id == activity["id"]
    assert event.thread_ref is None  # a new post is its own thread root


def test_leading_slash_is_optional_and_typed_markup_is_kept_as_text() -> None:
    activity = SCENARIO.channel_message(KARI, "/runde <script>x</script> &amp; <at>Ola</at> **fet**")
    event = ta.message_event(activity)
    assert event is not None
    # event.text is the stored rich-text form: typed asterisks are escaped there, so they read
    # back as the characters typed, not as bold (handlers.richtext.source)
    assert event.text == "runde <script>x</script> &amp; <at>Ola</at> \\*\\*fet\\*\\*"
    assert plain(parse(event.text)) == "runde <script>x</script> &amp; <at>Ola</at> **fet**"
    assert event.mentions == ()  # a typed <at> without an entity is no mention


def test_at_text_without_the_bot_entity_is_not_a_command() -> None:
    activity = SCENARIO.channel_message(KARI, "runde hei", mention_bot=False)
    activity["text"] = "<at>Referent</at> runde hei"  # typed, but no mention entity: not for us
    assert ta.message_event(activity) is None


def test_thread_reply_without_mention_is_a_thread_reply() -> None:
    activity = SCENARIO.thread_reply(KARI, "1768900000000", "Linje én\nLinje to")
    event = ta.message_event(activity)
    assert event is not None
    assert event.kind is EventKind.THREAD_REPLY
    assert event.thread_ref == "1768900000000"
    assert event.channel_id == SCENARIO.channel_id
    assert event.text == "Linje én\nLinje to"


def test_teams_html_formatting_is_kept_in_the_stored_form() -> None:
    activity = SCENARIO.thread_reply(KARI, "1768900000000", "x")
    activity["text"] = "<p>Første&nbsp;avsnitt</p><p>Andre <b>fet</b> &lt;i&gt;</p>"
    event = ta.message_event(activity)
    assert event is not None
    # two paragraphs stay two paragraphs and <b> stays bold (it used to be flattened to plain text)
    assert event.text == "Første avsnitt\n\nAndre **fet** <i>"


def test_unmentioned_top_level_post_and_bot_messages_are_ignored() -> None:
    assert ta.message_event(SCENARIO.channel_message(KARI, "bare prat", mention_bot=False)) is None
    own = SCENARIO.thread_reply(KARI, "1768900000000", "fra boten")
    own["from"] = {"id": SCENARIO.bot_id, "name": "Referent"}
    assert ta.message_event(own) is None


def test_personal_chat_is_direct() -> None:
    event = ta.message_event(SCENARIO.personal_message(KARI, "runde", locale="en-US"))
    assert event is not None
    assert event.is_direct
    assert event.channel_id == SCENARIO.personal_conversation_id(KARI)
    assert event.locale == "en-US"
    assert event.kind is EventKind.COMMAND


def test_edit_and_delete_carry_the_message_and_distinct_delivery_ids() -> None:
    edit1 = ta.edit_event(SCENARIO.message_update(KARI, "1768900000005", "ny tekst", root_id="1768900000000"))
    edit2 = ta.edit_event(
        SCENARIO.message_update(KARI, "1768900000005", "nyere tekst", root_id="1768900000000")
    )
    delete = ta.delete_event(SCENARIO.message_delete(KARI, "1768900000005", root_id="1768900000000"))
    assert edit1 and edit2 and delete
    assert edit1.kind is EventKind.MESSAGE_EDITED and delete.kind is EventKind.MESSAGE_DELETED
    assert edit1.message_ref == edit2.message_ref == delete.message_ref == "1768900000005"
    assert edit1.thread_ref == "1768900000000"
    assert len({edit1.event_id, edit2.event_id, delete.event_id}) == 3
    again = ta.edit_event(SCENARIO.message_update(KARI, "1768900000005", "ny tekst", root_id="1768900000000"))
    assert again is not None and again.event_id == edit1.event_id


def test_card_actions() -> None:
    vote = SCENARIO.card_action(KARI, "1768900000009", ta.VERB_POLL, {"poll_id": 3, "option_id": "7"})
    action = ta.card_action_of(vote)
    assert action is not None
    event = ta.card_event(vote, action)
    assert event is not None and event.kind is EventKind.POLL_VOTE
    assert event.action == PollAction(poll_id=3, option_id=7)
    assert event.event_id == f"action:{vote['id']}"

    form = SCENARIO.card_action(
        KARI, "1", ta.VERB_FORM, {"form_id": "runde:4"}, inputs={"text": "Mitt innlegg"}
    )
    action = ta.card_action_of(form)
    assert action is not None
    event = ta.card_event(form, action)
    assert event is not None and event.kind is EventKind.FORM_SUBMIT
    assert (
        event.form_values == {"form_id": "runde:4", "owner": "", "text": "Mitt innlegg"}
        or event.form_values["text"] == "Mitt innlegg"
    )

    button = SCENARIO.card_action(KARI, "1", ta.VERB_BUTTON, {"command": "runde"})
    action = ta.card_action_of(button)
    assert action is not None
    event = ta.card_event(button, action)
    assert event is not None and event.kind is EventKind.COMMAND and event.text == "runde"

    assert ta.card_action_of(SCENARIO.card_action(KARI, "1", "other.app", {})) is None
    bad = SCENARIO.card_action(KARI, "1", ta.VERB_POLL, {"poll_id": True, "option_id": "x"})
    action = ta.card_action_of(bad)
    assert action is not None and ta.card_event(bad, action) is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda a: a.update(type=""),
        lambda a: a.update(serviceUrl="javascript:alert(1)"),
        lambda a: a.update(conversation={}),
        lambda a: a.update({"from": "Kari"}),
        lambda a: a.update(entities={}),
        lambda a: a.update(text=["runde"]),
        lambda a: a.update(text="x" * 30_000),
        lambda a: a.update(id="9" * 600),
        lambda a: a["channelData"]["tenant"].update(id="another-tenant"),
    ],
)
def test_malformed_activities_are_refused(mutate: object) -> None:
    activity = SCENARIO.channel_message(KARI, "runde x")
    mutate(activity)  # type: ignore[operator]
    with pytest.raises(ta.ActivityError):
        ta.validate(activity)
        ta.tenant_of(activity)


def test_channel_id_comes_from_channel_data_in_either_spelling() -> None:
    activity = SCENARIO.thread_reply(KARI, "1768900000000", "x")
    del activity["channelData"]["channel"]
    assert ta.address_of(activity).channel_id == SCENARIO.channel_id  # teamsChannelId
    del activity["channelData"]["teamsChannelId"]
    assert ta.address_of(activity).channel_id == SCENARIO.channel_id  # conversation id, sans ;messageid
    assert ta.address_of(activity).team_id == SCENARIO.team_id


def test_conversation_references() -> None:
    refs = dict(ta.conversation_references(SCENARIO.channel_message(KARI, "hjelp")))
    user = refs[f"user:{KARI.aad_object_id}"]
    assert user["user"]["id"] == KARI.id and user["serviceUrl"] == SCENARIO.service_url
    assert user["bot"]["id"] == SCENARIO.bot_id
    channel = refs[f"channel:{SCENARIO.channel_id}"]
    assert channel["conversation"] == {
        "id": SCENARIO.channel_id,
        "conversationType": "channel",
        "tenantId": SCENARIO.tenant_id,
        "isGroup": True,
    }
    assert channel["teamId"] == SCENARIO.team_id
    personal = dict(ta.conversation_references(SCENARIO.personal_message(KARI, "hjelp")))
    assert personal[f"user:{KARI.aad_object_id}"]["conversation"]["conversationType"] == "personal"
