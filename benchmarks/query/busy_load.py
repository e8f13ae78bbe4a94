"""Time the same handlers while the whole bot, in this process, crawls and answers other chats.

A fake news site keeps publishing, the bot (run_bot) crawls it, and a steady stream of
commands from other chats arrives through the fake Bot API, all while time_handlers runs.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from benchmarks.query.handler_timing import CALLS, WARMUP, Timing, summary_ids, time_handlers
from benchmarks.query.round_trip import bench_settings, running_bot, start_fake_api
from benchmarks.query.synthetic_archive import SEED, open_store
from fakes import SITE
from fakes.bot_api import FakeBotApi
from fakes.news_site import FakeNewsSite
from news.ingest.sources import get_profile

# Updates a second from other chats, and how many chats they come from.
BUSY_RATE = 20.0
BUSY_CHATS = 50
BUSY_FIRST_CHAT = 20_001
# A new article on the fake site every this many seconds, and a crawl every CRAWL_SECONDS:
# far more often than the real sources publish, so that every stage of a crawl (fetch, parse,
# jieba, the store's writes) overlaps the measurement. The crawl interval leaves a busy
# machine time to finish one crawl before the next.
PUBLISH_SECONDS = 3.0
CRAWL_SECONDS = 15.0
# The channel whose list page the rolling site rewrites, and the articles it starts from.
ROLLING_CHANNEL = "/network/liaoningnews/lnnewsshizheng"
ROLLING_LIST_LENGTH = 20
_LIST_ENTRY = re.compile(
    r"\s*<li><a href=\"[^\"]+\"[^>]*>[^<]*</a><span class=\"time\">[^<]*</span></li>"
)
_PARAGRAPH = re.compile(r"<p>\u3000\u3000([^<]+)</p>")
_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]")
_PAGER = re.compile(r"<div class=\"page\">.*?</div>")


def busy_texts(summary_ids: Sequence[int]) -> list[str]:
    """Return what the other chats send, in turn: a reader's everyday commands, and /summary."""
    everyday = ("/latest", "/search 营商环境", "/latest 30", "/search 振兴", "/speaker 易炼红")
    texts = [
        text
        for n, article_id in enumerate(summary_ids)
        for text in (everyday[n % len(everyday)], f"/summary {article_id}")
    ]
    return texts or list(everyday)


class RollingSite:
    """The fake news site, with a list page that gains a new article every so often.

    The new articles are the channel's saved pages with a numbered title and their paragraphs
    refilled with sentences drawn from all of them, so each one is a new story to the crawler
    (URL, fingerprint and sketch, not a reprint) and is parsed, analysed and stored like one.
    """

    def __init__(self) -> None:
        self.site = FakeNewsSite(SITE)
        self.published = 0
        # New to a database that an earlier run crawled into (PostgreSQL keeps what it stored).
        self._run = int(time.time())
        self._entries: list[str] = []  # list items, newest first
        self._list_page = (
            SITE / ROLLING_CHANNEL.lstrip("/") / "list" / "indexHome.shtml"
        ).read_text(encoding="utf-8")
        profile = get_profile("nen")
        self._templates: list[tuple[str, str]] = []
        for page in sorted((SITE / ROLLING_CHANNEL.lstrip("/")).glob("20*/*/*/*.shtml")):
            html = page.read_text(encoding="utf-8")
            title = profile.parse_article(html, f"https://liaoning.nen.com.cn/{page.name}").title
            if title and title in html:
                self._templates.append((html, title))
        if not self._templates:
            raise RuntimeError(f"no saved articles under {ROLLING_CHANNEL} to publish")
        self._sentences = sorted(
            {
                s
                for html, _title in self._templates
                for text in _PARAGRAPH.findall(html)
                for s in _SENTENCE.findall(text)
                if len(s) > 8
            }
        )
        self._rng = random.Random(self._run)

    @property
    def list_path(self) -> str:
        """Return the path of the list page the crawler reads."""
        return f"{ROLLING_CHANNEL}/list/indexHome.shtml"

    @property
    def source_name(self) -> str:
        """Return the name of the source in sources_toml(), new to every run."""
        return f"bench-rolling-{self._run}"

    def start(self) -> str:
        """Serve the site on loopback (its own thread), one article already up; return its URL."""
        base = self.site.run_in_thread()
        self.publish()
        return base

    def stop(self) -> None:
        """Stop serving."""
        self.site.stop_thread()

    def sources_toml(self) -> str:
        """Return a sources.toml with this site's rolling list as the one source."""
        return (
            "[[source]]\n"
            # A name of its own per run: on PostgreSQL an earlier run's bot may still hold the
            # source's crawl lease for a while after it stopped.
            f'name = "{self.source_name}"\n'
            'title = "东北新闻网·辽宁时政要闻"\n'
            'profile = "nen"\n'
            f'lists = ["{self.site.url(self.list_path)}"]\n'
            f"interval_minutes = {CRAWL_SECONDS / 60!r}\n"
            "max_pages = 1\n"
        )

    def publish(self) -> None:
        """Put one more article up and at the top of the list page."""
        self.published += 1
        html, title = self._templates[self.published % len(self._templates)]
        fresh = f"{title}（{self._run}之{self.published}）"
        now = datetime.now(UTC) + timedelta(hours=8)
        number = 900_000_000_000_000_000 + self._run * 10_000 + self.published
        path = f"{ROLLING_CHANNEL}/{now:%Y/%m/%d}/{number}.shtml"
        # Each paragraph refilled from the pool: the same template's text twice would be a
        # reprint, which the store groups instead of indexing.
        page = _PARAGRAPH.sub(
            lambda m: m.group(0).replace(m.group(1), "".join(self._rng.sample(self._sentences, 2))),
            html.replace(title, fresh),
        )
        self.site.add_page(path, page.encode("utf-8"))
        entry = (
            f'\n<li><a href="{path}" target="_blank">{escape(fresh)}</a>'
            f'<span class="time">{now:%Y-%m-%d %H:%M}</span></li>'
        )
        self._entries = [entry, *self._entries][:ROLLING_LIST_LENGTH]
        page = _PAGER.sub("", _LIST_ENTRY.sub("", self._list_page))
        page = page.replace("<ul>", "<ul>" + "".join(self._entries), 1)
        self.site.add_page(self.list_path, page.encode("utf-8"))

    async def keep_publishing(self) -> None:
        """Publish an article every PUBLISH_SECONDS until cancelled."""
        while True:
            await asyncio.sleep(PUBLISH_SECONDS)
            self.publish()


