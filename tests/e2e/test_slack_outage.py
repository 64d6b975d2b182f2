"""A database outage on the Slack path: nothing acknowledged is lost.

The outage is real: the server's connections are closed and its SQLite file is moved away, with a
directory left in its place, so every new connection fails as it would with the volume gone. A
thread reply (a round-table post) then gets a 503, which makes Slack redeliver it; once the file
is back, the redelivery is stored, exactly once. A slash command, which Slack never redelivers,
gets the apology instead, and malformed input still gets its 4xx.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.offline.fakes.slack_requests import SignedRequest
from storage.models import ProcessedEvent, Submission
from tests.e2e.slack_fixtures import CHANNEL, KARI, SlackWorld

pytestmark = pytest.mark.e2e


def _database_file(slack: SlackWorld) -> Path:
    url = slack.db.url
    assert url.startswith("sqlite") and ":///" in url, url
    return Path(url.split(":///", 1)[1])


@asynccontextmanager
async def database_gone(slack: SlackWorld) -> AsyncIterator[None]:
    """The database file (with its WAL) moved away and a directory in its place, for the block."""
    path = _database_file(slack)
    await slack.db.disconnect()
    moved: list[tuple[Path, Path]] = []
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            target = source.with_name(source.name + ".away")
            shutil.move(source, target)
            moved.append((target, source))
    path.mkdir()
    try:
        yield
    finally:
        path.rmdir()
        for target, source in moved:
            shutil.move(target, source)
        await slack.db.disconnect()  # nothing pooled from the outage: connect afresh


async def _posts(slack: SlackWorld, ts: str) -> int:
    return await slack.count(Submission, Submission.source_ref == ts)


async def test_a_thread_reply_during_an_outage_is_redelivered_and_stored_once(slack: SlackWorld) -> None:
    seeded = await slack.seed()
    assert seeded.collection_ts is not None
    thread = seeded.collection_ts
    # Two posts first: one links Kari, the next fills the read cache, so that during the outage
    # the hot path finds everything it reads in the cache and fails only at the write itself.
    warm_ts = [slack.requests.next_ts(), slack.requests.next_ts()]
    for text, warm_ts_one in zip(("Før bruddet", "Like før bruddet"), warm_ts, strict=True):
        warm = slack.requests.thread_reply(
            text, user=KARI.id, channel=CHANNEL, thread_ts=thread, ts=warm_ts_one
        )
        assert (await slack.send(warm)).status == 200
        await slack.settle()
    assert await slack.count(Submission) == 2
    assert len(slack.db.cache) > 0

    ts = slack.requests.next_ts()

    def delivery(retry_num: int | None = None) -> SignedRequest:
        """Slack's delivery of one reply (retry_num: which redelivery), signed afresh."""
        return slack.requests.thread_reply(
            "Skrevet mens databasen var borte",
            user=KARI.id,
            channel=CHANNEL,
            thread_ts=thread,
            ts=ts,
            event_id="Ev0OUTAGE1",
            retry_num=retry_num,
        )

    async with database_gone(slack):
        first = await slack.send(delivery())
        assert first.status == 503, first.text  # not acknowledged: Slack will redeliver
        again = await slack.send(delivery(1))
        assert again.status == 503, again.text
        # An edit of an earlier post is redelivered the same way.
        edit = slack.requests.message_changed(
            user=KARI.id,
            channel=CHANNEL,
            ts=warm_ts[0],
            new_text="Rettet under bruddet",
            old_text="Før bruddet",
            thread_ts=thread,
            event_id="Ev0OUTAGE-EDIT",
        )
        assert (await slack.send(edit)).status == 503
        await slack.settle()
    assert await _posts(slack, ts) == 0
    assert slack.api.count("chat.postEphemeral") == 2  # only the warm-up's confirmations

    retry = await slack.send(delivery(2))
    assert retry.status == 200, retry.text
    await slack.settle()
    assert await _posts(slack, ts) == 1
    [post] = await slack.rows(Submission, Submission.source_ref == ts)
    assert post.text == "Skrevet mens databasen var borte" and post.member_id == seeded.members[KARI.id]
    confirmation = await slack.api.wait_for("chat.postEphemeral", count=3)
    assert "Takk, Kari" in confirmation[-1]["text"]

    edit_retry = slack.requests.message_changed(
        user=KARI.id,
        channel=CHANNEL,
        ts=warm_ts[0],
        new_text="Rettet under bruddet",
        old_text="Før bruddet",
        thread_ts=thread,
        event_id="Ev0OUTAGE-EDIT",
        retry_num=1,
    )
    assert (await slack.send(edit_retry)).status == 200
    await slack.settle()
    [edited] = await slack.rows(Submission, Submission.source_ref == warm_ts[0])
    assert edited.text == "Rettet under bruddet"

    # A late duplicate of the same delivery changes nothing.
    late = await slack.send(delivery(3))
    assert late.status == 200
    await slack.settle()
    assert await _posts(slack, ts) == 1
    assert await slack.count(ProcessedEvent, ProcessedEvent.event_id == "Ev0OUTAGE1") == 1


async def test_on_slacks_last_retry_the_user_is_told_instead(slack: SlackWorld) -> None:
    seeded = await slack.seed()
    assert seeded.collection_ts is not None
    ts = slack.requests.next_ts()
    last = slack.requests.thread_reply(
        "Siste forsøk",
        user=KARI.id,
        channel=CHANNEL,
        thread_ts=seeded.collection_ts,
        ts=ts,
        event_id="Ev0OUTAGE2",
        retry_num=3,
    )
    async with database_gone(slack):
        answer = await slack.send(last)
        assert answer.status == 200  # Slack would not try again: acknowledge, and say so
        await slack.settle()
    [apology] = await slack.api.wait_for("chat.postEphemeral")
    assert apology["user"] == KARI.id and apology["thread_ts"] == seeded.collection_ts
    assert "ingenting ble lagret" in apology["text"]
    assert await _posts(slack, ts) == 0


async def test_commands_and_bad_input_during_an_outage_are_answered_not_failed(slack: SlackWorld) -> None:
    await slack.seed()
    async with database_gone(slack):
        # A slash command is never redelivered: the user sees that nothing was saved.
        answer = await slack.command("/runde", "Skrevet mens databasen var borte", user=KARI)
        assert answer.status == 200
        body = answer.json()
        assert body.get("response_type") == "ephemeral" and "ingenting ble lagret" in body["text"]
        # A line the parser refuses is answered as always, database or not.
        unknown = await slack.command("/referent", "tullekommando", user=KARI)
        assert unknown.status == 200 and "ingenting ble lagret" not in unknown.json()["text"]
        # Malformed input is still a 4xx.
        bad = await slack.post_raw(b"not a form", {"Content-Type": "text/plain"})
        assert bad.status == 415
        unsigned = await slack.post_raw(
            b"command=%2Frunde", {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert unsigned.status == 401
    assert await slack.count(Submission) == 0
    # And after the outage, the same command works.
    answer = await slack.command("/runde", "Nå går det", user=KARI)
    assert answer.status == 200 and "Takk, Kari" in answer.json()["text"]
    assert await slack.count(Submission) == 1
