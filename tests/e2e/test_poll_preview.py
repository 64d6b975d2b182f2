"""Polls before they go out, and taken back (issue 13 §3), end to end on both platforms at once.

One server serves Slack and Teams; the group is bound to a Slack channel and a Teams channel.
An odd `grupper ny` (a group without a responsible person, or only one group) is previewed to
its author with **Legg ut** / **Avbryt** and posted nowhere until confirmed; confirming posts it
in both channels once, however often it is clicked; a member cannot confirm; cancelling
discards it. `grupper trekk` deletes the poll's messages on both platforms (or replaces them with
a notice where the platform refuses), later clicks are refused politely, the votes are kept,
and the referat leaves the poll out. Requests are really signed Slack requests and real-shaped
Teams activities; only the platforms' APIs are fakes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.offline.fakes.bot_connector import FakeBotConnector, RecordedActivity
from bot.offline.fakes.slack_api import FakeSlackApi
from bot.offline.fakes.slack_requests import SlackRequests
from bot.offline.fakes.teams_activities import TeamsScenario, find_actions
from bot.teams.activity import VERB_BUTTON, VERB_POLL
from storage.models import (
    AuditEntry,
    ChannelBinding,
    ChannelMessage,
    Platform,
    Poll,
    PollOption,
    PollStatus,
    Role,
    Vote,
)
from tests.e2e.seeding import RosterEntry, seed_group
from tests.e2e.server import RunningServer, start_server
from tests.e2e.slack_fixtures import (
    BOT_TOKEN,
    BOT_USER,
    CHANNEL,
    SIGNING_SECRET,
    TEAM,
    USERS,
    Answer,
    SlackWorld,
    slack_settings,
)
from tests.e2e.slack_fixtures import KARI as SLACK_KARI
from tests.e2e.slack_fixtures import OLA as SLACK_OLA
from tests.e2e.slack_fixtures import PER as SLACK_PER
from tests.e2e.slack_fixtures import SIRI as SLACK_SIRI
from tests.e2e.teams_fixtures import APP_ID, KARI, SIRI, TEAMS_USERS, TENANT, TeamsWorld, card_text

pytestmark = pytest.mark.e2e

ODD_POLL = 'ny "Data | Kari Nordmann" "Sikkerhet"'  # «Sikkerhet» has nobody responsible
GOOD_POLL = 'ny "Data | Kari Nordmann" "Sikkerhet | Per Olsen"'


@dataclass
class Both:
    """One server, both platforms: the Slack and Teams helpers share it and its database."""

    slack: SlackWorld
    teams: TeamsWorld
    server: RunningServer
    last_click_replaced: list[bool] = field(default_factory=list)  # replace_original of each answer

    async def settle(self) -> None:
        await self.server.runtime.drain(timeout=10)

    async def slash(self, text: str, *, user: Any = SLACK_SIRI, command: str = "/grupper") -> dict[str, Any]:
        """A signed slash command; its (ephemeral) answer's body."""
        answer = await self.slack.command(command, text, user=user)
        assert answer.status == 200, answer.text
        body = answer.json()
        assert body.get("response_type") == "ephemeral", body
        return body

    async def click_slack(
        self, action_id: str, value: str, *, user: Any, message_ts: str | None = None
    ) -> str:
        """A signed block_actions click; the text of the answer only the clicker sees."""
        before = len(self.slack.api.params("response_url"))
        request = self.slack.requests.block_actions(
            user=user.id,
            channel=CHANNEL,
            action_id=action_id,
            value=value,
            message_ts=message_ts,
            is_ephemeral=message_ts is None,
        )
        answer = await self.slack.send(request)
        assert answer.status == 200, answer.text
        await self.settle()
        answers = self.slack.api.params("response_url")[before:]
        assert answers, "the click got no answer"
        assert all(a.get("response_type") == "ephemeral" for a in answers)
        self.last_click_replaced = [bool(a.get("replace_original")) for a in answers]
        return " ".join(str(a.get("text", "")) for a in answers)

    async def teams_says(self, user: Any, text: str) -> tuple[dict[str, Any], list[RecordedActivity]]:
        activity = self.teams.scenario.channel_message(user, text)
        assert (await self.teams.post(activity)).status == 200
        return activity, self.teams.replies_to(activity)

    async def click_teams(self, user: Any, message_id: str, action: dict[str, Any]) -> dict[str, Any]:
        """An `adaptiveCard/action` invoke; the invoke answer's body."""
        answer = await self.teams.post(self.teams.scenario.card_action_from(user, message_id, action))
        assert answer.status == 200, answer.text
        body = answer.json()
        assert isinstance(body, dict)
        return body

    def teams_posts(self) -> list[RecordedActivity]:
        """Poll cards the bot posted as new messages in the Teams channel (not replies)."""
        return [
            a
            for a in self.teams.connector.activities(self.teams.scenario.channel_id)
            if a.method == "POST"
            and a.reply_to_id is None
            and any(find_actions(c, VERB_POLL) for c in a.cards)
        ]

    async def polls(self) -> list[Poll]:
        return await self.slack.rows(Poll)

    async def slack_poll_ts(self) -> str:
        """The ts of the poll message the bot posted in the Slack channel."""
        [message] = await self.slack.rows(
            ChannelMessage, ChannelMessage.purpose == "poll", ChannelMessage.platform == Platform.SLACK
        )
        return str(message.message_ref)


