"""Everything a handler may use, passed in explicitly so tests can control time and delivery."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from handlers.ports import Messengers
from storage.db import Database
from storage.models import Meeting, Member


def system_clock() -> datetime:
    return datetime.now(UTC)


class LinkSigner(Protocol):
    """Makes signed, expiring download links for drafts (implemented in bot/links.py)."""

    def draft_url(self, meeting: Meeting, fmt: str, locale: str) -> str | None:
        """An absolute URL, or None when no public URL is configured."""
        ...

    def export_url(self, members: Sequence[Member], fmt: str, locale: str) -> str | None:
        """A short-lived link to a member's own data (`json` or `txt`), or None without a URL."""
        ...


@dataclass
class HandlerSettings:
    default_locale: str = "nb"
    default_timezone: str = "Europe/Oslo"
    public_url: str | None = None


@dataclass
class HandlerContext:
    db: Database
    settings: HandlerSettings = field(default_factory=HandlerSettings)
    clock: Callable[[], datetime] = system_clock
    messengers: Messengers | None = None
    links: LinkSigner | None = None

    def now(self) -> datetime:
        return self.clock()
