"""The Fetcher against a real HTTP server (FakeNewsSite) on loopback, one test per fault."""

from __future__ import annotations

import asyncio
import random
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fakes.news_site import HUGE_PAGE_BYTES, FakeNewsSite, Fault
from news.ingest.errors import FetchError
from news.ingest.fetch import DEFAULT_MAX_BYTES, DEFAULT_USER_AGENT, Fetcher, make_client

ARTICLE = "<html><head><meta charset=gbk></head><body><p>沈阳新闻</p></body></html>".encode("gbk")
PAGE = "/news/2025/a.shtml"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[FakeNewsSite]:
    """Run a fake site holding one GBK article."""
    (tmp_path / "news" / "2025").mkdir(parents=True)
    (tmp_path / "news" / "2025" / "a.shtml").write_bytes(ARTICLE)
    async with FakeNewsSite(tmp_path, default_charset="gbk") as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """Give a client with a short read timeout so timeout faults stay quick."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.3, connect=1.0), trust_env=False) as http:
        yield http


def fetcher_for(client: httpx.AsyncClient, **kwargs: object) -> Fetcher:
    """Build a Fetcher with tiny retry delays and no politeness delay."""
    options: dict[str, object] = {
        "attempts": 3,
        "base_delay": 0.001,
        "min_host_interval": 0.0,
        "rng": random.Random(1),
    }
    options.update(kwargs)
    return Fetcher(client, **options)  # type: ignore[arg-type]


async def test_plain_fetch(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    result = await fetcher_for(client).fetch(site.url(PAGE))
    assert result is not None
    assert result.url == site.url(PAGE)
    assert result.status == 200
    assert result.content == ARTICLE
    assert result.charset == "gbk"
    assert result.etag is not None
    assert result.last_modified is not None


async def test_make_client_against_the_site(site: FakeNewsSite) -> None:
    async with make_client() as client:
        result = await fetcher_for(client).fetch(site.url(PAGE))
    assert result is not None
    assert site.last_request_headers(PAGE)["User-Agent"] == DEFAULT_USER_AGENT


async def test_500s_then_success(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault(PAGE, Fault(status=500, fail_first=2))
    result = await fetcher_for(client).fetch(site.url(PAGE))
    assert result is not None
    assert result.content == ARTICLE
    assert site.hits(PAGE) == 3


async def test_500s_forever(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault(PAGE, Fault(status=500))
    with pytest.raises(FetchError, match=r"HTTP 500 \(gave up after 3 attempts\)") as info:
        await fetcher_for(client).fetch(site.url(PAGE))
    assert info.value.status == 500
    assert site.hits(PAGE) == 3


@pytest.mark.parametrize("status", [404, 410])
async def test_gone_is_not_retried(
    site: FakeNewsSite, client: httpx.AsyncClient, status: int
) -> None:
    site.set_fault(PAGE, Fault(status=status))
    with pytest.raises(FetchError) as info:
        await fetcher_for(client).fetch(site.url(PAGE))
    assert info.value.status == status
    assert site.hits(PAGE) == 1


async def test_429_retry_after(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)

    site.set_fault(PAGE, Fault(status=429, retry_after="2", fail_first=1))
    result = await fetcher_for(client, sleep=sleep).fetch(site.url(PAGE))
    assert result is not None
    assert delays == [2.0]
    assert site.hits(PAGE) == 2


async def test_timeout_then_success(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault(PAGE, Fault(delay=5.0, fail_first=1))
    result = await fetcher_for(client).fetch(site.url(PAGE))
    assert result is not None
    assert result.content == ARTICLE
    assert site.hits(PAGE) == 2


async def test_timeouts_forever(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault(PAGE, Fault(delay=5.0))
    with pytest.raises(FetchError, match=r"timeout \(ReadTimeout\) \(gave up after 2 attempts\)"):
        await fetcher_for(client, attempts=2).fetch(site.url(PAGE))
    assert site.hits(PAGE) == 2


async def test_connection_reset_then_success(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.add_page("/big.shtml", b"<p>" + b"x" * 200_000 + b"</p>")
    site.set_fault("/big.shtml", Fault(reset_mid_body=True, fail_first=1))
    result = await fetcher_for(client).fetch(site.url("/big.shtml"))
    assert result is not None
    assert len(result.content) == 200_007
    assert site.hits("/big.shtml") == 2


async def test_connection_resets_forever(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.add_page("/big.shtml", b"<p>" + b"x" * 200_000 + b"</p>")
    site.set_fault("/big.shtml", Fault(reset_mid_body=True))
    with pytest.raises(FetchError, match="connection") as info:
        await fetcher_for(client).fetch(site.url("/big.shtml"))
    assert "gave up after 3 attempts" in str(info.value)
    assert site.hits("/big.shtml") == 3


async def test_truncated_html(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault(PAGE, Fault(truncate=True))
    with pytest.raises(FetchError, match="mid-body"):
        await fetcher_for(client).fetch(site.url(PAGE))
    assert site.hits(PAGE) == 3


async def test_truncated_html_then_whole(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault(PAGE, Fault(truncate=True, fail_first=1))
    result = await fetcher_for(client).fetch(site.url(PAGE))
    assert result is not None
    assert result.content == ARTICLE


@pytest.mark.parametrize("declare_length", [True, False])
async def test_20_mb_page_is_refused_without_memory_spike(
    site: FakeNewsSite, client: httpx.AsyncClient, declare_length: bool
) -> None:
    site.set_fault(
        "/huge.html", Fault(huge_body=HUGE_PAGE_BYTES, huge_content_length=declare_length)
    )
    fetcher = fetcher_for(client)
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        with pytest.raises(FetchError, match="byte cap"):
            await fetcher.fetch(site.url("/huge.html"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # At most the 5 MB cap plus buffers, never the 20 MB page.
    assert peak - baseline < DEFAULT_MAX_BYTES + 4 * 1024 * 1024
    assert site.hits("/huge.html") == 1  # too big is final, not retried


async def test_redirect_loop(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault("/loop.shtml", Fault(redirect_loop=True))
    with pytest.raises(FetchError, match="redirect loop"):
        await fetcher_for(client).fetch(site.url("/loop.shtml"))
    site.set_fault("/a.shtml", Fault(redirect_to="/b.shtml"))
    site.set_fault("/b.shtml", Fault(redirect_to="/a.shtml"))
    with pytest.raises(FetchError, match="redirect loop"):
        await fetcher_for(client).fetch(site.url("/a.shtml"))


async def test_redirect_chain_longer_than_cap(
    site: FakeNewsSite, client: httpx.AsyncClient
) -> None:
    for n in range(7):
        site.set_fault(f"/r{n}", Fault(redirect_to=f"/r{n + 1}"))
    with pytest.raises(FetchError, match="more than 5 redirects"):
        await fetcher_for(client).fetch(site.url("/r0"))
    assert site.hits("/r5") == 1
    assert site.hits("/r6") == 0


async def test_redirect_to_another_path(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault("/old.shtml", Fault(redirect_to=PAGE))
    result = await fetcher_for(client).fetch(site.url("/old.shtml"))
    assert result is not None
    assert result.url == site.url(PAGE)
    assert result.content == ARTICLE


async def test_wrong_charset_keeps_bytes_intact(
    site: FakeNewsSite, client: httpx.AsyncClient
) -> None:
    site.set_fault(PAGE, Fault(content_type="text/html; charset=utf-8"))
    result = await fetcher_for(client).fetch(site.url(PAGE))
    assert result is not None
    assert result.content == ARTICLE  # GBK bytes, untouched
    assert result.charset == "utf-8"  # what was declared, wrong as it is


async def test_missing_charset_is_none(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_charset(PAGE, None)
    result = await fetcher_for(client).fetch(site.url(PAGE))
    assert result is not None
    assert result.content == ARTICLE
    assert result.charset is None


async def test_conditional_get(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.add_page("/list.shtml", b"<ul><li>one</li></ul>")
    fetcher = fetcher_for(client)
    first = await fetcher.fetch(site.url("/list.shtml"), conditional=True)
    assert first is not None
    assert await fetcher.fetch(site.url("/list.shtml"), conditional=True) is None
    site.add_page("/list.shtml", b"<ul><li>one</li><li>two</li></ul>")
    changed = await fetcher.fetch(site.url("/list.shtml"), conditional=True)
    assert changed is not None
    assert changed.content.count(b"<li>") == 2
    assert site.hits("/list.shtml") == 3


async def test_politeness_delay_on_a_real_server(
    site: FakeNewsSite, client: httpx.AsyncClient
) -> None:
    fetcher = fetcher_for(client, min_host_interval=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(fetcher.fetch(site.url(PAGE)) for _ in range(3)))
    assert loop.time() - started >= 0.09
    assert site.hits(PAGE) == 3
