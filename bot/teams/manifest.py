"""The Teams app package an admin uploads: manifest.json plus the two icons, zipped.

`manifest/teams/manifest.json` is the template (schema 1.29, placeholder ids); the ids, the
version, the valid domain and the command lists are filled in here, the command lists from
handlers/command_table.py so the menu cannot drift from what the parser accepts. The resource-
specific permission ChannelMessage.Read.Group lets the bot read replies in the collection thread
without being @mentioned. `referent manifest teams --app-id ID -o referent.zip` calls
`build_teams_package`.
"""

from __future__ import annotations

import copy
import json
import re
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "manifest" / "teams"
TEMPLATE_PATH = TEMPLATE_DIR / "manifest.json"
ICONS = {"color.png": (192, 192), "outline.png": (32, 32)}
SCHEMA_URL = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.29/MicrosoftTeams.schema.json"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Fixed zip timestamps: the same input builds the same bytes.
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def _version() -> str:
    try:
        version = metadata.version("referent")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.1.0"
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)", version)
    return ".".join(match.groups()) if match else "0.1.0"


def command_lists(locale: str = "nb") -> list[dict[str, Any]]:
    """Teams' command menu: the command table's menu commands (at most 12 per list), one list
    for channels and group chats and one for the 1:1 chat."""
    from handlers.command_table import menu_commands, summary

    def entries(names: list[str]) -> list[dict[str, str]]:
        return [{"title": name, "description": summary(name, locale)} for name in names]

    menu = menu_commands()[:12]
    names = [c.name for c in menu]
    # A `channel_only` command acts on the channel it is typed in: no use in the 1:1 chat.
    personal = [c.name for c in menu if not c.channel_only]
    return [
        {"scopes": ["team", "groupChat"], "commands": entries(names)},
        {"scopes": ["personal"], "commands": entries(personal)},
    ]


def _https_url(value: str | None, fallback: str) -> str:
    if value and urlsplit(value).scheme in ("http", "https"):
        return value
    return fallback


def render_teams_manifest(
    app_id: str,
    public_url: str | None = None,
    *,
    version: str | None = None,
    developer_name: str | None = None,
    website_url: str | None = None,
    privacy_url: str | None = None,
    terms_url: str | None = None,
) -> dict[str, Any]:
    """The manifest for this bot registration. `app_id` is the Azure Bot's Microsoft App ID (used
    as the Teams app id too); `public_url`'s host becomes the valid domain (the draft links)."""
    app_id = app_id.strip()
    if not _GUID.match(app_id):
        raise ValueError(f"--app-id must be the Azure Bot's Microsoft App ID (a GUID), not {app_id!r}")
    manifest: dict[str, Any] = copy.deepcopy(json.loads(TEMPLATE_PATH.read_text(encoding="utf-8")))
    manifest["$schema"] = SCHEMA_URL
    manifest["id"] = app_id
    manifest["version"] = version or _version()
    [bot] = manifest["bots"]
    bot["botId"] = app_id
    bot["commandLists"] = command_lists()
    manifest["webApplicationInfo"] = {"id": app_id, "resource": f"api://botid-{app_id}"}
    developer = manifest["developer"]
    if developer_name:
        developer["name"] = developer_name[:32]
    base = public_url.rstrip("/") if public_url else None
    developer["websiteUrl"] = _https_url(website_url or base, developer["websiteUrl"])
    developer["privacyUrl"] = _https_url(privacy_url or base, developer["privacyUrl"])
    developer["termsOfUseUrl"] = _https_url(terms_url or base, developer["termsOfUseUrl"])
    if base:
        host = urlsplit(base).hostname
        if not host:
            raise ValueError(f"public URL {public_url!r} has no host name")
        manifest["validDomains"] = [host]
    return manifest


def build_teams_package(app_id: str, public_url: str | None, out: Path) -> Path:
    """Write the upload package (manifest.json, color.png, outline.png at the zip's root)."""
    manifest = render_teams_manifest(app_id, public_url)
    out = Path(out)
    if out.parent:
        out.parent.mkdir(parents=True, exist_ok=True)
    members: list[tuple[str, bytes]] = [
        ("manifest.json", (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    ]
    for name in ICONS:
        members.append((name, (TEMPLATE_DIR / name).read_bytes()))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out
