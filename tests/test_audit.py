"""The audit log (issue 10, item 13): admin actions are recorded with who, when, what and where;
`referent audit` prints them; retention keeps them as long as the meetings they are about."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from handlers.context import HandlerContext
from handlers.retention import purge
from handlers.roster import import_roster
from storage.db import Database
from storage.models import AuditEntry, Group, Platform
from storage.repositories import audit as audit_repo

ROSTER = (
    "Fornavn,Etternavn,Organisasjon,E-post,Rolle\n"
    "Astrid,Fjellheim,Voss herad,astrid@voss.example,sekretariat\n"
)


async def test_roster_import_is_recorded(db: Database, tmp_path: Path) -> None:
    csv = tmp_path / "deltakere.csv"
    csv.write_text(ROSTER, encoding="utf-8")
    await import_roster(db, csv, "Faggruppe for revisjon")
    async with db.session() as session:
        [entry] = (await session.execute(select(AuditEntry))).scalars()
        group = (await session.execute(select(Group))).scalar_one()
    assert (entry.action, entry.platform, entry.group_id, entry.group_name) == (
        "roster.import",
        Platform.CLI,
        group.id,
        "Faggruppe for revisjon",
    )
    assert entry.detail == {"created": 1, "updated": 0, "unchanged": 0, "group_created": True}


def _cli(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    status = main(["audit", *args])
    out = capsys.readouterr()
    return status, out.out + out.err


def test_referent_audit_prints_filters_and_refuses_unknown_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'referent.db'}"
    csv = tmp_path / "deltakere.csv"
    csv.write_text(ROSTER, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["roster", "import", str(csv), "--group", "Faggruppe for revisjon"]) == 0
    assert main(["roster", "import", str(csv), "--group", "Faggruppe for kart"]) == 0
    capsys.readouterr()

    status, out = _cli(url, monkeypatch, capsys, "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and [r["group"] for r in rows] == ["Faggruppe for revisjon", "Faggruppe for kart"]
    assert {r["action"] for r in rows} == {"roster.import"} and {r["platform"] for r in rows} == {"cli"}

    status, out = _cli(url, monkeypatch, capsys, "--json", "--group", "Faggruppe for kart")
    assert status == 0 and [json.loads(line)["group"] for line in out.splitlines()] == ["Faggruppe for kart"]

    tomorrow = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d")
    status, out = _cli(url, monkeypatch, capsys, "--json", "--since", tomorrow)
    assert status == 0 and out.strip() == ""

    status, out = _cli(url, monkeypatch, capsys)
    assert status == 0 and "roster.import" in out and "Faggruppe for kart" in out

    status, out = _cli(url, monkeypatch, capsys, "--group", "Finnes ikke")
    assert status == 2 and "no group is named 'Finnes ikke'" in out

    with pytest.raises(SystemExit) as usage:
        _cli(url, monkeypatch, capsys, "--since", "i går")
    assert usage.value.code == 2


async def test_retention_keeps_the_audit_log_as_long_as_the_meetings(db: Database) -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    async with db.write() as session:
        keeps = Group(name="Lang lagring", retention_days=1000)
        default = Group(name="Standard")
        session.add_all([keeps, default])
        await session.flush()
        for group in (keeps, default, None):
            for age in (10, 400):
                await audit_repo.append(
                    session,
                    action="meeting.create",
                    platform=Platform.SLACK,
                    at=now - timedelta(days=age),
                    group_id=group.id if group else None,
                    group_name=group.name if group else "",
                )
    report = await purge(HandlerContext(db=db), now=now, default_days=None)
    assert report.audit_entries_deleted == 0
    report = await purge(HandlerContext(db=db), now=now, default_days=365)
    assert report.audit_entries_deleted == 2
    async with db.session() as session:
        left = [
            (e.group_name, (now - e.at).days) for e in (await session.execute(select(AuditEntry))).scalars()
        ]
    assert sorted(left) == [("", 10), ("Lang lagring", 10), ("Lang lagring", 400), ("Standard", 10)]
