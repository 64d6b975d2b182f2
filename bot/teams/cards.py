"""The neutral Reply → Teams message activities: Markdown text, and Adaptive Cards for polls,
forms and buttons.

Member text is inert here twice over. In message text, every `<` and `>` becomes an entity, so
`<script>` and `<at>Name</at>` are shown as typed and never become markup or a mention (only
entities ping in Teams, and Referent adds none). In cards, names and labels go into `TextRun`s,
which Adaptive Cards never read as Markdown. A reply that shows member text back (`Echo`s in its
body) goes as HTML instead (`bot.teams.html`): the member's text rendered from its tree, so its
lists, emphasis and links come back as written, every character of it escaped.
"""

from __future__ import annotations

import re
from typing import Any

from bot.teams import html as teams_html
from bot.teams.activity import VERB_BUTTON, VERB_FORM, VERB_FORM_CANCEL, VERB_POLL
from handlers.events import Button, ButtonStyle, FormView, PollView, Reply

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
# Teams refuses messages over about 28 KB; stay well under it and split long drafts.
MAX_MESSAGE_CHARS = 18_000

# One pass over the characters that matter: a Markdown escape, an angle bracket, an ampersand.
_INERT = re.compile(r"\\([!-/:-@\[-`{-~])|([<>])|(&)")
_ENTITY_AHEAD = re.compile(r"#?[A-Za-z0-9]+;")
_LIST_LINE = re.compile(r"^\s*(?:[-*]|\d{1,3}[.)])\s+")


def _inert(text: str) -> str:
    """`<`, `>` (escaped or not) → entities; `&` → `&amp;` where it would start an entity, so
    `&lt;` typed by a member shows as typed; other Markdown escapes (`\\*`) stay escapes."""

    def repl(match: re.Match[str]) -> str:
        escaped, angle, amp = match.groups()
        char = escaped or angle or amp
        if char == "<":
            return "&lt;"
        if char == ">":
            return "&gt;"
        if char == "&":
            return "&amp;" if _ENTITY_AHEAD.match(text, match.end()) else "&"
        return match.group(0)

    return _INERT.sub(repl, text)


def teams_markdown(text: str) -> str:
    """Referent's light Markdown → what Teams renders: angle brackets as entities, paragraphs
    separated by blank lines, single line breaks kept (`<br>`), lists left as lists."""
    text = _inert(text)
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append("<br>".join(paragraph))
            paragraph.clear()
        if items:
            blocks.append("\n".join(items))
            items.clear()

    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            flush()
        elif _LIST_LINE.match(line):
            if paragraph:
                flush()
            items.append(line.rstrip())
        else:
            if items:
                flush()
            paragraph.append(line.rstrip())
    flush()
    return "\n\n".join(blocks)


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Long text (a whole draft) in chunks that each fit a Teams message, cut at blank lines."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for block in text.split("\n\n"):
        while len(block) > limit:  # one huge paragraph: cut it at line breaks, else hard
            cut = block.rfind("\n", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                chunks.append(current)
                current = ""
            chunks.append(block[:cut])
            block = block[cut:].lstrip("\n")
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) > limit:
            chunks.append(current)
            current = block
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": text, **style}


