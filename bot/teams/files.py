"""Files sent to the bot in a Teams personal chat: an attachment of content type
`application/vnd.microsoft.teams.file.download.info` whose `content.downloadUrl` is a
short-lived, pre-authenticated link (OneDrive/SharePoint). Fetched here and handed on as neutral
`InboundFile`s (name and bytes) on the ChatEvent.

Only what `mote importer` can read is fetched (.docx, .txt, .md), at most a few files of a few
megabytes, over HTTPS from SharePoint (or, offline, from the activity's own service host). No
token is sent: the link carries its own authorisation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from handlers.events import MAX_INBOUND_FILE_BYTES, InboundFile
from handlers.invitation.files import supported

log = logging.getLogger(__name__)

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
FILE_HOST_SUFFIXES = (".sharepoint.com", ".sharepoint.us", ".sharepoint.de", ".sharepoint.cn")
MAX_FILES = 3


def _allowed(url: str, service_url: str) -> bool:
    parts = urlsplit(url)
    service = urlsplit(service_url)
    if parts.netloc and parts.netloc == service.netloc:
        return parts.scheme in ("http", "https")
    host = parts.hostname or ""
    return parts.scheme == "https" and host.endswith(FILE_HOST_SUFFIXES)


def file_attachments(activity: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, download URL) of each readable file in the activity, in order."""
    found: list[tuple[str, str]] = []
    attachments = activity.get("attachments")
    if not isinstance(attachments, list):
        return found
    for item in attachments:
        if not isinstance(item, dict) or item.get("contentType") != FILE_DOWNLOAD_INFO:
            continue
        raw = item.get("content")
        content: dict[str, Any] = raw if isinstance(raw, dict) else {}
        name, url = item.get("name"), content.get("downloadUrl")
        if isinstance(name, str) and isinstance(url, str) and supported(name):
            found.append((name, url))
    return found[:MAX_FILES]


async def fetch_file_attachments(
    session: aiohttp.ClientSession, activity: Mapping[str, Any]
) -> tuple[InboundFile, ...]:
    """The readable files of a personal-chat message; one that cannot be fetched is skipped."""
    service_url = activity.get("serviceUrl")
    if not isinstance(service_url, str):
        return ()
    fetched: list[InboundFile] = []
    for name, url in file_attachments(activity):
        if not _allowed(url, service_url):
            log.warning("not fetching a Teams file from an unexpected host")
            continue
        try:
            async with session.get(url, allow_redirects=False) as response:
                if response.status != 200:
                    log.warning("fetching a Teams file failed: HTTP %s", response.status)
                    continue
                content = await response.content.read(MAX_INBOUND_FILE_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("fetching a Teams file failed: %s", exc)
            continue
        if len(content) <= MAX_INBOUND_FILE_BYTES:
            fetched.append(InboundFile(name, content))
    return tuple(fetched)
