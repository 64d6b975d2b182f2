"""The Slack messenger (what effects and reminders use) against the fake Web API over HTTP:
posting, updating, direct messages by id or e-mail, file uploads, rate limits and failures."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.offline.fakes.slack_api import FakeSlackApi
from bot.runtime import Runtime
from bot.slack.adapter import create_adapter
from handlers.events import ChannelTarget, DirectTarget, FileAttachment, Reply
from handlers.ports import DeliveryError, Messenger
from tests.e2e.slack_fixtures import CHANNEL, KARI, TEAM, slack_settings

pytestmark = pytest.mark.e2e


@pytest.fixture
async def messenger(slack_api: FakeSlackApi, tmp_path: Path) -> AsyncIterator[Messenger]:
    """The messenger as `referent remind` gets it: a runtime without the HTTP server."""
    runtime = Runtime(slack_settings(slack_api, tmp_path))
    adapter = create_adapter(runtime)
    assert adapter is not None
    found = runtime.messengers.for_platform("slack")
    assert found is not None
    try:
        yield found
    finally:
        await runtime.close()


CHANNEL_TARGET = ChannelTarget("slack", TEAM, CHANNEL)


async def test_post_and_update(messenger: Messenger, slack_api: FakeSlackApi) -> None:
    ts = await messenger.post(
        CHANNEL_TARGET, Reply(text="**Runde** rundt bordet <!channel>", ephemeral=False)
    )
    assert ts
    sent = slack_api.last("chat.postMessage")
    assert sent["channel"] == CHANNEL
    assert sent["text"].startswith("*Runde* rundt bordet &lt;!channel&gt;")
    assert sent["blocks"][0]["text"]["verbatim"] is True
    assert slack_api.calls["chat.postMessage"][0].token == "xoxb-e2e-test-token"

    await messenger.update(CHANNEL_TARGET, ts, Reply(text="Oppdatert", ephemeral=False))
    assert slack_api.last("chat.update")["ts"] == ts


async def test_thread_post(messenger: Messenger, slack_api: FakeSlackApi) -> None:
    await messenger.post(CHANNEL_TARGET, Reply(text="I tråden"), thread_ref="1700000000.000100")
    assert slack_api.last("chat.postMessage")["thread_ts"] == "1700000000.000100"


async def test_direct_by_user_id_and_by_email(messenger: Messenger, slack_api: FakeSlackApi) -> None:
    await messenger.send_direct(DirectTarget("slack", TEAM, KARI.id), Reply(text="Påminnelse"))
    assert slack_api.last("conversations.open")["users"] == KARI.id
    assert slack_api.last("chat.postMessage")["channel"] == "D" + KARI.id[1:]

    await messenger.send_direct(
        DirectTarget("slack", TEAM, "", email="KARI.nordmann@example.no"), Reply(text="Hei")
    )
    assert slack_api.count("users.lookupByEmail") == 1
    assert slack_api.count("conversations.open") == 1  # the DM channel is remembered
    assert slack_api.count("chat.postMessage") == 2

    with pytest.raises(DeliveryError) as unknown:
        await messenger.send_direct(
            DirectTarget("slack", TEAM, "", email="ingen@example.no"), Reply(text="Hei")
        )
    assert unknown.value.permanent


async def test_files_go_through_upload_v2(messenger: Messenger, slack_api: FakeSlackApi) -> None:
    content = b"PK\x03\x04 word-fil"
    reply = Reply(
        text="Utkast",
        files=(FileAttachment("referat.docx", content, "application/vnd.openxmlformats", "Referat"),),
    )
    await messenger.post(CHANNEL_TARGET, reply)
    assert slack_api.last("files.getUploadURLExternal")["filename"] == "referat.docx"
    complete = slack_api.last("files.completeUploadExternal")
    assert complete["channel_id"] == CHANNEL
    [uploaded] = complete["files"]
    assert slack_api.uploads[uploaded["id"]] == content


async def test_long_rate_limit_becomes_retry_after(messenger: Messenger, slack_api: FakeSlackApi) -> None:
    """A 429 asking for a long pause is not slept through: the caller gets retry_after."""
    slack_api.rate_limit("chat.postMessage", 1, retry_after=30)
    await messenger.post(CHANNEL_TARGET, Reply(text="én"))
    started = time.monotonic()
    with pytest.raises(DeliveryError) as limited:
        await messenger.post(CHANNEL_TARGET, Reply(text="to"))
    assert time.monotonic() - started < 2
    assert limited.value.retry_after == 30 and not limited.value.permanent
    assert slack_api.rate_limited["chat.postMessage"] == 1


async def test_short_rate_limit_is_waited_out(messenger: Messenger, slack_api: FakeSlackApi) -> None:
    slack_api.rate_limit("chat.postMessage", 1, retry_after=1)
    await messenger.post(CHANNEL_TARGET, Reply(text="én"))
    await messenger.post(CHANNEL_TARGET, Reply(text="to"))
    assert slack_api.count("chat.postMessage") == 2
    assert slack_api.rate_limited["chat.postMessage"] >= 1


async def test_errors_are_permanent_or_not(messenger: Messenger, slack_api: FakeSlackApi) -> None:
    slack_api.fail_next("chat.postMessage", "channel_not_found")
    with pytest.raises(DeliveryError) as gone:
        await messenger.post(CHANNEL_TARGET, Reply(text="x"))
    assert gone.value.permanent

    slack_api.fail_next("chat.postMessage", "fatal_error")
    with pytest.raises(DeliveryError) as flaky:
        await messenger.post(CHANNEL_TARGET, Reply(text="x"))
    assert not flaky.value.permanent


async def test_unreachable_slack_is_a_transient_delivery_error(
    messenger: Messenger, slack_api: FakeSlackApi
) -> None:
    await slack_api.stop()
    with pytest.raises(DeliveryError) as down:
        await messenger.post(CHANNEL_TARGET, Reply(text="x"))
    assert not down.value.permanent
