"""Builders for activities shaped like the ones Microsoft Teams sends a bot.

Field for field as Teams delivers them: a channel message carries the `<at>` mention entity, the
`clientInfo` entity and channelData with `tenant`, `team`, `channel`, `teamsChannelId` and
`teamsTeamId`; a thread reply's conversation id ends in `;messageid=<root>`; edits and deletes are
`messageUpdate`/`messageDelete` with channelData.eventType; a card click is an
`adaptiveCard/action` invoke. `referent demo`, the tests and the benchmark post these to
/api/messages with `serviceUrl` pointing at bot/offline/fakes/bot_connector.py.
"""

from __future__ import annotations

import html
import itertools
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.offline.fakes.bot_connector import FakeTeamsUser

__all__ = ["FakeTeamsUser", "TeamsScenario"]

_counter = itertools.count(int(time.time() * 1000))


def new_message_id() -> str:
    """Teams message ids are epoch milliseconds; unique per process here."""
    return str(next(_counter))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fictional_user(
    first: str, last: str, domain: str = "eksempel.kommune.no", n: int | None = None
) -> FakeTeamsUser:
    """A made-up person with stable Teams and Entra ids derived from the name."""
    seed = uuid.uuid5(uuid.NAMESPACE_URL, f"referent-fake:{first} {last}:{n}")
    email = f"{first}.{last}@{domain}".lower().replace("ø", "o").replace("å", "a").replace("æ", "ae")
    return FakeTeamsUser(
        id=f"29:1{seed.hex[:20]}",
        aad_object_id=str(seed),
        name=f"{first} {last}",
        email=email,
        user_principal_name=email,
        given_name=first,
        surname=last,
    )


