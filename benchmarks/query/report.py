"""Run the query benchmark's phases and print the report: tables, targets, exit status."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

# The knobs a test shrinks (CALLS, WARMUP, ROUND_TRIPS, CHART_CALLS, the busy load's pace) are
# read through their modules, so that one monkeypatch reaches both the run and its report.
from benchmarks.query import busy_load, handler_timing, round_trip
from benchmarks.query.archive_size import ArchiveSize, postgres_size, sqlite_size, warm_postgres
from benchmarks.query.busy_load import BusyRun, time_busy
from benchmarks.query.handler_timing import (
    CHART_TARGET_P99_MS,
    FAST_QUERIES,
    FAST_TARGET_P99_MS,
    TARGET_P99_MS,
    Timing,
    time_handlers,
)
from benchmarks.query.round_trip import RoundTrip
from benchmarks.query.synthetic_archive import (
    DEFAULT_ARTICLES,
    DEFAULT_MENTIONS,
    GenerationStats,
    StoreError,
    copy_to_postgres,
    ensure_db,
    is_postgres_url,
    redact_target,
)
from benchmarks.report import percentile


def run(
    out: TextIO,
    *,
    articles: int = DEFAULT_ARTICLES,
    mentions: int = DEFAULT_MENTIONS,
    workdir: Path | None = None,
    db: str | None = None,
    memory_phase: Callable[[Path | str, Path], list[str]] | None = None,
) -> int:
    """Build (or reuse) the archive, time the handlers idle and busy; 1 if a p99 misses.

    `memory_phase` (benchmarks.memory.memory_phase, passed in: that module builds on this one)
    measures the bot alone on the same database and returns the report's memory paragraph.

    With `db` (a postgresql:// URL) the archive is copied there once (`newsbot copy-db`, which
    copies nothing twice) and timed on PostgreSQL instead of a scratch copy of the file.
    """
    if db is not None and not is_postgres_url(db):
        print("newsbot bench query: --db takes a postgresql:// URL", file=sys.stderr)
        return 2
    # Opt in to PTB 23's timedelta durations before PTB builds any error or request.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    base = workdir if workdir is not None else Path.cwd()
    stats = ensure_db(base, articles, mentions, show_progress=True)
    copied: str | None = None
    with tempfile.TemporaryDirectory(prefix="bench-query-", dir=stats.path.parent) as scratch:
        target: Path | str
        if db is not None:
            copy_seconds = asyncio.run(copy_to_postgres(stats.path, db))
            copied = f"in {copy_seconds:.1f} s" if copy_seconds else "by an earlier run"
            size = asyncio.run(postgres_size(db))
            backend = f"PostgreSQL ({redact_target(db)}), {asyncio.run(warm_postgres(db))}"
            target = db
        else:
            size = sqlite_size(stats.path)
            backend = "SQLite (a scratch copy of the file)"
            # The handlers write (search history), and so does the bot; the archive stays clean.
            target = Path(scratch) / "work.db"
            shutil.copyfile(stats.path, target)
        calls, warmup = handler_timing.CALLS, handler_timing.WARMUP
        with _phase("the idle table"):
            timings = asyncio.run(time_handlers(target, calls=calls, warmup=warmup))
        with _phase("the round trip"):
            trip = asyncio.run(
                round_trip.round_trip(
                    target, Path(scratch), count=round_trip.ROUND_TRIPS, warmup=warmup
                )
            )
        with _phase("the busy table"):
            busy = asyncio.run(time_busy(target, Path(scratch), calls=calls, warmup=warmup))
        # The bot alone, as `newsbot run` in a process of its own: this process's peak below
        # also counts the harness (the fake Bot API keeps every message it was sent).
        memory = None
        if memory_phase is not None:
            with _phase("the bot's memory"):
                memory = memory_phase(target, Path(scratch))
    # Linux counts ru_maxrss in KiB. The archive was built in a process of its own.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if copied is not None:
        print(f"archive copied to PostgreSQL {redact_target(str(db))} {copied}\n", file=out)
    _report(out, stats, size, timings, trip, busy, memory, peak, backend)
    return 0 if all(t.p99 < t.target for t in [*timings, *busy.timings]) else 1


@contextlib.contextmanager
def _phase(name: str) -> Iterator[None]:
    """Say on stderr when a phase starts and ends (a big run takes long); name it in errors."""
    started = time.perf_counter()
    print(f"bench query: {name}...", file=sys.stderr, flush=True)
    try:
        yield
    except StoreError as exc:
        # `newsbot bench` prints a store error as one line: say which phase met it.
        raise type(exc)(f"{name}: {exc}") from None
    seconds = time.perf_counter() - started
    print(f"bench query: {name} done in {seconds:.0f} s", file=sys.stderr, flush=True)


def _report(
    out: TextIO,
    stats: GenerationStats,
    size: ArchiveSize,
    timings: list[Timing],
    trip: RoundTrip,
    busy: BusyRun,
    memory: list[str] | None,
    peak_bytes: int,
    backend: str,
) -> None:
    """Print the archive, its size, the memory, the idle and busy tables and the round trip."""
    how = (
        f"reused (built in {stats.seconds:.1f} s)"
        if stats.reused
        else f"generated in {stats.seconds:.1f} s"
    )
    print("## newsbot bench query\n", file=out)
    print(
        f"archive: {stats.articles:,} articles, {stats.mentions:,} mentions, "
        f"{stats.people:,} people; {how}; {stats.size_bytes / 1e6:,.0f} MB at {stats.path}\n",
        file=out,
    )
    print(f"database: {backend}\n", file=out)
    print(
        f"database size: {size.database_bytes / 1e6:,.1f} MB for {size.articles:,} articles, "
        f"{size.per_article:,.0f} bytes per article, {size.ratio:.2f}x the UTF-8 size of "
        f"the stored titles and bodies ({size.text_bytes / max(size.articles, 1):,.0f} "
        "bytes per article)\n",
        file=out,
    )
    if memory is None:
        memory = [
            "memory of the bot process alone: not measured (no memory phase given)",
            f"peak memory of this whole benchmark process: {peak_bytes / 2**20:,.0f} MB "
            "(ru_maxrss)",
        ]
    print("\n".join(memory) + "\n", file=out)
    print(
        f"handler latency, idle, over {handler_timing.CALLS} calls each after "
        f"{handler_timing.WARMUP} warm-up calls:\n",
        file=out,
    )
    _table(out, timings)
    print(
        f"\nhandler latency, busy: the same calls while the bot (run_bot, in this process) "
        f"crawls a fake site publishing an article every {busy_load.PUBLISH_SECONDS:g} s (a "
        f"crawl every {busy_load.CRAWL_SECONDS:g} s) and answers {busy_load.BUSY_RATE:g} "
        f"updates a second from {busy_load.BUSY_CHATS} other chats through the fake Bot API. "
        f"In the {busy.seconds:.1f} s measured: {busy.pushed:,} updates pushed, "
        f"{busy.answered:,} replies sent, {busy.stored:,} articles stored.\n",
        file=out,
    )
    _table(out, busy.timings, busy=True)
    print(
        f"\nround trip /latest through the fake Bot API ({len(trip.bot)} sequential updates, "
        f"one every {round_trip.ROUND_TRIP_INTERVAL * 1000:.0f} ms or slower):\n",
        file=out,
    )
    print("| bot | p50 ms | p99 ms |", file=out)
    print("|---|---:|---:|", file=out)
    for name, samples in (("newsbot (run_bot)", trip.bot), ("echo Application", trip.echo)):
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        print(f"| {name} | {p50:.2f} | {p99:.2f} |", file=out)
    print(
        f"\nratio bot/echo: p50 {trip.ratio_p50:.2f}x, p99 {trip.ratio_p99:.2f}x (aim < 1.5x)",
        file=out,
    )


def _table(out: TextIO, timings: list[Timing], *, busy: bool = False) -> None:
    """Print one table of p50/p99 per query, and whether every p99 met its target."""
    when = "busy " if busy else ""
    print(f"| query | {when}p50 ms | {when}p99 ms |", file=out)
    print("|---|---:|---:|", file=out)
    for timing in timings:
        flag = "" if timing.p99 < timing.target else " ✗"
        print(f"| {timing.label} | {timing.p50:.2f} | {timing.p99:.2f}{flag} |", file=out)
    missed = [t.label for t in timings if t.p99 >= t.target]
    print(
        f"\n{when}target p99 < {TARGET_P99_MS:.0f} ms ({', '.join(sorted(FAST_QUERIES))}: "
        f"< {FAST_TARGET_P99_MS:.0f} ms; charts: < {CHART_TARGET_P99_MS:.0f} ms, "
        f"{handler_timing.CHART_CALLS} fresh draws each): "
        + ("met by every query" if not missed else "MISSED by " + ", ".join(missed)),
        file=out,
    )
