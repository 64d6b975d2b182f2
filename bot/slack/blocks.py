"""The neutral Reply rendered as Block Kit: messages, poll messages and modals.

Every piece of text that goes out is escaped (`&<>`) and marked `verbatim`, so Slack never turns
member text into mentions, channel links or broadcasts. Handlers write light Markdown
(`**bold**`, `_italic_`, `- ` lists, `[label](url)`, backslash escapes for literal characters);
`mrkdwn()` turns it into Slack's mrkdwn dialect. Member text shown back (`Echo`s in the reply's
body) is rendered from its rich-text tree by `to_mrkdwn`, so it keeps the member's lists, emphasis,
links, code and emoji; where Slack's limits need it shorter, it is cut on the tree, and the
reply's own text is cut only where no link, mention, entity or emoji is split.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable
from functools import cache
from typing import Any

from bot.slack.richtext import echo_mrkdwn
from bot.slack.text import defang, escape
from handlers.events import Button, ButtonStyle, Echo, FormField, FormView, PollView, Reply
from handlers.i18n import DEFAULT_LOCALE, normalise_locale, t
from handlers.richtext.shorten import markup_cut

Block = dict[str, Any]

FORM_CALLBACK_ID = "referent_form"
POLL_ACTION_PREFIX = "poll:"
LINK_ACTION_PREFIX = "link:"
OPEN_FORM_ACTION_ID = "referent:open_form"

# Block Kit limits (api.slack.com/reference/block-kit): we stay under each with a margin.
MAX_BLOCKS = 50
MAX_SECTION_CHARS = 2900
MAX_FALLBACK_CHARS = 3000
MAX_BUTTONS_PER_ACTIONS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_MODAL_TITLE = 24
MAX_INPUT_CHARS = 3000
MAX_CONTEXT_CHARS = 2000

# CommonMark: a backslash makes any ASCII punctuation literal (handlers/text.py escapes member text so).
_ESCAPABLE = frozenset(string.punctuation)
_URL = re.compile(r"https?://[^\s<>|\"]+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*)$")
_BULLET = re.compile(r"^(\s*)([-*•])\s+(.*)$")
_SAFE_SCHEMES = ("https://", "http://", "mailto:")

def lang(locale: str | None) -> str:
    """The catalog language for a Slack locale (`en-US` → en; unknown → bokmål), by the
    handlers' one rule."""
    return normalise_locale(locale) or DEFAULT_LOCALE


@cache
def _word(key: str, language: str) -> str:
    return t(language, f"slack.{key}")


def word(key: str, locale: str | None) -> str:
    """One of the adapter's own words (`slack.<key>` in templates/chat/*.toml)."""
    return _word(key, lang(locale))


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain(text: str, limit: int = 3000) -> dict[str, Any]:
    """A plain_text object. Slack never parses plain_text for markup or mentions, and shows
    entities in it literally, so it is sent unescaped (only truncated to the field's limit)."""
    return {"type": "plain_text", "text": _truncate(text, limit) or " ", "emoji": True}


def mrkdwn_object(text: str) -> dict[str, Any]:
    """A mrkdwn object that is already escaped; `verbatim` stops Slack's own auto-parsing."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _safe_url(url: str) -> str | None:
    """An URL Slack can put inside `<…|…>`: known scheme, no markup characters."""
    if not url.lower().startswith(_SAFE_SCHEMES):
        return None
    return escape(url.replace("|", "%7C").replace(" ", "%20"))


def _autolink(text: str) -> str:
    """Escape literal text, linking bare http(s) URLs explicitly (verbatim text is not auto-linked)."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)")
        end = match.start() + len(url)
        out.append(defang(escape(text[last : match.start()])))
        safe = _safe_url(url)
        out.append(f"<{safe}>" if safe else escape(url))
        last = end
    out.append(defang(escape(text[last:])))
    return "".join(out)