@pytest.fixture
async def both(tmp_path: Path) -> AsyncIterator[Both]:
    api = FakeSlackApi(token=BOT_TOKEN, team_id=TEAM, bot_user_id=BOT_USER, users=USERS)
    await api.start()
    connector = FakeBotConnector(TEAMS_USERS, tenant_id=TENANT)
    await connector.start()
    server = await start_server(
        slack_settings(
            api,
            tmp_path,
            MICROSOFT_APP_ID="",
            MICROSOFT_APP_PASSWORD="",
            REFERENT_TEAMS_EMULATOR="1",  # unauthenticated Teams, loopback only
        )
    )
    scenario = TeamsScenario(service_url=connector.url, app_id=APP_ID, tenant_id=TENANT)
    session = aiohttp.ClientSession()
    requests = SlackRequests(
        signing_secret=SIGNING_SECRET,
        team_id=TEAM,
        bot_user_id=BOT_USER,
        response_url_base=api.base + "/response",
    )
    world = Both(
        slack=SlackWorld(api=api, server=server, requests=requests, session=session),
        teams=TeamsWorld(connector=connector, server=server, scenario=scenario, session=session),
        server=server,
    )
    try:
        # What `oppsett` in the Slack channel, `oppsett bli med` from the Teams channel, the
        # roster import and `mote ny` leave behind. The same people are on both platforms
        # (linked by their e-mail on first use).
        seeded = await seed_group(
            server.runtime.db,
            platform=Platform.SLACK,
            workspace_id=TEAM,
            channel_id=CHANNEL,
            roster=[
                RosterEntry(SLACK_SIRI.id, SLACK_SIRI.real_name, SLACK_SIRI.email, Role.SECRETARIAT),
                RosterEntry(SLACK_KARI.id, SLACK_KARI.real_name, SLACK_KARI.email, Role.MEMBER),
                RosterEntry(SLACK_PER.id, SLACK_PER.real_name, SLACK_PER.email, Role.MEMBER),
            ],
            meeting=True,
            starts_in=timedelta(days=2),
            collection_ref=None,
        )
        async with server.runtime.db.write() as db_session:
            db_session.add(
                ChannelBinding(
                    group_id=seeded.group_id,
                    platform=Platform.TEAMS,
                    workspace_id=TENANT,
                    channel_id=scenario.channel_id,
                )
            )
        # The bot has seen the Teams channel (so it knows how to post there).
        _, hello = await world.teams_says(KARI, "hjelp")
        assert hello
        yield world
    finally:
        await session.close()
        await server.stop()
        await connector.stop()
        await api.stop()


