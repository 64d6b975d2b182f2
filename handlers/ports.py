"""What handlers need from the outside world, as protocols the runtime (bot/) implements.

Handlers decide *what* to post; a Messenger per platform knows *how*. The runtime routes each
target to the messenger of its platform, so one handler can reach a Slack and a Teams channel.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from handlers.events import ChannelTarget, DirectTarget, Reply


class DeliveryError(Exception):
    """A send that failed and may be retried later (the platform refused or was unreachable)."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class NotFound(DeliveryError):
    """The platform has no such user (Slack `users_not_found`, a Teams member in no team's member
    list): permanent on this platform, but no failure of the send. A reminder moves on to the
    next platform the group uses, and a member found on none is reported unreachable."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class Messenger(Protocol):
    """One platform's outbound side."""

    async def post(self, target: ChannelTarget, reply: Reply, *, thread_ref: str | None = None) -> str:
        """Post in a channel; returns the new message's ref (Slack ts, Teams activity id)."""
        ...

    async def update(self, target: ChannelTarget, message_ref: str, reply: Reply) -> None:
        """Replace a message the bot posted earlier (poll results)."""
        ...

    async def delete(self, target: ChannelTarget, message_ref: str) -> None:
        """Remove a message the bot posted earlier (a withdrawn poll); raises DeliveryError when
        the platform will not (the caller then replaces it with a notice instead)."""
        ...

    async def send_direct(self, target: DirectTarget, reply: Reply) -> str:
        """Send a 1:1 message (reminders); raises DeliveryError when it cannot."""
        ...


@runtime_checkable
class Directory(Protocol):
    """A platform that can list its users (Teams: the member lists of the teams the bot is in).
    A messenger that also implements this is asked, before a reminder pass needs it, to link the
    roster members it finds by e-mail, so they are reached by identity rather than looked up."""

    async def sync_members(self, workspace_id: str) -> int:
        """Read the member lists of this workspace (tenant) and link roster members by e-mail;
        returns how many members were newly linked. Raises nothing for an unavailable list."""
        ...


class Messengers(Protocol):
    """The runtime's registry: the messenger for a platform, or None when it is not configured."""

    def for_platform(self, platform: str) -> Messenger | None: ...
