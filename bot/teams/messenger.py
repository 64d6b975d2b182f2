"""Teams' outbound side for handlers (handlers.ports.Messenger): post in channels, update poll
cards, and reach people 1:1 (reminders), all through the one pooled BotConnectorClient.

Handlers name targets by ids only (a member's identity or e-mail, a group's channel); the
conversation references that say how to reach them live in one store, the
conversation_references table, which this messenger reads (and adds new 1:1 chats to).

A person the bot has never chatted with is reached the way Teams allows: a 1:1 conversation is
created from their user id, or, knowing only their e-mail, from the member list of a team the
bot is in. The new chat's reference is stored, so the next message goes straight out.
"""

from __future__ import annotations

import logging
from typing import Any

from cachetools import TTLCache

from bot.teams.cards import render_reply
from bot.teams.connector import BotConnectorClient
from handlers.events import ChannelTarget, DirectTarget, Reply
from handlers.ports import DeliveryError
from storage.db import Database
from storage.repositories import conversations

log = logging.getLogger(__name__)

PLATFORM = "teams"
MEMBER_LIST_TTL = 15 * 60.0
MEMBER_LISTS_KEPT = 256


def _conversation(reference: dict[str, Any]) -> dict[str, Any]:
    conversation = reference.get("conversation")
    return conversation if isinstance(conversation, dict) else {}


def address_activity(
    activity: dict[str, Any], reference: dict[str, Any], conversation_id: str
) -> dict[str, Any]:
    """Fill in the addressing a Bot Connector activity carries (from, conversation, locale)."""
    out = dict(activity)
    bot = reference.get("bot")
    if isinstance(bot, dict) and bot.get("id"):
        out["from"] = {"id": bot["id"], "name": bot.get("name") or "Referent"}
    out["conversation"] = {"id": conversation_id}
    if reference.get("locale"):
        out.setdefault("locale", reference["locale"])
    return out


