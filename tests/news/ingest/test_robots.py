"""robots.txt against a loopback site: obeyed for `newsbot`, cached, waited for, never a crash."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fakes.news_site import FakeNewsSite, Fault
from news.ingest.crawl import Crawler
from news.ingest.errors import RobotsDisallowed, RobotsWait
from news.ingest.fetch import Fetcher
from news.ingest.robots import ROBOTS_MAX_BYTES, RobotsCache, parse_robots
from news.models import SourceConfig
from storage.sqlite import SqliteStore

ROBOTS = b"""# the site's rules
User-agent: *
Disallow: /

User-agent: newsbot
Disallow: /private/
Allow: /
Crawl-delay: 0.3
"""
PAGE = b"<html><body><p>ok</p></body></html>"
TEXT = "text/plain; charset=utf-8"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[FakeNewsSite]:
    async with FakeNewsSite(tmp_path) as served:
        served.add_page("/news/a.html", PAGE)
        served.add_page("/news/b.html", PAGE)
        served.add_page("/private/c.html", PAGE)
        yield served


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(2.0)) as opened:
        yield opened


def fetcher(client: httpx.AsyncClient, robots: RobotsCache | None = None) -> Fetcher:
    return Fetcher(
        client,
        min_host_interval=0.0,
        attempts=1,
        robots=robots or RobotsCache(),
    )


async def test_newsbots_group_is_obeyed_and_read_once_a_day(
    site: FakeNewsSite, client: httpx.AsyncClient
) -> None:
    site.add_page("/robots.txt", ROBOTS, TEXT)
    clock = Clock()
    robots = RobotsCache(clock=clock)
    fetch = fetcher(client, robots)
    assert (await fetch.fetch(site.url("/news/a.html"))) is not None
    with pytest.raises(RobotsDisallowed, match=r"disallowed by robots\.txt"):
        await fetch.fetch(site.url("/private/c.html"))
    assert site.hits("/private/c.html") == 0
    await fetch.fetch(site.url("/news/b.html"))
    assert site.hits("/robots.txt") == 1
    clock.now += 25 * 3600  # a day later the file is read again
    await fetch.fetch(site.url("/news/a.html"))
    assert site.hits("/robots.txt") == 2


async def test_crawl_delay_paces_the_host(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.add_page("/robots.txt", ROBOTS, TEXT)
    fetch = fetcher(client)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(fetch.fetch(site.url(p)) for p in ("/news/a.html", "/news/b.html")))
    await fetch.fetch(site.url("/news/a.html"))
    # Three requests start at least 0.3 s apart (the robots.txt itself is not paced).
    assert loop.time() - started >= 0.55


async def test_a_missing_or_forbidden_robots_txt_allows_everything(
    site: FakeNewsSite, client: httpx.AsyncClient
) -> None:
    assert await fetcher(client).fetch(site.url("/private/c.html")) is not None  # 404
    site.set_fault("/robots.txt", Fault(status=403))
    assert await fetcher(client).fetch(site.url("/private/c.html")) is not None


async def test_a_failing_robots_txt_means_waiting_without_touching_the_host(
    site: FakeNewsSite, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    site.add_page("/robots.txt", ROBOTS, TEXT)
    site.set_fault("/robots.txt", Fault(status=503, fail_first=1))
    clock = Clock()
    fetch = fetcher(client, RobotsCache(clock=clock, retry=600))
    with caplog.at_level(logging.WARNING), pytest.raises(RobotsWait, match="unavailable"):
        await fetch.fetch(site.url("/news/a.html"))
    assert sum("robots.txt of" in r.getMessage() for r in caplog.records) == 1
    with pytest.raises(RobotsWait):
        await fetch.fetch(site.url("/news/b.html"))  # still waiting: nothing asked
    assert site.hits("/news/a.html") == site.hits("/news/b.html") == 0
    assert site.hits("/robots.txt") == 1
    clock.now += 601
    assert await fetch.fetch(site.url("/news/a.html")) is not None
    with pytest.raises(RobotsDisallowed):
        await fetch.fetch(site.url("/private/c.html"))


async def test_an_unreachable_host_is_waited_for() -> None:
    async with httpx.AsyncClient(timeout=httpx.Timeout(1.0)) as client:
        with pytest.raises(RobotsWait, match="unavailable"):
            await fetcher(client).fetch("http://127.0.0.1:9/news.html")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!DOCTYPE html><html><body>Disallow: /</body></html>", "text/html"),
        (b"\x00\xff\xfe garbage {{{ Disallow /private ::: \n\n\x01", TEXT),
        (b"", TEXT),
        ("User-agent: newsbot\nDisallow: /private/\n".encode("utf-16"), TEXT),
    ],
    ids=["html", "garbage", "empty", "utf16"],
)
async def test_odd_robots_files_are_one_answer_never_a_crash(
    site: FakeNewsSite, client: httpx.AsyncClient, body: bytes, content_type: str
) -> None:
    site.add_page("/robots.txt", body, content_type)
    assert await fetcher(client).fetch(site.url("/news/a.html")) is not None


async def test_a_huge_robots_txt_is_read_up_to_its_cap(
    site: FakeNewsSite, client: httpx.AsyncClient
) -> None:
    rules = b"User-agent: newsbot\nDisallow: /private/\n"
    filler = b"# " + b"x" * 1000 + b"\n"
    body = rules + filler * (3 * ROBOTS_MAX_BYTES // len(filler)) + b"Disallow: /news/\n"
    site.add_page("/robots.txt", body, TEXT)
    fetch = fetcher(client)
    assert await fetch.fetch(site.url("/news/a.html")) is not None  # the rule past the cap
    with pytest.raises(RobotsDisallowed):
        await fetch.fetch(site.url("/private/c.html"))


def test_parse_robots_takes_the_longest_match_and_wildcards() -> None:
    rules = parse_robots(b"User-agent: newsbot\nDisallow: /*.pdf$\nAllow: /a/b\nDisallow: /a\n")
    assert rules.allows("http://x.cn/a/b/c.html")
    assert not rules.allows("http://x.cn/a/z.html")
    assert not rules.allows("http://x.cn/files/f.pdf")
    assert rules.crawl_delay == 0.0
    assert parse_robots(b"User-agent: *\nCrawl-delay: 86400\n").crawl_delay == 60.0


async def test_a_disallowed_list_is_said_once_per_source_and_in_its_status(
    site: FakeNewsSite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site.add_page("/robots.txt", ROBOTS, TEXT)
    source = SourceConfig(
        name="closed",
        title="不让读",
        profile="generic",
        lists=(site.url("/private/list.html"),),
    )
    async with await SqliteStore.open(tmp_path / "r.db") as store:
        async with httpx.AsyncClient(timeout=httpx.Timeout(2.0)) as client:
            crawler = Crawler(Fetcher(client, min_host_interval=0.0), store)
            with caplog.at_level(logging.INFO):
                for _ in range(3):
                    report = await crawler.crawl(source)
        said = [
            r for r in caplog.records if r.name.startswith("news") and "robots" in r.getMessage()
        ]
        assert len(said) == 1 and said[0].levelno == logging.WARNING
        assert "closed" in said[0].getMessage()
        assert report.listed == 0 and "robots.txt" in report.errors[0]
        [status] = await store.source_statuses()
        assert "robots.txt" in status.last_error
    assert site.hits("/private/list.html") == 0
