"""The optional access log (`REFERENT_ACCESS_LOG=1`): one line per request with the method, the
path, the status and the time taken — never a query string, a body or a header, and the bearer
tokens in download paths (`/drafts/<token>`, `/exports/<token>`) cut out. Off by default: chat
traffic is personal, and the platforms keep their own delivery logs."""

from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.config import Settings

LOGGER = logging.getLogger("referent.access")
_TOKEN_PATH = re.compile(r"^/(drafts|exports)/[^/]+")


def loggable_path(path: str) -> str:
    """The request path as it may be logged: no query string, no download token."""
    path = path.split("?", 1)[0]
    return _TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/<token>", path)[:200]


class AccessLogger(AbstractAccessLogger):
    """aiohttp's access logger, reduced to what is safe to keep."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %.1fms", request.method, loggable_path(request.path), response.status, time * 1000
        )


def access_log_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `web.AppRunner` / `web.run_app`: the reduced logger, or none."""
    if not settings.access_log:
        return {"access_log": None}
    return {"access_log": LOGGER, "access_log_class": AccessLogger}
