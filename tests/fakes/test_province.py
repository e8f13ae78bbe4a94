"""The loopback province: the catalogue's sources crawled on loopback, and each fault's effect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from fakes.province import SITES, Province, SiteFault
from news.ingest.crawl import Crawler
from news.ingest.dated import dated_list_url, paper_today
from news.ingest.fetch import Fetcher
from news.ingest.sources import PROFILES
from news.ingest.sources.boilerplate import SHANGHAI
from news.ingest.sources_file import parse_sources
from news.models import CrawlReport, SourceConfig
from storage.sqlite import SqliteStore

PER_PAGE = 10


@pytest.fixture
async def province() -> AsyncIterator[Province]:
    # Today's issue exists, so a crawl (which reads today's and yesterday's e-paper) finds it.
    async with Province(
        articles=140, per_page=PER_PAGE, end=paper_today(), holidays=frozenset()
    ) as served:
        yield served


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "province.db")
    yield opened
    await opened.close()


def sources(province: Province, max_pages: int = 2) -> dict[str, SourceConfig]:
    parsed = parse_sources(province.sources_toml(max_pages=max_pages), "province", PROFILES)
    return {source.name: source for source in parsed}


async def crawl(store: SqliteStore, source: SourceConfig, timeout: float = 2.0) -> CrawlReport:
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout)) as client:
        fetcher = Fetcher(client, min_host_interval=0.0, base_delay=0.01, max_delay=0.05)
        return await Crawler(fetcher, store).crawl(source)


def test_sites_are_seven_families_of_the_catalogue() -> None:
    assert len({site.key for site in SITES}) >= 5
    province = Province(articles=70)
    assert {province.source_name(key) for key in province.keys} == {
        "lngov-ywdt", "lnrb-epaper", "shenyang-zwyw", "lnd-szyw", "dlxww", "anshan-jras",
        "fushun-jrfs",
    }  # fmt: skip


def test_twenty_thousand_articles_over_ten_years_deterministically() -> None:
    province = Province(articles=20_000)
    assert province.article_count() == 20_000
    newest = min(province.article("trs", 0).published, province.article("lngov", 0).published)
    oldest = province.article("trs", province.article_count("trs") - 1).published
    assert (newest - oldest).days >= 9 * 365
    again = Province(articles=20_000)
    assert again.article("founder", 1234) == province.article("founder", 1234)
    days = province.issue_days()
    assert len(days) == len(set(days))
    assert date(2025, 10, 1) not in days  # a holiday: no issue


async def test_every_site_crawls_with_the_catalogue_families(
    province: Province, store: SqliteStore
) -> None:
    for key in province.keys:
        source = sources(province)[province.source_name(key)]
        report = await crawl(store, source)
        assert report.failed == 0, (key, report.errors)
        # Two list pages; the e-paper reads today's and yesterday's issue, and Enorth's second
        # "page" is its page-count script.
        expected = {"epaper": 4, "enorth": PER_PAGE}.get(key, 2 * PER_PAGE)
        assert report.new == expected, (key, report)
        stored = {a.url: a for a in await store.latest_articles(500)}
        newest = province.article(key, 0)
        article = stored[province.article_url(key, 0)]
        assert article.title == newest.title
        assert article.source == newest.source
        local = article.published_at.astimezone(SHANGHAI).replace(tzinfo=None)
        if key == "epaper":
            assert local.date() == newest.published.date()  # the e-paper prints only its date
        else:
            assert local == newest.published
        speakers = await store.speakers_of(article.id)
        assert newest.title.split("在", 1)[0] in speakers


async def test_second_crawl_stores_nothing_twice(province: Province, store: SqliteStore) -> None:
    source = sources(province)["shenyang-zwyw"]
    await crawl(store, source)
    again = await crawl(store, source)
    assert again.new == 0 and again.failed == 0
    assert await store.count_articles() == 2 * PER_PAGE


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (SiteFault(status=404), "404"),
        (SiteFault(status=500), "500"),
        (SiteFault(garbage=True), "cannot decode"),
        (SiteFault(delay=5.0), "list"),
    ],
)
async def test_a_broken_list_ends_the_crawl_with_one_line(
    province: Province, store: SqliteStore, fault: SiteFault, words: str
) -> None:
    province.set_fault("lngov", fault)
    report = await crawl(store, sources(province)["lngov-ywdt"], timeout=0.5)
    assert report.new == 0 and report.listed == 0
    assert report.errors and words in report.errors[0]
    assert all("\n" not in error for error in report.errors)


async def test_pagination_looping_back_to_page_one_is_not_followed(
    province: Province, store: SqliteStore
) -> None:
    for key in ("lngov", "trs", "founder", "glist", "epoint"):
        province.set_fault(key, SiteFault(loop=True))
        source = sources(province, max_pages=20)[province.source_name(key)]
        report = await crawl(store, source)
        assert report.new == province.article_count(key), (key, report)
        hits = province.hit_paths(key)
        assert max(hits.values()) <= 2, (key, hits)  # the first page at most twice (/ and index)


async def test_a_list_that_never_ends_stops_at_max_pages(
    province: Province, store: SqliteStore
) -> None:
    province.set_fault("glist", SiteFault(endless=True))
    report = await crawl(store, sources(province, max_pages=6)["anshan-jras"])
    assert report.new == province.article_count("glist")
    # Six list pages, each article once, and the site's robots.txt.
    assert province.hits("glist") - province.hits(
        "glist", "/robots.txt"
    ) <= 6 + province.article_count("glist")
    assert province.hits("glist", "/robots.txt") == 1


async def test_epaper_days_holidays_and_an_endless_calendar(province: Province) -> None:
    base = province.list_url("epaper")
    today = paper_today()
    async with httpx.AsyncClient() as client:
        assert (await client.get(dated_list_url(base, today))).status_code == 200
        future = dated_list_url(base, today + timedelta(days=30))
        assert (await client.get(future)).status_code == 404
        province.set_fault("epaper", SiteFault(endless=True))
        answer = await client.get(future)
        assert answer.status_code == 200 and "content_" not in answer.text
    with_holiday = Province(articles=20, end=date(2026, 10, 5))
    async with with_holiday, httpx.AsyncClient() as client:
        base = with_holiday.list_url("epaper")
        assert (await client.get(dated_list_url(base, date(2026, 10, 2)))).status_code == 404
        assert (await client.get(dated_list_url(base, date(2026, 10, 4)))).status_code == 200


async def test_robots_txt_is_served_when_set(province: Province) -> None:
    async with httpx.AsyncClient() as client:
        url = province.base_url("trs") + "/robots.txt"
        assert (await client.get(url)).status_code == 404
        province.set_robots("trs", "User-agent: *\nDisallow: /zwgk/\nCrawl-delay: 3\n")
        answer = await client.get(url)
        assert answer.status_code == 200 and "Crawl-delay: 3" in answer.text
        assert province.hits("trs", "/robots.txt") == 2


async def test_catalogue_urls_rewrite_to_loopback(province: Province) -> None:
    url = "https://www.shenyang.gov.cn/zwgk/zwdt/zwyw/"
    assert province.rewrite(url) == province.base_url("trs") + "/zwgk/zwdt/zwyw/"
    assert province.rewrite("https://elsewhere.cn/x") == "https://elsewhere.cn/x"


async def test_a_crawl_takes_an_epaper_holiday_quietly(store: SqliteStore) -> None:
    today = paper_today()
    async with Province(articles=70, end=today, holidays=frozenset({today})) as province:
        source = sources(province)["lnrb-epaper"]
        report = await crawl(store, source)
        assert report.errors == [] and report.new == 2  # yesterday's issue only
    gone = frozenset({today, today - timedelta(days=1)})
    async with Province(articles=70, end=today - timedelta(days=5), holidays=gone) as province:
        report = await crawl(store, sources(province)["lnrb-epaper"])
        assert report.new == 0
        assert [e.split(": ", 1)[1] for e in report.errors] == ["no issue on the last 2 days"]
