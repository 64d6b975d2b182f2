"""Register the platforms' outbound sides without the web server (for `referent remind`)."""

from __future__ import annotations

from bot.runtime import Runtime


def register_messengers(runtime: Runtime) -> None:
    """Slack when its token and secret are set; Teams always (it reaches users through stored
    conversation references, whose service URLs say where to send)."""
    from bot.slack import adapter as slack
    from bot.teams import adapter as teams

    slack.create_adapter(runtime)
    teams.register_messenger(runtime)
