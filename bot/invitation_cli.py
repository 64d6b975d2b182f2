"""`referent innkalling import FILE --group NAME [--dry-run] [--locale nb|en]`.

Reads an invitation (.txt, .md or .docx), prints what it read and what it would create or
change in the group, and (without --dry-run) applies it in one transaction and prints what was
done. Parts that cannot be read are listed with line or paragraph numbers, nothing is stored,
and the exit status is 1; usage errors (unknown group, missing file, wrong file type) exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.config import Settings
from handlers.invitation.apply import GroupNotFound, NotImportable, import_invitation
from handlers.invitation.files import SUFFIXES, parse_upload, supported
from handlers.invitation.render import render_preview, render_problems, render_result
from storage.db import Database
from storage.models import Group
from storage.repositories import groups as group_repo


def add_parser(sub: Any) -> None:
    invitation = sub.add_parser("innkalling", help="meeting invitations")
    tasks = invitation.add_subparsers(dest="invitation_command", required=True, metavar="TASK")
    imp = tasks.add_parser(
        "import",
        help="import an invitation (.txt, .md, .docx): meeting, agenda, roster, work-group poll",
    )
    imp.add_argument("file", type=Path, help="the invitation: .txt, .md or .docx")
    imp.add_argument("--group", required=True, help="the group's exact name")
    imp.add_argument("--dry-run", action="store_true", help="only show what would be done")
    imp.add_argument("--locale", choices=["nb", "en"], default=None, help="language of the output")


def _usage(message: str) -> int:
    print(f"referent: {message}", file=sys.stderr)
    return 2


async def _group(db: Database, name: str) -> Group | None:
    async with db.session() as session:
        try:
            group = await group_repo.group_by_name(session, name)
        except group_repo.AmbiguousGroupName:
            return None  # names are unique per workspace/tenant only
    return group if group is not None and group.name == name.strip() else None


async def run(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.file
    if not supported(path.name):
        return _usage(f"{path.name}: not an invitation file (use {', '.join(SUFFIXES)})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _usage(f"cannot read {path}: {exc.strerror}")
    db = Database(settings.database_url)
    try:
        if db.is_sqlite and await db.is_empty():
            await db.migrate()
        group = await _group(db, args.group)
        if group is None:
            return _usage(f"no group is named {args.group!r}")
        locale = args.locale or group.locale or "nb"
        invitation = parse_upload(path.name, data, group_name=group.name, lang=group.locale or "nb")
        if invitation.problems:
            print(render_problems(invitation, locale), file=sys.stderr)
            return 1
        try:
            preview = await import_invitation(db, invitation, group.name, dry_run=True)
            print(render_preview(preview.preview, locale))
            if args.dry_run:
                return 0
            result = await import_invitation(db, invitation, group.name)
        except GroupNotFound:
            return _usage(f"no group is named {args.group!r}")
        except NotImportable:  # pragma: no cover - problems are caught above
            return 1
    finally:
        await db.close()
    print()
    print(render_result(result, locale))
    return 0