@dataclass
class TeamsScenario:
    """One tenant, one team with one channel, and the bot: builds activities for them."""

    service_url: str
    app_id: str = "00000000-0000-0000-0000-000000000000"
    tenant_id: str = "72f988bf-0000-4000-8000-00000000a1b2"
    team_id: str = "19:8f2d1c4e0a9b4f6c9d7e5a3b1c0d2e4f@thread.tacv2"
    channel_id: str = "19:3a7c5e9b1d2f4a6c8e0b2d4f6a8c0e2b@thread.tacv2"
    team_name: str = "Faggruppe digitalisering"
    channel_name: str = "Faggruppe"
    bot_name: str = "Referent"
    locale: str = "nb-NO"
    personal_conversations: dict[str, str] = field(default_factory=dict)

    @property
    def bot_id(self) -> str:
        return f"28:{self.app_id}"

    @property
    def bot(self) -> dict[str, str]:
        return {"id": self.bot_id, "name": self.bot_name}

    def _base(
        self,
        kind: str,
        user: FakeTeamsUser | None,
        conversation: dict[str, Any],
        channel_data: dict[str, Any],
        activity_id: str | None = None,
        locale: str | None = None,
    ) -> dict[str, Any]:
        now = _now()
        activity: dict[str, Any] = {
            "type": kind,
            "id": activity_id or new_message_id(),
            "timestamp": now,
            "localTimestamp": now.replace("Z", "+00:00"),
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": user.account() if user else {"id": "29:0system"},
            "conversation": conversation,
            "recipient": dict(self.bot),
            "entities": [
                {
                    "type": "clientInfo",
                    "locale": locale or self.locale,
                    "country": "NO",
                    "platform": "Web",
                    "timezone": "Europe/Oslo",
                }
            ],
            "channelData": channel_data,
            "locale": locale or self.locale,
            "localTimezone": "Europe/Oslo",
        }
        return activity

    def _channel_data(self, event_type: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "teamsChannelId": self.channel_id,
            "teamsTeamId": self.team_id,
            "channel": {"id": self.channel_id},
            "team": {"id": self.team_id},
            "tenant": {"id": self.tenant_id},
        }
        if event_type:
            data["eventType"] = event_type
        return data

    def _channel_conversation(self, root: str) -> dict[str, Any]:
        return {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": self.tenant_id,
            "id": f"{self.channel_id};messageid={root}",
        }

    def personal_conversation_id(self, user: FakeTeamsUser) -> str:
        return self.personal_conversations.setdefault(
            user.id, f"a:1{uuid.uuid5(uuid.NAMESPACE_OID, user.id).hex}"
        )

    @staticmethod
    def _mention_entity(account: dict[str, str], name: str) -> dict[str, Any]:
        return {
            "type": "mention",
            "text": f"<at>{html.escape(name)}</at>",
            "mentioned": {"id": account["id"], "name": name},
        }

    def _text_with_mentions(
        self, text: str, mention_bot: bool, mentions: tuple[FakeTeamsUser, ...]
    ) -> tuple[str, list[dict[str, Any]], str]:
        """Teams' text (user-typed `<` escaped as in Teams), its entities, and the HTML attachment."""
        body = html.escape(text, quote=False)
        entities: list[dict[str, Any]] = []
        for person in mentions:
            tag = f"<at>{html.escape(person.name)}</at>"
            body = (
                body.replace(f"@{html.escape(person.name)}", tag, 1)
                if f"@{person.name}" in text
                else f"{body} {tag}"
            )
            entities.append(self._mention_entity(person.account(), person.name))
        if mention_bot:
            body = f"<at>{self.bot_name}</at> {body}"
            entities.insert(0, self._mention_entity(self.bot, self.bot_name))
        rich = body
        for index, entity in enumerate(entities):
            rich = rich.replace(
                entity["text"],
                f'<span itemscope="" itemtype="http://schema.skype.com/Mention" itemid="{index}">'
                f"{html.escape(entity['mentioned']['name'])}</span>",
                1,
            )
        return body, entities, f"<p>{rich}</p>"

    # -- messages ------------------------------------------------------------------------------

    def channel_message(
        self,
        user: FakeTeamsUser,
        text: str,
        *,
        mention_bot: bool = True,
        mentions: tuple[FakeTeamsUser, ...] = (),
        activity_id: str | None = None,
        locale: str | None = None,
    ) -> dict[str, Any]:
        """A new post in the channel (`@Referent runde …`): its own thread root."""
        activity_id = activity_id or new_message_id()
        activity = self._base(
            "message",
            user,
            self._channel_conversation(activity_id),
            self._channel_data(),
            activity_id,
            locale,
        )
        return self._with_text(activity, text, mention_bot, mentions)

    def thread_reply(
        self,
        user: FakeTeamsUser,
        root_id: str,
        text: str,
        *,
        mention_bot: bool = False,
        mentions: tuple[FakeTeamsUser, ...] = (),
        activity_id: str | None = None,
        locale: str | None = None,
    ) -> dict[str, Any]:
        """A reply in the thread under `root_id` (e.g. the bot's collection message)."""
        activity = self._base(
            "message", user, self._channel_conversation(root_id), self._channel_data(), activity_id, locale
        )
        return self._with_text(activity, text, mention_bot, mentions)

    def personal_message(
        self,
        user: FakeTeamsUser,
        text: str,
        *,
        activity_id: str | None = None,
        locale: str | None = None,
        files: tuple[dict[str, Any], ...] = (),
    ) -> dict[str, Any]:
        """A message in the user's 1:1 chat with the bot (no mention needed); `files` are file
        attachments (FakeBotConnector.share_file) sent with it."""
        conversation = {
            "conversationType": "personal",
            "tenantId": self.tenant_id,
            "id": self.personal_conversation_id(user),
        }
        activity = self._base(
            "message", user, conversation, {"tenant": {"id": self.tenant_id}}, activity_id, locale
        )
        activity = self._with_text(activity, text, False, ())
        activity["attachments"] = [*activity["attachments"], *files]
        return activity

    def _with_text(
        self, activity: dict[str, Any], text: str, mention_bot: bool, mentions: tuple[FakeTeamsUser, ...]
    ) -> dict[str, Any]:
        body, entities, rich = self._text_with_mentions(text, mention_bot, mentions)
        activity["text"] = body
        activity["textFormat"] = "plain"
        activity["attachments"] = [{"contentType": "text/html", "content": rich}]
        activity["entities"] = entities + activity["entities"]
        return activity

    # -- edits, deletes ------------------------------------------------------------------------

    def message_update(
        self, user: FakeTeamsUser, message_id: str, text: str, *, root_id: str | None = None
    ) -> dict[str, Any]:
        """The user edited their message `message_id` (in the thread under `root_id`)."""
        activity = self._base(
            "messageUpdate",
            user,
            self._channel_conversation(root_id or message_id),
            self._channel_data("editMessage"),
            message_id,
        )
        return self._with_text(activity, text, False, ())

    def message_delete(
        self, user: FakeTeamsUser, message_id: str, *, root_id: str | None = None
    ) -> dict[str, Any]:
        """The user deleted their message `message_id` (soft delete, as Teams reports it)."""
        return self._base(
            "messageDelete",
            user,
            self._channel_conversation(root_id or message_id),
            self._channel_data("softDeleteMessage"),
            message_id,
        )

    # -- cards ---------------------------------------------------------------------------------

    def card_action(
        self,
        user: FakeTeamsUser,
        card_message_id: str,
        verb: str,
        data: dict[str, Any],
        *,
        root_id: str | None = None,
        personal: bool = False,
        inputs: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A click on an Action.Execute button of the card in message `card_message_id`: the
        `adaptiveCard/action` invoke. `inputs` are the card's input values, merged into data."""
        if personal:
            conversation = {
                "conversationType": "personal",
                "tenantId": self.tenant_id,
                "id": self.personal_conversation_id(user),
            }
            channel_data: dict[str, Any] = {"tenant": {"id": self.tenant_id}, "source": {"name": "message"}}
        else:
            conversation = self._channel_conversation(root_id or card_message_id)
            channel_data = {**self._channel_data(), "source": {"name": "message"}}
        activity = self._base("invoke", user, conversation, channel_data)
        activity["name"] = "adaptiveCard/action"
        activity["replyToId"] = card_message_id
        activity["value"] = {
            "action": {"type": "Action.Execute", "verb": verb, "data": {**data, **(inputs or {})}},
            "trigger": "manual",
        }
        return activity

    def card_action_from(
        self,
        user: FakeTeamsUser,
        card_message_id: str,
        action: dict[str, Any],
        *,
        root_id: str | None = None,
        personal: bool = False,
        inputs: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Click a specific Action.Execute taken from a card the bot sent."""
        return self.card_action(
            user,
            card_message_id,
            str(action["verb"]),
            dict(action.get("data") or {}),
            root_id=root_id,
            personal=personal,
            inputs=inputs,
        )

    # -- installation --------------------------------------------------------------------------

    def bot_added_to_team(self, by: FakeTeamsUser) -> dict[str, Any]:
        """conversationUpdate when the app is added to the team (the General channel's id is the
        team id, as in Teams)."""
        conversation = {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": self.tenant_id,
            "id": self.team_id,
        }
        channel_data = {
            "team": {"id": self.team_id, "name": self.team_name, "aadGroupId": str(uuid.uuid4())},
            "eventType": "teamMemberAdded",
            "tenant": {"id": self.tenant_id},
            "settings": {"selectedChannel": {"id": self.channel_id}},
        }
        activity = self._base("conversationUpdate", by, conversation, channel_data)
        activity["membersAdded"] = [{"id": self.bot_id}]
        activity.pop("locale", None)
        return activity

    def bot_added_personal(self, user: FakeTeamsUser) -> dict[str, Any]:
        """conversationUpdate when a user installs the app for themselves."""
        conversation = {
            "conversationType": "personal",
            "tenantId": self.tenant_id,
            "id": self.personal_conversation_id(user),
        }
        activity = self._base("conversationUpdate", user, conversation, {"tenant": {"id": self.tenant_id}})
        activity["membersAdded"] = [{"id": self.bot_id}, {"id": user.id, "aadObjectId": user.aad_object_id}]
        return activity


def find_actions(card: dict[str, Any], verb: str | None = None) -> list[dict[str, Any]]:
    """Every Action.Execute in a card (depth-first), optionally only those with this verb."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute" and (verb is None or node.get("verb") == verb):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found
