"""`newsbot bench export`: the 导出 button's 10,000 rows as CSV and XLSX, and `newsbot export`'s
peak memory over a whole archive (the query benchmark's synthetic one)."""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from benchmarks.query.synthetic_archive import ensure_db
from handlers.export import ROLES, Result, build_files
from handlers.texts import text
from storage import open_store
from storage.said import EXPORT_ROWS

TARGET_SECONDS = 3.0
RUNS = 5
TZ = ZoneInfo("Asia/Shanghai")


async def gather(
    db: Path,
) -> tuple[Result, dict[int, list[tuple[str, str, str]]], dict[int, str], float]:
    """Read the button's rows for /search 振兴 as cb_export does; return them and the seconds."""
    store = await open_store(db)
    try:
        started = time.perf_counter()
        hits, _ = await store.search_articles(["振兴"], limit=EXPORT_ROWS + 1)
        articles = [h.article for h in hits[:EXPORT_ROWS]]
        ids = [a.id for a in articles]
        people = await store.people_of_articles(ids)
        summaries = await store.article_summaries_many(ids)
        seconds = time.perf_counter() - started
    finally:
        await store.close()
    result = Result("搜索“振兴”", "search-振兴", articles, None, len(hits) > EXPORT_ROWS)
    return result, people, summaries, seconds


def peak_rss_of_export(db: Path, fmt: str, workdir: Path) -> tuple[float, float, int]:
    """Run `newsbot export` over the whole archive; return its peak RSS (MB), seconds, bytes."""
    out = workdir / f"bench-export.{fmt}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env["NEWSBOT_DB"] = str(db)
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(
        [sys.executable, "-m", "bot", "export", "--format", fmt, "-o", str(out)],
        env=env,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    size = out.stat().st_size
    out.unlink()
    # ru_maxrss of the children is the largest child's (kB on Linux).
    return max(peak, before) / 1024, seconds, size


def run(out: TextIO, articles: int, mentions: int, workdir: Path | None = None) -> int:
    """Print the export figures; 1 if the files take longer than TARGET_SECONDS."""
    base = workdir if workdir is not None else Path.cwd()
    stats = ensure_db(base, articles, mentions, show_progress=True)
    result, people, summaries, read_seconds = asyncio.run(gather(stats.path))
    role_names = {role: text("zh", "role_" + role) for role in ROLES}
    outlets = {a.id: [a.source] for a in result.articles}
    timings = []
    sizes = (0, 0)
    for _ in range(RUNS):
        started = time.perf_counter()
        csv_data, xlsx_data = build_files(result, TZ, people, summaries, outlets, role_names, "zh")
        timings.append(time.perf_counter() - started)
        sizes = (len(csv_data), len(xlsx_data))
    build = statistics.median(timings)
    rows = len(result.articles)
    print(f"archive: {stats.articles:,} articles, {stats.mentions:,} mentions", file=out)
    print("\n| measure | result |\n|---|---|", file=out)
    print(f"| rows (the newest matches of /search 振兴) | {rows:,} |", file=out)
    print(f"| reading them, their people and summaries | {read_seconds:.2f} s |", file=out)
    print(
        f"| CSV and XLSX built (median of {RUNS}; max {max(timings):.2f} s) | {build:.2f} s |",
        file=out,
    )
    print(
        f"| total, button to files (target < {TARGET_SECONDS:g} s) | "
        f"{read_seconds + build:.2f} s |",
        file=out,
    )
    print(f"| CSV / XLSX size | {sizes[0] / 1e6:.1f} MB / {sizes[1] / 1e6:.1f} MB |", file=out)
    for fmt in ("csv", "jsonl"):
        peak, seconds, size = peak_rss_of_export(stats.path, fmt, stats.path.parent)
        print(
            f"| `newsbot export --format {fmt}` of the whole archive | {seconds:.0f} s, "
            f"{size / 1e6:.0f} MB written, peak RSS {peak:.0f} MB |",
            file=out,
        )
    return 0 if read_seconds + build < TARGET_SECONDS else 1
