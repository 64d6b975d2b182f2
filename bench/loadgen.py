"""Load generation shared by the load benchmarks: closed loop (N connections, each sending again
as soon as it is answered) and open loop (requests on a fixed schedule, latency measured from
each request's scheduled time, so a slow server cannot hide its queue)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp


class RequestSource(Protocol):
    def next(self) -> tuple[bytes, dict[str, str]]:
        """The next request's body and headers."""
        ...


@dataclass
class Phase:
    name: str
    duration_s: float
    sent: int = 0
    ok: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "duration_s": round(self.duration_s, 2),
            "sent": self.sent,
            "ok": self.ok,
            "errors": self.errors,
        }
        if self.error_kinds:
            out["error_kinds"] = self.error_kinds
        if self.latencies_ms:
            lat = sorted(self.latencies_ms)
            out.update(
                p50_ms=round(percentile(lat, 50), 2),
                p90_ms=round(percentile(lat, 90), 2),
                p99_ms=round(percentile(lat, 99), 2),
                max_ms=round(lat[-1], 2),
                mean_ms=round(statistics.fmean(lat), 2),
            )
        return out


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    k = (len(sorted_values) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


async def send_one(
    session: aiohttp.ClientSession,
    url: str,
    source: RequestSource,
    phase: Phase,
    scheduled: float,
    ok_statuses: Collection[int],
) -> None:
    body, headers = source.next()
    phase.sent += 1
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            if response.status in ok_statuses:
                phase.ok += 1
                phase.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
            else:
                phase.error(f"http {response.status}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        phase.error(type(exc).__name__)


def _session(limit: int, timeout_s: float) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit), timeout=aiohttp.ClientTimeout(total=timeout_s)
    )


async def closed_loop(
    url: str,
    source: RequestSource,
    concurrency: int,
    seconds: float,
    name: str,
    *,
    ok_statuses: Collection[int] = (200,),
    timeout_s: float = 30,
) -> Phase:
    """`concurrency` connections, each sending again as soon as it has its answer."""
    phase = Phase(name, seconds)
    async with _session(concurrency, timeout_s) as session:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await send_one(session, url, source, phase, time.perf_counter(), ok_statuses)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        phase.duration_s = time.perf_counter() - started
    return phase


async def open_loop(
    url: str,
    source: RequestSource,
    rate: float,
    seconds: float,
    name: str,
    *,
    ok_statuses: Collection[int] = (200,),
    timeout_s: float = 30,
) -> Phase:
    """Requests sent on a fixed schedule, never waiting for earlier answers."""
    phase = Phase(name, seconds)
    async with _session(0, timeout_s) as session:
        total = int(rate * seconds)
        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter() + 0.05
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send_one(session, url, source, phase, scheduled, ok_statuses)))
        await asyncio.gather(*tasks)
        phase.duration_s = time.perf_counter() - start
    return phase
