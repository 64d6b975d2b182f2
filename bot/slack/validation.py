"""Request validation: what a signed Slack payload must hold before Bolt's listeners see it.

Bolt's listener matchers read `event.type`, `actions[].action_id`, `view.callback_id` and the
like without checking them; a payload that lacks one would raise inside Bolt and be answered 500.
`PayloadCheck` runs as Bolt's `before_authorize` middleware, so right after Bolt has verified the
signature (a forged request is answered 401 by Bolt whatever its body), and answers 400 to a
signed payload that is not what its type promises. The listeners read their fields through the
small accessors below, which raise `BadPayload` (answered 400 too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

# Set in a request's context by the HTTP glue when Bolt could not parse the body at all.
MALFORMED_KEY = "referent_malformed_body"

_ID = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$", re.IGNORECASE)


class BadPayload(Exception):
    """A signed request whose payload lacks what its type promises: answered 400, never 500."""


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Event(_Shape):
    type: StrictStr


class _EventCallback(_Shape):
    event: _Event


class _Action(_Shape):
    action_id: StrictStr
    block_id: StrictStr = ""  # absent is fine; present but not a string is not


class _BlockActions(_Shape):
    actions: Annotated[list[_Action], Field(min_length=1)]


class _View(_Shape):
    callback_id: StrictStr


class _ViewPayload(_Shape):
    view: _View


class _CallbackPayload(_Shape):
    callback_id: StrictStr


class _SuggestionPayload(_Shape):
    action_id: StrictStr


class _CommandPayload(_Shape):
    command: StrictStr


_VIEW_TYPES = ("view_submission", "view_closed")
_CALLBACK_TYPES = ("shortcut", "message_action", "interactive_message", "dialog_submission")


def _models_for(body: dict[str, Any]) -> list[type[_Shape]]:
    """The shapes a payload of this type must have (usually one, often none)."""
    kind = body.get("type")
    models: list[type[_Shape]] = []
    if "event" in body or kind == "event_callback":
        models.append(_EventCallback)
    if kind == "block_actions":
        models.append(_BlockActions)
    elif kind in _VIEW_TYPES:
        models.append(_ViewPayload)
    elif kind in _CALLBACK_TYPES:
        models.append(_CallbackPayload)
    elif kind == "block_suggestion":
        models.append(_SuggestionPayload)
    if "command" in body:
        models.append(_CommandPayload)
    return models


def shape_problem(body: Any) -> str | None:
    """What a payload lacks (as a dotted path, e.g. `actions.0.action_id`), or None when its
    shape is fine for Bolt's matchers."""
    if not isinstance(body, dict) or not body:
        return "body"
    for model in _models_for(body):
        try:
            model.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            return ".".join(str(part) for part in first["loc"]) or model.__name__
    return None


def _bad_request(problem: str) -> BoltResponse:
    return BoltResponse(status=400, body=json.dumps({"error": f"malformed payload: {problem}"}))


class PayloadCheck(AsyncMiddleware):
    """Answers 400 to a signed request Bolt could not parse or whose shape its matchers would
    trip over; anything else goes on down Bolt's chain."""

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        malformed = req.context.get(MALFORMED_KEY)
        problem = malformed if isinstance(malformed, str) else shape_problem(req.body)
        if problem is not None:
            return _bad_request(problem)
        return await next()


# ----------------------------------------------------------- field accessors for the listeners


def text_field(data: Any, key: str, *, required: bool = True) -> str:
    """A string field; missing or empty is a BadPayload unless `required` is False."""
    value = data.get(key) if isinstance(data, dict) else None
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise BadPayload(f"missing or malformed {key!r}")
    return value


def is_slack_id(value: object) -> bool:
    return isinstance(value, str) and _ID.match(value) is not None


def id_field(data: Any, key: str) -> str:
    """A Slack id (team, channel, user): letters, digits and a few separators."""
    value = text_field(data, key)
    if not _ID.match(value):
        raise BadPayload(f"malformed {key!r}")
    return value


def opt_str(data: Any, key: str) -> str | None:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def opt_dict(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def dict_field(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise BadPayload(f"missing or malformed {key!r}")
    return value
