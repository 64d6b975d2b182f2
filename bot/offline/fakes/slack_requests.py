"""Signed requests shaped like Slack's, for the end-to-end tests, `referent demo` and the bench.

Each builder returns a `SignedRequest` (body bytes + headers) signed with slack_sdk's scheme
(`v0=` HMAC-SHA256 of `v0:<timestamp>:<body>`), which the real server checks with Bolt. Options
make a request stale (timestamp outside the 5-minute window), sign it with the wrong secret, or
mark it as Slack's retry of an earlier delivery.

Text arguments are what Slack itself would send: already in Slack markup (`<@U123>`,
`&lt;` for a typed `<`). Use `slack_escape()` for text a person typed.

    slack = SlackRequests(signing_secret="…", team_id="T0REFERENT")
    request = slack.slash("/runde", "Alt vel", user="U1", channel="C1")
    status, body = await slack.send(session, server_url, request)
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

STALE_SECONDS = 10 * 60


def slack_escape(text: str) -> str:
    """What Slack does to typed text before sending it: `&`, `<`, `>` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    headers: dict[str, str]
    path: str = "/slack/events"

    @property
    def content_type(self) -> str:
        return self.headers["Content-Type"]

    def json(self) -> dict[str, Any]:
        """The payload as Bolt will read it (for assertions)."""
        text = self.body.decode()
        if self.content_type == "application/json":
            return dict(json.loads(text))
        from urllib.parse import parse_qs

        form = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
        return dict(json.loads(form["payload"])) if "payload" in form else form


