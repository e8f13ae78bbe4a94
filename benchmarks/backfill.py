"""`newsbot bench backfill`: ten years of the loopback province backfilled, end to end.

The province (fakes.province: seven sites of different CMS families) serves from this process;
each backfill runs in a child process (`python -m benchmarks.backfill --worker …`), the way
`newsbot backfill` runs, with politeness off (no pacing, no robots.txt), so that the figures
are the bot's own pace. Four measures, on SQLite and (given --db) on PostgreSQL:

1. articles stored per second, end to end (fetch, decode, parse, who-spoke analysis in the
   analysis worker process, store, index), and the child's CPU per article;
2. CPU milliseconds per article by stage, from a sequential pass over a sample (stages
   interleave in the concurrent run, so their CPU cannot be told apart there);
3. a SIGKILL at a random moment and a rerun: articles stored twice, list and article pages
   fetched again;
4. how long a polite ten-year backfill of the shipped catalogue would take.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

DEFAULT_ARTICLES = 20_000
YEARS = 10
# The stage pass: articles read one after another, each stage timed alone.
STAGE_SAMPLE = 300
# Assumed for the polite estimate: articles a source publishes a day (a city portal's news
# column or a paper's channel), and the pacing `newsbot backfill` keeps per host.
ARTICLES_PER_SOURCE_DAY = 10
POLITE_INTERVAL = 0.5
# An article that makes the analysis load everything it loads lazily (jieba, keyword tables).
WARM_UP = (
    "郝鹏在沈阳调研营商环境工作",
    (
        "郝鹏强调，要持续优化营商环境，推动全面振兴取得新突破。",
        "据介绍，今年以来沈阳累计完成投资。",
    ),
)


# --- the child: one backfill run ---------------------------------------------------------


async def _worker(db: str, sources_path: str, since: date, until: date) -> dict[str, Any]:
    """Backfill every source of the file into db with politeness off; return counts."""
    import httpx

    from news.ingest.backfill import Backfiller
    from news.ingest.fetch import Fetcher
    from news.ingest.sources import PROFILES
    from news.ingest.sources_file import parse_sources
    from news.nlp.analysis import AnalysisWorker
    from storage import open_store

    sources = parse_sources(Path(sources_path).read_text(encoding="utf-8"), "bench", PROFILES)
    store = await open_store(db)
    analysis = AnalysisWorker()
    # Started before the clock: loading jieba and its tables in the worker is start-up.
    await analysis.analyse(*WARM_UP)
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as client:
            fetcher = Fetcher(client, min_host_interval=0.0, per_host_limit=8, robots=False)
            backfiller = Backfiller(
                fetcher, store, analyser=analysis.analyse, article_concurrency=8
            )
            results = await backfiller.run(sources, since, until)
    finally:
        await store.close()
        await asyncio.to_thread(analysis.close)
    return {
        "seconds": time.monotonic() - started,
        "stored": sum(r.stored for r in results),
        "failed": [f"{r.source}: {r.message}" for r in results if r.status != "done"],
    }


def worker_main(argv: list[str]) -> int:
    """Run one backfill (the child process) and print its counts and CPU as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--sources", required=True)
    parser.add_argument("--since", type=date.fromisoformat, required=True)
    parser.add_argument("--until", type=date.fromisoformat, required=True)
    args = parser.parse_args(argv)
    found = asyncio.run(_worker(args.db, args.sources, args.since, args.until))
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    found["cpu"] = own.ru_utime + own.ru_stime
    found["worker_cpu"] = children.ru_utime + children.ru_stime
    print(json.dumps(found), flush=True)
    return 0


# --- the parent: the province, the runs, the table ---------------------------------------


def run(
    out: TextIO,
    articles: int = DEFAULT_ARTICLES,
    pg_admin: str | None = None,
    sample: int = STAGE_SAMPLE,
    years: int = YEARS,
    sqlite: bool = True,
) -> int:
    """Run the benchmark and print its tables; 1 if a run failed or stored something twice."""
    from fakes.province import DEFAULT_END, Province

    until = DEFAULT_END
    since = until - timedelta(days=365 * years)
    province = Province(articles, years=years)
    province.run_in_thread()
    ok = True
    try:
        with tempfile.TemporaryDirectory(prefix="newsbot-bench-backfill-") as tmp:
            sources = Path(tmp) / "sources.toml"
            sources.write_text(province.sources_toml(), encoding="utf-8")
            total = province.article_count()
            out.write(
                f"newsbot bench backfill: the loopback province, {len(province.keys)} sites "
                f"({', '.join(province.keys)}), {total:,} articles over {years} years, "
                f"politeness off; {os.cpu_count()} cores\n\n"
            )
            targets: list[tuple[str, str, str]] = []
            if sqlite:
                targets.append(("SQLite", str(Path(tmp) / "full.db"), str(Path(tmp) / "kill.db")))
            if pg_admin:
                targets.append(("PostgreSQL", *_pg_databases(pg_admin)))
            rows = []
            for backend, full_db, kill_db in targets:
                full = _child(full_db, sources, since, until)
                counted = _count(full_db)
                ok = ok and not full["failed"] and counted == (total, total)
                kill = _kill_and_rerun(province, kill_db, sources, since, until)
                ok = ok and kill["twice"] == 0 and kill["stored"] == total
                rows.append((backend, full, counted, kill))
            _print_runs(out, rows, total)
            stages = asyncio.run(_stage_pass(province, Path(tmp) / "stages.db", sample))
            _print_stages(out, stages, sample)
            _print_polite(out)
            if pg_admin:
                _drop_pg(pg_admin)
    finally:
        province.stop_thread()
    return 0 if ok else 1


