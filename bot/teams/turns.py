"""One Teams turn, SDK-free: the activity becomes a ChatEvent, the handler answers, and the answer
goes back through the pooled BotConnectorClient within the turn.

botbuilder (bot/teams.py) authenticates the request and routes it by type to these methods; the
work itself needs only the activity JSON, so moving to another SDK touches the router only.
Sending the reply here, rather than through TurnContext.send_activity, avoids botbuilder's
per-turn msrest connector client and its thread-pooled `requests` call.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

from cachetools import TTLCache
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from bot.teams import activity as ta
from bot.teams.cards import (
    CARD_CONTENT_TYPE,
    card_for_update,
    form_fits,
    notice_card,
    plain_text,
    poll_card,
    render_reply,
)
from bot.teams.connector import BotConnectorClient
from bot.teams.files import fetch_file_attachments, file_attachments
from bot.teams.messenger import PLATFORM, TeamsMessenger, address_activity
from handlers.commands.invitation_cmd import wants_attachments
from handlers.directory import DirectoryEntry, link_by_email
from handlers.effects import load_poll_view, run_effects
from handlers.events import ChatEvent, EventKind, Reply
from handlers.i18n import t
from handlers.ports import DeliveryError
from storage.repositories import conversations

log = logging.getLogger(__name__)

MEMBER_TTL = 3600.0
REFERENCE_TTL = 3600.0
CACHE_SIZE = 20_000
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
ERROR_TYPE = "application/vnd.microsoft.error"


class _References:
    """The conversation references one activity brings that this process has not stored yet.

    Handed to the handlers as the event's `record` (handlers.events.EventRecord): dispatch
    stores them in the event's own transaction, or in one of their own when the event writes
    nothing, through storage (conversations.save_references)."""

    def __init__(self, tenant_id: str, pending: list[tuple[str, dict[str, Any]]]) -> None:
        self.tenant_id = tenant_id
        self.pending = pending
        self.written = False

    async def __call__(self, session: AsyncSession) -> None:
        await conversations.save_references(session, PLATFORM, self.tenant_id, self.pending)
        self.written = True


def _fingerprint(reference: Mapping[str, Any]) -> str:
    return json.dumps(reference, sort_keys=True)


def invoke_message(text: str) -> dict[str, Any]:
    """An `adaptiveCard/action` answer that shows a short message to the person who clicked."""
    return {"statusCode": 200, "type": MESSAGE_TYPE, "value": text}


def invoke_card(card: dict[str, Any]) -> dict[str, Any]:
    """An `adaptiveCard/action` answer that replaces the clicked card."""
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}


def invoke_error(status: int, message: str) -> dict[str, Any]:
    return {"statusCode": status, "type": ERROR_TYPE, "value": {"code": "BadRequest", "message": message}}


class TeamsTurns:
    """The work of each kind of Teams activity, given the raw activity JSON."""

    def __init__(self, runtime: Runtime, client: BotConnectorClient) -> None:
        self.runtime = runtime
        self.client = client
        # (tenant, user id) → (Entra object id, e-mail, external), from the connector's member lookup.
        self._members: TTLCache[tuple[str, str], tuple[str | None, str | None, bool]] = TTLCache(
            CACHE_SIZE, MEMBER_TTL
        )
        # (tenant, reference key) → fingerprint of the reference this process last stored, so a
        # busy user costs one write, not one per message. Entries expire, so a write that was
        # lost after all (its transaction failed late) is made again with a later message.
        self._stored_refs: TTLCache[tuple[str, str], str] = TTLCache(CACHE_SIZE, REFERENCE_TTL)

    # -- the turn kinds ------------------------------------------------------------------------

    async def on_message(self, activity: Mapping[str, Any]) -> None:
        action = ta.card_action_of(activity) if activity.get("value") else None
        if action is not None:  # Action.Submit from an older client: a message with `value`
            await self._card_action_by_message(activity, action)
            return
        event = ta.message_event(activity)
        if event is None:
            return
        event = await self._with_email(activity, event)
        wanted = event.is_direct and event.kind == EventKind.COMMAND and wants_attachments(event.text)
        if wanted and file_attachments(activity):
            files = await fetch_file_attachments(self.client.session, activity)
            event = dataclasses.replace(event, attachments=files)
        reply = await self._handle(self._with_references(activity, event))
        await self.send_reply(activity, reply)

    async def on_edit(self, activity: Mapping[str, Any]) -> None:
        event = ta.edit_event(activity)
        if event is not None:
            reply = await self._handle(event)
            await self.send_reply(activity, reply, thread_only=True)

    async def on_delete(self, activity: Mapping[str, Any]) -> None:
        event = ta.delete_event(activity)
        if event is not None:
            reply = await self._handle(event)
            await self.send_reply(activity, reply, thread_only=True)

    async def on_installed(self, activity: Mapping[str, Any]) -> None:
        """The bot was added to a team, channel or chat: remember where, and say how to set up.
        Added to a team, it reads the team's member list (after answering) to link roster members
        by e-mail; installed by someone for themselves, it looks that person up at once."""
        address = ta.address_of(activity)
        if address.is_direct:
            await self._link_installer(activity, address)
        elif address.team_id:
            self.runtime.spawn(self._read_team(address), name="teams-team-members")
        reply = await self._handle(self._with_references(activity, ta.installed_event(activity)))
        if not reply.text and not reply.poll and not reply.form:
            return
        address = ta.address_of(activity)
        reference = ta.channel_reference(address)
        for out in render_reply(reply):
            await self._send(
                self.client.send_to_conversation(
                    address.service_url,
                    address.channel_id,
                    address_activity(out, reference, address.channel_id),
                )
            )

    # -- linking members who never wrote -------------------------------------------------------

    def _messenger(self) -> TeamsMessenger | None:
        messenger = self.runtime.messengers.for_platform(PLATFORM)
        return messenger if isinstance(messenger, TeamsMessenger) else None

    async def _read_team(self, address: ta.TeamsAddress) -> None:
        """The team's members (GET …/pagedmembers): link the roster members among them."""
        messenger = self._messenger()
        if messenger is None or not address.team_id or not address.tenant_id:
            return
        try:
            await messenger.sync_team(
                address.service_url,
                address.tenant_id,
                address.team_id,
                {"id": address.bot_id, "name": address.bot_name},
            )
        except DeliveryError as exc:
            log.warning("member list of team %s unavailable: %s", address.team_id, exc)
        except Exception:  # storage down: the next reminder pass reads the list again
            log.exception("linking the members of team %s failed", address.team_id)

    async def _link_installer(self, activity: Mapping[str, Any], address: ta.TeamsAddress) -> None:
        """A personal install: look the installer up (GET …/members/{id}) and link them to the
        roster by e-mail or UPN, so their first reminder goes to this chat."""
        sender = activity.get("from") if isinstance(activity.get("from"), dict) else None
        sender_id = ta._str(sender.get("id")) if sender else ""
        if not sender or not sender_id or ta.is_from_bot(activity) or not address.tenant_id:
            return
        aad, email, external = await self.member_info(address, sender_id)
        if not email or external:  # a guest or another tenant's user is never linked by e-mail
            return
        entry = DirectoryEntry(aad or ta.user_key_id(sender), ta._str(sender.get("name")), (email,))
        try:
            await link_by_email(self.runtime.db, PLATFORM, address.tenant_id, [entry])
        except Exception:
            log.exception("linking the Teams user who installed the app failed")

    async def _link_joined(self, address: ta.TeamsAddress, joined: list[dict[str, Any]]) -> None:
        """People added to a team: look each up (e-mail, UPN) and link the roster members."""
        entries = []
        for account in joined:
            aad, email, external = await self.member_info(address, ta._str(account.get("id")))
            if email and not external:
                entries.append(
                    DirectoryEntry(aad or ta.user_key_id(account), ta._str(account.get("name")), (email,))
                )
        if entries:
            try:
                await link_by_email(self.runtime.db, PLATFORM, address.tenant_id, entries)
            except Exception:
                log.exception("linking the members added to team %s failed", address.team_id)

    async def on_card_action(self, activity: Mapping[str, Any]) -> dict[str, Any]:
        """`adaptiveCard/action` (Action.Execute): returns the invoke answer's body."""
        action = ta.card_action_of(activity)
        locale = ta.locale_of(activity)
        if action is None:
            return invoke_message(t(locale, "teams.stale"))
        if action.verb == ta.VERB_FORM_CANCEL:
            return invoke_card(notice_card(t(locale, "teams.cancelled")))
        if action.verb == ta.VERB_FORM and action.data.get("owner") not in (
            None,
            "",
            self._user_key(activity),
        ):
            return invoke_message(t(locale, "teams.not_yours"))
        event = ta.card_event(activity, action)
        if event is None:
            return invoke_message(t(locale, "teams.stale"))
        event = await self._with_email(activity, event)
        reply = await self._handle(self._with_references(activity, event))
        if reply.effects and event.kind is not EventKind.COMMAND:
            self._run_effects(reply)
        if event.kind is EventKind.POLL_VOTE:
            # The answer re-renders the card for the one who clicked; the reply's REFRESH_POLL
            # effect updates every posted copy (this one too) for everyone else.
            card = await self._poll_card(event) if reply.ok else None
            if card is not None:
                return invoke_card(card)
            return invoke_message(plain_text(reply.text) or t(locale, "teams.stale"))
        if event.kind is EventKind.FORM_SUBMIT:
            if not reply.ok:  # refused (deadline passed, too long): keep the form and its text
                return invoke_message(plain_text(reply.text) or t(locale, "teams.stale"))
            if reply.form is not None:  # the handler wants the form shown again (e.g. too long)
                return invoke_card(
                    card_for_update(reply, self._user_key(activity)) or notice_card(reply.text)
                )
            return invoke_card(notice_card(reply.text))
        if reply.ok and reply.settles_prompt:
            # It settles what the card asked (a preview's Legg ut / Avbryt): the answer takes the
            # card's place, buttons and all; the effects (posting the poll) run after the turn.
            if reply.effects:
                self._run_effects(reply)
            return invoke_card(notice_card(reply.text))
        # A button that runs a command: the answer goes to the conversation like a typed one.
        await self.send_reply(activity, reply)
        return invoke_message(plain_text(reply.text.split("\n", 1)[0]) if reply.text else "")

    # -- helpers -------------------------------------------------------------------------------

    async def _card_action_by_message(self, activity: Mapping[str, Any], action: ta.CardAction) -> None:
        """The same actions, arriving as an Action.Submit message: answer by message, and update the
        card in place for a vote."""
        if action.verb == ta.VERB_FORM_CANCEL:
            return
        if action.verb == ta.VERB_FORM and action.data.get("owner") not in (
            None,
            "",
            self._user_key(activity),
        ):
            await self.send_reply(activity, Reply(text=t(ta.locale_of(activity), "teams.not_yours")))
            return
        event = ta.card_event(activity, action)
        if event is None:
            return
        event = await self._with_email(activity, event)
        reply = await self._handle(self._with_references(activity, event))
        if event.kind is EventKind.POLL_VOTE and reply.ok:
            if reply.effects:
                self._run_effects(reply)  # the card updates in place; no chatter in the channel
            return
        await self.send_reply(activity, reply)

    async def _poll_card(self, event: ChatEvent) -> dict[str, Any] | None:
        """The poll's card as it stands now (after the vote), in the clicker's language."""
        if event.action is None:
            return None
        view = await load_poll_view(self.runtime.ctx, event.action.poll_id, event.locale)
        return poll_card(view) if view is not None else None

    def _user_key(self, activity: Mapping[str, Any]) -> str:
        sender = activity.get("from")
        return ta.user_key_id(sender) if isinstance(sender, dict) else ""

    async def _handle(self, event: ChatEvent) -> Reply:
        """The one handler entry point; a crash there is logged and answered with an apology."""
        try:
            from handlers.dispatch import handle
        except ImportError:  # pragma: no cover - only while handlers/dispatch.py is being written
            log.warning("handlers.dispatch is not available; Teams event %s ignored", event.kind)
            return Reply(text="")
        try:
            reply = await handle(event, self.runtime.ctx)
        except Exception:
            log.exception("handler failed for Teams %s event %s", event.kind, event.event_id)
            return Reply(text=t(event.locale, "common.error"), ok=False)
        if isinstance(event.record, _References) and event.record.written and not reply.retryable:
            self._note_stored(event.record)
        return reply

    async def send_reply(
        self, activity: Mapping[str, Any], reply: Reply, *, thread_only: bool = False
    ) -> None:
        """Answer in the conversation the activity came from: in a channel, in its thread; in a
        chat, as a reply. Then run the reply's effects after the turn."""
        if reply.form is not None and not form_fits(reply.form):
            # Never a form that cannot hold the whole entry: say so, and how to edit instead.
            text = t(ta.locale_of(activity), "teams.form_too_long")
            reply = dataclasses.replace(reply, form=None, text=text, ok=False)
        outs = render_reply(reply, owner=self._user_key(activity))
        if outs:
            address = ta.address_of(activity)
            activity_id = ta._str(activity.get("id"))
            recipient = activity.get("from") if isinstance(activity.get("from"), dict) else None
            reference = ta.channel_reference(address)
            reference["locale"] = ta.locale_of(activity)
            for out in outs:
                body = address_activity(out, reference, address.conversation_id)
                if recipient:
                    body["recipient"] = {k: recipient[k] for k in ("id", "name") if k in recipient}
                if activity_id and not (thread_only and not address.thread_root):
                    body["replyToId"] = activity_id
                    await self._send(
                        self.client.reply_to_activity(
                            address.service_url, address.conversation_id, activity_id, body
                        )
                    )
                else:
                    await self._send(
                        self.client.send_to_conversation(address.service_url, address.conversation_id, body)
                    )
        if reply.effects:
            self._run_effects(reply)

    def _run_effects(self, reply: Reply) -> None:
        self.runtime.spawn(run_effects(reply.effects, self.runtime.ctx), name="teams-effects")

    async def _send(self, call: Any) -> str:
        """A send whose failure must not fail the turn: the handler's work is already committed."""
        try:
            return str(await call or "")
        except DeliveryError as exc:
            log.warning("Teams delivery failed: %s", exc)
            return ""

    # -- identity and references ---------------------------------------------------------------

    async def _with_email(self, activity: Mapping[str, Any], event: ChatEvent) -> ChatEvent:
        """The sender's e-mail, and each mentioned person's Entra id and e-mail, from the
        connector's member lookup, so handlers can link both to the roster."""
        address = ta.address_of(activity)
        raw = activity.get("from")
        sender: dict[str, Any] = raw if isinstance(raw, dict) else {}
        changes: dict[str, Any] = {}
        if ta._str(sender.get("id")):
            _aad, email, external = await self.member_info(address, ta._str(sender.get("id")))
            if email:
                changes["user_email"] = email
            if external:
                changes["is_external"] = True
        if event.mentions:
            mentions = []
            for mention in event.mentions:
                aad, email, _external = await self.member_info(address, mention.user_id)
                mentions.append(
                    dataclasses.replace(mention, user_id=aad or mention.user_id, email=email or mention.email)
                )
            changes["mentions"] = tuple(mentions)
        return dataclasses.replace(event, **changes) if changes else event

    async def member_info(
        self, address: ta.TeamsAddress, user_id: str
    ) -> tuple[str | None, str | None, bool]:
        """(Entra object id, e-mail, external) of a team or chat member, through the connector:
        GET {serviceUrl}/v3/conversations/{id}/members/{userId}. External: a guest
        (`userRole: guest`) or a user whose home tenant is not the conversation's, whose e-mail
        proves nothing here. Cached per user for an hour; (None, None, False) when the connector
        does not know them."""
        if not user_id:
            return None, None, False
        key = (address.tenant_id, user_id)
        cached = self._members.get(key)
        if cached is not None:
            return cached
        roster = address.team_id or address.channel_id
        try:
            member = await self.client.get_member(address.service_url, roster, user_id)
        except DeliveryError as exc:
            log.info("member lookup for %s failed: %s", user_id, exc)
            return None, None, False
        email: str | None = None
        aad: str | None = None
        external = False
        if member:
            aad = ta._str(member.get("aadObjectId")) or None
            home = ta._str(member.get("tenantId"))
            external = ta._str(member.get("userRole")).lower() == "guest" or bool(
                home and home != address.tenant_id
            )
            for field in ("email", "userPrincipalName"):
                candidate = member.get(field)
                if isinstance(candidate, str) and "@" in candidate and len(candidate) <= 320:
                    email = candidate.strip().lower()
                    break
        self._members[key] = (aad, email, external)
        return aad, email, external

    def _new_references(self, activity: Mapping[str, Any]) -> _References | None:
        """This activity's conversation references (the sender's, the conversation's) that are
        new or changed since this process last stored them; None when there are none."""
        tenant = ta.address_of(activity).tenant_id
        pending = [
            (key, reference)
            for key, reference in ta.conversation_references(activity)
            if self._stored_refs.get((tenant, key)) != _fingerprint(reference)
        ]
        return _References(tenant, pending) if pending else None

    def _note_stored(self, references: _References) -> None:
        for key, reference in references.pending:
            self._stored_refs[(references.tenant_id, key)] = _fingerprint(reference)

    def _with_references(self, activity: Mapping[str, Any], event: ChatEvent) -> ChatEvent:
        """The event, carrying what the handlers are to store with it (see _References)."""
        references = self._new_references(activity)
        return dataclasses.replace(event, record=references) if references is not None else event

    async def remember(self, activity: Mapping[str, Any]) -> None:
        """Store the conversation references of an activity no handler sees (members added), and
        link the people who joined a team to the roster (after answering)."""
        address = ta.address_of(activity)
        joined = [
            m
            for m in activity.get("membersAdded") or ()
            if isinstance(m, dict) and ta._str(m.get("id")) and ta._str(m.get("id")) != address.bot_id
        ]
        if joined and address.team_id and address.tenant_id:
            self.runtime.spawn(self._link_joined(address, joined), name="teams-members-joined")
        references = self._new_references(activity)
        if references is None:
            return
        async with self.runtime.db.write() as session:
            await references(session)
        self._note_stored(references)
