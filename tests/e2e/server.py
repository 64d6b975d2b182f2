"""The end-to-end tests start the real server exactly as the demo does."""

from bot.offline.loopback import RunningServer, free_port, start_server

__all__ = ["RunningServer", "free_port", "start_server"]
