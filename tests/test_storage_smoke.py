from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.db import Database
from storage.models import Group, Meeting


async def test_datetimes_come_back_aware_utc(db: Database) -> None:
    start = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
    async with db.session() as s:
        g = Group(name="Næring")
        s.add(g)
        await s.flush()
        s.add(Meeting(group_id=g.id, starts_at=start, ends_at=start + timedelta(hours=2)))
    async with db.session() as s:
        m = (await s.execute(select(Meeting))).scalar_one()
        assert m.starts_at == start
        assert m.starts_at.tzinfo is not None