class TeamsMessenger:
    """Implements handlers.ports.Messenger for Teams."""

    def __init__(self, client: BotConnectorClient, db: Database, *, app_id: str = "") -> None:
        self.client = client
        self.db = db
        self.app_id = app_id
        # Team member lists by (serviceUrl, team), to find people by e-mail without a fetch each.
        self._members: TTLCache[tuple[str, str], list[dict[str, Any]]] = TTLCache(
            maxsize=MEMBER_LISTS_KEPT, ttl=MEMBER_LIST_TTL
        )

    # -- references ----------------------------------------------------------------------------

    async def _stored(self, workspace_id: str, key: str) -> dict[str, Any] | None:
        async with self.db.session() as session:
            found = await conversations.find_reference(session, PLATFORM, workspace_id, key)
        return dict(found) if found else None

    async def channel_reference(self, target: ChannelTarget) -> dict[str, Any]:
        """The stored reference of a channel (or chat): the adapter keeps it when the bot sees one."""
        found = await self._stored(target.workspace_id, conversations.channel_key(target.channel_id))
        if not found or not found.get("serviceUrl"):
            raise DeliveryError(
                f"no Teams address for channel {target.channel_id}: the bot must be added to it first",
                permanent=True,
            )
        return found

    # -- Messenger -----------------------------------------------------------------------------

    async def post(self, target: ChannelTarget, reply: Reply, *, thread_ref: str | None = None) -> str:
        """Post in a channel (a new thread) or, with thread_ref, in an existing thread. Returns the
        id of the message that carries the reply's card, or of its first message."""
        reference = await self.channel_reference(target)
        service_url = str(reference["serviceUrl"])
        channel_conversation = str(_conversation(reference).get("id") or target.channel_id)
        kind = _conversation(reference).get("conversationType")
        first_id = ""
        card_id = ""
        root = thread_ref
        for activity in render_reply(reply):
            if root and kind == "channel":
                conversation_id = f"{channel_conversation};messageid={root}"
                new_id = await self.client.send_to_conversation(
                    service_url, conversation_id, address_activity(activity, reference, conversation_id)
                )
            elif root:
                new_id = await self.client.reply_to_activity(
                    service_url,
                    channel_conversation,
                    root,
                    address_activity(activity, reference, channel_conversation),
                )
            else:
                new_id = await self.client.send_to_conversation(
                    service_url,
                    channel_conversation,
                    address_activity(activity, reference, channel_conversation),
                )
                # A long reply continues in the thread its first part opened.
                root = new_id or None
            first_id = first_id or new_id
            if activity.get("attachments"):
                card_id = new_id
        return card_id or first_id

    async def update(self, target: ChannelTarget, message_ref: str, reply: Reply) -> None:
        """Replace a message the bot posted (a poll card after a vote)."""
        reference = await self.channel_reference(target)
        activities = render_reply(reply)
        if not activities:
            return
        activity = next((a for a in activities if a.get("attachments")), activities[0])
        conversation_id = str(_conversation(reference).get("id") or target.channel_id)
        await self.client.update_activity(
            str(reference["serviceUrl"]),
            conversation_id,
            message_ref,
            address_activity(activity, reference, conversation_id),
        )

    async def send_direct(self, target: DirectTarget, reply: Reply) -> str:
        """A 1:1 message: through the stored chat, a new chat with the user, or one found by e-mail."""
        reference = await self._personal_reference(target)
        conversation_id = str(_conversation(reference)["id"])
        service_url = str(reference["serviceUrl"])
        first_id = ""
        for activity in render_reply(reply):
            new_id = await self.client.send_to_conversation(
                service_url, conversation_id, address_activity(activity, reference, conversation_id)
            )
            first_id = first_id or new_id
        return first_id

    # -- 1:1 conversations ---------------------------------------------------------------------

    async def _personal_reference(self, target: DirectTarget) -> dict[str, Any]:
        reference = (
            await self._stored(target.workspace_id, conversations.user_key(target.user_id))
            if target.user_id
            else None
        )
        if reference is not None and conversations.is_personal(reference) and reference.get("serviceUrl"):
            return reference
        if reference is not None and reference.get("serviceUrl"):
            raw_user = reference.get("user")
            user: dict[str, Any] = raw_user if isinstance(raw_user, dict) else {}
            user_id = str(user.get("id") or target.user_id)
            return await self._create_personal(target, str(reference["serviceUrl"]), reference, user_id, user)
        if target.email:
            found = await self._find_by_email(target.workspace_id, target.email)
            if found is not None:
                service_url, channel_ref, member = found
                return await self._create_personal(
                    target, service_url, channel_ref, str(member["id"]), member
                )
        raise DeliveryError(
            f"cannot reach Teams user {target.user_id or target.email}: not met, not found by e-mail",
            permanent=True,
        )

    async def _create_personal(
        self,
        target: DirectTarget,
        service_url: str,
        reference: dict[str, Any],
        user_id: str,
        user: dict[str, Any],
    ) -> dict[str, Any]:
        bot = reference.get("bot") if isinstance(reference.get("bot"), dict) else None
        if not bot or not bot.get("id"):
            bot = {"id": f"28:{self.app_id}" if self.app_id else "28:referent", "name": "Referent"}
        tenant = target.workspace_id or str(_conversation(reference).get("tenantId") or "")
        created = await self.client.create_conversation(
            service_url,
            {
                "bot": bot,
                "members": [{"id": user_id}],
                "isGroup": False,
                "tenantId": tenant,
                "channelData": {"tenant": {"id": tenant}},
            },
        )
        personal = {
            "channelId": "msteams",
            "serviceUrl": str(created.get("serviceUrl") or service_url),
            "bot": bot,
            "user": {k: user[k] for k in ("id", "name", "aadObjectId") if isinstance(user.get(k), str)}
            or {"id": user_id},
            "conversation": {
                "id": str(created["id"]),
                "conversationType": "personal",
                "tenantId": tenant,
                "isGroup": False,
            },
            "locale": reference.get("locale"),
        }
        key_id = str(user.get("aadObjectId") or target.user_id or user_id)
        async with self.db.write() as session:
            await conversations.save_reference(
                session, PLATFORM, tenant, conversations.user_key(key_id), personal
            )
        return personal

    async def _find_by_email(
        self, workspace_id: str, email: str
    ) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        """Search the member lists of the teams the bot is in (this tenant) for an e-mail."""
        wanted = email.strip().casefold()
        async with self.db.session() as session:
            refs = await conversations.references_in_workspace(session, PLATFORM, workspace_id, "channel:")
        seen: set[tuple[str, str]] = set()
        for _key, ref in refs:
            service_url = str(ref.get("serviceUrl") or "")
            roster_id = str(ref.get("teamId") or _conversation(ref).get("id") or "")
            if not service_url or not roster_id or (service_url, roster_id) in seen:
                continue
            seen.add((service_url, roster_id))
            try:
                members = await self._member_list(service_url, roster_id)
            except DeliveryError as exc:
                log.warning("member list of %s unavailable: %s", roster_id, exc)
                continue
            for member in members:
                addresses = {str(member.get(k) or "").casefold() for k in ("email", "userPrincipalName")}
                if wanted in addresses and member.get("id"):
                    return service_url, ref, member
        return None

    async def _member_list(self, service_url: str, roster_id: str) -> list[dict[str, Any]]:
        key = (service_url, roster_id)
        members = self._members.get(key)
        if members is None:
            members = await self.client.get_paged_members(service_url, roster_id)
            self._members[key] = members
        return members
