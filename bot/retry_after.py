"""Retry-After, as both platforms send it: one reading for the Slack messenger and the Teams connector.

Slack sends seconds; the Bot Connector may send seconds or an HTTP date (RFC 9110 §10.2.3).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping, Sequence
from typing import Any


def retry_after_seconds(value: object) -> float | None:
    """Seconds to wait (never negative), or None when the value says nothing usable."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        value = value[0] if value else None
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_after_from_headers(headers: Mapping[str, Any] | None) -> float | None:
    """The Retry-After header of a response, whatever the case of its name."""
    if not headers:
        return None
    for key, value in dict(headers).items():
        if str(key).lower() == "retry-after":
            return retry_after_seconds(value)
    return None
