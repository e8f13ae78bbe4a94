"""The demo set-up shared by `newsbot demo` and `newsbot chat`: no Telegram, no internet.

It serves the demo site (fakes/data/site) on 127.0.0.1, crawls it into a fresh database with
the real ingest code, starts the in-repo fake Bot API and runs the real bot against it through
`run_bot`, the `newsbot run` code path. Everything it starts stops when the context ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

from bot.app import run_bot
from bot.config import Settings, load_settings, load_sources
from fakes import SITE
from fakes.bot_api import FakeBotApi
from fakes.news_site import FakeNewsSite
from fakes.province import Province
from news.ingest.backfill import Backfiller
from news.ingest.crawl import Crawler
from news.ingest.fetch import Fetcher, make_client
from news.models import CrawlReport
from storage import open_store

logger = logging.getLogger(__name__)

# Beside the working folder, like `newsbot run`'s database: the demo runs from an installed package.
DATA = Path("data")
# A well-formed token that no Telegram bot has; only the fake Bot API ever sees it.
DEMO_TOKEN = "1000000001:DEMO-token-for-the-fake-Bot-API-only"
DEMO_USER_ID = 4242
DEMO_USER_NAME = "演示用户"
# Long enough for any start-up on a slow machine, short enough to fail visibly.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
# The demo's history: the loopback province (six sites of different CMS families) backfilled
# over three years, so that /chart and /trend draw a shape. It ends the day before the demo
# site's newest week, which stays what /latest shows first.
HISTORY_ARTICLES = 720
HISTORY_YEARS = 3
HISTORY_END = date(2026, 11, 19)
HISTORY_SITES = ("lngov", "trs", "enorth", "founder", "glist", "epoint")


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """Where the demo keeps its files and who chats with the bot."""

    db_path: Path = DATA / "demo.db"
    sources_path: Path = DATA / "demo-sources.toml"
    site_root: Path = SITE
    user_id: int = DEMO_USER_ID


@dataclass
class Demo:
    """A running demo: the fake Bot API the bot polls, its settings, and how start-up went."""

    api: FakeBotApi
    settings: Settings
    site_url: str
    user_id: int
    reports: list[CrawlReport]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def article_count(self) -> int:
        """Return how many articles the demo's ingest stored."""
        return sum(report.new for report in self.reports)


def write_sources(template: Path, target: Path, base_url: str) -> None:
    """Write the demo sources file: the template with {base} set to the running site."""
    target.parent.mkdir(parents=True, exist_ok=True)
    text = template.read_text(encoding="utf-8").replace("{base}", base_url)
    target.write_text(text, encoding="utf-8")


