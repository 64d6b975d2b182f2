"""How long the referat draft of a big group takes: 500 members, 20 agenda items, all formats.

Builds the meeting in a temporary SQLite database (the fictional data builder from the tests),
then reports the median over several runs of: loading from the database, building the
view-model, and rendering md, html, docx and pdf (view included, as `compile_draft` does it).
Targets: md, html and docx each under 0.3 s; the PDF/A-2a under 1.5 s. The PDF is measured over
fewer runs (--pdf-runs) because one render takes seconds; --no-pdf leaves it out.
Run:  .venv/bin/python bench/render_bench.py [--runs 7] [--pdf-runs 3] [--gc-freeze]

Most of the spread between runs is Python's full garbage collections walking every library
object; `--gc-freeze` shows the effect of the usual server fix (gc.freeze() after start-up).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pikepdf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.referat import compile_draft  # noqa: E402
from handlers.referat.render import RenderedDraft, render  # noqa: E402
from handlers.referat.view import build_view  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.repositories.referat import ReferatData, load_referat  # noqa: E402
from tests.referat_fixtures import build_meeting  # noqa: E402

TARGET_S = 0.3
PDF_TARGET_S = 1.5
NOW = datetime(2026, 1, 22, 12, tzinfo=UTC)


def _view_and_render(data: ReferatData, fmt: str) -> RenderedDraft:
    return render(build_view(data, now=NOW), fmt)


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


def _time(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    samples: list[float] = []
    result: Any = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return _median(samples), result


async def main(members: int, items: int, runs: int, freeze: bool, pdf_runs: int = 3) -> int:
    with tempfile.TemporaryDirectory(prefix="referent-bench-") as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await db.migrate()
        t0 = time.perf_counter()
        fx = await build_meeting(
            db,
            members=members,
            items=items,
            work_groups=5,
            # 40, 20 and 10 of 500; the same shares of a smaller group (--members 45)
            missing=max(1, members * 2 // 25),
            nothing=max(1, members // 25),
            excused=max(1, members // 50),
        )
        build_s = time.perf_counter() - t0
        if freeze:  # what a server does after start-up: full collections then skip library objects
            gc.collect()
            gc.freeze()

        load_samples: list[float] = []
        data = None
        for _ in range(runs):
            start = time.perf_counter()
            async with db.session() as session:
                data = await load_referat(session, fx.meeting_id)
            load_samples.append(time.perf_counter() - start)
        assert data is not None

        view_s, view = _time(lambda: build_view(data, now=NOW), runs)
        rows: list[tuple[str, float, float, int]] = []
        for fmt in ("md", "html", "docx"):
            render_s, draft = _time(partial(_view_and_render, data, fmt), runs)
            only_s, _ = _time(partial(render, view, fmt), runs)
            rows.append((fmt, render_s, only_s, len(draft.content)))

        pdf_pages = 0
        if pdf_runs:
            only_s, draft = _time(partial(render, view, "pdf"), pdf_runs)
            rows.append(("pdf", float("nan"), only_s, len(draft.content)))
            with pikepdf.open(io.BytesIO(draft.content)) as pdf:
                pdf_pages = len(pdf.pages)

        e2e: dict[str, float] = {}
        for fmt in ("md", "html", "docx", *(("pdf",) if pdf_runs else ())):
            samples = []
            for _ in range(pdf_runs if fmt == "pdf" else runs):
                start = time.perf_counter()
                await compile_draft(db, fx.meeting_id, fmt, now=NOW)
                samples.append(time.perf_counter() - start)
            e2e[fmt] = _median(samples)
        await db.close()

    print(
        f"referat render bench: {members} members, {items} agenda items, "
        f"{len(data.submissions)} submissions, {len(data.votes)} votes; median of {runs} runs"
    )
    print(f"  data built in {build_s:.2f} s (not measured below); gc.freeze: {'yes' if freeze else 'no'}")
    print(f"  load from SQLite          {_median(load_samples) * 1000:7.1f} ms")
    print(f"  build view-model          {view_s * 1000:7.1f} ms")
    print(f"  {'format':6} {'view+render':>12} {'render only':>12} {'compile_draft':>14} {'size':>10}")
    ok = True
    for fmt, render_s, only_s, size in rows:
        target = PDF_TARGET_S if fmt == "pdf" else TARGET_S
        flag = "ok" if e2e[fmt] < target else "SLOW"
        ok &= e2e[fmt] < target
        print(
            f"  {fmt:6} {render_s * 1000:9.1f} ms {only_s * 1000:9.1f} ms {e2e[fmt] * 1000:11.1f} ms "
            f"{size / 1024:7.0f} KiB  {flag}"
        )
    print(f"  target: md, html, docx each under {TARGET_S * 1000:.0f} ms end to end (load + view + render)")
    if pdf_runs:
        print(
            f"  target: pdf under {PDF_TARGET_S * 1000:.0f} ms end to end; "
            f"median of {pdf_runs} runs, {pdf_pages} pages (view+render not timed separately: nan)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after setup, as a server would")
    parser.add_argument("--pdf-runs", type=int, default=3, help="runs for the PDF (each takes seconds)")
    parser.add_argument("--no-pdf", action="store_true", help="leave the PDF out")
    args = parser.parse_args()
    pdf_runs = 0 if args.no_pdf else args.pdf_runs
    sys.exit(asyncio.run(main(args.members, args.items, args.runs, args.gc_freeze, pdf_runs)))
