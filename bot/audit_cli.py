"""`referent audit [--group NAME] [--since DATE] [--json]`: print the audit log of admin actions.

For the records officer or the operator: who did what, when and where, oldest first, with times
in the group's (or the default) time zone. `--json` gives one object per line, for tooling.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from bot.config import Settings
from storage.db import Database
from storage.models import AuditEntry, Group
from storage.repositories import audit as audit_repo
from storage.repositories import groups as group_repo


def _parse_day(value: str) -> date:
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)")


def add_parser(sub: Any) -> None:
    audit = sub.add_parser("audit", help="print the audit log of admin actions")
    audit.add_argument("--group", default=None, help="only this group (its exact name)")
    audit.add_argument("--since", type=_parse_day, default=None, help="from this day on (YYYY-MM-DD)")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")


def _as_dict(entry: AuditEntry, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "at": entry.at.astimezone(zone).isoformat(),
        "group": entry.group_name,
        "group_id": entry.group_id,
        "platform": str(entry.platform),
        "workspace": entry.workspace_id,
        "who": entry.actor_name,
        "user_id": entry.actor_user_id,
        "member_id": entry.actor_member_id,
        "action": entry.action,
        "detail": entry.detail,
    }


async def run(settings: Settings, args: argparse.Namespace, *, console: Console | None = None) -> int:
    zone = ZoneInfo(settings.timezone)
    db = Database(settings.database_url)
    try:
        if db.is_sqlite and await db.is_empty():
            await db.migrate()
        async with db.session() as session:
            group_ids: list[int] | None = None
            if args.group is not None:
                # Names are unique per workspace/tenant only: every group of that name.
                named: list[Group] = await group_repo.groups_named(session, args.group)
                if not named:
                    print(f"referent: no group is named {args.group!r}", file=sys.stderr)
                    return 2
                group_ids = [group.id for group in named]
            since = datetime.combine(args.since, time(0), tzinfo=zone).astimezone(UTC) if args.since else None
            entries = await audit_repo.entries(session, group_ids=group_ids, since=since)
    finally:
        await db.close()
    rows = [_as_dict(e, zone) for e in entries]
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    console = console or Console(width=None if Console().is_terminal else 160)
    table = Table(title=f"Audit log ({len(rows)} entries)", title_justify="left")
    for column in ("when", "group", "platform", "who", "action", "detail"):
        table.add_column(column)
    for row in rows:
        detail = ", ".join(f"{k}={v}" for k, v in row["detail"].items())
        when = row["at"][:16].replace("T", " ")
        table.add_row(when, row["group"], row["platform"], row["who"], row["action"], detail)
    console.print(table)
    return 0