def remove_database(path: Path) -> None:
    """Delete the demo database and its SQLite side files, so every demo starts fresh."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def demo_environment(options: DemoOptions, api_url: str) -> Mapping[str, str]:
    """Return the NEWSBOT_* settings of the demo (the user's .env is deliberately not read)."""
    return {
        "NEWSBOT_TOKEN": DEMO_TOKEN,
        "NEWSBOT_API_URL": api_url,
        "NEWSBOT_DB": str(options.db_path),
        "NEWSBOT_SOURCES": str(options.sources_path),
        "NEWSBOT_TZ": "Asia/Shanghai",
        "NEWSBOT_ADMINS": str(options.user_id),  # the demo user may try the admin commands
    }


async def ingest_site(settings: Settings) -> list[CrawlReport]:
    """Crawl every demo source once into the database with the real crawler."""
    sources = load_sources(settings)
    store = await open_store(settings.db)
    try:
        async with make_client(proxy=None) as client:
            # The site is on loopback: the per-host politeness gap (0.5 s) would only slow it.
            fetcher = Fetcher(client, min_host_interval=0.0, attempts=2)
            # One article at a time so article numbers come out the same on every run: the
            # README's transcript and the chat script refer to them (/summary 1).
            crawler = Crawler(fetcher, store, article_concurrency=1)
            return [await crawler.crawl(source) for source in sources]
    finally:
        await store.close()


async def backfill_history(settings: Settings, province: Province) -> int:
    """Backfill the province's years into the database with the real backfill; return stored."""
    sources = [s for s in load_sources(settings) if s.name in province_names(province)]
    store = await open_store(settings.db)
    try:
        async with make_client(proxy=None) as client:
            fetcher = Fetcher(client, min_host_interval=0.0, attempts=2)
            since = HISTORY_END - timedelta(days=365 * HISTORY_YEARS)
            results = await Backfiller(fetcher, store).run(sources, since, HISTORY_END)
    finally:
        await store.close()
    return sum(r.stored for r in results)


def province_names(province: Province) -> set[str]:
    """Return the source names the province's sites stand for."""
    return {province.source_name(key) for key in province.keys}


async def _start_bot(settings: Settings, stop: asyncio.Event) -> asyncio.Task[None]:
    """Start run_bot as a task and return it once it polls; raise if start-up failed."""
    ready = asyncio.Event()
    task = asyncio.create_task(run_bot(settings, stop, ready), name="newsbot-demo")
    waiter = asyncio.create_task(ready.wait())
    done, _ = await asyncio.wait(
        {task, waiter}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
    )
    if task in done:
        waiter.cancel()
        task.result()  # raises what stopped start-up
        raise RuntimeError("the bot stopped during start-up")
    if waiter not in done:
        waiter.cancel()
        stop.set()
        await asyncio.wait({task}, timeout=STOP_TIMEOUT)
        raise TimeoutError(f"the bot did not start within {START_TIMEOUT:.0f} s")
    return task


@contextlib.asynccontextmanager
async def running_demo(
    options: DemoOptions | None = None, progress: TextIO | None = None
) -> AsyncIterator[Demo]:
    """Start site, ingest, fake Bot API and bot; stop all of them when the block ends."""
    options = options or DemoOptions()
    started = time.monotonic()
    timings: dict[str, float] = {}

    def note(message: str) -> None:
        if progress is not None:
            print(message, file=progress, flush=True)

    # default_charset=None: pages declare their own encodings (the Enorth archive is GBK).
    site = FakeNewsSite(options.site_root, default_charset=None)
    province = Province(HISTORY_ARTICLES, years=HISTORY_YEARS, end=HISTORY_END, sites=HISTORY_SITES)
    api = FakeBotApi(DEMO_TOKEN, global_rate=None, group_per_minute=None, private_rate=None)
    api.enable_inline_mode()  # what @BotFather's /setinline does for a real bot
    stop = asyncio.Event()
    task: asyncio.Task[None] | None = None
    try:
        site_url = site.run_in_thread()
        province.run_in_thread()
        write_sources(options.site_root / "sources.toml.in", options.sources_path, site_url)
        with options.sources_path.open("a", encoding="utf-8") as sources:
            sources.write("\n" + province.sources_toml(interval_minutes=60, max_pages=1))
        remove_database(options.db_path)
        api_url = api.run_in_thread()
        settings = load_settings(demo_environment(options, api_url), dotenv=None)
        timings["servers"] = time.monotonic() - started
        note(f"demo: news site {site_url}/ and fake Bot API {api_url} on loopback")

        mark = time.monotonic()
        reports = await ingest_site(settings)
        timings["ingest"] = time.monotonic() - mark
        for report in reports:
            note(
                f"demo: ingested {report.source}: listed {report.listed}, new {report.new}, "
                f"failed {report.failed}"
            )
            for error in report.errors[:3]:
                note(f"demo:   ! {error}")

        mark = time.monotonic()
        stored = await backfill_history(settings, province)
        timings["history"] = time.monotonic() - mark
        note(
            f"demo: backfilled {stored} articles of {HISTORY_YEARS} years from "
            f"{len(province.keys)} sites of the loopback province"
        )

        mark = time.monotonic()
        task = await _start_bot(settings, stop)
        timings["bot"] = time.monotonic() - mark
        timings["total"] = time.monotonic() - started
        yield Demo(api, settings, site_url, options.user_id, reports, timings)
    finally:
        stop.set()
        if task is not None:
            try:
                await asyncio.wait_for(task, STOP_TIMEOUT)
            except Exception:
                logger.exception("the demo bot did not stop cleanly")
        api.stop_thread()
        site.stop_thread()
        province.stop_thread()
