"""Crawling the demo site on loopback: every article once, and no fault stops the run.

The site is fakes/data/site (built from ../shared/corpus by tests/fixtures/build_site.py):
31 articles in three channels, one per nen.com.cn template.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fakes import SITE
from fakes.news_site import HUGE_PAGE_BYTES, FakeNewsSite, Fault
from news.ingest.crawl import Crawler
from news.ingest.fetch import Fetcher
from news.ingest.sources_file import parse_sources
from news.models import SourceConfig
from storage import StoreUnavailable
from storage.sqlite import SqliteStore

MANIFEST = json.loads((SITE / "manifest.json").read_text(encoding="utf-8"))
ARTICLES = MANIFEST["articles"]
# The site holds one story twice (许昆林周波…座谈, simplified and traditional): one story.
STORIES = len(ARTICLES) - 1


@pytest.fixture
async def site() -> AsyncIterator[FakeNewsSite]:
    async with FakeNewsSite(SITE) as served:
        yield served


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "crawl.db")
    yield opened
    await opened.close()


def sources(site: FakeNewsSite) -> tuple[SourceConfig, ...]:
    text = (SITE / "sources.toml.in").read_text(encoding="utf-8").replace("{base}", site.base_url)
    return parse_sources(text, "sources.toml", ("nen", "generic"))


async def crawl_all(site: FakeNewsSite, store: SqliteStore, **fetcher_options: object):
    async with httpx.AsyncClient(timeout=httpx.Timeout(2.0)) as client:
        fetcher = Fetcher(
            client,
            min_host_interval=0.0,
            base_delay=0.01,
            max_delay=0.05,
            **fetcher_options,  # type: ignore[arg-type]
        )
        crawler = Crawler(fetcher, store)
        return [await crawler.crawl(source) for source in sources(site)]


async def test_crawls_every_article_once_and_again_changes_nothing(
    site: FakeNewsSite, store: SqliteStore
) -> None:
    reports = await crawl_all(site, store)
    assert sum(r.new for r in reports) == len(ARTICLES)
    assert sum(r.failed for r in reports) == 0
    # Stored twice, listed once: one story of two copies (one outlet: no 也见于 line).
    stories = STORIES
    assert await store.count_articles() == stories
    listed = await store.latest_articles(100)
    assert len(listed) == stories and {a.title for a in listed} < {a["title"] for a in ARTICLES}
    copies = await store.story_outlets(a.id for a in listed)
    grouped = {o.title[:5] for c in copies.values() if len(c) > 1 for o in c}
    assert grouped == {"许昆林周波", "許昆林周波"}
    seed = next(a for a in await store.latest_articles(100) if a.title.startswith("易炼红:奋力"))
    assert "更加注重人本化" in seed.body  # from the _01.shtml continuation page
    assert await store.speakers_of(seed.id) == ["姜有为", "易炼红"]
    again = await crawl_all(site, store)
    assert sum(r.new for r in again) == 0 and sum(r.failed for r in again) == 0
    assert await store.count_articles() == stories


async def test_list_pages_use_conditional_get(site: FakeNewsSite, store: SqliteStore) -> None:
    await crawl_all(site, store)
    list_path = MANIFEST["channels"][0]["list"]
    hits_before = site.hits(list_path)
    article_hits = sum(site.hits(a["path"]) for a in ARTICLES)
    await crawl_all(site, store)
    assert site.hits(list_path) == hits_before + 1  # asked again, answered 304
    assert sum(site.hits(a["path"]) for a in ARTICLES) == article_hits  # stored: not refetched


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=500),
        Fault(status=404),
        Fault(delay=3.0),
        Fault(reset_mid_body=True),
        Fault(truncate=True),
        Fault(huge_body=HUGE_PAGE_BYTES),
        Fault(huge_body=HUGE_PAGE_BYTES, huge_content_length=False),
        Fault(redirect_loop=True),
    ],
    ids=["500", "404", "timeout", "reset", "truncated", "20MB", "20MB-chunked", "redirect-loop"],
)
async def test_a_broken_article_is_skipped_and_nothing_else_is_lost(
    site: FakeNewsSite, store: SqliteStore, fault: Fault
) -> None:
    broken = ARTICLES[0]["path"]
    site.set_fault(broken, fault)
    reports = await crawl_all(site, store, attempts=2)
    assert sum(r.failed for r in reports) == 1
    assert await store.count_articles() == STORIES - 1
    # Once the page is fixed, the next run picks it up; nothing is duplicated.
    site.clear_faults()
    reports = await crawl_all(site, store, attempts=2)
    assert sum(r.new for r in reports) == 1
    assert await store.count_articles() == STORIES


async def test_transient_500s_are_retried(site: FakeNewsSite, store: SqliteStore) -> None:
    site.set_fault(ARTICLES[1]["path"], Fault(status=503, fail_first=2))
    reports = await crawl_all(site, store, attempts=4)
    assert sum(r.failed for r in reports) == 0
    assert await store.count_articles() == STORIES


async def test_wrong_or_missing_charset_still_decodes(
    site: FakeNewsSite, store: SqliteStore
) -> None:
    gbk = next(a for a in ARTICLES if a["encoding"].lower() in ("gbk", "gb18030", "gb2312"))
    utf8 = next(a for a in ARTICLES if a["encoding"] == "utf-8")
    site.set_fault(gbk["path"], Fault(content_type="text/html; charset=utf-8"))
    site.set_fault(utf8["path"], Fault(content_type="text/html"))
    await crawl_all(site, store)
    titles = {a.title for a in await store.latest_articles(100)}
    assert gbk["title"] in titles and utf8["title"] in titles


async def test_a_list_page_whose_markup_changed_is_an_error_not_silence(
    site: FakeNewsSite, store: SqliteStore
) -> None:
    channel = MANIFEST["channels"][1]
    site.add_page(channel["list"], "<html><body><p>改版了</p></body></html>".encode())
    reports = await crawl_all(site, store)
    report = next(r for r in reports if r.source == channel["source"])
    assert report.listed == 0 and report.errors
    assert "no article links" in report.errors[0]
    status = {s.name: s for s in await store.source_statuses()}[channel["source"]]
    assert status.consecutive_failures == 1 and status.error_count == 1
    assert "no article links" in status.last_error


async def test_a_failing_list_page_is_counted_for_the_admin(
    site: FakeNewsSite, store: SqliteStore
) -> None:
    channel = MANIFEST["channels"][0]
    site.set_fault(channel["list"], Fault(status=500))
    await crawl_all(site, store, attempts=1)
    status = {s.name: s for s in await store.source_statuses()}[channel["source"]]
    assert status.consecutive_failures == 1 and "HTTP 500" in status.last_error


async def test_a_crash_mid_article_leaves_no_half_row(
    site: FakeNewsSite, store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.sqlite import store as store_module

    original = store_module.SqliteStore._write_analysis
    calls = {"n": 0}

    async def dies_on_the_third(self: SqliteStore, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise sqlite3.OperationalError("disk I/O error")
        await original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module.SqliteStore, "_write_analysis", dies_on_the_third)
    # A disk error inside the transaction is reported as the store being unavailable (main's
    # issue 15), after the rollback.
    with pytest.raises(StoreUnavailable):
        await crawl_all(site, store)
    db = store.db.db
    async with db.execute(
        "SELECT count(*) FROM articles a WHERE NOT EXISTS "
        "(SELECT 1 FROM article_urls u WHERE u.article_id = a.id) "
        "OR (a.summary = '' AND a.story_id IS NULL)"  # a reprint has no analysis of its own
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None and row[0] == 0  # every stored article is whole