class ChatLoad:
    """A steady stream of commands from other chats, pushed through the fake Bot API."""

    def __init__(self, api: FakeBotApi, texts: Sequence[str]) -> None:
        self.api = api
        self.texts = texts
        self.pushed: list[float] = []  # when each update was pushed (time.time())

    @property
    def chats(self) -> range:
        """Return the chat ids the load comes from."""
        return range(BUSY_FIRST_CHAT, BUSY_FIRST_CHAT + BUSY_CHATS)

    async def run(self) -> None:
        """Push BUSY_RATE updates a second on a fixed schedule (no drift) until cancelled."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        for n in itertools.count():
            await asyncio.sleep(max(0.0, started + n / BUSY_RATE - loop.time()))
            chat = self.chats[n % BUSY_CHATS]
            self.api.push_text(chat, self.texts[n % len(self.texts)])
            self.pushed.append(time.time())

    def pushed_between(self, start: float, end: float) -> int:
        """Return how many updates were pushed in this time span."""
        return sum(1 for t in self.pushed if start <= t <= end)

    def answered_between(self, start: float, end: float) -> int:
        """Return how many replies to the other chats reached the fake in this time span."""
        chats = {str(c) for c in self.chats}
        return sum(
            1
            for call in self.api.calls_to("sendMessage")
            if call.status == 200
            and start <= call.time <= end
            and str(call.params.get("chat_id")) in chats
        )


async def _drain(api: FakeBotApi, timeout: float = 60.0) -> None:
    """Wait until the bot has taken every pushed update and sent nothing for a second."""
    deadline = time.monotonic() + timeout
    sent = -1
    while time.monotonic() < deadline:
        now_sent = len(api.calls_to("sendMessage"))
        if not api.pending_updates and now_sent == sent:
            return
        sent = now_sent
        await asyncio.sleep(1.0)


@dataclass(frozen=True, slots=True)
class BusyRun:
    """The handler timings taken while the bot crawled and answered other chats."""

    timings: list[Timing]
    seconds: float  # how long the measurement took
    pushed: int  # updates from other chats pushed meanwhile
    answered: int  # replies to them that arrived meanwhile
    stored: int  # articles the crawl stored meanwhile


async def time_busy(
    db: Path | str, scratch: Path, calls: int = CALLS, warmup: int = WARMUP
) -> BusyRun:
    """Time the handlers (time_handlers) while the real bot crawls and answers other chats."""
    api = start_fake_api()
    site = RollingSite()
    try:
        site.start()
        sources = scratch / "busy-sources.toml"
        sources.write_text(site.sources_toml(), encoding="utf-8")
        counter = await open_store(db)
        try:
            archived = await counter.count_articles()
            load = ChatLoad(api, busy_texts(summary_ids(archived, SEED + 1)))
            async with running_bot(bench_settings(api, db, sources)):
                tasks = [
                    asyncio.create_task(site.keep_publishing()),
                    asyncio.create_task(load.run()),
                ]
                try:
                    # The measurement starts once the crawl has stored its first articles.
                    deadline = time.monotonic() + 60
                    while await counter.count_articles() == archived:
                        if time.monotonic() > deadline:
                            raise RuntimeError("the crawl stored nothing within 60 s")
                        await asyncio.sleep(0.2)
                    before = await counter.count_articles()
                    start = time.time()
                    timings = await time_handlers(db, calls, warmup)
                    end = time.time()
                    after = await counter.count_articles()
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    # Stopping with updates still queued would answer them from a closed store.
                    await _drain(api)
        finally:
            await counter.close()
        return BusyRun(
            timings,
            seconds=end - start,
            pushed=load.pushed_between(start, end),
            answered=load.answered_between(start, end),
            stored=after - before,
        )
    finally:
        site.stop()
        api.stop_thread()
