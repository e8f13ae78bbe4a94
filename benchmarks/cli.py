"""`newsbot bench NAME`: the command, declared to the bot's CLI as an entry point."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.commands import Command

BENCHMARKS = (
    "parse",
    "speakers",
    "query",
    "digest",
    "scale",
    "metrics",
    "export",
    "backfill",
    "stories",
    "flood",
)


def default_corpus() -> Path:
    """Return ../shared/corpus beside the project, where the benchmarks' data lives."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def run_bench(
    name: str,
    corpus: Path,
    db: str | None = None,
    subscribers: int | None = None,
    articles: int | None = None,
    mentions: int | None = None,
    rows: int | None = None,
) -> int:
    """Run one benchmark and print its table."""
    # Each benchmark is imported only when run: the bot's CLI loads this module for its help.
    if name == "parse":
        from benchmarks import parse as bench_parse

        return bench_parse.run(corpus, sys.stdout)
    if name == "speakers":
        from benchmarks import speakers as bench_speakers

        return bench_speakers.run(corpus, sys.stdout)
    if name == "query":
        from benchmarks import memory as bench_memory
        from benchmarks import query as bench_query

        return bench_query.run(
            sys.stdout,
            articles=articles or bench_query.DEFAULT_ARTICLES,
            mentions=mentions or bench_query.DEFAULT_MENTIONS,
            db=db,
            memory_phase=bench_memory.memory_phase,
        )
    if name == "stories":
        from benchmarks import stories as bench_stories

        sizes = (articles,) if articles else bench_stories.DEFAULT_SIZES
        return bench_stories.run(sys.stdout, sizes, db)
    if name == "digest":
        from benchmarks import digest as bench_digest
        from benchmarks.scale import DEFAULT_ADMIN_URL

        return bench_digest.run(sys.stdout, subscribers or 10_000, db or DEFAULT_ADMIN_URL)
    if name == "flood":
        from benchmarks import flood as bench_flood

        return bench_flood.run(sys.stdout)
    if name == "scale":
        from benchmarks import scale as bench_scale

        return bench_scale.run(
            sys.stdout, subscribers or 10_000, db or bench_scale.DEFAULT_ADMIN_URL
        )
    if name == "metrics":
        from benchmarks import metrics as bench_metrics

        return bench_metrics.run(sys.stdout, rows or bench_metrics.DEFAULT_ROWS, db)
    if name == "export":
        from benchmarks import export as bench_export
        from benchmarks import query as bench_query

        return bench_export.run(
            sys.stdout,
            articles or bench_query.DEFAULT_ARTICLES,
            mentions or bench_query.DEFAULT_MENTIONS,
        )
    if name == "backfill":
        from benchmarks import backfill as bench_backfill

        return bench_backfill.run(
            sys.stdout, articles or bench_backfill.DEFAULT_ARTICLES, pg_admin=db
        )
    print(f"newsbot bench: unknown benchmark {name!r}", file=sys.stderr)
    return 2


def _positive(text: str) -> int:
    """Parse a count of at least 1 (an argparse type)."""
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def add_arguments(bench: argparse.ArgumentParser) -> None:
    """Describe `newsbot bench`'s arguments."""
    bench.add_argument("name", choices=BENCHMARKS)
    bench.add_argument("--corpus", type=Path, default=None, help="default: ../shared/corpus")
    bench.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help=(
            "query: time on this postgresql:// database; scale, metrics, backfill, stories and "
            "digest: the server's admin URL (digest's tick run makes its own database there)"
        ),
    )
    bench.add_argument(
        "--subscribers",
        type=int,
        default=None,
        help="scale, digest: digests due at once in the delivery runs (10000)",
    )
    bench.add_argument(
        "--articles",
        type=_positive,
        default=None,
        help=(
            "query, export: archive size (100000); backfill: the province's articles (20000); "
            "stories: one archive size (100000 and 1000000)"
        ),
    )
    bench.add_argument(
        "--mentions", type=_positive, default=None, help="query, export: leader mentions (1000000)"
    )
    bench.add_argument(
        "--rows", type=_positive, default=None, help="metrics: delivery ledger rows (3650000)"
    )


def run(args: argparse.Namespace) -> int:
    """Run `newsbot bench` with its parsed arguments."""
    return run_bench(
        args.name,
        args.corpus or default_corpus(),
        args.db,
        args.subscribers,
        args.articles,
        args.mentions,
        args.rows,
    )


# Quiet: the busy table runs the whole bot, whose crawl and job logs would bury the table.
BENCH = Command(
    help="run a benchmark and print its figures", run=run, add_arguments=add_arguments, quiet=True
)