# One inline construct: a backslash escape, `**`, a `[label](url)` link or a `<https://…>`
# autolink (the draft's); the rest is literal.
_INLINE = re.compile(
    r"\\([!-/:-@\[-`{-~])|(\*\*)|\[([^\]\n]*)\]\((<[^<>\s]+>|[^)\s]+)\)|<((?:https?|mailto):[^<>\s|]+)>"
)


def _inline(text: str) -> str:
    """One line of light Markdown → mrkdwn."""
    out: list[str] = []
    literal: list[str] = []
    pos = 0
    for match in _INLINE.finditer(text):
        literal.append(text[pos : match.start()])
        pos = match.end()
        escaped, bold, label, url, auto = match.groups()
        if escaped is not None:
            literal.append(escaped)
            continue
        out.append(_autolink("".join(literal)))
        literal.clear()
        if bold is not None:
            out.append("*")
            continue
        if auto is not None:
            safe = _safe_url(auto)
            out.append(f"<{safe}>" if safe else escape(match.group(0)))
            continue
        label_text = _unescape_md(label)
        if url.startswith("<") and url.endswith(">"):  # `[label](<url>)`, as the draft writes it
            url = url[1:-1]
        safe = _safe_url(url)
        out.append(
            f"<{safe}|{defang(escape(label_text))}>" if safe else defang(escape(f"{label_text} ({url})"))
        )
    literal.append(text[pos:])
    out.append(_autolink("".join(literal)))
    return "".join(out)


def _unescape_md(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: m.group(1) if m.group(1) in _ESCAPABLE else m.group(0), text)


def mrkdwn(markdown: str) -> str:
    """Light Markdown → Slack mrkdwn, escaped and defanged line by line."""
    lines: list[str] = []
    for line in markdown.replace("\r\n", "\n").split("\n"):
        heading = _HEADING.match(line)
        if heading:
            lines.append(f"*{_inline(heading.group(1).strip())}*")
            continue
        bullet = _BULLET.match(line)
        if bullet:
            indent = len(bullet.group(1).expandtabs(2)) // 2
            marker = "•" if indent == 0 else "◦"
            lines.append("    " * min(indent, 3) + f"{marker} {_inline(bullet.group(3))}")
            continue
        lines.append(_inline(line))
    return "\n".join(lines)


def _cut(text: str, limit: int) -> str:
    """Rendered mrkdwn shortened to `limit` characters with "…", never inside a `<…>` link,
    mention or broadcast, an `&…;` entity or an emoji."""
    if len(text) <= limit:
        return text
    return text[: markup_cut(text, limit - 1)].rstrip() + "…"


