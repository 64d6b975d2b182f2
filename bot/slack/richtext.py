"""Slack message text (mrkdwn) and `rich_text` blocks → the neutral rich-text tree, and back.

A message event carries both `text` (mrkdwn: `*fet*`, `_kursiv_`, `~streket~`, `` `kode` ``,
``` blocks, `<@U1>`, `<#C1|navn>`, `<!channel>`, `<https://x|label>`, `&amp;`) and, from
every current client, `blocks` with one `rich_text` block holding the same message as data
(sections, lists with their indent, preformatted text, quotes, styled text, links, users,
channels, emoji). The blocks are read when present, since they say exactly what the member
formatted; slash commands and older clients only have the mrkdwn text. Emoji shortcodes become
Unicode with the `emoji` package (Slack's `flag-xx` and `skin-tone-N` by their Unicode rule);
a custom workspace emoji stays `:name:`. A user or channel Slack does not name for us reads as
the catalog's "@ukjent bruker" / "#ukjent kanal", never as a raw id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import emoji as emoji_lib

from bot.slack.text import SlackUser, defang, escape, unescape
from handlers.events import Echo
from handlers.events import Mention as EventMention
from handlers.i18n import t
from handlers.richtext.model import (
    Block,
    Code,
    CodeBlock,
    Doc,
    Inline,
    ItemList,
    Line,
    Link,
    ListItem,
    Mention,
    Para,
    Styled,
    Text,
    is_safe_url,
    link,
    merge_text,
)
from handlers.richtext.shorten import fit, fit_parts
from handlers.richtext.source import to_source

_TOKEN = re.compile(r"<([^<>]*)>")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SHORTCODE = re.compile(r":([a-z0-9_+'\-]{1,60}):", re.IGNORECASE)
_INLINE_FENCE = re.compile(r"```(.+?)```", re.DOTALL)
_BROADCASTS = {"channel": "@channel", "here": "@here", "everyone": "@everyone", "group": "@channel"}
_ESCAPE = re.compile(r"([\\`*_~\[\]<>])")


@dataclass(frozen=True, slots=True)
class SlackRichText:
    """The member's message as the stored form, and the people it mentions."""

    text: str
    mentions: tuple[EventMention, ...] = ()


# --- emoji -------------------------------------------------------------------------------------


def shortcode(name: str) -> str | None:
    """One Slack emoji name as Unicode; None when it is not a standard emoji."""
    lower = name.lower()
    if lower.startswith("flag-") and len(lower) == 7 and lower[5:].isalpha():
        return "".join(chr(0x1F1E6 + ord(c) - ord("a")) for c in lower[5:])
    tone = re.fullmatch(r"skin-tone-([2-6])", lower)
    if tone:
        return chr(0x1F3FB + int(tone.group(1)) - 2)
    for candidate in (lower, lower.replace("-", "_")):
        found = emoji_lib.emojize(f":{candidate}:", language="alias")
        if found != f":{candidate}:":
            return found
    return None


def emojize(text: str) -> str:
    """`:tada:` → 🎉 in running text; unknown (custom) names stay as typed."""
    return _SHORTCODE.sub(lambda m: shortcode(m.group(1)) or m.group(0), text)


def _emoji_element(element: Mapping[str, Any]) -> str:
    code = element.get("unicode")
    if isinstance(code, str) and re.fullmatch(r"[0-9a-fA-F]{2,6}(-[0-9a-fA-F]{2,6})*", code):
        try:
            return "".join(chr(int(part, 16)) for part in code.split("-"))
        except (ValueError, OverflowError):
            pass
    name = element.get("name")
    if not isinstance(name, str):
        return ""
    return shortcode(name) or f":{name}:"


# --- names --------------------------------------------------------------------------------------


