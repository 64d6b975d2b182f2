"""`referent roster import` makes a new group in REFERENT_LOCALE, or in `--locale`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from storage.db import Database
from storage.models import Group

ROSTER = "Fornavn;Etternavn;Organisasjon\nKari;Nordmann;Testkommune\n"


async def _locales(url: str) -> dict[str, str]:
    db = Database(url)
    try:
        async with db.session() as session:
            return {g.name: g.locale for g in (await session.scalars(select(Group))).all()}
    finally:
        await db.close()


def test_new_groups_take_referent_locale_or_the_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'referent.db'}"
    csv = tmp_path / "deltakere.csv"
    csv.write_text(ROSTER, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("REFERENT_LOCALE", "en")
    assert main(["roster", "import", str(csv), "--group", "Working group for maps"]) == 0
    assert main(["roster", "import", str(csv), "--group", "Faggruppe for kart", "--locale", "nb"]) == 0
    monkeypatch.setenv("REFERENT_LOCALE", "nb")
    assert main(["roster", "import", str(csv), "--group", "Faggruppe for vei"]) == 0
    # A re-import does not change an existing group's language.
    assert main(["roster", "import", str(csv), "--group", "Working group for maps", "--locale", "nb"]) == 0
    assert asyncio.run(_locales(url)) == {
        "Working group for maps": "en",
        "Faggruppe for kart": "nb",
        "Faggruppe for vei": "nb",
    }