def _pack(atoms: Iterable[str], limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Lines (and whole member echoes) packed into pieces a section can hold, joined by line
    breaks; only a single line longer than a section is cut, and never inside markup."""
    pieces: list[str] = []
    current = ""
    for atom in atoms:
        while len(atom) > limit:
            if current:
                pieces.append(current)
                current = ""
            cut = markup_cut(atom, limit) or limit
            pieces.append(atom[:cut])
            atom = atom[cut:].lstrip(" ")
        candidate = f"{current}\n{atom}" if current else atom
        if len(candidate) > limit:
            pieces.append(current)
            current = atom
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return [p for p in pieces if p.strip()]


def _chunks(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Split at line ends (or, for one over-long line, where no markup is cut) into pieces a
    section can hold."""
    return _pack(text.split("\n"), limit)


# Where an echo stands in the reply's Markdown while `mrkdwn()` converts the rest: `|` ends a
# bare URL before it, and NUL is taken out of the text pieces.
_SLOT = "|\x00{}\x00"
_SLOTS = re.compile("\\|\x00([0-9]+)\x00")
# An inline echo shares its line with the bot's words: it may take at most this much of it.
MAX_INLINE_ECHO_CHARS = 1000


def reply_lines(reply: Reply) -> list[str]:
    """The reply's text as mrkdwn, in lines; a member echo in the reply's body is rendered from
    its tree (`to_mrkdwn`) and comes as whole pieces, each small enough for one section."""
    body = reply.rich()
    if body is None:
        return mrkdwn(reply.text).split("\n") if reply.text else []
    echoes: list[Echo] = []
    source: list[str] = []
    own_line = False
    for piece in body:
        if isinstance(piece, str):
            text = piece.replace("\x00", "")
            if own_line and not text.startswith("\n"):
                text = "\n" + text
            source.append(text)
            own_line = False
            continue
        slot = _SLOT.format(len(echoes))
        echoes.append(piece)
        if not piece.inline:  # a block of its own: on lines of its own
            if source and not source[-1].endswith("\n"):
                slot = "\n" + slot
            own_line = True
        source.append(slot)
    lines: list[str] = []
    for line in mrkdwn("".join(source)).split("\n"):
        whole = _SLOTS.fullmatch(line)
        if whole is not None and not echoes[int(whole.group(1))].inline:
            lines.extend(echo_mrkdwn(echoes[int(whole.group(1))], MAX_SECTION_CHARS))
            continue
        lines.append(
            _SLOTS.sub(lambda m: echo_mrkdwn(echoes[int(m.group(1))], MAX_INLINE_ECHO_CHARS)[0], line)
        )
    return lines


def text_blocks(rendered: list[str]) -> list[Block]:
    """Section blocks for text already rendered by `reply_lines` (or `mrkdwn`, split in lines)."""
    return [{"type": "section", "text": mrkdwn_object(piece)} for piece in _pack(rendered)]


def fallback_text(reply: Reply, rendered: list[str] | None = None) -> str:
    """The top-level `text`: what notifications and screen readers show. Escaped like blocks,
    and shortened only where no markup is cut."""
    if reply.text:
        lines = rendered if rendered is not None else reply_lines(reply)
        return _cut("\n".join(lines), MAX_FALLBACK_CHARS)
    source = (reply.poll.question if reply.poll else "") or (reply.form.title if reply.form else "")
    return _cut(mrkdwn(source), MAX_FALLBACK_CHARS)


def _button(button: Button, index: int) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(button.label, MAX_BUTTON_TEXT),
        "action_id": _truncate(button.action_id or f"button:{index}", 255),
    }
    if button.url:
        element["url"] = button.url[:3000]
    if button.value:
        element["value"] = button.value[:MAX_BUTTON_VALUE]
    if button.style is not ButtonStyle.DEFAULT:
        element["style"] = button.style.value
    return element


def _actions(elements: list[Block], block_id: str) -> list[Block]:
    blocks: list[Block] = []
    for start in range(0, len(elements), MAX_BUTTONS_PER_ACTIONS):
        part = elements[start : start + MAX_BUTTONS_PER_ACTIONS]
        blocks.append({"type": "actions", "block_id": f"{block_id}:{start}", "elements": part})
    return blocks


def poll_action_id(poll_id: int, option_id: int) -> str:
    return f"{POLL_ACTION_PREFIX}{poll_id}:{option_id}"


def parse_poll_action(action_id: str) -> tuple[int, int] | None:
    """`poll:<poll id>:<option id>` → the two ids, or None when it is not well formed."""
    if not action_id.startswith(POLL_ACTION_PREFIX):
        return None
    parts = action_id[len(POLL_ACTION_PREFIX) :].split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) < 12 for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def poll_blocks(poll: PollView, locale: str | None = None) -> list[Block]:
    """One section per option with who has signed up, and a join/leave button beside it."""
    blocks: list[Block] = [{"type": "section", "text": mrkdwn_object(f"*{_autolink(poll.question)}*")}]
    toggle = _truncate(f"{poll.button_join_label} / {poll.button_leave_label}", MAX_BUTTON_TEXT)
    for option in poll.options:
        head = f"*{_autolink(option.label)}*"
        if option.responsible:
            head += f"  ·  {word('responsible', locale)}: {_autolink(option.responsible)}"
        count = f"{len(option.voters)}/{option.cap}" if option.cap is not None else f"{len(option.voters)}"
        names = ", ".join(_autolink(v) for v in option.voters) or f"_{word('nobody', locale)}_"
        section: Block = {
            "type": "section",
            "block_id": f"poll:{poll.poll_id}:{option.option_id}",
            "text": mrkdwn_object(_truncate(f"{head}\n`{count}`  {names}", MAX_SECTION_CHARS)),
        }
        if not poll.closed and not poll.preview:  # a preview shows no buttons: not out yet
            section["accessory"] = {
                "type": "button",
                "text": plain(toggle, MAX_BUTTON_TEXT),
                "action_id": poll_action_id(poll.poll_id, option.option_id),
                "value": f"{poll.poll_id}:{option.option_id}",
            }
        blocks.append(section)
    notes = [n for n in (poll.closes_text, poll.footer) if n]
    if poll.closed:
        notes.insert(0, word("closed", locale))
    if notes:
        blocks.append(
            {
                "type": "context",
                "elements": [mrkdwn_object(_truncate(_autolink(n), MAX_CONTEXT_CHARS)) for n in notes[:10]],
            }
        )
    return blocks