def _child(
    db: str, sources: Path, since: date, until: date, kill_after: float | None = None
) -> dict[str, Any]:
    """Run one backfill child; kill it with SIGKILL after kill_after seconds if given."""
    command = [
        sys.executable, "-m", "benchmarks.backfill", "--worker", "--db", db,
        "--sources", str(sources), "--since", since.isoformat(), "--until", until.isoformat(),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env["NEWSBOT_LOG_LEVEL"] = "ERROR"
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if kill_after is not None:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.communicate()  # reaps it and closes its pipes
            return {"killed": True}
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"backfill child failed: {stderr.decode()[-800:]}")
    return dict(json.loads(stdout.decode().strip().splitlines()[-1]))


def _count(db: str) -> tuple[int, int]:
    """Return (articles, distinct URLs) in a database."""
    if db.startswith("postgresql://"):
        import asyncpg

        async def count() -> tuple[int, int]:
            connection = await asyncpg.connect(db)
            try:
                row = await connection.fetchrow(
                    "SELECT count(*), count(DISTINCT url) FROM articles"
                )
                return int(row[0]), int(row[1])
            finally:
                await connection.close()

        return asyncio.run(count())
    with sqlite3.connect(db) as connection:
        row = connection.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone()
    return int(row[0]), int(row[1])


def _kill_and_rerun(
    province: Any, db: str, sources: Path, since: date, until: date
) -> dict[str, Any]:
    """Backfill, SIGKILL at a random moment, run again; count what was stored twice or re-read."""
    before = {key: province.hit_paths(key) for key in province.keys}
    moment = random.Random().uniform(3.0, 15.0)
    _child(db, sources, since, until, kill_after=moment)
    stored_at_kill = _count(db)[0]
    middle = {key: province.hit_paths(key) for key in province.keys}
    _child(db, sources, since, until)
    lists_again = articles_again = 0
    for key in province.keys:
        first = middle[key] - before[key]
        second = province.hit_paths(key) - middle[key]
        article_paths = {
            province.article_url(key, n).removeprefix(province.base_url(key))
            for n in range(province.article_count(key))
        }
        for path in second:
            if first[path] and path != "/robots.txt":
                if path in article_paths:
                    articles_again += 1
                else:
                    lists_again += 1
    total, distinct = _count(db)
    return {
        "moment": moment,
        "at_kill": stored_at_kill,
        "stored": distinct,
        "twice": total - distinct,
        "lists_again": lists_again,
        "articles_again": articles_again,
    }


def _print_runs(out: TextIO, rows: list[Any], total: int) -> None:
    out.write(
        "| store | articles stored | seconds | articles/s | CPU ms/article (backfill + "
        "analysis worker) | SIGKILL after | stored at kill | stored twice | list pages "
        "fetched again | articles fetched again |\n|---|---|---|---|---|---|---|---|---|---|\n"
    )
    for backend, full, counted, kill in rows:
        per = 1000 * (full["cpu"] + full["worker_cpu"]) / max(full["stored"], 1)
        out.write(
            f"| {backend} | {counted[0]:,} of {total:,} | {full['seconds']:.1f} | "
            f"{full['stored'] / full['seconds']:.0f} | {per:.1f} | {kill['moment']:.1f} s | "
            f"{kill['at_kill']:,} | {kill['twice']} | {kill['lists_again']} "
            f"(sources: 7) | {kill['articles_again']} |\n"
        )
        for line in full["failed"]:
            out.write(f"  ! {line}\n")
    out.write("\n")


# --- the stage pass ------------------------------------------------------------------------


