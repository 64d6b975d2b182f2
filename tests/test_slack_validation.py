"""Request validation: the payload shapes Bolt's matchers need, checked after Bolt's signature
check (PayloadCheck runs as Bolt's before_authorize middleware)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.validation import (
    MALFORMED_KEY,
    BadPayload,
    PayloadCheck,
    id_field,
    shape_problem,
    text_field,
)


@pytest.mark.parametrize(
    "body",
    [
        {"command": "/runde", "text": "hei", "team_id": "T1"},
        {"type": "event_callback", "event": {"type": "message"}},
        {"type": "block_actions", "actions": [{"action_id": "runde:open", "block_id": "b"}]},
        {"type": "block_actions", "actions": [{"action_id": "poll:1:2"}]},
        {"type": "view_submission", "view": {"callback_id": "referent_form"}},
        {"type": "shortcut", "callback_id": "x"},
        {"type": "block_suggestion", "action_id": "a"},
        {"type": "url_verification", "challenge": "c"},
    ],
)
def test_shapes_bolt_can_match(body: dict[str, Any]) -> None:
    assert shape_problem(body) is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "body"),
        ([1, 2], "body"),
        ({"type": "event_callback", "event": "message"}, "event"),
        ({"type": "event_callback", "event": {"text": "no type"}}, "event.type"),
        ({"event": {"type": 3}}, "event.type"),
        ({"type": "block_actions", "actions": []}, "actions"),
        ({"type": "block_actions", "actions": [{}]}, "actions.0.action_id"),
        ({"type": "block_actions", "actions": [{"action_id": "a", "block_id": None}]}, "actions.0.block_id"),
        ({"type": "view_submission", "view": {}}, "view.callback_id"),
        ({"type": "view_closed"}, "view"),
        ({"type": "message_action", "callback_id": 7}, "callback_id"),
        ({"type": "block_suggestion"}, "action_id"),
        ({"command": ["/runde"]}, "command"),
    ],
)
def test_shapes_bolt_would_trip_over(body: Any, problem: str) -> None:
    assert shape_problem(body) == problem


def _request(body: str, *, context: dict[str, Any] | None = None) -> AsyncBoltRequest:
    return AsyncBoltRequest(body=body, headers={"content-type": "application/json"}, context=context)


async def test_payload_check_answers_400_or_passes_on() -> None:
    check = PayloadCheck()
    passed: list[bool] = []

    async def next_() -> BoltResponse:
        passed.append(True)
        return BoltResponse(status=200, body="")

    ok = await check.async_process(
        req=_request(json.dumps({"type": "event_callback", "event": {"type": "message"}})),
        resp=BoltResponse(status=200),
        next=next_,
    )
    assert ok is not None and ok.status == 200 and passed == [True]

    bad = await check.async_process(
        req=_request(json.dumps({"type": "block_actions", "actions": [{}]})),
        resp=BoltResponse(status=200),
        next=next_,
    )
    assert bad is not None and bad.status == 400 and "actions.0.action_id" in bad.body
    unparsed = await check.async_process(
        req=_request("", context={MALFORMED_KEY: "body"}), resp=BoltResponse(status=200), next=next_
    )
    assert unparsed is not None and unparsed.status == 400
    assert passed == [True]


def test_field_accessors_raise_bad_payload() -> None:
    assert text_field({"text": "hei"}, "text") == "hei"
    assert text_field({}, "text", required=False) == ""
    assert id_field({"user": "U0KARI"}, "user") == "U0KARI"
    for data, key in (({}, "text"), ({"text": 3}, "text"), ({"text": ""}, "text")):
        with pytest.raises(BadPayload):
            text_field(data, key)
    with pytest.raises(BadPayload):
        id_field({"user": "U0 KARI<script>"}, "user")
