"""Requests that must be refused before anything happens: forged, stale, malformed, oversized.

Each test checks three things: the status (4xx, never 500), that nothing was stored, and that
the bot said nothing to Slack.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.config import Settings
from storage.models import Submission
from tests.e2e.server import start_server
from tests.e2e.slack_fixtures import CHANNEL, KARI, SIGNING_SECRET, SlackWorld

pytestmark = pytest.mark.e2e


async def _nothing_happened(slack: SlackWorld) -> None:
    await slack.settle()
    assert await slack.count(Submission) == 0
    sent = {m: n for m, n in slack.api.summary().items() if m != "auth.test"}
    assert sent == {}, f"the bot called Slack: {sent}"


async def test_bad_signature_is_refused(slack: SlackWorld) -> None:
    await slack.seed()
    request = slack.requests.slash(
        "/runde", "Forfalsket", user=KARI.id, channel=CHANNEL, secret="wrong-secret"
    )
    answer = await slack.send(request)
    assert answer.status == 401
    await _nothing_happened(slack)


async def test_stale_timestamp_is_refused(slack: SlackWorld) -> None:
    """A correctly signed request from more than five minutes ago is a replay."""
    seeded = await slack.seed()
    assert seeded.collection_ts
    request = slack.requests.thread_reply(
        "Gammel melding", user=KARI.id, channel=CHANNEL, thread_ts=seeded.collection_ts, stale=True
    )
    answer = await slack.send(request)
    assert answer.status == 401
    await _nothing_happened(slack)


async def test_missing_and_garbled_signature_headers(slack: SlackWorld) -> None:
    body = urlencode({"command": "/runde", "text": "x"}).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert (await slack.post_raw(body, form)).status == 401
    garbled = {**form, "X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=abc"}
    assert (await slack.post_raw(body, garbled)).status == 401
    await _nothing_happened(slack)


async def test_wrong_content_type(slack: SlackWorld) -> None:
    request = slack.requests.sign("hello", "text/plain")
    answer = await slack.send(request)
    assert answer.status == 415
    await _nothing_happened(slack)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        ("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
        ("[1, 2, 3]", "application/json"),
        ('{"type": ', "application/json"),
        ("", "application/json"),
        ('"just a string"', "application/json"),
    ],
)
async def test_malformed_bodies_get_400(slack: SlackWorld, body: str, content_type: str) -> None:
    answer = await slack.send(slack.requests.sign(body, content_type))
    assert answer.status == 400, answer.text
    await _nothing_happened(slack)


async def test_signed_payloads_missing_fields_get_4xx(slack: SlackWorld) -> None:
    await slack.seed()
    cases = [
        # a slash command without a user or channel
        slack.requests.sign(
            urlencode({"command": "/runde", "text": "hei", "team_id": "T1"}),
            "application/x-www-form-urlencoded",
        ),
        # a click without actions' ids
        slack.requests.sign(
            urlencode({"payload": json.dumps({"type": "block_actions", "actions": [{}]})}),
            "application/x-www-form-urlencoded",
        ),
        # a poll click with a malformed action id
        slack.requests.block_actions(user=KARI.id, channel=CHANNEL, action_id="poll:abc:def"),
        # a modal save whose metadata is not ours
        slack.requests.view_submission(user=KARI.id, values={"text": "x"}, private_metadata="{not json"),
        # an event without a channel
        slack.requests.event({"type": "message", "user": KARI.id, "text": "hei", "ts": "1.2"}),
        # an event that is not an object
        slack.requests.sign(
            json.dumps({"type": "event_callback", "event": "message", "team_id": "T1"}), "application/json"
        ),
    ]
    for request in cases:
        answer = await slack.send(request)
        assert 400 <= answer.status < 500, (answer.status, answer.text, request.body[:200])
    await _nothing_happened(slack)


async def test_non_utf8_body(slack: SlackWorld) -> None:
    """Bytes that are not UTF-8, signed byte for byte as Slack would sign them."""
    import hashlib
    import hmac
    import time

    body = b"command=%2Frunde&text=\xff\xfe"
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest,
    }
    answer = await slack.post_raw(body, headers)
    assert answer.status == 400
    await _nothing_happened(slack)


async def test_oversized_body_gets_413(slack: SlackWorld) -> None:
    huge = "x" * (slack.server.runtime.settings.max_body_bytes + 10)
    request = slack.requests.slash("/runde", huge, user=KARI.id, channel=CHANNEL)
    answer = await slack.send(request)
    assert answer.status == 413
    await _nothing_happened(slack)


async def test_url_verification_and_ssl_check(slack: SlackWorld) -> None:
    answer = await slack.send(slack.requests.url_verification("utfordring-123"))
    assert answer.status == 200
    assert answer.json() == {"challenge": "utfordring-123"}
    ssl_check = slack.requests.sign(
        urlencode({"ssl_check": "1", "token": "x"}), "application/x-www-form-urlencoded"
    )
    assert (await slack.send(ssl_check)).status == 200
    await _nothing_happened(slack)


async def test_get_is_not_allowed(slack: SlackWorld) -> None:
    async with slack.session.get(slack.server.url + "/slack/events") as response:
        assert response.status == 405


async def test_slack_is_off_without_token_and_secret(tmp_path: Path) -> None:
    """Without SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET there is no Slack endpoint at all."""
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'off.db'}")  # type: ignore[call-arg]
    server = await start_server(settings)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(server.url + "/slack/events", data=b"{}") as response:
                assert response.status == 404
            async with session.get(server.url + "/healthz") as health:
                assert (await health.json())["slack"] is False
        assert server.runtime.messengers.for_platform("slack") is None
    finally:
        await server.stop()