def message_blocks(
    reply: Reply,
    *,
    locale: str | None = None,
    form_command: str | None = None,
    rendered: list[str] | None = None,
) -> list[Block]:
    """Blocks for a chat message. A form that cannot be opened here (no trigger id, e.g. an
    @mention) becomes a button that runs `form_command` again, whose click can open it."""
    if reply.text and rendered is None:
        rendered = reply_lines(reply)
    blocks: list[Block] = text_blocks(rendered) if rendered else []
    if reply.poll is not None:
        blocks.extend(poll_blocks(reply.poll, locale))
    elements = [_button(b, i) for i, b in enumerate(reply.buttons)]
    elements.extend(
        {
            "type": "button",
            "text": plain(link.label, MAX_BUTTON_TEXT),
            "action_id": f"{LINK_ACTION_PREFIX}{i}",
            "url": link.url[:3000],
        }
        for i, link in enumerate(reply.links)
    )
    if reply.form is not None and form_command:
        elements.append(
            {
                "type": "button",
                "text": plain(word("open_form", locale), MAX_BUTTON_TEXT),
                "action_id": OPEN_FORM_ACTION_ID,
                "value": form_command[:MAX_BUTTON_VALUE],
                "style": "primary",
            }
        )
    if elements:
        blocks.extend(_actions(elements, "referent"))
    if len(blocks) > MAX_BLOCKS:
        actions = [b for b in blocks if b["type"] == "actions"]
        keep = MAX_BLOCKS - len(actions) - 1
        blocks = [
            *blocks[:keep],
            {"type": "context", "elements": [mrkdwn_object("…")]},
            *actions[: MAX_BLOCKS - keep - 1],
        ]
    return blocks


def message_payload(
    reply: Reply, *, locale: str | None = None, form_command: str | None = None
) -> dict[str, Any]:
    """`text` + `blocks`, ready for chat.postMessage, chat.update or a response_url."""
    rendered = reply_lines(reply)
    return {
        "text": fallback_text(reply, rendered),
        "blocks": message_blocks(reply, locale=locale, form_command=form_command, rendered=rendered),
    }


# A Slack modal holds at most 100 blocks; a few stay free for what Slack adds around inputs.
MAX_FORM_PARTS = 90
_PART = "~"  # block id of a field's later parts: "text~2", "text~3" …
_BREAKS = ("\n\n", "\n", " ")


def split_for_inputs(value: str, limit: int = MAX_INPUT_CHARS) -> tuple[list[str], list[str]]:
    """`value` cut into parts a plain_text_input can hold (Slack: 3,000 characters), and the
    separator dropped at each cut, so that the parts joined with them give `value` back exactly.

    Cuts fall at a paragraph break if there is one, else a line break, else a space; a run with
    none of them is cut where it must be (separator ""). Never shortens the text."""
    parts: list[str] = []
    separators: list[str] = []
    rest = value
    while len(rest) > limit:
        cut, separator = limit, ""
        for brk in _BREAKS:
            at = rest.rfind(brk, 1, limit + len(brk))
            if 0 < at <= limit:
                cut, separator = at, brk
                break
        parts.append(rest[:cut])
        separators.append(separator)
        rest = rest[cut + len(separator) :]
    parts.append(rest)
    return parts, separators


