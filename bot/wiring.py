"""Register the platforms' outbound sides without the web server (for `referent remind`)."""

from __future__ import annotations

from bot.runtime import Runtime


def register_messengers(runtime: Runtime) -> None:
    """Slack when its token and secret are set; Teams when it is on (an app id, or the emulator
    opt-in): it reaches users through stored conversation references, whose service URLs the
    connector client checks against the allow-list before every call."""
    from bot.slack import adapter as slack
    from bot.teams import adapter as teams

    slack.create_adapter(runtime)
    if runtime.settings.teams_enabled:
        teams.register_messenger(runtime)
