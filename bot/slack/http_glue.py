"""HTTP glue: Bolt's AsyncApp mounted on `POST /slack/events` of the one aiohttp server.

Bolt's aiohttp adapter (`to_bolt_request`) reads the body with `request.text()`, which guesses a
charset and accepts anything; ours answers what Bolt cannot: a content type Slack never sends
(415), a body over the server's limit (413, from aiohttp), bytes that are not UTF-8 (400). All
else, the signature and its 5-minute window included, is Bolt's to check (it answers 401).
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.validation import MALFORMED_KEY

SLACK_PATH = "/slack/events"
CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")
TIMESTAMP_HEADER = "x-slack-request-timestamp"


async def to_bolt_request(request: web.Request) -> AsyncBoltRequest | web.Response:
    """The Bolt request, or the 4xx answer when there is nothing Bolt could read."""
    if request.content_type not in CONTENT_TYPES:
        return web.json_response({"error": "unsupported content type"}, status=415)
    raw = await request.read()  # over client_max_size: aiohttp raises 413
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return web.json_response({"error": "body is not UTF-8"}, status=400)
    headers: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in request.headers.items()}
    if not str(headers.get(TIMESTAMP_HEADER, "0")).isdigit():
        # slack_sdk's verifier raises on a timestamp that is not a number (Bolt would answer
        # 500); without the header, Bolt refuses the request itself, with its 401.
        del headers[TIMESTAMP_HEADER]
    try:
        return AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
    except Exception:
        # Bolt cannot parse it (a `payload=` that is not JSON, say). Hand Bolt an empty body that
        # keeps the raw text, so the signature is still checked first (a forgery gets its 401),
        # and validation answers 400 to a signed one.
        empty = AsyncBoltRequest(
            body="", query=request.query_string, headers=headers, context={MALFORMED_KEY: "body"}
        )
        empty.raw_body = body
        return empty


async def async_dispatch(app: AsyncApp, request: web.Request) -> web.StreamResponse:
    """aiohttp → Bolt → aiohttp."""
    bolt_request = await to_bolt_request(request)
    if isinstance(bolt_request, web.Response):
        return bolt_request
    return await to_aiohttp_response(await app.async_dispatch(bolt_request))
