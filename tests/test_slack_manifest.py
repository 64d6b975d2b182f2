"""The Slack manifest: its slash commands are the command table's, its URLs are filled in, and the
checked-in template is exactly what the generator writes."""

from __future__ import annotations

import yaml

from bot.slack.manifest import (
    BOT_EVENTS,
    PLACEHOLDER,
    TEMPLATE_PATH,
    render_slack_manifest,
    render_template,
)
from handlers.command_table import slash_commands

URL = "https://referent.example.no"


def _manifest() -> dict:
    return yaml.safe_load(render_slack_manifest(URL + "/"))


def test_slash_commands_match_the_command_table() -> None:
    commands = _manifest()["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [c.slash for c in slash_commands()]
    for required in (
        "/referat",
        "/runde",
        "/innspill",
        "/oppfolging",
        "/tilstede",
        "/grupper",
        "/mote",
        "/referent",
    ):
        assert required in [c["command"] for c in commands]
    for command in commands:
        assert command["should_escape"] is True
        assert 0 < len(command["description"]) <= 100
        assert command["command"] == command["command"].lower() and len(command["command"]) <= 32


def test_every_url_is_the_one_events_endpoint() -> None:
    manifest = _manifest()
    endpoint = URL + "/slack/events"
    assert {c["url"] for c in manifest["features"]["slash_commands"]} == {endpoint}
    assert manifest["settings"]["event_subscriptions"]["request_url"] == endpoint
    assert manifest["settings"]["interactivity"] == {"is_enabled": True, "request_url": endpoint}
    assert PLACEHOLDER not in render_slack_manifest(URL)


def test_scopes_and_events_cover_what_the_adapter_uses() -> None:
    manifest = _manifest()
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "commands",
        "chat:write",
        "users:read",
        "users:read.email",
        "channels:history",
        "groups:history",
        "app_mentions:read",
        "files:write",
        "files:read",
        "im:write",
    } <= scopes
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == list(BOT_EVENTS)
    assert {"app_mention", "message.channels", "message.groups"} <= set(BOT_EVENTS)
    info = manifest["display_information"]
    assert len(info["description"]) <= 140 and 175 <= len(info["long_description"]) <= 4000


def test_checked_in_template_is_up_to_date() -> None:
    """Regenerate with `python -m bot.slack.manifest > manifest/slack/manifest.yaml`."""
    assert TEMPLATE_PATH.read_text(encoding="utf-8") == render_template()
    assert yaml.safe_load(TEMPLATE_PATH.read_text(encoding="utf-8"))["settings"]["interactivity"][
        "request_url"
    ] == (PLACEHOLDER + "/slack/events")


def test_a_url_without_scheme_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError):
        render_slack_manifest("referent.example.no")