class _Names:
    """Resolves user ids to names (from users.info), and says who was mentioned."""

    def __init__(self, users: Mapping[str, SlackUser], locale: str | None) -> None:
        self.users = users
        self.locale = locale
        self.mentioned: dict[str, EventMention] = {}

    def user(self, uid: str, label: str = "") -> str:
        user = self.users.get(uid)
        name = user.name if user else label or t(self.locale, "slack.unknown_user")
        if _USER_ID.match(uid) and (user or label):
            self.mentioned.setdefault(
                uid, EventMention(user_id=uid, display_name=name, email=user.email if user else None)
            )
        return "@" + name.lstrip("@")

    def channel(self, label: str) -> str:
        return "#" + (label or t(self.locale, "slack.unknown_channel")).lstrip("#")


# --- mrkdwn -------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    return _ESCAPE.sub(r"\\\1", text)


def _token_source(body: str, names: _Names) -> str:
    """One `<…>` token as the stored form (names escaped so they never read as markup)."""
    if body.startswith("@"):
        uid, _, label = body[1:].partition("|")
        return _esc(names.user(uid, unescape(label)))
    if body.startswith("#"):
        _cid, _, label = body[1:].partition("|")
        return _esc(names.channel(unescape(label)))
    if body.startswith("!"):
        head, _, label = body[1:].partition("|")
        keyword = head.split("^", 1)[0]
        if keyword in _BROADCASTS:
            return _BROADCASTS[keyword]
        if keyword == "subteam":
            name = unescape(label) or t(names.locale, "slack.unknown_group")
            return _esc(name if name.startswith("@") else "@" + name)
        return _esc(unescape(label))
    url, _, label = body.partition("|")
    url, label = unescape(url).strip(), unescape(label).strip()
    shown = url.removeprefix("mailto:")
    if not is_safe_url(url):
        return _esc(label or url)
    if not label or label in (url, shown):
        return f"<{url}>"
    return f"[{_esc(emojize(label))}]({url})"


def _plain_source(segment: str) -> str:
    """Text between tokens: entities decoded, shortcodes as emoji."""
    return emojize(unescape(segment))


def mrkdwn_source(text: str, names: _Names) -> str:
    """Slack mrkdwn → the stored dialect (which reads `*`, `_`, `~`, backticks as Slack does)."""
    text = _INLINE_FENCE.sub(lambda m: "\n```\n" + m.group(1).strip("\n") + "\n```\n", text)
    out: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        out.append(_plain_source(text[last : match.start()]))
        out.append(_token_source(match.group(1), names))
        last = match.end()
    out.append(_plain_source(text[last:]))
    return "".join(out)


# --- rich_text ----------------------------------------------------------------------------------

_BREAK = object()


def _styled(nodes: tuple[Inline, ...], style: Mapping[str, Any]) -> list[Inline]:
    for key in ("strike", "italic", "bold"):
        if style.get(key) is True and nodes:
            nodes = (Styled(key, nodes),)  # type: ignore[arg-type]
    return list(nodes)


def _elements(elements: Sequence[Any], names: _Names, skip_user: str | None) -> list[Inline | object]:
    out: list[Inline | object] = []
    for element in elements:
        if not isinstance(element, dict):
            continue
        kind = element.get("type")
        raw_style = element.get("style")
        style: dict[str, Any] = raw_style if isinstance(raw_style, dict) else {}
        if kind == "text" and isinstance(element.get("text"), str):
            for k, part in enumerate(element["text"].split("\n")):
                if k:
                    out.append(_BREAK)
                if part:
                    node: Inline = Code(part) if style.get("code") is True else Text(part)
                    out.extend(_styled((node,), style))
        elif kind == "link" and isinstance(element.get("url"), str):
            label = element.get("text") if isinstance(element.get("text"), str) else ""
            nodes = link(element["url"], (Text(label),) if label else ())
            out.extend(_styled(nodes, style))
        elif kind == "user" and isinstance(element.get("user_id"), str):
            if (
                skip_user
                and element["user_id"] == skip_user
                and all(n is _BREAK or (isinstance(n, Text) and not n.text.strip()) for n in out)
            ):
                continue  # the leading @Referent of a command
            out.extend(_styled((Mention(names.user(element["user_id"])),), style))
        elif kind == "usergroup":
            out.append(Mention("@" + t(names.locale, "slack.unknown_group").lstrip("@")))
        elif kind == "channel":
            out.append(Mention(names.channel("")))
        elif kind == "broadcast":
            out.append(Mention(_BROADCASTS.get(str(element.get("range")), "@channel")))
        elif kind == "emoji":
            out.append(Text(_emoji_element(element)))
        elif kind == "date":
            fallback = element.get("fallback")
            out.append(Text(fallback if isinstance(fallback, str) else ""))
        elif kind == "color" and isinstance(element.get("value"), str):
            out.append(Text(element["value"]))
    return out


