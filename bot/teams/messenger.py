"""Teams' outbound side for handlers (handlers.ports.Messenger): post in channels, update and
delete poll cards, and reach people 1:1 (reminders), all through the one pooled BotConnectorClient.

Handlers name targets by ids only (a member's identity or e-mail, a group's channel); the
conversation references that say how to reach them live in one store, the
conversation_references table, which this messenger reads (and adds new 1:1 chats to).

A person the bot has never chatted with is reached the way Teams allows: a 1:1 conversation is
created proactively (POST /v3/conversations with the user, the bot and the tenant) from their user
id, or, knowing only their e-mail, from the member list of a team the bot is in. The new chat's
reference is stored, so the next message goes straight out.

The member lists (GET /v3/conversations/{teamId}/pagedmembers) are also the tenant's directory
(handlers.ports.Directory): read when the bot is added to a team and before a reminder pass needs
them, they link roster members to their Teams identity by e-mail or UPN (handlers/directory.py).
Someone in none of them is not found (handlers.ports.NotFound): the reminder moves on to the
group's next platform.
"""

from __future__ import annotations

import logging
from typing import Any

from cachetools import TTLCache

from bot.teams.cards import render_reply
from bot.teams.connector import BotConnectorClient
from handlers.directory import DirectoryEntry, link_by_email
from handlers.events import ChannelTarget, DirectTarget, Reply
from handlers.ports import DeliveryError, NotFound
from storage.db import Database
from storage.repositories import conversations

log = logging.getLogger(__name__)

PLATFORM = "teams"
MEMBER_LIST_TTL = 15 * 60.0
MEMBER_LISTS_KEPT = 256


def _conversation(reference: dict[str, Any]) -> dict[str, Any]:
    conversation = reference.get("conversation")
    return conversation if isinstance(conversation, dict) else {}


def is_outsider(member: dict[str, Any], tenant: str | None) -> bool:
    """A guest account, or a user whose home tenant is not the team's: never linked by e-mail."""
    home = str(member.get("tenantId") or "")
    return str(member.get("userRole") or "").lower() == "guest" or bool(tenant and home and home != tenant)


def directory_entry(member: dict[str, Any], tenant: str | None = None) -> DirectoryEntry:
    """A connector member (GET …/members, …/pagedmembers) as a directory entry: known by its
    Entra object id (as Referent keys Teams users), addressed by e-mail, else UPN. A guest or
    another tenant's user gets no address: an e-mail proves identity only inside the tenant."""
    user_id = str(member.get("aadObjectId") or member.get("id") or "")
    addresses = (
        ()
        if is_outsider(member, tenant)
        else tuple(
            str(member[k]).strip()
            for k in ("email", "userPrincipalName")
            if isinstance(member.get(k), str) and "@" in member[k] and len(member[k]) <= 320
        )
    )
    return DirectoryEntry(user_id, str(member.get("name") or ""), addresses)


