"""The neutral types that cross the adapter boundary: a ChatEvent comes in, a Reply goes out.

Adapters (bot/slack.py, bot/teams.py) build ChatEvents from platform payloads and render Replies
as Block Kit or Adaptive Cards. Nothing here knows which platform is on the other side.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from handlers.richtext.model import Doc

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class EventKind(enum.StrEnum):
    COMMAND = "command"  # slash command, @mention or 1:1 message: `text` holds the command line
    THREAD_REPLY = "thread_reply"  # a reply in a collection thread: `text` is a round-table post
    MESSAGE_EDITED = "message_edited"  # `message_ref` names the edited message, `text` the new text
    MESSAGE_DELETED = "message_deleted"  # `message_ref` names the deleted message
    POLL_VOTE = "poll_vote"  # a click on a poll option: `action` holds poll and option
    FORM_SUBMIT = "form_submit"  # a saved form (round-table entry editor): `form_values`
    INSTALLED = "installed"  # the bot was added to a team, channel or chat


@dataclass(frozen=True, slots=True)
class Mention:
    """A user mentioned in the text, already rendered by the adapter as `@Display Name`."""

    user_id: str
    display_name: str
    email: str | None = None


@dataclass(frozen=True, slots=True)
class PollAction:
    poll_id: int
    option_id: int


class EventRecord(Protocol):
    """Platform bookkeeping that comes with an event (Teams: where the sender and the
    conversation can be reached later). Handlers do not look inside: dispatch runs it in the
    event's own write transaction, so it shares that transaction and its de-duplication, or in
    a transaction of its own when the event needs none (a read, `hjelp`, the hot path)."""

    def __call__(self, session: AsyncSession) -> Awaitable[None]: ...


@dataclass(frozen=True, slots=True)
class InboundFile:
    """A file the user attached to a command (a Slack file share, a Teams personal-chat file),
    already fetched by the adapter: only its name and bytes cross the boundary."""

    filename: str
    content: bytes


# Adapters fetch at most this much of one attached file (an invitation is tens of kilobytes).
MAX_INBOUND_FILE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """Who did what where. `text` is plain text as the user wrote it: adapters have already turned
    platform markup (Slack `<@U1>`, `&lt;`, Teams `<at>`) into plain text and mentions into `@Name`."""

    platform: str  # "slack" | "teams" | "cli"
    workspace_id: str  # Slack team id, Teams tenant id
    channel_id: str  # channel or conversation id; for 1:1 chats the DM conversation id
    user_id: str
    user_name: str
    kind: EventKind = EventKind.COMMAND
    text: str = ""
    user_email: str | None = None
    # The user's home is not this workspace/tenant (a Slack Connect external user, a Teams guest
    # or a user of another tenant): their e-mail proves nothing here, so it never links them.
    is_external: bool = False
    locale: str | None = None  # the user's platform locale ("nb-NO", "en-US"); None: group default
    is_direct: bool = False  # a 1:1 chat with the bot (no channel binding expected)
    message_ref: str | None = None  # the platform id of this message (Slack ts, Teams activity id)
    thread_ref: str | None = None  # the thread root this message replies to
    event_id: str | None = None  # delivery id, for de-duplicating retries
    mentions: tuple[Mention, ...] = ()
    action: PollAction | None = None
    form_values: dict[str, str] = field(default_factory=dict)
    attachments: tuple[InboundFile, ...] = field(default=(), repr=False)
    record: EventRecord | None = field(default=None, compare=False, repr=False)


class ButtonStyle(enum.StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action_id: str  # stable id the adapter sends back, e.g. "runde:open"
    value: str = ""
    style: ButtonStyle = ButtonStyle.DEFAULT
    url: str | None = None  # a link button


@dataclass(frozen=True, slots=True)
class PollOptionView:
    option_id: int
    label: str
    responsible: str | None
    voters: tuple[str, ...]  # display names, in order of sign-up
    cap: int | None = None

    @property
    def is_full(self) -> bool:
        return self.cap is not None and len(self.voters) >= self.cap


@dataclass(frozen=True, slots=True)
class PollView:
    """A poll as every platform shows it: one button per option, with who has signed up."""

    poll_id: int
    question: str
    options: tuple[PollOptionView, ...]
    multiple: bool = True
    closed: bool = False
    closes_text: str | None = None  # "Stenger fredag 30. januar kl. 12.00", already localised
    footer: str | None = None  # e.g. "Klikk for å melde deg på eller av."
    button_join_label: str = "Bli med"
    button_leave_label: str = "Meld av"
    # A preview for the secretariat before it is posted: shown as it will look, without buttons
    # to vote (nobody can sign up for a poll that is not out yet).
    preview: bool = False


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    label: str
    value: str = ""
    multiline: bool = True
    placeholder: str = ""


@dataclass(frozen=True, slots=True)
class FormView:
    """An editable form (a Slack modal, a Teams card with inputs)."""

    form_id: str  # e.g. "runde:<meeting id>"
    title: str
    fields: tuple[FormField, ...]
    submit_label: str
    cancel_label: str


@dataclass(frozen=True, slots=True)
class FileAttachment:
    filename: str
    content: bytes
    mime_type: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Echo:
    """Member text shown back in chat, as its rich-text tree (handlers.richtext.model). Each
    adapter renders it in its platform's own markup (Slack mrkdwn, Teams HTML) and escapes it
    there, so lists, emphasis, links, code, mentions and emoji come back as the member wrote
    them and nothing else in it becomes markup or a ping. Built by `handlers.richtext.echo`.

    `doc` is already as short as the handler wants it (cut on the tree, "…" at the cut); an
    adapter only shortens it further, on the tree, when its platform cannot hold it."""

    doc: Doc
    fallback: str  # the same text as inert light Markdown: what stands for it in `Reply.text`
    inline: bool = False  # inside a sentence or a list line: `doc` is one line; else own lines


@dataclass(frozen=True, slots=True)
class Reply:
    """What the user sees in answer. `text` is light Markdown (`**bold**`, `_italic_`, `- ` lists,
    `[label](url)`); member text inside it has already been made inert by the handler.

    `body`, when the answer shows member text back, is the same text in pieces: the bot's own
    light Markdown and `Echo`s between them, so that each adapter can render the member's text
    from its tree (`rich()`); `text` then holds each Echo as its `fallback`."""

    text: str
    ephemeral: bool = True  # only the asking user sees it, where the platform allows
    buttons: tuple[Button, ...] = ()
    poll: PollView | None = None
    form: FormView | None = None
    files: tuple[FileAttachment, ...] = ()
    links: tuple[Link, ...] = ()
    ok: bool = True  # False: the command was refused and nothing was stored
    # True (with ok False): storage was unavailable, nothing was stored, and the same request may
    # succeed later. An adapter whose platform redelivers (Slack's Events API) must answer so that
    # it does (a 503), not acknowledge; elsewhere the user sees the apology and can try again.
    retryable: bool = False
    # Work to do after the user has had the answer (posting to other channels, updating polls).
    effects: tuple[Effect, ...] = ()
    body: tuple[str | Echo, ...] = ()
    # True: the answer settles what the clicked message asked (a preview's Legg ut / Avbryt), so
    # when it came from one of that message's buttons it takes the message's place, buttons and all.
    settles_prompt: bool = False

    def rich(self) -> tuple[str | Echo, ...] | None:
        """`body`, when it still says what `text` says; None when there is none, or when `text`
        was replaced since (an adapter's refusal in place of a form): then `text` is the answer."""
        if not self.body or not any(isinstance(piece, Echo) for piece in self.body):
            return None
        joined = "".join(piece if isinstance(piece, str) else piece.fallback for piece in self.body)
        return self.body if joined == self.text else None


class EffectKind(enum.StrEnum):
    POST_COLLECTION = "post_collection"  # post the collection message for a meeting in all channels
    POST_POLL = "post_poll"  # post a poll in every channel of its group (or only in `target`)
    REFRESH_POLL = "refresh_poll"  # update every posted copy of a poll
    # update every posted collection message of a meeting (deadline, open/closed); post it where
    # none was posted yet and the meeting takes submissions
    REFRESH_COLLECTION = "refresh_collection"
    JOIN_REQUESTED = "join_requested"  # tell a group's channels that another channel asks to join
    # delete every posted copy of a withdrawn poll (or, where the platform will not, replace it
    # with a notice that it is withdrawn)
    WITHDRAW_POLL = "withdraw_poll"


@dataclass(frozen=True, slots=True)
class Effect:
    kind: EffectKind
    subject_id: int  # meeting id or poll id
    target: ChannelTarget | None = None  # only this channel; None: every channel bound to the group
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelTarget:
    """A channel the bot can post to, by its ids; the platform's messenger knows how to reach it."""

    platform: str
    workspace_id: str
    channel_id: str


@dataclass(frozen=True, slots=True)
class DirectTarget:
    """A person the bot can message directly: a chat identity, or an e-mail the platform's
    messenger looks up. How to reach them (Teams: a stored conversation) is the messenger's."""

    platform: str
    workspace_id: str
    user_id: str
    email: str | None = None
