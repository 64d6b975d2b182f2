"""Teams activity (the raw Bot Framework JSON) → the neutral ChatEvent, and the addresses in it.

Works on the JSON as Teams sends it rather than on botbuilder's msrest models, so it survives a
move to another SDK and reads what botbuilder's models drop: `channelData.teamsChannelId`,
`teamsTeamId`, the `clientInfo` entity. botbuilder's Teams channel-data model reads the channel
as `channelData.channel.id` and the team as `channelData.team.id`; real payloads carry both
spellings, so both are read here.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.teams.richtext import TeamsMention, parse_html
from handlers.events import ChatEvent, EventKind, Mention, PollAction
from handlers.richtext import to_source

PLATFORM = "teams"
MAX_TEXT = 28_000  # Teams caps a message at about 28 KB; anything longer is not from Teams
MAX_ID = 512

# Verbs of the Action.Execute / Action.Submit data Referent's own cards send back.
VERB_POLL = "referent.poll"
VERB_FORM = "referent.form"
VERB_FORM_CANCEL = "referent.form.cancel"
VERB_BUTTON = "referent.button"

_THREAD_SUFFIX = re.compile(r";messageid=(\d+|[A-Za-z0-9_-]+)$")
_AT_TAG = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)


_NEEDS_SENDER = frozenset({"message", "messageUpdate", "messageDelete", "invoke"})


class ActivityError(ValueError):
    """The body is not an activity Referent can read (answered with 400)."""


@dataclass(frozen=True, slots=True)
class TeamsAddress:
    """Where an activity came from, in the ids Referent stores and sends to."""

    service_url: str
    tenant_id: str
    conversation_id: str  # as received (a channel thread: `19:…@thread.tacv2;messageid=<root>`)
    channel_id: str  # the channel (without `;messageid=`), or the chat id
    conversation_type: str  # "channel" | "personal" | "groupChat"
    team_id: str | None
    thread_root: str | None  # the root message id of the thread, when the conversation is a thread
    bot_id: str
    bot_name: str

    @property
    def is_direct(self) -> bool:
        return self.conversation_type == "personal"

    @property
    def is_channel(self) -> bool:
        return self.conversation_type == "channel"


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


_Id = Annotated[StrictStr, Field(max_length=MAX_ID)]


class _Account(BaseModel):
    id: _Id | None = None


class _Conversation(BaseModel):
    id: Annotated[StrictStr, Field(min_length=1, max_length=MAX_ID)]


class _Shape(BaseModel):
    """The parts of an activity Referent relies on (anything else passes through unread)."""

    model_config = ConfigDict(populate_by_name=True)

    type: Annotated[StrictStr, Field(min_length=1)]
    channel_id: Annotated[StrictStr, Field(max_length=64)] | None = Field(default=None, alias="channelId")
    service_url: Annotated[StrictStr, Field(alias="serviceUrl", max_length=2048)]
    conversation: _Conversation
    sender: _Account | None = Field(default=None, alias="from")
    recipient: dict[str, Any] | None = None
    entities: list[Any] | None = None
    attachments: list[Any] | None = None
    members_added: list[Any] | None = Field(default=None, alias="membersAdded")
    members_removed: list[Any] | None = Field(default=None, alias="membersRemoved")
    channel_data: dict[str, Any] | None = Field(default=None, alias="channelData")
    text: Annotated[StrictStr, Field(max_length=MAX_TEXT)] | None = None
    id: _Id | None = None
    reply_to_id: _Id | None = Field(default=None, alias="replyToId")
    name: Annotated[StrictStr, Field(max_length=256)] | None = None
    # Not read by Referent, but a Bot Framework activity has them as ISO 8601 instants or not at all.
    timestamp: datetime | None = None
    local_timestamp: datetime | None = Field(default=None, alias="localTimestamp")

    @field_validator("service_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("serviceUrl is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _sender_when_needed(self) -> _Shape:
        if self.type in _NEEDS_SENDER and not (self.sender and self.sender.id):
            raise ValueError(f"a {self.type} activity needs from.id")
        return self


def validate(body: Any) -> dict[str, Any]:
    """Check the shape Referent relies on; raise ActivityError (→ 400) otherwise."""
    if not isinstance(body, dict):
        raise ActivityError("activity must be a JSON object")
    try:
        _Shape.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ActivityError(f"{where}: {first['msg']}" if where else first["msg"]) from None
    return body


def tenant_of(activity: Mapping[str, Any]) -> str:
    """channelData.tenant.id, else conversation.tenantId; a mismatch is refused."""
    from_channel = _str(_obj(_obj(activity.get("channelData")).get("tenant")).get("id"))
    from_conversation = _str(_obj(activity.get("conversation")).get("tenantId"))
    if from_channel and from_conversation and from_channel != from_conversation:
        raise ActivityError("tenant ids in channelData and conversation differ")
    return from_channel or from_conversation


def address_of(activity: Mapping[str, Any]) -> TeamsAddress:
    conversation = _obj(activity.get("conversation"))
    channel_data = _obj(activity.get("channelData"))
    conversation_id = _str(conversation.get("id"))
    base_id = _THREAD_SUFFIX.sub("", conversation_id)
    match = _THREAD_SUFFIX.search(conversation_id)
    kind = _str(conversation.get("conversationType"))
    channel = _str(_obj(channel_data.get("channel")).get("id")) or _str(channel_data.get("teamsChannelId"))
    team = _str(_obj(channel_data.get("team")).get("id")) or _str(channel_data.get("teamsTeamId"))
    if not kind:
        if channel:
            kind = "channel"
        elif conversation.get("isGroup"):
            kind = "groupChat"
        else:
            kind = "personal"
    recipient = _obj(activity.get("recipient"))
    return TeamsAddress(
        service_url=_str(activity.get("serviceUrl")),
        tenant_id=tenant_of(activity),
        conversation_id=conversation_id,
        channel_id=(channel or base_id) if kind == "channel" else base_id,
        conversation_type=kind,
        team_id=team or None,
        thread_root=match.group(1) if match else None,
        bot_id=_str(recipient.get("id")),
        bot_name=_str(recipient.get("name")) or "Referent",
    )


def locale_of(activity: Mapping[str, Any]) -> str | None:
    locale = _str(activity.get("locale"))
    if locale:
        return locale
    for entity in activity.get("entities") or ():
        if isinstance(entity, dict) and entity.get("type") == "clientInfo" and _str(entity.get("locale")):
            return _str(entity.get("locale"))
    return None


def user_key_id(account: Mapping[str, Any]) -> str:
    """The id Referent knows a Teams user by: the Entra object id when present (stable across
    bots and tenants' chats), else the Bot Framework user id (`29:…`)."""
    return _str(account.get("aadObjectId")) or _str(account.get("id"))


def is_from_bot(activity: Mapping[str, Any]) -> bool:
    sender = _obj(activity.get("from"))
    sender_id = _str(sender.get("id"))
    bot_id = _str(_obj(activity.get("recipient")).get("id"))
    return bool(sender_id) and (
        sender_id == bot_id or sender_id.startswith("28:") or sender.get("role") == "bot"
    )


def resolve_mentions(activity: Mapping[str, Any]) -> tuple[str, tuple[Mention, ...], bool]:
    """The member's text in the stored rich-text form (handlers.richtext.source), without the
    bot's own `<at>` mention, other mentions as `@Name`; the mentioned people; and whether the
    bot was mentioned. Uses the mention entities, as Teams intends: the `<at>` text alone proves
    nothing (anyone can type it). New Teams splits one mention over several `<at>` tags with
    the same id (`<at>Kari</at>&nbsp;<at>Nordmann</at>`): they read as one "@Kari Nordmann"."""
    text = _str(activity.get("text"))
    bot_id = _str(_obj(activity.get("recipient")).get("id"))
    mentions: list[Mention] = []
    bot_mentioned = False
    by_tag: dict[str, TeamsMention] = {}
    for entity in activity.get("entities") or ():
        if not isinstance(entity, dict) or _str(entity.get("type")).lower() != "mention":
            continue
        mentioned = _obj(entity.get("mentioned"))
        mentioned_id = _str(mentioned.get("id"))
        tag_text = _str(entity.get("text"))
        inner = _AT_TAG.match(tag_text)
        tag_name = html.unescape(inner.group(1) if inner else "").strip()
        full_name = _str(mentioned.get("name")).strip() or tag_name
        is_bot = bool(mentioned_id) and mentioned_id == bot_id
        if is_bot:
            bot_mentioned = True
        elif mentioned_id:
            user_id = _str(mentioned.get("aadObjectId")) or mentioned_id
            if all(m.user_id != user_id for m in mentions):
                mentions.append(Mention(user_id=user_id, display_name=full_name))
        if tag_text:
            found = TeamsMention(user_id=mentioned_id, name=full_name, is_bot=is_bot)
            by_tag.setdefault(html.unescape(tag_text), found)
            if tag_name:
                by_tag.setdefault(tag_name, found)
    return to_source(parse_html(text, by_tag), typed_lists=True), tuple(mentions), bot_mentioned


def command_text(text: str) -> str:
    """Trim, and drop the optional leading `/` (`/runde …` works like `runde …`)."""
    text = text.strip()
    if text.startswith("/"):
        text = text[1:].lstrip()
    return text


def event_id_for(activity: Mapping[str, Any], kind: EventKind) -> str | None:
    """A delivery id that is the same for a redelivered activity and different for a new one.

    A message's activity id is unique; an edit or delete carries the *edited message's* id, so
    each edit is told apart by its text, and a delete by its kind.
    """
    activity_id = _str(activity.get("id"))
    if not activity_id:
        return None
    if kind is EventKind.MESSAGE_EDITED:
        digest = hashlib.sha256(_str(activity.get("text")).encode()).hexdigest()[:16]
        return f"edit:{activity_id}:{digest}"
    if kind is EventKind.MESSAGE_DELETED:
        return f"delete:{activity_id}"
    if kind in (EventKind.POLL_VOTE, EventKind.FORM_SUBMIT):
        return f"action:{activity_id}"
    return activity_id


def _base(
    activity: Mapping[str, Any],
    address: TeamsAddress,
    kind: EventKind,
    *,
    text: str = "",
    email: str | None = None,
    mentions: tuple[Mention, ...] = (),
    action: PollAction | None = None,
    form_values: dict[str, str] | None = None,
    thread_ref: str | None = None,
) -> ChatEvent:
    sender = _obj(activity.get("from"))
    return ChatEvent(
        platform=PLATFORM,
        workspace_id=address.tenant_id,
        channel_id=address.channel_id,
        user_id=user_key_id(sender),
        user_name=_str(sender.get("name")) or user_key_id(sender),
        kind=kind,
        text=text,
        user_email=email,
        locale=locale_of(activity),
        is_direct=address.is_direct,
        message_ref=_str(activity.get("id")) or None,
        thread_ref=thread_ref,
        event_id=event_id_for(activity, kind),
        mentions=mentions,
        action=action,
        form_values=form_values or {},
    )


def thread_ref_of(activity: Mapping[str, Any], address: TeamsAddress) -> str | None:
    """The thread root a channel message replies to; None for a thread's first message."""
    root = address.thread_root
    if root and root != _str(activity.get("id")):
        return root
    reply_to = _str(activity.get("replyToId"))
    return reply_to or None if address.is_channel else None


def message_event(activity: Mapping[str, Any], *, email: str | None = None) -> ChatEvent | None:
    """A message → COMMAND (mentioned, 1:1, or group chat) or THREAD_REPLY (an unmentioned reply
    in a channel thread; the handler decides whether the thread collects round-table entries).
    None: nothing for Referent (an unmentioned top-level channel post, a bot's own message)."""
    if is_from_bot(activity):
        return None
    address = address_of(activity)
    text, mentions, bot_mentioned = resolve_mentions(activity)
    thread = thread_ref_of(activity, address)
    if address.is_channel and not bot_mentioned:
        if thread is None:
            return None
        return _base(
            activity,
            address,
            EventKind.THREAD_REPLY,
            text=text.strip(),
            email=email,
            mentions=mentions,
            thread_ref=thread,
        )
    return _base(
        activity,
        address,
        EventKind.COMMAND,
        text=command_text(text),
        email=email,
        mentions=mentions,
        thread_ref=thread,
    )


def edit_event(activity: Mapping[str, Any]) -> ChatEvent | None:
    if is_from_bot(activity):
        return None
    address = address_of(activity)
    text, mentions, _ = resolve_mentions(activity)
    return _base(
        activity,
        address,
        EventKind.MESSAGE_EDITED,
        text=text.strip(),
        mentions=mentions,
        thread_ref=thread_ref_of(activity, address),
    )


def delete_event(activity: Mapping[str, Any]) -> ChatEvent | None:
    if is_from_bot(activity):
        return None
    address = address_of(activity)
    return _base(activity, address, EventKind.MESSAGE_DELETED, thread_ref=thread_ref_of(activity, address))


def installed_event(activity: Mapping[str, Any]) -> ChatEvent:
    address = address_of(activity)
    return _base(activity, address, EventKind.INSTALLED)


def bot_was_added(activity: Mapping[str, Any]) -> bool:
    bot_id = _str(_obj(activity.get("recipient")).get("id"))
    return any(isinstance(m, dict) and m.get("id") == bot_id for m in activity.get("membersAdded") or ())


@dataclass(frozen=True, slots=True)
class CardAction:
    """What a click on one of Referent's cards asked for."""

    verb: str
    data: dict[str, Any]


def card_action_of(activity: Mapping[str, Any]) -> CardAction | None:
    """The verb and data of an `adaptiveCard/action` invoke (Action.Execute) or of an Action.Submit
    message (its `value`). None when it is not one of Referent's cards."""
    value = _obj(activity.get("value"))
    if activity.get("type") == "invoke":
        action = _obj(value.get("action"))
        verb = _str(action.get("verb"))
        data = _obj(action.get("data"))
    else:
        data = value
        verb = _str(value.get("verb"))
    if not verb.startswith("referent."):
        return None
    return CardAction(verb=verb, data=data)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 12:
        return int(value.strip())
    return None


def card_event(
    activity: Mapping[str, Any], action: CardAction, *, email: str | None = None
) -> ChatEvent | None:
    """A card click → POLL_VOTE / FORM_SUBMIT / COMMAND (a button that runs a command).
    None when the data is malformed (answered politely, nothing stored)."""
    address = address_of(activity)
    thread = thread_ref_of(activity, address)
    if action.verb == VERB_POLL:
        poll_id, option_id = _int(action.data.get("poll_id")), _int(action.data.get("option_id"))
        if poll_id is None or option_id is None:
            return None
        return _base(
            activity,
            address,
            EventKind.POLL_VOTE,
            email=email,
            action=PollAction(poll_id=poll_id, option_id=option_id),
            thread_ref=thread,
        )
    if action.verb == VERB_FORM:
        values = {k: v for k, v in action.data.items() if isinstance(v, str) and k != "verb"}
        if not values.get("form_id"):
            return None
        return _base(
            activity, address, EventKind.FORM_SUBMIT, email=email, form_values=values, thread_ref=thread
        )
    if action.verb == VERB_BUTTON:
        command = _str(action.data.get("command"))
        if not command:
            return None
        return _base(
            activity, address, EventKind.COMMAND, text=command_text(command), email=email, thread_ref=thread
        )
    return None


def conversation_references(activity: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The Bot Framework ConversationReference(s) to keep from this activity: the sender's
    (`user:<id>`) and, for a channel, the channel's (`channel:<id>`), so reminders and collection
    messages can reach them later."""
    address = address_of(activity)
    sender = _obj(activity.get("from"))
    bot = {"id": address.bot_id, "name": address.bot_name}
    refs: list[tuple[str, dict[str, Any]]] = []
    locale = locale_of(activity)
    if _str(sender.get("id")) and not is_from_bot(activity):
        user = {k: sender[k] for k in ("id", "name", "aadObjectId") if isinstance(sender.get(k), str)}
        refs.append(
            (
                f"user:{user_key_id(sender)}",
                {
                    "channelId": _str(activity.get("channelId")) or "msteams",
                    "serviceUrl": address.service_url,
                    "user": user,
                    "bot": bot,
                    "conversation": {
                        "id": address.channel_id if address.is_channel else address.conversation_id,
                        "conversationType": address.conversation_type,
                        "tenantId": address.tenant_id,
                        "isGroup": address.conversation_type != "personal",
                    },
                    "locale": locale,
                },
            )
        )
    # The conversation itself, as handlers address it (ChatEvent.channel_id): a channel, a group
    # chat, or a 1:1 chat (so a poll or form can be posted there as well).
    refs.append((f"channel:{address.channel_id}", channel_reference(address)))
    return refs


def channel_reference(address: TeamsAddress) -> dict[str, Any]:
    """The reference the bot needs to post in a channel or group chat (a ChannelBinding's)."""
    reference: dict[str, Any] = {
        "channelId": "msteams",
        "serviceUrl": address.service_url,
        "bot": {"id": address.bot_id, "name": address.bot_name},
        "conversation": {
            "id": address.channel_id,
            "conversationType": address.conversation_type,
            "tenantId": address.tenant_id,
            "isGroup": address.conversation_type != "personal",
        },
    }
    if address.team_id:
        reference["teamId"] = address.team_id
    return reference