def slack_buttons(blocks: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Label → (action_id, value) of each button in an actions block."""
    found: dict[str, tuple[str, str]] = {}
    for block in blocks:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                found[element["text"]["text"]] = (element["action_id"], element.get("value", ""))
    return found


def vote_buttons(blocks: list[dict[str, Any]]) -> list[str]:
    """The action ids of a poll message's vote buttons (each option's accessory)."""
    return [b["accessory"]["action_id"] for b in blocks if "accessory" in b]


async def work_groups(world: Both) -> str:
    """The work-group section of the draft (Markdown, as the secretariat gets it in Teams)."""
    _activity, replies = await world.teams_says(SIRI, "referat")
    draft = "\n".join(r.text for r in replies)
    assert "## Arbeidsgrupper" in draft, draft
    return draft.split("## Arbeidsgrupper", 1)[1].split("\n## ", 1)[0].strip()


async def test_an_odd_poll_is_previewed_and_posted_once_on_both_platforms_when_confirmed(both: Both) -> None:
    body = await both.slash(ODD_POLL)
    # The preview: what is odd, the poll as it will look (no vote buttons), and two buttons.
    assert "uvanlig" in body["text"] and "Uten ansvarlig: «Sikkerhet»" in body["text"]
    shown = json.dumps(body["blocks"], ensure_ascii=False)
    assert "Data" in shown and "Sikkerhet" in shown and "Kari Nordmann" in shown
    assert vote_buttons(body["blocks"]) == []
    buttons = slack_buttons(body["blocks"])
    assert set(buttons) == {"Legg ut", "Avbryt"}
    post_id, post_value = buttons["Legg ut"]

    # Nothing is out: no channel message anywhere, nothing to show, no votes, not in the referat.
    [poll] = await both.polls()
    assert poll.status == PollStatus.PENDING
    assert both.slack.api.count("chat.postMessage") == 0 and both.teams_posts() == []
    assert await both.slack.count(ChannelMessage, ChannelMessage.purpose == "poll") == 0
    assert "ingen påmelding" in (await both.slash("", user=SLACK_KARI))["text"]
    assert "ingen påmelding" in (await both.slash("vis", user=SLACK_SIRI))["text"]
    [option, *_] = await both.slack.rows(PollOption)
    refused = await both.click_slack(f"poll:{poll.id}:{option.id}", f"{poll.id}:{option.id}", user=SLACK_KARI)
    assert "finner ikke" in refused and await both.slack.count(Vote) == 0
    assert await work_groups(both) == "Ingen påmeldte ennå."

    # A member cannot post it, from the buttons or typed; the preview stays as it was.
    assert "sekretariatet" in await both.click_slack(post_id, post_value, user=SLACK_KARI)
    assert both.last_click_replaced == [False]
    assert "sekretariatet" in (await both.slash(f"publiser {poll.id}", user=SLACK_KARI))["text"]
    assert both.slack.api.count("chat.postMessage") == 0 and both.teams_posts() == []

    # The secretariat posts it: once in the Slack channel and once in the Teams channel.
    confirmed = await both.click_slack(post_id, post_value, user=SLACK_SIRI)
    assert "er lagt ut i 2 kanaler" in confirmed
    assert both.last_click_replaced == [True]  # the answer takes the preview's place, buttons and all
    [posted] = both.slack.api.params("chat.postMessage")
    assert posted["channel"] == CHANNEL and len(vote_buttons(posted["blocks"])) == 2
    [card_post] = both.teams_posts()
    assert "Sikkerhet" in card_text(card_post.cards[0])
    [poll] = await both.polls()
    assert poll.status == PollStatus.POSTED

    # A second click (a double click, the same preview) posts nothing more and says so.
    again = await both.click_slack(post_id, post_value, user=SLACK_SIRI)
    assert "allerede lagt ut" in again
    assert both.slack.api.count("chat.postMessage") == 1 and len(both.teams_posts()) == 1
    assert await both.slack.count(ChannelMessage, ChannelMessage.purpose == "poll") == 2

    # Now it is out: it takes votes and is in the referat.
    kari_joins = await both.click_slack(
        vote_buttons(posted["blocks"])[1], "", user=SLACK_KARI, message_ts=await both.slack_poll_ts()
    )
    assert "Du er med i «Sikkerhet»" in kari_joins
    section = await work_groups(both)
    assert "Gruppe 2 – Sikkerhet" in section and "- Kari Nordmann (Testkommune)" in section


async def test_teams_preview_is_confirmed_once_and_a_member_cannot(both: Both) -> None:
    _ask, replies = await both.teams_says(SIRI, 'grupper ny "Data"')  # one group, nobody responsible
    [preview] = [r for r in replies if r.cards]
    assert "bare én gruppe" in preview.text and "Ingen av gruppene har en ansvarlig" in preview.text
    assert not any(find_actions(c, VERB_POLL) for c in preview.cards)  # shown without vote buttons
    assert any("Data" in card_text(c) for c in preview.cards)
    actions = {a["title"]: a for c in preview.cards for a in find_actions(c, VERB_BUTTON)}
    assert set(actions) == {"Legg ut", "Avbryt"}
    assert both.slack.api.count("chat.postMessage") == 0 and both.teams_posts() == []

    # In a Teams channel everyone sees the preview: a member's click is refused.
    refused = await both.click_teams(KARI, preview.activity_id, actions["Legg ut"])
    assert "sekretariatet" in refused["value"]
    assert both.slack.api.count("chat.postMessage") == 0 and both.teams_posts() == []

    click = both.teams.scenario.card_action_from(SIRI, preview.activity_id, actions["Legg ut"])
    assert (await both.teams.post(click)).status == 200
    assert both.slack.api.count("chat.postMessage") == 1 and len(both.teams_posts()) == 1
    # Teams delivers the same click again: nothing more is posted.
    assert (await both.teams.post(json.loads(json.dumps(click)))).status == 200
    # And a second, new click is told it is out already, in a card that takes the preview's
    # place (so its buttons are gone).
    second = await both.click_teams(SIRI, preview.activity_id, actions["Legg ut"])
    assert second["type"] == "application/vnd.microsoft.card.adaptive"
    assert "allerede lagt ut" in card_text(second["value"])
    assert find_actions(second["value"], VERB_BUTTON) == []
    assert both.slack.api.count("chat.postMessage") == 1 and len(both.teams_posts()) == 1
    [poll] = await both.polls()
    assert poll.status == PollStatus.POSTED


async def test_cancel_discards_the_preview(both: Both) -> None:
    body = await both.slash('ny "Data | Kari Nordmann"')  # only one group
    assert "bare én gruppe" in body["text"]
    buttons = slack_buttons(body["blocks"])
    cancelled = await both.click_slack(*buttons["Avbryt"], user=SLACK_SIRI)
    assert "forkastet" in cancelled
    assert await both.slack.count(Poll) == 0 and await both.slack.count(PollOption) == 0
    # Posting it afterwards finds nothing, and nothing is ever posted.
    gone = await both.click_slack(*buttons["Legg ut"], user=SLACK_SIRI)
    assert "finner ingen forhåndsvisning" in gone
    assert both.slack.api.count("chat.postMessage") == 0 and both.teams_posts() == []


async def test_a_normal_poll_is_posted_at_once(both: Both) -> None:
    body = await both.slash(GOOD_POLL)
    assert "er lagt ut i 2 kanaler" in body["text"] and slack_buttons(body["blocks"]) == {}
    await both.settle()
    assert both.slack.api.count("chat.postMessage") == 1 and len(both.teams_posts()) == 1


async def _posted_poll(both: Both) -> tuple[dict[str, Any], RecordedActivity]:
    """A normal poll, out on both platforms, with Kari signed up from Slack and Teams; the Slack
    message's parameters (with its ts) and the Teams card's activity."""
    await both.slash(GOOD_POLL)
    [params] = both.slack.api.params("chat.postMessage")
    posted = {**params, "ts": await both.slack_poll_ts()}
    [card_post] = both.teams_posts()
    await both.click_slack(vote_buttons(posted["blocks"])[0], "", user=SLACK_KARI, message_ts=posted["ts"])
    security = find_actions(card_post.cards[0], VERB_POLL)[1]
    await both.click_teams(KARI, card_post.activity_id, security)
    assert await both.slack.count(Vote) == 2
    return posted, card_post


async def test_grupper_trekk_takes_the_poll_down_everywhere_and_refuses_later_votes(both: Both) -> None:
    posted, card_post = await _posted_poll(both)
    section = await work_groups(both)
    assert "Gruppe 2 – Sikkerhet" in section and "- Kari Nordmann (Testkommune)" in section

    # Only the secretariat withdraws, and a refusal leaves no audit entry.
    assert "sekretariatet" in (await both.slash("trekk", user=SLACK_KARI))["text"]
    assert await both.slack.count(AuditEntry, AuditEntry.action == "poll.withdraw") == 0
    assert both.slack.api.count("chat.delete") == 0

    withdrawn = await both.slash("trekk", user=SLACK_SIRI)
    assert "trukket tilbake" in withdrawn["text"] and "2 påmeldinger" in withdrawn["text"]
    await both.settle()
    # Slack: chat.delete of the posted message. Teams: DELETE of the card's activity.
    [deleted] = both.slack.api.params("chat.delete")
    assert (deleted["channel"], deleted["ts"]) == (CHANNEL, posted["ts"])
    assert (CHANNEL, posted["ts"]) in both.slack.api.deleted
    channel = both.teams.scenario.channel_id
    assert both.teams.connector.is_deleted(channel, card_post.activity_id)
    [audit] = await both.slack.rows(AuditEntry, AuditEntry.action == "poll.withdraw")
    [poll] = await both.polls()
    assert poll.status == PollStatus.WITHDRAWN and audit.detail == {"poll_id": poll.id, "sign_ups": 2}
    assert await both.slack.count(Vote) == 2  # the votes are kept

    # A click on an old button (a client still showing it) is refused politely, on both.
    updates_before = both.slack.api.count("chat.update")
    old_button = vote_buttons(posted["blocks"])[1]
    late = await both.click_slack(old_button, "", user=SLACK_PER, message_ts=posted["ts"])
    assert "trukket tilbake" in late
    old_action = find_actions(card_post.cards[0], VERB_POLL)[0]
    teams_late = await both.click_teams(KARI, card_post.activity_id, old_action)
    assert "trukket tilbake" in teams_late["value"]
    assert await both.slack.count(Vote) == 2
    assert both.slack.api.count("chat.update") == updates_before  # nothing brought the poll back

    # Not shown, not closed or moved, not in the referat; withdrawing again changes nothing.
    assert "trukket tilbake" in (await both.slash("", user=SLACK_KARI))["text"]
    assert both.slack.api.count("chat.postMessage") == 1
    assert "trukket tilbake" in (await both.slash("lukk", user=SLACK_SIRI))["text"]
    assert await work_groups(both) == "Ingen påmeldte ennå."
    again = await both.slash("trekk", user=SLACK_SIRI)
    assert "allerede trukket" in again["text"]
    await both.settle()
    assert both.slack.api.count("chat.delete") == 1
    assert len([a for a in both.teams.connector.activities() if a.method == "DELETE"]) == 1
    assert await both.slack.count(AuditEntry, AuditEntry.action == "poll.withdraw") == 1


async def test_a_message_that_cannot_be_deleted_is_replaced_with_a_notice(both: Both) -> None:
    posted, card_post = await _posted_poll(both)
    both.slack.api.fail_next("chat.delete", "cant_delete_message")
    both.teams.connector.refuse_deletes(1)
    await both.slash("trekk", user=SLACK_SIRI)
    await both.settle()
    update = both.slack.api.params("chat.update")[-1]
    assert update["ts"] == posted["ts"] and update["text"] == "Avstemningen er trukket."
    assert vote_buttons(update["blocks"]) == []
    put = [a for a in both.teams.connector.activities() if a.is_update][-1]
    assert put.activity_id == card_post.activity_id and "Avstemningen er trukket." in put.text
    assert put.cards == []  # no card left to click


async def test_the_preview_speaks_english_to_an_english_user(slack: SlackWorld) -> None:
    await slack.seed(members=((SLACK_OLA, Role.SECRETARIAT), (SLACK_KARI, Role.MEMBER)))
    answer: Answer = await slack.command("/grupper", 'ny "Data" "Security | Kari Nordmann"', user=SLACK_OLA)
    body = answer.json()
    assert body["response_type"] == "ephemeral"
    assert "unusual" in body["text"] and "No one responsible: «Data»" in body["text"]
    assert set(slack_buttons(body["blocks"])) == {"Post", "Cancel"}
    assert slack.api.count("chat.postMessage") == 0
