"""An adapter's bookkeeping (ChatEvent.record: Teams conversation references) is stored with the
event: in the command's own transaction and under its de-duplication, or, when the event writes
nothing (a read, `hjelp`, a refusal), in one transaction of its own."""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.events import ChatEvent, EventKind
from storage.db import Database
from storage.models import ChannelBinding, ConversationReference
from storage.repositories import conversations
from storage.repositories import groups as group_repo
from tests.transcript import KARI_TEAMS, SARA_TEAMS, TranscriptBot, rows

CHANNEL_REF = {
    "serviceUrl": "https://smba.example/emea/",
    "conversation": {"id": "19:faggruppe@thread.tacv2"},
}


class Record:
    """Saves the channel's reference, and notes what it saw of the transaction it ran in."""

    def __init__(self, event_channel: str) -> None:
        self.channel = event_channel
        self.calls = 0
        self.saw_binding: list[bool] = []

    async def __call__(self, session: AsyncSession) -> None:
        self.calls += 1
        binding = await group_repo.find_binding(session, "teams", "tenant-1", self.channel)
        self.saw_binding.append(binding is not None)
        await conversations.save_reference(
            session, "teams", "tenant-1", conversations.channel_key(self.channel), CHANNEL_REF
        )


def _with(event: ChatEvent, record: Record) -> ChatEvent:
    return dataclasses.replace(event, record=record)


async def test_stored_in_the_commands_transaction_once_per_delivery(db: Database) -> None:
    bot = TranscriptBot(db)
    record = Record("19:faggruppe@thread.tacv2")
    setup = _with(
        bot.event(EventKind.COMMAND, text="oppsett Faggruppe", as_=SARA_TEAMS, event_id="ev-1"), record
    )
    assert (await bot.send(setup)).ok
    # It ran inside the setup's transaction: the binding, not yet committed, was visible to it.
    assert record.calls == 1 and record.saw_binding == [True]
    [stored] = await rows(db, ConversationReference)
    assert stored.reference == CHANNEL_REF
    assert len(await rows(db, ChannelBinding)) == 1

    # The platform delivers the same event again: answered, but nothing is written twice.
    await bot.send(setup)
    assert record.calls == 1  # a duplicate is recognised first, and stores nothing
    assert len(await rows(db, ConversationReference)) == 1


async def test_stored_on_its_own_when_the_event_writes_nothing(db: Database) -> None:
    bot = TranscriptBot(db)
    record = Record("19:faggruppe@thread.tacv2")
    reply = await bot.send(_with(bot.event(EventKind.COMMAND, text="hjelp", as_=KARI_TEAMS), record))
    assert reply.ok
    assert record.calls == 1 and record.saw_binding == [False]
    assert [r.key for r in await rows(db, ConversationReference)] == ["channel:19:faggruppe@thread.tacv2"]


async def test_a_refused_command_still_keeps_the_reference(db: Database) -> None:
    bot = TranscriptBot(db)
    record = Record("19:faggruppe@thread.tacv2")
    # `mote ny` in an unbound channel is refused: its transaction stores nothing, the record does.
    reply = await bot.send(
        _with(bot.event(EventKind.COMMAND, text="mote ny 20.01.2026 10:00-12:00", as_=KARI_TEAMS), record)
    )
    assert not reply.ok
    assert record.calls == 1
    assert len(await rows(db, ConversationReference)) == 1
    assert await rows(db, ChannelBinding) == []
