"""`newsbot backfill`: walk the sources back to a date, with a progress display on a terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO

from bot.config import Settings, load_sources
from news.ingest.backfill import Backfiller, SourceResult
from news.ingest.dated import paper_today
from news.ingest.fetch import Fetcher, make_client
from news.models import REGIONS, BackfillCursor, SourceConfig
from news.nlp.analysis import AnalysisWorker
from storage import open_store

# The display redraws at most this often (seconds): a fast backfill stores hundreds a second.
REDRAW_EVERY = 0.5


@dataclass
class Display:
    """The progress of a backfill: redrawn on a terminal, one line per source otherwise."""

    stream: TextIO
    sources: int
    tty: bool = False
    started: float = field(default_factory=time.monotonic)
    cursors: dict[str, BackfillCursor] = field(default_factory=dict)
    stored: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)
    _drawn: float = 0.0

    def __call__(self, cursor: BackfillCursor, result: SourceResult) -> None:
        """Note a source's progress (after each page) and redraw now and then."""
        self.cursors[cursor.source] = cursor
        self.stored[cursor.source] = result.stored
        self.pages[cursor.source] = result.pages
        if self.tty and time.monotonic() - self._drawn >= REDRAW_EVERY:
            self.draw()

    def draw(self) -> None:
        """Redraw the one status line."""
        self._drawn = time.monotonic()
        self.stream.write("\r\x1b[K" + self.status_line())
        self.stream.flush()

    def status_line(self) -> str:
        """Return sources done, pages, articles, rate and ETA in one line."""
        elapsed = max(time.monotonic() - self.started, 1e-6)
        stored = sum(self.stored.values())
        rate = stored / elapsed
        share = self.share()
        eta = "?"
        if 0 < share < 1:
            eta = _duration(elapsed * (1 - share) / share)
        elif share >= 1:
            eta = "0s"
        return (
            f"sources {len(self.finished)}/{self.sources} · pages {sum(self.pages.values())} · "
            f"articles {stored} · {rate:.1f}/s · {share:.0%} · ETA {eta}"
        )

    def share(self) -> float:
        """Return how much of the whole walk is done, by days covered, from 0 to 1."""
        total = sum(cursor.share() for cursor in self.cursors.values())
        return total / max(self.sources, 1)

    def finish(self, result: SourceResult) -> None:
        """Say how one source ended: a line (off a terminal), a redraw (on one)."""
        self.finished.add(result.source)
        if self.tty:
            self.stream.write("\r\x1b[K" + source_line(result) + "\n")
            self.draw()
        else:
            self.stream.write(source_line(result) + "\n")
            self.stream.flush()


def source_line(result: SourceResult) -> str:
    """Return one line on a source's walk."""
    cursor = result.cursor
    where = ""
    if cursor is not None:
        reached = cursor.reached.isoformat() if cursor.reached else "-"
        where = (
            f", reached {reached}, {cursor.pages} pages, {cursor.articles} articles"
            f" ({result.stored} this run), {cursor.failed} skipped"
        )
    return f"{result.source}: {result.status}{where}" + (
        f" — {result.message}" if result.message and result.message != "done" else ""
    )


def choose_sources(
    sources: Sequence[SourceConfig], names: Sequence[str], region: str | None
) -> tuple[list[SourceConfig], str | None]:
    """Return the sources asked for, or a one-line reason why there are none."""
    chosen = list(sources)
    if names:
        known = {s.name for s in sources}
        unknown = [n for n in names if n not in known]
        if unknown:
            return [], f"no source named {', '.join(repr(n) for n in unknown)}"
        chosen = [s for s in chosen if s.name in names]
    if region is not None:
        if region not in REGIONS:
            return [], f"unknown region {region!r}; regions: {' '.join(REGIONS)}"
        chosen = [s for s in chosen if s.region == region]
        if not chosen:
            return [], f"no source of region {region!r} is configured"
    if not chosen:
        return [], "no sources configured"
    return chosen, None


async def backfill(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    """Walk the chosen sources back to --since; exit 1 with one line per failed source."""
    until: date = args.until or paper_today()
    since: date = args.since
    if since > until:
        print(f"newsbot backfill: --since {since} is after --until {until}", file=sys.stderr)
        return 2
    chosen, problem = choose_sources(load_sources(settings), args.source, args.region)
    if problem is not None:
        print(f"newsbot backfill: {problem}", file=sys.stderr)
        return 2
    store = await open_store(settings.db)
    client = make_client(proxy=settings.fetch_proxy)
    worker = AnalysisWorker()
    display = Display(out, len(chosen), tty=out.isatty())
    try:
        # The crawler's politeness: the same Fetcher defaults (per-host pacing, robots.txt).
        backfiller = Backfiller(
            Fetcher(client),
            store,
            analyser=worker.analyse,
            progress=display,
            finished=display.finish,
        )
        results = await backfiller.run(chosen, since, until)
    finally:
        await client.aclose()
        await store.close()
        await asyncio.to_thread(worker.close)
    if display.tty:
        out.write("\n")
    failed = [r for r in results if r.status == "failed"]
    for result in failed:
        print(f"newsbot backfill: {result.source}: {result.message}", file=sys.stderr)
    return 1 if failed else 0


def _duration(seconds: float) -> str:
    """Return a duration as 1h02m, 3m05s or 12s."""
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"
