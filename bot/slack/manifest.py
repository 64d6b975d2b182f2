"""The Slack app manifest, generated so its slash commands cannot drift from the command table.

`render_slack_manifest(url)` gives the YAML to paste into "Create an app → From a manifest";
`manifest/slack/manifest.yaml` is the same document with `${REFERENT_PUBLIC_URL}` in place of
the URL (a test keeps the two identical). Everything Slack sends (events, clicks, modal saves,
slash commands) goes to one URL, `<public url>/slack/events`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

from handlers.command_table import slash_commands, summary, usage

PLACEHOLDER = "${REFERENT_PUBLIC_URL}"
TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "manifest" / "slack" / "manifest.yaml"

# Why each scope is there (the install screen lists them; keep this list minimal).
BOT_SCOPES: dict[str, str] = {
    "commands": "slash commands",
    "chat:write": "answers, the collection message, polls, reminders",
    "app_mentions:read": "@Referent <command> in a channel",
    "channels:history": "replies in the collection thread (public channels)",
    "groups:history": "replies in the collection thread (private channels)",
    "im:history": "commands sent to the bot in a direct message",
    "im:write": "reminders and drafts as direct messages",
    "channels:read": "knowing when the bot is added to a channel",
    "groups:read": "the same, for private channels",
    "users:read": "names and languages of the people who post",
    "users:read.email": "linking Slack users to the roster by e-mail",
    "files:write": "the referat draft as a Word or PDF/A file",
    "files:read": "an invitation shared with `mote importer` (fetched only then)",
}

BOT_EVENTS: tuple[str, ...] = (
    "app_mention",
    "message.channels",
    "message.groups",
    "message.im",
    "member_joined_channel",
)

DESCRIPTION = "Runde rundt bordet, oppfølginger, påmelding til arbeidsgrupper og utkast til referat."
LONG_DESCRIPTION = (
    "Referent tar papirarbeidet rundt faste møter i faggrupper og interkommunale nettverk.\n\n"
    "Før og etter møtet legger medlemmene sin runde rundt bordet, innspill til sakene og "
    "oppfølginger i kanalen (svar i tråden, eller /runde, /innspill, /oppfolging). Referent minner "
    "dem som ikke har levert før fristen, lar medlemmene melde seg på arbeidsgrupper med et klikk, "
    "og /referat setter alt sammen til et utkast til referat i gruppens egen stil: Markdown i "
    "chatten, HTML til å lese og en Word-fil til å ferdigstille og sende ut.\n\n"
    "Referent works in Norwegian (bokmål) and English, following each user's Slack language."
)


def _usage_hint(name: str) -> str:
    """The usage line without the command word itself (Slack shows the command beside it):
    `mote ny … | mote sak …` → `ny … | sak …`."""
    line = re.sub(rf"(^|\|\s*){re.escape(name)}\b\s*", r"\1", usage(name, "nb"))
    return line.removeprefix("| ").strip()


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks, so the long description reads as written."""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def manifest_dict(public_url: str) -> dict[str, Any]:
    base = public_url.rstrip("/")
    events_url = f"{base}/slack/events"
    commands = []
    for spec in slash_commands():
        if spec.slash is None:  # slash_commands() lists only commands that have one
            continue
        entry: dict[str, Any] = {
            "command": spec.slash,
            "url": events_url,
            "description": summary(spec.name, "nb")[:100],
            "should_escape": True,  # mentions arrive as <@U…> so they can be resolved
        }
        hint = "<kommando> [argumenter]" if spec.name == "hjelp" else _usage_hint(spec.name)
        if hint:
            entry["usage_hint"] = hint[:1000]
        commands.append(entry)
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Referent",
            "description": DESCRIPTION,
            "background_color": "#1f3a5f",
            "long_description": LONG_DESCRIPTION,
        },
        "features": {
            "app_home": {
                "home_tab_enabled": False,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "Referent", "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {"request_url": events_url, "bot_events": list(BOT_EVENTS)},
            "interactivity": {"is_enabled": True, "request_url": events_url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


HEADER = """\
# Referent — Slack app manifest.
# Generated from handlers/command_table.py by bot/slack_manifest.py; do not edit by hand.
# `referent manifest slack --url https://referent.example.no` prints it with the URL filled in;
# paste the result into https://api.slack.com/apps → Create New App → From a manifest.
"""


def render_slack_manifest(public_url: str) -> str:
    """The manifest as YAML, every URL pointing at `<public_url>/slack/events`."""
    if public_url != PLACEHOLDER and not public_url.startswith(("https://", "http://")):
        raise ValueError(f"the public URL must start with https:// (got {public_url!r})")
    document = manifest_dict(public_url)
    body = yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    return HEADER + body


def render_template() -> str:
    """The checked-in template (manifest/slack/manifest.yaml)."""
    return render_slack_manifest(PLACEHOLDER)


if __name__ == "__main__":  # python -m bot.slack.manifest > manifest/slack/manifest.yaml
    sys.stdout.write(render_template())
