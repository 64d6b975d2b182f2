"""The Teams app package: schema-valid manifest, icons at the right sizes, the command list from
the parser's command table, and ids from the configuration."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.config import Settings
from bot.teams.manifest import TEMPLATE_DIR, build_teams_package, render_teams_manifest
from handlers.command_table import COMMANDS, lookup, menu_commands

# Microsoft's published schema (https://developer.microsoft.com/json-schemas/teams/v1.29/), kept in
# the repo so validation never depends on the network or on a file outside the checkout.
SCHEMA = Path(__file__).resolve().parent / "schemas" / "teams" / "MicrosoftTeams.v1.29.schema.json"
APP_ID = "6f1c3b52-8d2e-4a7f-9b0c-1d2e3f4a5b6c"
PUBLIC_URL = "https://referent.example.no"


def _schema() -> dict[str, Any]:
    data = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data["properties"]["manifestVersion"]["const"] == "1.29"
    return data


def _errors(manifest: dict[str, Any]) -> list[str]:
    from jsonschema import Draft4Validator

    # No check_schema(): parts of the schema Referent does not use hold ECMAScript-only patterns.
    return [f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(_schema()).iter_errors(manifest)]


def test_rendered_manifest_validates_against_schema_1_29() -> None:
    assert _errors(render_teams_manifest(APP_ID, PUBLIC_URL)) == []
    assert _errors(render_teams_manifest(APP_ID, None)) == []


def test_template_validates_too() -> None:
    template = json.loads((TEMPLATE_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert _errors(template) == []


def test_package_holds_manifest_and_icons_at_the_right_sizes(tmp_path: Path) -> None:
    out = build_teams_package(APP_ID, PUBLIC_URL, tmp_path / "pakke" / "referent.zip")
    assert out.is_file()
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = Image.open(io.BytesIO(archive.read("color.png")))
        outline = Image.open(io.BytesIO(archive.read("outline.png")))
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert (color.format, color.size) == ("PNG", (192, 192))
    assert (outline.format, outline.size) == ("PNG", (32, 32))
    # The outline icon is white on transparent: every visible pixel is white.
    raw = outline.convert("RGBA").tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    visible = [p for p in pixels if p[3] > 0]
    assert visible and all(p[:3] == (255, 255, 255) for p in visible)
    assert any(p[3] == 0 for p in pixels)
    # The same input builds the same bytes.
    again = build_teams_package(APP_ID, PUBLIC_URL, tmp_path / "again.zip")
    assert again.read_bytes() == out.read_bytes()


def test_command_list_matches_the_parsers_commands() -> None:
    manifest = render_teams_manifest(APP_ID, PUBLIC_URL)
    [bot] = manifest["bots"]
    lists = bot["commandLists"]
    assert {scope for entry in lists for scope in entry["scopes"]} == {"team", "groupChat", "personal"}
    menu = [c.name for c in menu_commands()]
    channel_list = next(e for e in lists if "team" in e["scopes"])
    assert [c["title"] for c in channel_list["commands"]] == menu
    for entry in lists:
        assert len(entry["commands"]) <= 12
        for command in entry["commands"]:
            spec = lookup(command["title"])
            assert spec is not None and spec.name == command["title"], command
            assert command["description"]
    names = {c.name for c in COMMANDS}
    assert {c["title"] for e in lists for c in e["commands"]} <= names


def test_ids_scopes_permission_and_domain_match_the_configuration() -> None:
    settings = Settings(_env_file=None, MICROSOFT_APP_ID=APP_ID, REFERENT_PUBLIC_URL=PUBLIC_URL)  # type: ignore[call-arg]
    manifest = render_teams_manifest(settings.microsoft_app_id, settings.public_url)
    assert manifest["manifestVersion"] == "1.29"
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == settings.microsoft_app_id
    assert manifest["webApplicationInfo"]["id"] == APP_ID
    assert sorted(manifest["bots"][0]["scopes"]) == ["groupChat", "personal", "team"]
    assert {"name": "ChannelMessage.Read.Group", "type": "Application"} in (
        manifest["authorization"]["permissions"]["resourceSpecific"]
    )
    assert manifest["validDomains"] == ["referent.example.no"]
    assert manifest["developer"]["websiteUrl"] == PUBLIC_URL


def test_bad_app_id_is_refused() -> None:
    with pytest.raises(ValueError, match="GUID"):
        render_teams_manifest("not-a-guid", PUBLIC_URL)