class _Stages:
    """CPU seconds (process_time: every thread of this process) per stage."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.process_time()
        try:
            yield
        finally:
            self.cpu[name] += time.process_time() - start


async def _stage_pass(province: Any, db: Path, sample: int) -> _Stages:
    """Read `sample` articles one at a time, each stage timed on its own."""
    import httpx

    from news.ingest.decode import decode_html
    from news.ingest.fetch import Fetcher
    from news.ingest.fingerprint import fingerprint
    from news.ingest.sources import PROFILES, profile_for
    from news.ingest.sources_file import parse_sources
    from news.ingest.urls import url_key
    from news.nlp.analysis import analyse
    from storage import open_store

    sources = {s.name: s for s in parse_sources(province.sources_toml(), "bench", PROFILES)}
    stages = _Stages()
    store = await open_store(db)
    analyse(*WARM_UP)  # loading jieba and its tables is start-up
    original: Callable[..., Any] = store._index_article

    async def timed_index(*args: Any) -> Any:
        with stages.stage("index"):
            return await original(*args)

    # The index runs inside add_article's transaction: timed by wrapping the backend's hook.
    setattr(store, "_index_article", timed_index)  # noqa: B010
    keys = [k for k in province.keys]
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as client:
            fetcher = Fetcher(client, min_host_interval=0.0, robots=False)
            for n in range(sample):
                key = keys[n % len(keys)]
                profile = profile_for(sources[province.source_name(key)])
                url = province.article_url(key, n // len(keys))
                with stages.stage("fetch"):
                    fetched = await fetcher.fetch(url)
                assert fetched is not None
                with stages.stage("decode"):
                    text = decode_html(fetched.content, fetched.charset)
                with stages.stage("parse"):
                    article = profile.parse_article(text, url)
                with stages.stage("who-spoke analysis"):
                    analysis = analyse(article.title, article.paragraphs)
                with stages.stage("store"):
                    await store.add_article(
                        article,
                        url_key=url_key(url),
                        fingerprint=fingerprint(article.title, article.body),
                        source_name=None,
                        analysis=analysis,
                    )
    finally:
        await store.close()
    # The index ran inside the store's transaction: the store's own share is the rest.
    stages.cpu["store"] -= stages.cpu["index"]
    return stages


def _print_stages(out: TextIO, stages: _Stages, sample: int) -> None:
    out.write(
        f"CPU per article by stage (SQLite; {sample} articles read one at a time; fetch "
        "counts the client's side only):\n\n| stage | CPU ms/article |\n|---|---|\n"
    )
    order = ("fetch", "decode", "parse", "who-spoke analysis", "store", "index")
    for name in order:
        out.write(f"| {name} | {1000 * stages.cpu[name] / sample:.2f} |\n")
    out.write(f"| all | {1000 * sum(stages.cpu.values()) / sample:.2f} |\n\n")


# --- the polite estimate -------------------------------------------------------------------


def _print_polite(out: TextIO) -> None:
    """Print how long the shipped catalogue's ten years would take at the crawler's pace."""
    from urllib.parse import urlsplit

    from news.ingest.backfill import SOURCE_CONCURRENCY
    from news.ingest.dated import is_dated_list
    from news.ingest.sources import PROFILES
    from news.ingest.sources_file import catalogue_text, parse_sources

    catalogue = parse_sources(catalogue_text(), "catalogue", PROFILES)
    days = 365 * YEARS
    per_host: Counter[str] = Counter()
    for source in catalogue:
        articles = ARTICLES_PER_SOURCE_DAY * days
        for url in source.lists:
            # A list page shows ~20 articles; an e-paper is read a day (and ~4 pages) at a time.
            pages = days * 4 if is_dated_list(url) else articles // 20
            per_host[urlsplit(url).hostname or ""] += pages + articles // len(source.lists)
    seconds = {host: float(requests) * POLITE_INTERVAL for host, requests in per_host.items()}
    longest = max(seconds.values())
    # Sources walk SOURCE_CONCURRENCY at a time; hosts serialise their own sources.
    spread = sum(seconds.values()) / SOURCE_CONCURRENCY
    estimate = max(longest, spread)
    out.write(
        f"A polite ten-year backfill of the shipped catalogue ({len(catalogue)} sources on "
        f"{len(per_host)} hosts), assuming {ARTICLES_PER_SOURCE_DAY} articles a source a day "
        f"and one request per {POLITE_INTERVAL} s per host: about {estimate / 3600:.0f} hours "
        f"({estimate / 86400:.1f} days; the busiest host alone {longest / 3600:.0f} hours).\n"
    )


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_databases(admin: str) -> tuple[str, str]:
    """Create the two bench databases on the server; return their URLs."""
    import asyncpg

    names = ("newsbot_bench_backfill_full", "newsbot_bench_backfill_kill")

    async def create() -> None:
        connection = await asyncpg.connect(admin)
        try:
            for name in names:
                await connection.execute(f"DROP DATABASE IF EXISTS {name}")
                await connection.execute(f"CREATE DATABASE {name}")
        finally:
            await connection.close()

    asyncio.run(create())
    base = admin.rsplit("/", 1)[0]
    return f"{base}/{names[0]}", f"{base}/{names[1]}"


def _drop_pg(admin: str) -> None:
    import asyncpg

    async def drop() -> None:
        connection = await asyncpg.connect(admin)
        try:
            for name in ("newsbot_bench_backfill_full", "newsbot_bench_backfill_kill"):
                await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await connection.close()

    asyncio.run(drop())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        sys.exit(worker_main(sys.argv[2:]))
    sys.exit(run(sys.stdout))