def _rich(*runs: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": list(runs), **props}


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        content["actions"] = actions
    return content


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": content}


def _execute(title: str, verb: str, data: dict[str, Any], style: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": {"verb": verb, **data},
    }
    if style:
        action["style"] = style
    return action


def poll_card(poll: PollView) -> dict[str, Any]:
    """One row per work group: its name, who is responsible, who has signed up, and a button.
    A click sends `adaptiveCard/action` with the poll and option ids; the answer is this card
    again, re-rendered with the new sign-ups."""
    body: list[dict[str, Any]] = [_rich(_run(poll.question, weight="Bolder", size="Medium"), wrap=True)]
    if poll.closes_text:
        body.append(_rich(_run(poll.closes_text, isSubtle=True, size="Small")))
    for option in poll.options:
        count = f"{len(option.voters)}/{option.cap}" if option.cap is not None else str(len(option.voters))
        heading = [_run(option.label, weight="Bolder")]
        if option.responsible:
            heading.append(_run(f" · {option.responsible}", isSubtle=True))
        heading.append(_run(f"  ({count})", isSubtle=True))
        details: list[dict[str, Any]] = [_rich(*heading)]
        if option.voters:
            details.append(_rich(_run(", ".join(option.voters), size="Small"), spacing="None"))
        columns: list[dict[str, Any]] = [{"type": "Column", "width": "stretch", "items": details}]
        if not poll.closed and not poll.preview:  # a preview shows no buttons: not out yet
            button = _execute(
                poll.button_join_label,
                VERB_POLL,
                {"poll_id": poll.poll_id, "option_id": option.option_id},
                style=None if option.is_full else "positive",
            )
            columns.append(
                {
                    "type": "Column",
                    "width": "auto",
                    "verticalContentAlignment": "Center",
                    "items": [{"type": "ActionSet", "actions": [button]}],
                }
            )
        body.append({"type": "ColumnSet", "separator": True, "spacing": "Medium", "columns": columns})
    if poll.footer:
        body.append(_rich(_run(poll.footer, isSubtle=True, size="Small"), separator=True))
    return card(body)


# Teams refuses a bot message over about 28 KB: a form holds at most this much text, so its card
# stays well under that with Norwegian letters escaped in JSON. A longer entry gets no form.
FORM_MAX_CHARS = 15_000
INPUT_MAX_CHARS = 20_000


def form_fits(form: FormView) -> bool:
    """Whether a card can carry every field whole (no form may shorten an entry)."""
    return sum(len(f.value) for f in form.fields) <= FORM_MAX_CHARS


def form_card(form: FormView, owner: str | None = None) -> dict[str, Any]:
    """The round-table editor: a multi-line input prefilled with my entry, Save and Cancel.
    In a channel everyone sees the card, so it names its owner and only they can save it."""
    body: list[dict[str, Any]] = [_rich(_run(form.title, weight="Bolder", size="Medium"), wrap=True)]
    for field in form.fields:
        body.append(
            {
                "type": "Input.Text",
                "id": field.name,
                "label": field.label,
                "value": field.value,
                "isMultiline": field.multiline,
                "placeholder": field.placeholder,
                "maxLength": max(INPUT_MAX_CHARS, len(field.value)),
            }
        )
    actions = [
        _execute(
            form.submit_label, VERB_FORM, {"form_id": form.form_id, "owner": owner or ""}, style="positive"
        ),
        {
            "type": "Action.Execute",
            "title": form.cancel_label,
            "verb": VERB_FORM_CANCEL,
            "data": {"verb": VERB_FORM_CANCEL, "form_id": form.form_id},
            "associatedInputs": "none",
        },
    ]
    return card(body, actions)


def button_action(button: Button) -> dict[str, Any]:
    if button.url:
        return {"type": "Action.OpenUrl", "title": button.label, "url": button.url}
    style = {ButtonStyle.PRIMARY: "positive", ButtonStyle.DANGER: "destructive"}.get(button.style)
    # A button runs a command line, as if typed: its value, or its action id ("runde:open" → "runde").
    command = button.value or button.action_id.split(":", 1)[0]
    return _execute(
        button.label, VERB_BUTTON, {"command": command, "action_id": button.action_id}, style=style
    )


def notice_card(text: str) -> dict[str, Any]:
    """A card that replaces a form once it is saved or cancelled (plain text, inert)."""
    return card([_rich(_run(plain_text(text)), wrap=True)])


def reply_text(reply: Reply) -> str:
    """The message text: the reply, then its links as Markdown links (HTML page, .docx). A poll's
    text that only repeats its question is left out: the card shows the question."""
    text = reply.text.strip()
    if reply.poll is not None and plain_text(text) == reply.poll.question.strip():
        text = ""
    parts = [text] if text else []
    if reply.links:
        parts.append("\n".join(f"- [{_link_label(link.label)}]({link.url})" for link in reply.links))
    return "\n\n".join(parts)


_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def plain_text(text: str) -> str:
    """Light Markdown → plain text (bold and code markers and escapes dropped), for places that
    render no Markdown: an invoke message, a TextRun."""
    return _MD_ESCAPE.sub(r"\1", text.replace("**", "").replace("`", "")).strip()


def _link_label(label: str) -> str:
    return label.replace("[", "(").replace("]", ")")


def render_reply(reply: Reply, *, owner: str | None = None) -> list[dict[str, Any]]:
    """The message activities (without addressing) that show this reply in Teams.
    Empty when the reply says nothing. `owner`: the user a form card belongs to."""
    text = reply_text(reply)
    cards: list[dict[str, Any]] = []
    if reply.poll is not None:
        cards.append(poll_card(reply.poll))
    if reply.form is not None:
        cards.append(form_card(reply.form, owner))
    if reply.buttons:
        cards.append(card([], [button_action(b) for b in reply.buttons]))
    if reply.files and not reply.links:
        # Bots cannot attach arbitrary files in channels; the handler sends links for drafts.
        names = ", ".join(f.filename for f in reply.files)
        text = f"{text}\n\n({names})" if text else f"({names})"
    activities: list[dict[str, Any]] = []
    body = reply.rich()
    if body is not None:
        chunks, text_format = _html_chunks(reply, body), "xml"
    else:
        chunks, text_format = (split_text(teams_markdown(text)) if text else []), "markdown"
    for index, chunk in enumerate(chunks):
        activity: dict[str, Any] = {"type": "message", "textFormat": text_format, "text": chunk}
        if index == len(chunks) - 1 and cards:
            activity["attachments"] = [attachment(c) for c in cards]
        activities.append(activity)
    if not chunks and cards:
        activities.append({"type": "message", "attachments": [attachment(c) for c in cards]})
    return activities


# A member's text in an HTML answer is cut (on its tree) to fit one message with room to spare.
_ECHO_BUDGET = MAX_MESSAGE_CHARS - 2_000


def _html_chunks(reply: Reply, body: tuple[Any, ...]) -> list[str]:
    """A reply with member echoes as HTML messages: the body, its links, its files' names."""
    blocks = teams_html.body_blocks(body, _ECHO_BUDGET)
    if reply.links:
        blocks.append(teams_html.links_block(reply.links))
    if reply.files and not reply.links:
        names = ", ".join(f.filename for f in reply.files)
        blocks.append(f"<p>({teams_html.inline_html(names)})</p>")
    return teams_html.pack(blocks, MAX_MESSAGE_CHARS)


def card_for_update(reply: Reply, owner: str | None = None) -> dict[str, Any] | None:
    """The card a poll or form message is replaced with (the invoke answer, and update_activity)."""
    if reply.poll is not None:
        return poll_card(reply.poll)
    if reply.form is not None:
        return form_card(reply.form, owner)
    return None