def member_reference(
    member: dict[str, Any], service_url: str, tenant: str, roster_id: str, bot: dict[str, Any]
) -> dict[str, Any]:
    """How to reach a team member the bot has not chatted with yet: their account in the team.
    The messenger creates the 1:1 chat from it when a message is due (and then stores that)."""
    return {
        "channelId": "msteams",
        "serviceUrl": service_url,
        "user": {k: member[k] for k in ("id", "name", "aadObjectId") if isinstance(member.get(k), str)},
        "bot": bot,
        "conversation": {
            "id": roster_id,
            "conversationType": "channel",
            "tenantId": tenant,
            "isGroup": True,
        },
        "teamId": roster_id,
    }


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

    async def delete(self, target: ChannelTarget, message_ref: str) -> None:
        """Delete a message the bot posted (a withdrawn poll's card):
        DELETE /v3/conversations/{id}/activities/{activityId}."""
        reference = await self.channel_reference(target)
        conversation_id = str(_conversation(reference).get("id") or target.channel_id)
        await self.client.delete_activity(str(reference["serviceUrl"]), conversation_id, message_ref)

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
        if target.email or target.user_id:
            found = await self._find_member(target.workspace_id, target.user_id, target.email)
            if found is not None:
                service_url, channel_ref, member = found
                await self._link_found(target.workspace_id, member)
                return await self._create_personal(
                    target, service_url, channel_ref, str(member["id"]), member
                )
        raise NotFound(
            f"Teams user {target.user_id or target.email} not found: never met, and in no member list "
            f"of the tenant's teams"
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
            bot = self._bot_account()
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

    async def _find_member(
        self, workspace_id: str, user_id: str, email: str | None
    ) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        """Search the member lists of the teams the bot is in (this tenant) for the user's id, or
        else their e-mail or UPN. None when no list has them; DeliveryError (not permanent) when a
        list could not be read."""
        wanted = (email or "").strip().casefold()
        unavailable: DeliveryError | None = None
        for service_url, ref, roster_id in await self._rosters(workspace_id):
            try:
                members = await self._member_list(service_url, roster_id)
            except DeliveryError as exc:
                log.warning("member list of %s unavailable: %s", roster_id, exc)
                if not exc.permanent:
                    unavailable = exc
                continue
            for member in members:
                if not member.get("id"):
                    continue
                if user_id and user_id in (member.get("aadObjectId"), member.get("id")):
                    return service_url, ref, member
                addresses = {str(member.get(k) or "").casefold() for k in ("email", "userPrincipalName")}
                if wanted and wanted in addresses:
                    return service_url, ref, member
        if unavailable is not None:
            raise DeliveryError(f"a Teams member list is unavailable: {unavailable}", retry_after=30.0)
        return None

    async def _rosters(self, workspace_id: str) -> list[tuple[str, dict[str, Any], str]]:
        """(service URL, stored reference, team or group chat id) of every member list in the
        tenant the bot knows of (a channel's stored reference names its team)."""
        async with self.db.session() as session:
            refs = await conversations.references_in_workspace(session, PLATFORM, workspace_id, "channel:")
        seen: set[tuple[str, str]] = set()
        rosters: list[tuple[str, dict[str, Any], str]] = []
        for _key, ref in refs:
            if conversations.is_personal(ref):
                continue  # a 1:1 chat lists only its user, who has a reference of their own
            service_url = str(ref.get("serviceUrl") or "")
            roster_id = str(ref.get("teamId") or _conversation(ref).get("id") or "")
            if not service_url or not roster_id or (service_url, roster_id) in seen:
                continue
            seen.add((service_url, roster_id))
            rosters.append((service_url, ref, roster_id))
        return rosters

    async def _member_list(
        self, service_url: str, roster_id: str, *, fresh: bool = False
    ) -> list[dict[str, Any]]:
        key = (service_url, roster_id)
        members = None if fresh else self._members.get(key)
        if members is None:
            members = await self.client.get_paged_members(service_url, roster_id)
            self._members[key] = members
        return members

    # -- the tenant's directory (handlers.ports.Directory) ----------------------------------------

    async def sync_members(self, workspace_id: str) -> int:
        """Before a reminder pass: read the member lists of the tenant's teams (cached for
        MEMBER_LIST_TTL) and link roster members by e-mail or UPN. How many were newly linked."""
        linked = 0
        for service_url, ref, roster_id in await self._rosters(workspace_id):
            if not (ref.get("teamId") or _conversation(ref).get("conversationType") == "channel"):
                continue  # a chat's members are in a team's list too, or nowhere useful
            try:
                members = await self._member_list(service_url, roster_id)
            except DeliveryError as exc:
                log.warning("member list of %s unavailable: %s", roster_id, exc)
                continue
            linked += await self.link_members(members, service_url, workspace_id, roster_id, ref.get("bot"))
        return linked

    async def sync_team(
        self, service_url: str, workspace_id: str, team_id: str, bot: dict[str, Any] | None = None
    ) -> int:
        """When the bot is added to a team: read its member list afresh and link roster members."""
        members = await self._member_list(service_url, team_id, fresh=True)
        return await self.link_members(members, service_url, workspace_id, team_id, bot)

    async def link_members(
        self,
        members: list[dict[str, Any]],
        service_url: str,
        workspace_id: str,
        roster_id: str,
        bot: Any = None,
    ) -> int:
        """Link roster members found in a member list; keep, for each, how to reach them (their
        account in the team), so their first reminder needs no member list."""
        entries = [directory_entry(m, workspace_id) for m in members if isinstance(m, dict) and m.get("id")]
        linked = await link_by_email(self.db, PLATFORM, workspace_id, entries)
        if not linked:
            return 0
        by_id = {directory_entry(m).user_id: m for m in members if isinstance(m, dict) and m.get("id")}
        account = bot if isinstance(bot, dict) and bot.get("id") else self._bot_account()
        async with self.db.write() as session:
            for link in linked:
                member = by_id.get(link.entry.user_id)
                if member is None:
                    continue
                await conversations.save_reference(
                    session,
                    PLATFORM,
                    workspace_id,
                    conversations.user_key(link.entry.user_id),
                    member_reference(member, service_url, workspace_id, roster_id, account),
                )
        log.info("linked %d roster member(s) from the member list of %s", len(linked), roster_id)
        return len(linked)

    async def _link_found(self, workspace_id: str, member: dict[str, Any]) -> None:
        """Someone found by e-mail is known by identity from now on (their next reminder needs no
        member list). Only a saving: a failure (another replica linked them first) is logged."""
        try:
            await link_by_email(self.db, PLATFORM, workspace_id, [directory_entry(member, workspace_id)])
        except Exception as exc:
            log.info("could not link Teams user %s to the roster: %s", member.get("id"), exc)

    def _bot_account(self) -> dict[str, Any]:
        return {"id": f"28:{self.app_id}" if self.app_id else "28:referent", "name": "Referent"}
