"""Two replicas, one PostgreSQL: two OS processes run the reminder pass at the same moment against
the same database, and every reminder is sent exactly once.

Each process delivers through a messenger that appends one line per message to a shared file
(O_APPEND, one write per line). To make sure the processes really race rather than run one after
the other, each one's first send waits until the other has started sending too.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storage.db import Database
from storage.models import ChannelBinding, Group, Meeting, Member, Platform, PlatformIdentity
from tests.conftest import _truncate

pytestmark = pytest.mark.postgres

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 1, 23, 9, 5, tzinfo=OSLO)  # the "3 days before" reminder is due
MEMBERS = 300

WORKER = textwrap.dedent(
    """
    import asyncio, json, os, random, sys, time
    from datetime import datetime

    from handlers.context import HandlerContext
    from handlers.reminders import PassOptions, run_reminder_pass
    from storage.db import Database

    url, worker, out, go, started, now_iso = sys.argv[1:7]
    NOW = datetime.fromisoformat(now_iso)


    class FileMessenger:
        def __init__(self):
            self.first = True

        async def _record(self, address):
            if self.first:
                self.first = False
                open(os.path.join(started, worker), "w").close()
                until = time.monotonic() + 10
                while len(os.listdir(started)) < 2 and time.monotonic() < until:
                    await asyncio.sleep(0.002)
            await asyncio.sleep(random.uniform(0, 0.003))
            fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, f"{address} {worker}\\n".encode())
            finally:
                os.close(fd)
            return "ref"

        async def post(self, target, reply, *, thread_ref=None):
            return await self._record(f"channel:{target.channel_id}")

        async def update(self, target, message_ref, reply):
            raise AssertionError("not used")

        async def send_direct(self, target, reply):
            return await self._record(f"user:{target.user_id}")


    class Registry:
        def __init__(self):
            self.messenger = FileMessenger()

        def for_platform(self, platform):
            return self.messenger if platform == "slack" else None


    async def main():
        db = Database(url)
        ctx = HandlerContext(db=db, clock=lambda: NOW, messengers=Registry())
        async with db.engine.connect() as conn:  # connect before the start line
            await conn.exec_driver_sql("SELECT 1")
        print("ready", flush=True)
        while not os.path.exists(go):
            await asyncio.sleep(0.001)
        report = await run_reminder_pass(ctx, worker_id=worker, options=PassOptions(concurrency=8))
        await db.close()
        print(json.dumps(report.counts()), flush=True)


    asyncio.run(main())
    """
)


async def _seed(db: Database) -> None:
    async with db.write() as s:
        group = Group(name="Klima og miljø")
        s.add(group)
        await s.flush()
        s.add(ChannelBinding(group_id=group.id, platform=Platform.SLACK, workspace_id="T1", channel_id="C1"))
        start = datetime(2026, 1, 20, 10, 0, tzinfo=OSLO)
        s.add(Meeting(group_id=group.id, starts_at=start, ends_at=start + timedelta(hours=2)))
        members = [
            Member(
                group_id=group.id,
                first_name=f"Deltaker{i:04d}",
                last_name="Testesen",
                email=f"d{i}@kommune.example",
            )
            for i in range(MEMBERS)
        ]
        s.add_all(members)
        await s.flush()
        s.add_all(
            PlatformIdentity(member_id=m.id, platform=Platform.SLACK, workspace_id="T1", user_id=f"U{i:04d}")
            for i, m in enumerate(members)
        )


async def test_two_processes_send_every_reminder_exactly_once(pg_url: str, tmp_path: Path) -> None:
    db = Database(pg_url)
    try:
        await _truncate(db)
        await _seed(db)
    finally:
        await db.close()

    script = tmp_path / "replica.py"
    script.write_text(WORKER, encoding="utf-8")
    out, go, started = tmp_path / "sent.log", tmp_path / "go", tmp_path / "started"
    started.mkdir()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            pg_url,
            name,
            str(out),
            str(go),
            str(started),
            NOW.isoformat(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for name in ("replica-a", "replica-b")
    ]
    for proc in procs:  # both connected and waiting at the start line
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
        assert line.strip() == b"ready", line
    go.touch()
    results = []
    for proc in procs:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=120)
        assert proc.returncode == 0, stderr.decode()
        results.append(json.loads(stdout.decode().strip().splitlines()[-1]))

    lines = out.read_text(encoding="utf-8").splitlines()
    addresses = Counter(line.split()[0] for line in lines)
    by_worker = Counter(line.split()[1] for line in lines)
    duplicates = {a: n for a, n in addresses.items() if n > 1}
    assert duplicates == {}, f"sent more than once: {duplicates}"
    assert set(addresses) == {f"user:U{i:04d}" for i in range(MEMBERS)} | {"channel:C1"}
    assert sum(r["sent"] for r in results) == MEMBERS + 1
    # Both really took part (the first send of each waits for the other to start sending).
    assert by_worker["replica-a"] > 0 and by_worker["replica-b"] > 0, by_worker
    assert sum(r["failed"] for r in results) == 0
