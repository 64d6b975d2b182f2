"""Transcript-style handler tests, after errbot's testbot: `await bot.say("runde Hei")` returns
the Reply, with a fake clock and recording messengers standing in for Slack and Teams.

    bot = TranscriptBot(db, now=datetime(2026, 1, 19, 9, 0, tzinfo=OSLO))
    await bot.say("oppsett Næring | Osloregionen", as_=bot.secretariat)
    reply = await bot.say("runde Vi har fått nytt næringsareal.", as_=kari)
    assert reply.ok

Effects (collection message, poll posts and refreshes) run after each answer, like the adapters
run them, so `bot.messengers.slack.posts` shows what the channel saw.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.context import HandlerContext, HandlerSettings
from handlers.dispatch import handle
from handlers.effects import run_effects
from handlers.events import (
    ChannelTarget,
    ChatEvent,
    DirectTarget,
    EventKind,
    Mention,
    PollAction,
    Reply,
)
from storage.db import Database
from storage.models import Meeting, Member

OSLO = ZoneInfo("Europe/Oslo")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


@dataclass
class Posted:
    target: ChannelTarget
    reply: Reply
    ref: str
    thread_ref: str | None = None


@dataclass
class Updated:
    target: ChannelTarget
    message_ref: str
    reply: Reply


@dataclass
class Deleted:
    target: ChannelTarget
    message_ref: str


@dataclass
class SentDirect:
    target: DirectTarget
    reply: Reply
    ref: str


class RecordingMessenger:
    """Implements handlers.ports.Messenger by remembering everything it was asked to send."""

    _refs = itertools.count(1)

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.posts: list[Posted] = []
        self.updates: list[Updated] = []
        self.directs: list[SentDirect] = []
        self.deletes: list[Deleted] = []
        self.fail = False
        self.refuse_deletes = False  # as a platform that will not delete an old message

    async def post(self, target: ChannelTarget, reply: Reply, *, thread_ref: str | None = None) -> str:
        if self.fail:
            raise RuntimeError(f"{self.platform} is down")
        ref = f"{self.platform}-msg-{next(self._refs)}"
        self.posts.append(Posted(target, reply, ref, thread_ref))
        return ref

    async def update(self, target: ChannelTarget, message_ref: str, reply: Reply) -> None:
        if self.fail:
            raise RuntimeError(f"{self.platform} is down")
        self.updates.append(Updated(target, message_ref, reply))

    async def delete(self, target: ChannelTarget, message_ref: str) -> None:
        if self.fail or self.refuse_deletes:
            raise RuntimeError(f"{self.platform} will not delete {message_ref}")
        self.deletes.append(Deleted(target, message_ref))

    async def send_direct(self, target: DirectTarget, reply: Reply) -> str:
        ref = f"{self.platform}-dm-{next(self._refs)}"
        self.directs.append(SentDirect(target, reply, ref))
        return ref


class RecordingMessengers:
    """Implements handlers.ports.Messengers for the platforms given."""

    def __init__(self, platforms: Sequence[str] = ("slack", "teams")) -> None:
        self.by_platform = {p: RecordingMessenger(p) for p in platforms}

    def for_platform(self, platform: str) -> RecordingMessenger | None:
        return self.by_platform.get(platform)

    @property
    def slack(self) -> RecordingMessenger:
        return self.by_platform["slack"]

    @property
    def teams(self) -> RecordingMessenger:
        return self.by_platform["teams"]


class FakeLinks:
    """A LinkSigner; `public_url=None` behaves like a server without REFERENT_PUBLIC_URL."""

    def __init__(self, public_url: str | None = "https://referent.example") -> None:
        self.public_url = public_url

    def draft_url(self, meeting: Meeting, fmt: str, locale: str) -> str | None:
        if not self.public_url:
            return None
        return f"{self.public_url}/drafts/{meeting.id}.{fmt}?locale={locale}"

    def export_url(self, members: Sequence[Member], fmt: str, locale: str) -> str | None:
        if not self.public_url:
            return None
        return f"{self.public_url}/exports/{'-'.join(str(m.id) for m in members)}.{fmt}"


@dataclass(frozen=True)
class Person:
    """A chat user: who they are on one platform."""

    user_id: str
    name: str
    email: str | None = None
    platform: str = "slack"
    workspace_id: str = "T1"
    locale: str | None = None

    def mention(self) -> Mention:
        return Mention(self.user_id, self.name, self.email)


@dataclass(frozen=True)
class Channel:
    platform: str = "slack"
    workspace_id: str = "T1"
    channel_id: str = "C1"


# Where a person talks when a test names no channel: the group's channel on their platform.
DEFAULT_CHANNELS = {"slack": "C1", "teams": "19:faggruppe@thread.tacv2", "cli": "cli"}


@dataclass
class TranscriptBot:
    """Says things to the handlers as chat users would, and keeps what came back."""

    db: Database
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 12, 9, 0, tzinfo=OSLO))
    run_effects: bool = True
    public_url: str | None = "https://referent.example"

    def __post_init__(self) -> None:
        self.clock = FakeClock(self.now)
        self.messengers = RecordingMessengers()
        self.links = FakeLinks(self.public_url)
        self.ctx = HandlerContext(
            db=self.db,
            settings=HandlerSettings(),
            clock=self.clock,
            messengers=self.messengers,
            links=self.links,
        )
        self.replies: list[Reply] = []
        self._ids = itertools.count(1)
        self.default_user = Person("U-SEK", "Sara Sekretær", "sara@region.example")

    def event(
        self,
        kind: EventKind,
        *,
        text: str = "",
        as_: Person | None = None,
        channel: Channel | None = None,
        direct: bool = False,
        locale: str | None = None,
        event_id: str | None = None,
        message_ref: str | None = None,
        thread_ref: str | None = None,
        mentions: Sequence[Mention] = (),
        action: PollAction | None = None,
        form_values: dict[str, str] | None = None,
    ) -> ChatEvent:
        person = as_ or self.default_user
        where = channel or Channel(person.platform, person.workspace_id, DEFAULT_CHANNELS[person.platform])
        if direct:
            where = Channel(person.platform, person.workspace_id, f"D-{person.user_id}")
        return ChatEvent(
            platform=where.platform,
            workspace_id=where.workspace_id,
            channel_id=where.channel_id,
            user_id=person.user_id,
            user_name=person.name,
            kind=kind,
            text=text,
            user_email=person.email,
            locale=locale if locale is not None else person.locale,
            is_direct=direct,
            message_ref=message_ref,
            thread_ref=thread_ref,
            event_id=event_id,
            mentions=tuple(mentions),
            action=action,
            form_values=dict(form_values or {}),
        )

    async def send(self, event: ChatEvent) -> Reply:
        """Hand one event to the dispatcher, then run its effects as an adapter would."""
        reply = await handle(event, self.ctx)
        self.replies.append(reply)
        if self.run_effects and reply.effects:
            await run_effects(reply.effects, self.ctx)
        return reply

    async def say(self, text: str, *, as_: Person | None = None, **kwargs: object) -> Reply:
        """A command line, as a slash command or an @mention would deliver it."""
        return await self.send(self.event(EventKind.COMMAND, text=text, as_=as_, **kwargs))  # type: ignore[arg-type]

    async def reply_in_thread(
        self,
        text: str,
        thread_ref: str,
        *,
        as_: Person | None = None,
        message_ref: str | None = None,
        **kwargs: object,
    ) -> Reply:
        ref = message_ref or f"reply-{next(self._ids)}"
        return await self.send(
            self.event(
                EventKind.THREAD_REPLY,
                text=text,
                as_=as_,
                thread_ref=thread_ref,
                message_ref=ref,
                **kwargs,  # type: ignore[arg-type]
            )
        )

    async def edit(
        self, message_ref: str, text: str, *, as_: Person | None = None, **kwargs: object
    ) -> Reply:
        return await self.send(
            self.event(EventKind.MESSAGE_EDITED, text=text, as_=as_, message_ref=message_ref, **kwargs)  # type: ignore[arg-type]
        )

    async def delete(self, message_ref: str, *, as_: Person | None = None, **kwargs: object) -> Reply:
        return await self.send(
            self.event(EventKind.MESSAGE_DELETED, as_=as_, message_ref=message_ref, **kwargs)  # type: ignore[arg-type]
        )

    async def click(
        self, poll_id: int, option_id: int, *, as_: Person | None = None, **kwargs: object
    ) -> Reply:
        action = PollAction(poll_id, option_id)
        return await self.send(self.event(EventKind.POLL_VOTE, as_=as_, action=action, **kwargs))  # type: ignore[arg-type]

    async def submit_form(
        self, form_id: str, text: str, *, as_: Person | None = None, **kwargs: object
    ) -> Reply:
        values = {"form_id": form_id, "text": text}
        return await self.send(self.event(EventKind.FORM_SUBMIT, as_=as_, form_values=values, **kwargs))  # type: ignore[arg-type]


# --- a small fictional group ------------------------------------------------------------------

SARA = Person("U-SARA", "Sara Sekretær", "sara.sekretaer@region.example")  # secretariat
KARI = Person("U-KARI", "Kari Nordmann", "kari.nordmann@asker.example")  # Asker kommune
OLA = Person("U-OLA", "Ola Hansen", "ola.hansen@asker.example")  # Asker kommune
PER = Person("U-PER", "Per Berg", "per.berg@baerum.example")  # Bærum kommune
LIV = Person("U-LIV", "Liv Dahl", "liv.dahl@lillestrom.example")  # chair, Lillestrøm kommune
# The same people on Teams (another tenant id, Teams-style ids).
KARI_TEAMS = Person(
    "29:kari", "Kari Nordmann", "Kari.Nordmann@asker.example", platform="teams", workspace_id="tenant-1"
)
PER_TEAMS = Person("29:per", "Per Berg", "per.berg@baerum.example", platform="teams", workspace_id="tenant-1")
SARA_TEAMS = Person(
    "29:sara", "Sara Sekretær", "sara.sekretaer@region.example", platform="teams", workspace_id="tenant-1"
)

GROUP = "Næringssamarbeid"
ROSTER_CSV = (
    "Fornavn;Etternavn;Organisasjon;E-post;Rolle\n"
    "Sara;Sekretær;Fjordregionen;sara.sekretaer@region.example;sekretariat\n"
    "Kari;Nordmann;Asker kommune;kari.nordmann@asker.example;medlem\n"
    "Ola;Hansen;Asker kommune;ola.hansen@asker.example;\n"
    "Per;Berg;Bærum kommune;per.berg@baerum.example;medlem\n"
    "Liv;Dahl;Lillestrøm kommune;liv.dahl@lillestrom.example;møteleder\n"
    "Nils;Aas;Drammen kommune;nils.aas@drammen.example;medlem\n"
)


async def seed(
    bot: TranscriptBot, *, meeting: str | None = "20.01.2026 10:00-12:00 Teams", teams: bool = False
) -> None:
    """Bind the Slack channel (and optionally a Teams channel) to GROUP, import the roster and
    create a meeting. The clock stands a week before the meeting unless the test moved it."""
    from handlers.roster import import_roster

    reply = await bot.say(f"oppsett {GROUP} | Fjordregionen", as_=SARA)
    assert reply.ok, reply.text
    await import_roster(bot.db, ROSTER_CSV, GROUP)
    if teams:
        await join_from(bot, SARA_TEAMS, approver=SARA)
    if meeting:
        reply = await bot.say(f"mote ny {meeting}", as_=SARA)
        assert reply.ok, reply.text


async def join_from(bot: TranscriptBot, asker: Person, *, approver: Person, group: str = GROUP) -> None:
    """A channel in another workspace/tenant joins the group: `oppsett bli med <id>` there, then
    the secretariat approves in the group's own channel (`oppsett godkjenn <nr>`)."""
    from storage.models import Group, PendingJoin

    (found,) = await rows(bot.db, Group, Group.name == group)
    reply = await bot.say(f"oppsett bli med {found.id}", as_=asker)
    assert reply.ok, reply.text
    pending = (await rows(bot.db, PendingJoin, PendingJoin.group_id == found.id))[-1]
    reply = await bot.say(f"oppsett godkjenn {pending.id}", as_=approver)
    assert reply.ok, reply.text
    # The request's notice in the group's channel is part of setting up, not of the test after it.
    notices = bot.messengers.for_platform(approver.platform)
    if notices is not None:
        notices.posts[:] = [p for p in notices.posts if f"godkjenn {pending.id}" not in p.reply.text]


async def count(db: Database, model: Any, *where: Any) -> int:
    """How many rows of a model (optionally filtered) there are."""
    from sqlalchemy import func, select

    async with db.session() as session:
        stmt = select(func.count()).select_from(model)
        for condition in where:
            stmt = stmt.where(condition)
        return int((await session.execute(stmt)).scalar_one())


async def rows(db: Database, model: Any, *where: Any, order_by: Any = None) -> list[Any]:
    """All rows of a model (optionally filtered), in id order."""
    from sqlalchemy import select

    async with db.session() as session:
        stmt = select(model)
        for condition in where:
            stmt = stmt.where(condition)
        stmt = stmt.order_by(order_by if order_by is not None else model.id)
        return list((await session.execute(stmt)).scalars())