@dataclass
class SlackRequests:
    """Builders for one workspace. `team_id` and `api_app_id` fill every payload."""

    signing_secret: str
    team_id: str = "T0REFERENT"
    team_domain: str = "testkommune"
    api_app_id: str = "A0REFERENT"
    bot_user_id: str = "U0REFERENT"
    response_url_base: str = "http://127.0.0.1:9/response"
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # ------------------------------------------------------------- signing

    def sign(
        self,
        body: str,
        content_type: str,
        *,
        stale: bool = False,
        secret: str | None = None,
        timestamp: int | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> SignedRequest:
        ts = timestamp if timestamp is not None else int(time.time()) - (STALE_SECONDS if stale else 0)
        signature = SignatureVerifier(secret or self.signing_secret).generate_signature(
            timestamp=str(ts), body=body
        )
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature or "",
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        return SignedRequest(body=body.encode(), headers=headers)

    def _form(self, fields: dict[str, str], **sign: Any) -> SignedRequest:
        return self.sign(urlencode(fields), "application/x-www-form-urlencoded", **sign)

    def _interactive(self, payload: dict[str, Any], **sign: Any) -> SignedRequest:
        return self._form({"payload": json.dumps(payload, ensure_ascii=False)}, **sign)

    def next_ts(self) -> str:
        """A fresh Slack message timestamp (`1700000000.000001` style)."""
        return f"{int(time.time())}.{next(self._seq):06d}"

    def _trigger(self) -> str:
        return f"{next(self._seq)}.{uuid.uuid4().hex[:12]}"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.response_url_base}/{name}"

    # ------------------------------------------------------- slash commands

    def slash(
        self,
        command: str,
        text: str = "",
        *,
        user: str,
        channel: str,
        user_name: str = "",
        channel_name: str = "referent-test",
        team_id: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        **sign: Any,
    ) -> SignedRequest:
        """A slash command, form-encoded as Slack posts it."""
        return self._form(
            {
                "token": "legacy-verification-token",
                "team_id": team_id or self.team_id,
                "team_domain": self.team_domain,
                "channel_id": channel,
                "channel_name": channel_name,
                "user_id": user,
                "user_name": user_name or user.lower(),
                "command": command,
                "text": text,
                "api_app_id": self.api_app_id,
                "is_enterprise_install": "false",
                "response_url": response_url or self.response_url(command.strip("/")),
                "trigger_id": trigger_id or self._trigger(),
            },
            **sign,
        )

    # ----------------------------------------------------------- Events API

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        team_id: str | None = None,
        event_time: int | None = None,
        **sign: Any,
    ) -> SignedRequest:
        """An `event_callback` envelope around `event`."""
        team = team_id or self.team_id
        envelope = {
            "token": "legacy-verification-token",
            "team_id": team,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": event_time or int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex[:16]}",
        }
        return self.sign(json.dumps(envelope, ensure_ascii=False), "application/json", **sign)

    def message_event(
        self,
        text: str,
        *,
        user: str,
        channel: str,
        ts: str | None = None,
        thread_ts: str | None = None,
        channel_type: str = "channel",
        team_id: str | None = None,
        bot_id: str | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The inner `message` event (top level, or a thread reply when `thread_ts` is set);
        with `files` (FakeSlackApi.share_file) a `file_share` message, as Slack sends one."""
        event: dict[str, Any] = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts or self.next_ts(),
            "team": team_id or self.team_id,
            "channel": channel,
            "event_ts": ts or self.next_ts(),
            "channel_type": channel_type,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
            event["parent_user_id"] = self.bot_user_id
        if bot_id:
            event["bot_id"] = bot_id
            event["subtype"] = "bot_message"
        if files:
            event["subtype"] = "file_share"
            event["files"] = files
            event["upload"] = True
        return event

    def message(self, text: str, *, user: str, channel: str, **kw: Any) -> SignedRequest:
        """A top-level channel message (the bot ignores these)."""
        sign = _pop_sign(kw)
        return self.event(self.message_event(text, user=user, channel=channel, **kw), **sign)

    def thread_reply(
        self, text: str, *, user: str, channel: str, thread_ts: str, ts: str | None = None, **kw: Any
    ) -> SignedRequest:
        """A reply in a thread: in the collection thread, a round-table submission."""
        sign = _pop_sign(kw)
        event = self.message_event(text, user=user, channel=channel, ts=ts, thread_ts=thread_ts, **kw)
        return self.event(event, **sign)

    def message_changed(
        self,
        *,
        user: str,
        channel: str,
        ts: str,
        new_text: str,
        old_text: str = "",
        thread_ts: str | None = None,
        **sign: Any,
    ) -> SignedRequest:
        """`message_changed`: the user edited the message `ts`."""
        now = self.next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": user,
            "text": new_text,
            "ts": ts,
            "edited": {"user": user, "ts": now},
            "team": self.team_id,
        }
        previous: dict[str, Any] = {"type": "message", "user": user, "text": old_text, "ts": ts}
        if thread_ts:
            message["thread_ts"] = previous["thread_ts"] = thread_ts
            message["parent_user_id"] = previous["parent_user_id"] = self.bot_user_id
        event = {
            "type": "message",
            "subtype": "message_changed",
            "message": message,
            "previous_message": previous,
            "channel": channel,
            "hidden": True,
            "ts": now,
            "event_ts": now,
            "channel_type": "channel",
        }
        return self.event(event, **sign)

    def message_deleted(
        self,
        *,
        user: str,
        channel: str,
        ts: str,
        old_text: str = "",
        thread_ts: str | None = None,
        **sign: Any,
    ) -> SignedRequest:
        """`message_deleted`: the message `ts` is gone."""
        now = self.next_ts()
        previous: dict[str, Any] = {"type": "message", "user": user, "text": old_text, "ts": ts}
        if thread_ts:
            previous["thread_ts"] = thread_ts
            previous["parent_user_id"] = self.bot_user_id
        event = {
            "type": "message",
            "subtype": "message_deleted",
            "previous_message": previous,
            "channel": channel,
            "hidden": True,
            "deleted_ts": ts,
            "ts": now,
            "event_ts": now,
            "channel_type": "channel",
        }
        return self.event(event, **sign)

    def app_mention(
        self,
        text: str,
        *,
        user: str,
        channel: str,
        thread_ts: str | None = None,
        files: list[dict[str, Any]] | None = None,
        **kw: Any,
    ) -> SignedRequest:
        """`@Referent …` in a channel; `text` should start with `<@bot_user_id>` as Slack sends it
        (with `files`, the files shared in the same message)."""
        sign = _pop_sign(kw)
        ts = self.next_ts()
        event: dict[str, Any] = {
            "type": "app_mention",
            "user": user,
            "text": text,
            "ts": ts,
            "team": kw.get("team_id") or self.team_id,
            "channel": channel,
            "event_ts": ts,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        if files:
            event["files"] = files
        if kw.get("user_team"):  # Slack Connect: the author's home team
            event["user_team"] = event["source_team"] = kw["user_team"]
        return self.event(event, **sign)

    def member_joined(
        self, *, user: str, channel: str, inviter: str | None = None, **sign: Any
    ) -> SignedRequest:
        event: dict[str, Any] = {
            "type": "member_joined_channel",
            "user": user,
            "channel": channel,
            "channel_type": "C",
            "team": self.team_id,
            "event_ts": self.next_ts(),
        }
        if inviter:
            event["inviter"] = inviter
        return self.event(event, **sign)

    def url_verification(
        self, challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    ) -> SignedRequest:
        body = {"token": "legacy-verification-token", "challenge": challenge, "type": "url_verification"}
        return self.sign(json.dumps(body), "application/json")

    # ------------------------------------------------------- interactivity

    def _user(self, user: str, team_id: str | None) -> dict[str, Any]:
        return {
            "id": user,
            "username": user.lower(),
            "name": user.lower(),
            "team_id": team_id or self.team_id,
        }

    def block_actions(
        self,
        *,
        user: str,
        channel: str,
        action_id: str,
        value: str = "",
        message_ts: str | None = None,
        is_ephemeral: bool = False,
        block_id: str = "b1",
        url: str | None = None,
        team_id: str | None = None,
        response_url: str | None = None,
        **sign: Any,
    ) -> SignedRequest:
        """A button click (`block_actions`) on the message `message_ts` in `channel`."""
        team = team_id or self.team_id
        ts = message_ts or self.next_ts()
        action: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "block_id": block_id,
            "text": {"type": "plain_text", "text": "Knapp", "emoji": True},
            "action_ts": self.next_ts(),
        }
        if value:
            action["value"] = value
        if url:
            action["url"] = url
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user, team),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": is_ephemeral,
            },
            "trigger_id": self._trigger(),
            "team": {"id": team, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": "referent-test"},
            "message": {"type": "message", "ts": ts, "bot_id": "B0REFERENT", "text": "", "blocks": []},
            "state": {"values": {}},
            "response_url": response_url or self.response_url("action"),
            "actions": [action],
        }
        return self._interactive(payload, **sign)

    def view_submission(
        self,
        *,
        user: str,
        values: dict[str, str],
        private_metadata: str | dict[str, Any],
        callback_id: str = "referent_form",
        team_id: str | None = None,
        **sign: Any,
    ) -> SignedRequest:
        """A modal saved: `values` maps each input block id to its text."""
        team = team_id or self.team_id
        meta = private_metadata if isinstance(private_metadata, str) else json.dumps(private_metadata)
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": team, "domain": self.team_domain},
            "user": self._user(user, team),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "trigger_id": self._trigger(),
            "view": {
                "id": f"V{next(self._seq):08d}",
                "team_id": team,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": meta,
                "state": {
                    "values": {
                        block: {"value": {"type": "plain_text_input", "value": text}}
                        for block, text in values.items()
                    }
                },
                "hash": uuid.uuid4().hex[:16],
                "app_id": self.api_app_id,
                "bot_id": "B0REFERENT",
            },
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._interactive(payload, **sign)

    # ---------------------------------------------------------------- send

    async def send(
        self, session: aiohttp.ClientSession, server_url: str, request: SignedRequest
    ) -> tuple[int, str]:
        """POST the request to the server; returns (status, body text)."""
        async with session.post(
            server_url.rstrip("/") + request.path, data=request.body, headers=request.headers
        ) as response:
            return response.status, await response.text()


def _pop_sign(kw: dict[str, Any]) -> dict[str, Any]:
    """Split signing options (stale, secret, retry_num, event_id …) from event fields."""
    keys = ("stale", "secret", "timestamp", "retry_num", "retry_reason", "event_id", "event_time")
    sign = {k: kw.pop(k) for k in keys if k in kw}
    if "team_id" in kw:
        sign["team_id"] = kw["team_id"]
    return sign
