"""Backfill against the loopback province into a real store: to the date, once, and every fault."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from fakes.province import Province, SiteFault
from news.ingest import backfill as backfill_module
from news.ingest.backfill import Backfiller, SourceResult
from news.ingest.fetch import Fetcher
from news.ingest.sources import PROFILES
from news.ingest.sources_file import parse_sources
from news.models import SourceConfig
from storage import Store, open_store
from tests.store_sql import fetch_sql

pytestmark = pytest.mark.both_backends

END = date(2026, 11, 30)
SINCE = date(2010, 1, 1)  # before every article


@pytest.fixture
async def store(db_target: str) -> AsyncIterator[Store]:
    opened = await open_store(db_target)
    yield opened
    await opened.close()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(1.0)) as opened:
        yield opened


def sources_of(province: Province) -> dict[str, SourceConfig]:
    parsed = parse_sources(province.sources_toml(), "province", PROFILES)
    return {s.name: s for s in parsed}


def backfiller(client: httpx.AsyncClient, store: Store) -> Backfiller:
    fetcher = Fetcher(client, min_host_interval=0.0, attempts=2, base_delay=0.01, max_delay=0.02)
    return Backfiller(fetcher, store)


def expected(province: Province, key: str, since: date) -> int:
    return sum(1 for a in province.articles(key) if a.published.date() >= since)


async def stored_urls(store: Store) -> list[str]:
    return [r[0] for r in await fetch_sql(store, "SELECT url FROM articles")]


async def test_every_site_is_walked_back_to_the_date_once(
    store: Store, client: httpx.AsyncClient
) -> None:
    since = END - timedelta(days=400)
    async with Province(articles=120, years=3, per_page=5) as province:
        sources = sources_of(province)
        results = await backfiller(client, store).run(list(sources.values()), since, END)
        assert {r.status for r in results} == {"done"}, [(r.source, r.message) for r in results]
        want = sum(expected(province, key, since) for key in province.keys)
        urls = await stored_urls(store)
        assert len(urls) == len(set(urls)) == want
        # Nothing older than the date was stored, and the walk stopped near it.
        oldest = await fetch_sql(store, "SELECT min(published_at) FROM articles")
        assert str(oldest[0][0]) >= (since - timedelta(days=1)).isoformat()
        for key in province.keys:
            if key != "epaper":
                assert province.hits(key) < 2 * expected(province, key, since) + 20
        progress = {c.source: c for c in await store.backfill_progress()}
        assert set(progress) == set(sources)
        assert all(c.done and c.since == since and c.until == END for c in progress.values())
        assert sum(c.articles for c in progress.values()) == want
        # A second run of the same range has nothing to do and asks the sites nothing.
        before = {key: province.hits(key) for key in province.keys}
        again = await backfiller(client, store).run(list(sources.values()), since, END)
        assert all(r.status == "done" and r.stored == 0 for r in again)
        assert {key: province.hits(key) for key in province.keys} == before


async def test_an_e_paper_is_walked_day_by_day_over_its_holidays(
    store: Store, client: httpx.AsyncClient
) -> None:
    async with Province(articles=40, years=1, sites=("epaper",)) as province:
        days = province.issue_days()
        since = days[-1]
        source = sources_of(province)["lnrb-epaper"]
        [result] = await backfiller(client, store).run([source], since, END)
        assert result.status == "done"
        assert len(await stored_urls(store)) == 40
        # A holiday (no issue) was asked once and skipped; no day was asked twice.
        layout = [p for p in province.hit_paths("epaper") if "/layout/" in p]
        assert max(province.hit_paths("epaper")[p] for p in layout) == 1
        asked_days = {p.split("/layout/")[1][:9] for p in layout}
        assert len(asked_days) == (END - since).days + 1


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        (SiteFault(status=404), "HTTP 404"),
        (SiteFault(status=500), "HTTP 500"),
        (SiteFault(delay=3.0), "timeout"),
        (SiteFault(garbage=True), "list"),
    ],
    ids=["404", "500", "timeout", "garbage"],
)
async def test_a_broken_list_fails_its_source_in_one_line_and_keeps_the_cursor(
    store: Store, client: httpx.AsyncClient, fault: SiteFault, why: str
) -> None:
    async with Province(articles=60, years=2, per_page=5, sites=("trs", "enorth")) as province:
        province.set_fault("trs", fault)
        sources = sources_of(province)
        results = {
            r.source: r
            for r in await backfiller(client, store).run(list(sources.values()), SINCE, END)
        }
        broken, fine = results["shenyang-zwyw"], results["lnd-szyw"]
        assert broken.status == "failed" and why in broken.message
        assert "\n" not in broken.message and len(broken.message) < 400
        assert fine.status == "done" and fine.stored == 30
        cursor = await store.backfill.cursor("shenyang-zwyw")
        assert cursor is not None and cursor.page_no == 0 and not cursor.done
        assert cursor.error == broken.message
        # Fixed: the next run walks it through.
        province.set_fault("trs", None)
        [again] = await backfiller(client, store).run([sources["shenyang-zwyw"]], SINCE, END)
        assert again.status == "done" and again.stored == 30
        urls = await stored_urls(store)
        assert len(urls) == len(set(urls)) == 60


async def test_an_article_that_times_out_holds_the_cursor_at_its_page(
    store: Store, client: httpx.AsyncClient
) -> None:
    async with Province(articles=20, years=2, per_page=5, sites=("trs",)) as province:
        source = sources_of(province)["shenyang-zwyw"]
        province.set_fault("trs", SiteFault(scope="article", status=503, fail_first=100))
        [result] = await backfiller(client, store).run([source], SINCE, END)
        assert result.status == "failed" and "503" in result.message
        cursor = await store.backfill.cursor(source.name)
        assert cursor is not None and cursor.pages == 0 and cursor.articles == 0
        province.set_fault("trs", None)
        [again] = await backfiller(client, store).run([source], SINCE, END)
        assert again.status == "done" and again.stored == 20


async def test_pagination_looping_to_page_one_ends_the_list(
    store: Store, client: httpx.AsyncClient
) -> None:
    async with Province(articles=20, years=2, per_page=5, sites=("lngov",)) as province:
        province.set_fault("lngov", SiteFault(loop=True))
        source = sources_of(province)["lngov-ywdt"]
        [result] = await backfiller(client, store).run([source], date(2010, 1, 1), END)
        assert result.status == "done"
        urls = await stored_urls(store)
        assert len(urls) == len(set(urls)) == 20
        assert province.hits("lngov", "/web/ywdt/index.shtml") == 1  # page 1 not read again


async def test_a_list_that_never_ends_is_left_in_one_line(
    store: Store, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill_module, "STALE_PAGES", 3)
    async with Province(articles=20, years=2, per_page=5, sites=("trs",)) as province:
        province.set_fault("trs", SiteFault(endless=True))
        source = sources_of(province)["shenyang-zwyw"]
        [result] = await asyncio.wait_for(
            backfiller(client, store).run([source], date(2010, 1, 1), END), timeout=60
        )
        assert result.status == "done" and "without going back in time" in result.message
        urls = await stored_urls(store)
        assert len(urls) == len(set(urls))


async def test_one_process_walks_a_source_at_a_time(
    store: Store, client: httpx.AsyncClient, db_target: str
) -> None:
    other = await open_store(db_target)
    try:
        async with Province(articles=60, years=2, per_page=5, sites=("trs", "glist")) as province:
            sources = list(sources_of(province).values())
            since = SINCE
            first, second = await asyncio.gather(
                backfiller(client, store).run(sources, since, END),
                backfiller(client, other).run(sources, since, END),
            )
        by_source: dict[str, list[SourceResult]] = {}
        for result in [*first, *second]:
            by_source.setdefault(result.source, []).append(result)
        for results in by_source.values():
            statuses = sorted(r.status for r in results)
            # Either one walked while the other was told it is busy, or one ran after the other.
            assert statuses in (["busy", "done"], ["done", "done"])
            assert sum(r.stored for r in results) == 30
        urls = await stored_urls(store)
        assert len(urls) == len(set(urls)) == 60
    finally:
        await other.close()