def _input_block(block_id: str, label: str, field: FormField, value: str) -> Block:
    element: Block = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": field.multiline,
        "max_length": MAX_INPUT_CHARS,
    }
    if value:
        element["initial_value"] = value
    if field.placeholder:
        element["placeholder"] = plain(field.placeholder, 150)
    return {
        "type": "input",
        "block_id": block_id[:255],
        "optional": True,
        "label": plain(label, 2000),
        "element": element,
    }


class FormTooLong(ValueError):
    """A form whose fields would need more inputs than a modal can hold."""


def form_fits(form: FormView) -> bool:
    """Whether a modal can hold every field whole (at most MAX_FORM_PARTS inputs)."""
    return sum(len(split_for_inputs(f.value)[0]) for f in form.fields) <= MAX_FORM_PARTS


def modal_view(form: FormView, private_metadata: dict[str, str], locale: str | None = None) -> dict[str, Any]:
    """A Slack modal with text inputs per field; `private_metadata` carries where it came from.

    A field longer than one input can hold is spread over several ("del 2 av 3"), cut at
    paragraph breaks, and `modal_values` joins them again with what was cut away: a form never
    shortens what it was given (issue: a 9,000-character entry saved unchanged stays whole)."""
    blocks: list[Block] = []
    splits: dict[str, list[str]] = {}
    for field in form.fields:
        parts, separators = split_for_inputs(field.value)
        if separators:
            splits[field.name] = separators
        for number, part in enumerate(parts, start=1):
            label = field.label
            if len(parts) > 1:
                label = f"{field.label} ({word('form_part', locale).format(n=number, total=len(parts))})"
            block_id = field.name if number == 1 else f"{field.name}{_PART}{number}"
            blocks.append(_input_block(block_id, label, field, part))
    if len(blocks) > MAX_FORM_PARTS:
        raise FormTooLong(f"{len(blocks)} inputs")
    metadata = {**private_metadata, "form_id": form.form_id}
    if splits:
        metadata["splits"] = json.dumps(splits, separators=(",", ":"))
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK_ID,
        "title": plain(form.title, MAX_MODAL_TITLE),
        "submit": plain(form.submit_label, MAX_MODAL_TITLE),
        "close": plain(form.cancel_label, MAX_MODAL_TITLE),
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "blocks": blocks,
    }


def _splits_of(metadata: dict[str, Any]) -> dict[str, list[str]]:
    try:
        raw = json.loads(str(metadata.get("splits") or "{}"))
    except json.JSONDecodeError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {
        str(name): [str(s) for s in seps if s in ("", *_BREAKS)]
        for name, seps in raw.items()
        if isinstance(seps, list)
    }


def modal_values(state: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, str]:
    """`view.state.values` → {field name: text}; a field spread over several inputs comes back
    whole, joined with the separators `modal_view` cut away. Non-text inputs are ignored."""
    pieces: dict[str, dict[int, str]] = {}
    raw = state.get("values") if isinstance(state, dict) else None
    if not isinstance(raw, dict):
        return {}
    for block_id, actions in raw.items():
        if not isinstance(actions, dict):
            continue
        entry = actions.get("value")
        if not isinstance(entry, dict):
            continue
        value = entry.get("value")
        name, _, number = str(block_id).partition(_PART)
        index = int(number) if number.isdigit() else 1
        pieces.setdefault(name, {})[index] = value if isinstance(value, str) else ""
    splits = _splits_of(metadata or {})
    values: dict[str, str] = {}
    for name, parts in pieces.items():
        separators = splits.get(name, [])
        text = parts.get(1, "")
        for index in range(2, max(parts) + 1):
            separator = separators[index - 2] if index - 2 < len(separators) else "\n"
            text += separator + parts.get(index, "")
        values[name] = text
    return values


def modal_errors(form_fields: Iterable[str], message: str) -> dict[str, str]:
    """`response_action: errors` for a refused save: the message under the first field."""
    for name in form_fields:
        return {name: _truncate(message, 150)}
    return {}
