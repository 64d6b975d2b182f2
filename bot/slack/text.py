"""Slack markup in, plain text out (and back): the adapter's half of "member text is inert".

Slack delivers message text in its own markup: `<@U123>` mentions, `<!channel>` broadcasts,
`<#C1|navn>` channel links, `<https://x|label>` links, and `&`, `<`, `>` escaped as entities.
Handlers want the text as the member meant it, with mentions shown as `@Name`, so that nothing
they echo back can ping anyone. Outgoing text goes the other way: `&<>` are escaped so Slack never
reads member text as markup, and a literal `@channel` is kept from being read as a broadcast.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from handlers.events import Mention

# One angle-bracket token: `<` anything but `<>` `>`. Slack escapes literal `<>` in user text,
# so a real `<` in the payload always opens markup.
_TOKEN = re.compile(r"<([^<>]*)>")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_BROADCASTS = {"channel": "@channel", "here": "@here", "everyone": "@everyone", "group": "@channel"}
# `@channel` typed as text is harmless with `parse=none`, but a word joiner after the `@` keeps it
# from ever being read as a broadcast, whatever a client or a future API default does with it.
# No word boundary: "@channelord" is defanged too, so cutting it never leaves a bare "@channel…".
_LITERAL_BROADCAST = re.compile(r"@(channel|here|everyone)", re.IGNORECASE)
_WORD_JOINER = "\u2060"


@dataclass(frozen=True, slots=True)
class SlackUser:
    """What the adapter knows about a Slack user (from users.info)."""

    id: str
    name: str  # the name to show: real name, else display name, else handle
    email: str | None = None
    locale: str | None = None
    team_id: str | None = None
    is_bot: bool = False
    is_stranger: bool = False  # Slack Connect: from an organisation not connected to ours


@dataclass(frozen=True, slots=True)
class PlainText:
    text: str
    mentions: tuple[Mention, ...] = ()


def unescape(text: str) -> str:
    """Slack's three entities back to characters (`&amp;` last, so `&amp;lt;` stays `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    """Escape `&`, `<`, `>` so Slack shows them as typed and never reads them as markup."""
    return html.escape(text, quote=False)


def defang(text: str) -> str:
    """Keep a literal `@channel`/`@here`/`@everyone` from being read as a broadcast."""
    return _LITERAL_BROADCAST.sub(lambda m: "@" + _WORD_JOINER + m.group(1), text)


def user_ids_in(text: str) -> list[str]:
    """The user ids mentioned in Slack markup, in order, without repeats."""
    seen: dict[str, None] = {}
    for match in _TOKEN.finditer(text):
        body = match.group(1)
        if body.startswith("@"):
            uid = body[1:].split("|", 1)[0]
            if _USER_ID.match(uid):
                seen.setdefault(uid, None)
    return list(seen)


def _link(body: str) -> str:
    url, _, label = body.partition("|")
    url, label = unescape(url), unescape(label)
    if url.startswith("mailto:"):
        address = url.removeprefix("mailto:")
        return label if label and label != address else address
    if not label or label == url or url.endswith("//" + label) or url.endswith("//" + label + "/"):
        return url
    return f"{label} ({url})"


def _token(body: str, users: Mapping[str, SlackUser], mentions: dict[str, Mention]) -> str:
    if body.startswith("@"):
        uid, _, label = body[1:].partition("|")
        user = users.get(uid)
        name = user.name if user else unescape(label) or uid
        if _USER_ID.match(uid):
            mentions.setdefault(
                uid, Mention(user_id=uid, display_name=name, email=user.email if user else None)
            )
        return "@" + name
    if body.startswith("#"):
        cid, _, label = body[1:].partition("|")
        return "#" + (unescape(label) or cid)
    if body.startswith("!"):
        head, _, label = body[1:].partition("|")
        keyword = head.split("^", 1)[0]
        if keyword in _BROADCASTS:
            return _BROADCASTS[keyword]
        if keyword == "subteam":
            name = unescape(label) or "gruppe"
            return name if name.startswith("@") else "@" + name
        if keyword == "date":
            return unescape(label)
        return unescape(label) or ""
    return _link(body)


def to_plain(text: str, users: Mapping[str, SlackUser] | None = None) -> PlainText:
    """Slack markup → the plain text a member meant, with mentions as `@Name`.

    `users` maps user ids to what users.info said; unknown ids fall back to the label Slack sent
    (slash commands with escaping on send `<@U1|handle>`) or the bare id.
    """
    users = users or {}
    mentions: dict[str, Mention] = {}
    out: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        out.append(unescape(text[last : match.start()]))
        out.append(_token(match.group(1), users, mentions))
        last = match.end()
    out.append(unescape(text[last:]))
    return PlainText(text="".join(out), mentions=tuple(mentions.values()))


async def to_plain_resolving(text: str, lookup: Callable[[str], Awaitable[SlackUser | None]]) -> PlainText:
    """`to_plain`, looking up each mentioned user (users.info, cached by the caller)."""
    users: dict[str, SlackUser] = {}
    for uid in user_ids_in(text):
        user = await lookup(uid)
        if user is not None:
            users[uid] = user
    return to_plain(text, users)


def strip_leading_mention(text: str, bot_user_id: str | None) -> str:
    """`<@UBOT> runde …` → `runde …` (an @Referent mention used as a command)."""
    stripped = text.lstrip()
    if bot_user_id:
        for prefix in (f"<@{bot_user_id}>", f"<@{bot_user_id}|"):
            if stripped.startswith(prefix):
                end = stripped.find(">")
                return stripped[end + 1 :].lstrip(" :,\u00a0")
    return stripped
