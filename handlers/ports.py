"""What handlers need from the outside world, as protocols the runtime (bot/) implements.

Handlers decide *what* to post; a Messenger per platform knows *how*. The runtime routes each
target to the messenger of its platform, so one handler can reach a Slack and a Teams channel.
"""

from __future__ import annotations

from typing import Protocol

from handlers.events import ChannelTarget, DirectTarget, Reply


class DeliveryError(Exception):
    """A send that failed and may be retried later (the platform refused or was unreachable)."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Messenger(Protocol):
    """One platform's outbound side."""

    async def post(self, target: ChannelTarget, reply: Reply, *, thread_ref: str | None = None) -> str:
        """Post in a channel; returns the new message's ref (Slack ts, Teams activity id)."""
        ...

    async def update(self, target: ChannelTarget, message_ref: str, reply: Reply) -> None:
        """Replace a message the bot posted earlier (poll results)."""
        ...

    async def send_direct(self, target: DirectTarget, reply: Reply) -> str:
        """Send a 1:1 message (reminders); raises DeliveryError when it cannot."""
        ...


class Messengers(Protocol):
    """The runtime's registry: the messenger for a platform, or None when it is not configured."""

    def for_platform(self, platform: str) -> Messenger | None: ...
