"""Files shared with a command (a Slack file share): fetched with the bot token, handed on as
neutral `InboundFile`s (name and bytes) on the ChatEvent.

Only what `mote importer` can read is fetched (.docx, .txt, .md), at most a few files of a few
megabytes, and only from Slack's file host (or, offline, the configured Web API host): the bot
token is never sent anywhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from handlers.events import MAX_INBOUND_FILE_BYTES, InboundFile
from handlers.invitation.files import supported

log = logging.getLogger(__name__)

SLACK_FILE_HOSTS = frozenset({"files.slack.com"})
MAX_FILES = 3


def _allowed(url: str, api_base: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.netloc != urlsplit(api_base).netloc:
        return False
    return parts.hostname in SLACK_FILE_HOSTS or parts.netloc == urlsplit(api_base).netloc


def _wanted(files: Any) -> list[Mapping[str, Any]]:
    if not isinstance(files, list):
        return []
    out: list[Mapping[str, Any]] = []
    for item in files[:MAX_FILES]:
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        size = item.get("size")
        if not isinstance(name, str) or not supported(name):
            continue
        if isinstance(size, int) and size > MAX_INBOUND_FILE_BYTES:
            continue
        out.append(item)
    return out


async def fetch_shared_files(client: AsyncWebClient, event: Mapping[str, Any]) -> tuple[InboundFile, ...]:
    """The readable files shared with this message; a file that cannot be fetched is skipped
    (the handler then says what it needs)."""
    wanted = _wanted(event.get("files"))
    if not wanted:
        return ()
    shared = client.session
    own_session = shared is None or shared.closed
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) if own_session else shared
    if session is None:  # for the type checker: own_session covers it
        return ()
    fetched: list[InboundFile] = []
    try:
        for item in wanted:
            url = item.get("url_private_download") or item.get("url_private")
            if not isinstance(url, str) or not _allowed(url, client.base_url):
                log.warning("not fetching a shared file from an unexpected host")
                continue
            try:
                async with session.get(
                    url, headers={"Authorization": f"Bearer {client.token}"}, allow_redirects=False
                ) as response:
                    if response.status != 200:
                        log.warning("fetching a shared file failed: HTTP %s", response.status)
                        continue
                    content = await response.content.read(MAX_INBOUND_FILE_BYTES + 1)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("fetching a shared file failed: %s", exc)
                continue
            if len(content) > MAX_INBOUND_FILE_BYTES:
                continue
            fetched.append(InboundFile(str(item["name"]), content))
    finally:
        if own_session:
            await session.close()
    return tuple(fetched)