def _lines(parts: list[Inline | object]) -> list[Line | None]:
    """Inline parts split at breaks; None marks an empty line (a paragraph break)."""
    lines: list[Line | None] = []
    current: list[Inline] = []
    for part in [*parts, _BREAK]:
        if part is _BREAK:
            line = merge_text(current)
            lines.append(_trim(line) or None)
            current = []
        else:
            current.append(part)  # type: ignore[arg-type]
    return lines


def _trim(line: Line) -> Line:
    items = list(line)
    if items and isinstance(items[0], Text):
        items[0] = Text(items[0].text.lstrip())
    if items and isinstance(items[-1], Text):
        items[-1] = Text(items[-1].text.rstrip())
    return merge_text(items)


def _paras(lines: list[Line | None]) -> list[Block]:
    out: list[Block] = []
    current: list[Line] = []
    for line in [*lines, None]:
        if line is None:
            if current:
                out.append(Para(tuple(current)))
            current = []
        else:
            current.append(line)
    return out


def _list_block(lists: list[dict[str, Any]], names: _Names, skip_user: str | None) -> tuple[ItemList, int]:
    """Consecutive rich_text_list elements (their `indent` is the nesting) as one nested list."""

    def build(pos: int, indent: int) -> tuple[ItemList, int]:
        items: list[ListItem] = []
        first = lists[pos]
        ordered = first.get("style") == "ordered"
        offset = _int(first.get("offset"))
        while pos < len(lists):
            current = lists[pos]
            level = _int(current.get("indent"))
            if level < indent:
                break
            if level > indent and items:
                child, pos = build(pos, level)
                last = items[-1]
                items[-1] = ListItem(last.content, last.marker, (*last.children, child))
                continue
            if (current.get("style") == "ordered") != ordered and items:
                break
            for section in current.get("elements") or ():
                if isinstance(section, dict):
                    parts = _elements(section.get("elements") or (), names, skip_user)
                    line = _trim(merge_text([p for p in parts if p is not _BREAK]))  # type: ignore[misc]
                    items.append(ListItem(line, None))
            pos += 1
        if ordered:
            items = [ListItem(it.content, f"{offset + k + 1}.", it.children) for k, it in enumerate(items)]
        return ItemList(tuple(items), ordered), pos

    return build(0, _int(lists[0].get("indent")))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 100 else 0


def rich_text_doc(blocks: Sequence[Any], names: _Names, skip_user: str | None = None) -> Doc | None:
    """The rich_text blocks of a message as the tree; None when there are none."""
    found = False
    out: list[Block] = []
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") != "rich_text":
            continue
        found = True
        elements = [e for e in block.get("elements") or () if isinstance(e, dict)]
        pos = 0
        while pos < len(elements):
            element = elements[pos]
            kind = element.get("type")
            if kind == "rich_text_list":
                end = pos
                while end < len(elements) and elements[end].get("type") == "rich_text_list":
                    end += 1
                # lists of another style at the same indent start a new list
                group = elements[pos:end]
                start = 0
                while start < len(group):
                    lst, used = _list_block(group[start:], names, skip_user)
                    if lst.items:
                        out.append(lst)
                    start += max(used, 1)
                pos = end
                continue
            parts = _elements(element.get("elements") or (), names, skip_user)
            if kind == "rich_text_preformatted":
                text = "".join("\n" if n is _BREAK else _flat(n) for n in parts).strip("\n")
                if text.strip():
                    out.append(CodeBlock(text))
            else:  # rich_text_section, rich_text_quote
                out.extend(_paras(_lines(parts)))
            skip_user = None  # only the very first element can hold the leading @Referent
            pos += 1
    return tuple(out) if found else None


def _flat(node: Any) -> str:
    if isinstance(node, Styled | Link):
        return "".join(_flat(c) for c in node.children)
    if isinstance(node, Text | Code):
        return node.text
    if isinstance(node, Mention):
        return node.name
    return ""


# --- the adapter's entry point -------------------------------------------------------------------


def member_text(
    text: str,
    blocks: Sequence[Any] | None,
    users: Mapping[str, SlackUser],
    *,
    locale: str | None = None,
    skip_user: str | None = None,
) -> SlackRichText:
    """A message as the stored rich-text form: from its rich_text blocks when it has them, else
    from its mrkdwn text."""
    names = _Names(users, locale)
    doc = rich_text_doc(blocks or (), names, skip_user) if blocks else None
    if doc is None:  # mrkdwn is already close to the stored dialect: kept as the member typed it
        return SlackRichText(mrkdwn_source(text, names).strip(), tuple(names.mentioned.values()))
    return SlackRichText(to_source(doc).strip(), tuple(names.mentioned.values()))


def user_ids_in_blocks(blocks: Sequence[Any] | None) -> list[str]:
    """The user ids a message's rich_text blocks mention, in order, without repeats."""
    seen: dict[str, None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "user" and isinstance(node.get("user_id"), str):
                seen.setdefault(node["user_id"], None)
            for value in node.values():
                if isinstance(value, list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(list(blocks or ()))
    return list(seen)


# --- back to Slack ------------------------------------------------------------------------------


def _inline_mrkdwn(nodes: Line) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, Text | Mention):
            out.append(defang(escape(node.text if isinstance(node, Text) else node.name)))
        elif isinstance(node, Code):
            out.append("`" + defang(escape(node.text.replace("`", "ˋ"))) + "`")
        elif isinstance(node, Link):
            label = _flat(node).replace("|", "¦").replace(">", "›").replace("<", "‹")
            out.append(f"<{escape(node.url).replace('|', '%7C')}|{defang(escape(label))}>")
        else:
            mark = {"bold": "*", "italic": "_", "strike": "~"}[node.style]
            inner = _inline_mrkdwn(node.children)
            core = inner.strip()
            if not core:
                out.append(inner)
                continue
            lead = inner[: len(inner) - len(inner.lstrip())]
            trail = inner[len(inner.rstrip()) :]
            out.append(f"{lead}{mark}{core}{mark}{trail}")
    return "".join(out)


def to_mrkdwn(doc: Doc) -> str:
    """The tree as Slack mrkdwn (for the bot's echoes): text escaped (`&<>`, and `@channel`
    typed as text kept from reading as a broadcast), formatting as Slack's."""
    out: list[str] = []

    def walk(lst: ItemList, depth: int) -> None:
        for item in lst.items:
            marker = item.marker or "•"
            out.append("    " * depth + f"{marker} {_inline_mrkdwn(item.content)}")
            for child in item.children:
                walk(child, depth + 1)

    for block in doc:
        if out:
            out.append("")
        if isinstance(block, Para):
            out.extend(_inline_mrkdwn(line) for line in block.lines)
        elif isinstance(block, CodeBlock):
            out.append("```\n" + defang(escape(block.text.replace("```", "ˋˋˋ"))) + "\n```")
        else:
            walk(block, 0)
    return "\n".join(out)


def _line_mrkdwn(doc: Doc) -> str:
    return " ".join(_inline_mrkdwn(line) for block in doc if isinstance(block, Para) for line in block.lines)


def echo_mrkdwn(echo: Echo, budget: int) -> list[str]:
    """Member text shown back, as mrkdwn in pieces that a section holds whole, each at most
    `budget` characters: one for an inline echo; for a block echo the whole, or its blocks
    (a blank line after each but the last) when the whole is too long. What is too long is cut
    on the tree, so no `<url|label>`, mention, entity or emoji is ever cut in two."""
    if echo.inline:
        return [fit(echo.doc, _line_mrkdwn, budget)]
    atoms: list[str] = []
    for block in fit_parts(echo.doc, to_mrkdwn, budget - 1):
        if atoms:
            atoms[-1] += "\n"
        atoms.extend(block)
    return atoms
