"""Unit tests of the Fetcher on httpx.MockTransport: no sockets at all."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from news.ingest.errors import FetchError
from news.ingest.fetch import (
    DEFAULT_USER_AGENT,
    Fetcher,
    FetchResult,
    Validators,
    make_client,
    parse_retry_after,
)

Handler = (
    Callable[[httpx.Request], httpx.Response]
    | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]
)


class SleepRecorder:
    """Stand-in for asyncio.sleep that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def mock_client(handler: Handler) -> httpx.AsyncClient:
    """Build a client whose every request is answered by handler."""
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def make_fetcher(client: httpx.AsyncClient, **kwargs: object) -> Fetcher:
    """Build a Fetcher with no politeness delay and tiny, deterministic backoff.

    robots.txt is left out here (tests/news/ingest/test_robots.py has its own).
    """
    options: dict[str, object] = {
        "robots": False,
        "min_host_interval": 0.0,
        "base_delay": 0.001,
        "rng": random.Random(7),
    }
    options.update(kwargs)
    return Fetcher(client, **options)  # type: ignore[arg-type]


async def test_fetch_returns_bytes_charset_and_validators() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content="新闻".encode("gbk"),
            headers={
                "Content-Type": "text/html; charset=GBK",
                "ETag": '"abc"',
                "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT",
            },
        )

    async with mock_client(handler) as client:
        result = await make_fetcher(client).fetch("http://www.nen.com.cn/a.shtml")
    assert result == FetchResult(
        url="http://www.nen.com.cn/a.shtml",
        status=200,
        content="新闻".encode("gbk"),
        charset="gbk",  # lower-cased, as email.message does
        etag='"abc"',
        last_modified="Wed, 01 Jan 2025 00:00:00 GMT",
    )


async def test_missing_charset_is_none() -> None:
    async with mock_client(lambda r: httpx.Response(200, content=b"<p>x</p>")) as client:
        result = await make_fetcher(client).fetch("http://www.nen.com.cn/a.shtml")
    assert result is not None
    assert result.charset is None
    assert result.content == b"<p>x</p>"


async def test_retries_500_then_succeeds() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(500) if calls < 3 else httpx.Response(200, content=b"ok")

    sleep = SleepRecorder()
    async with mock_client(handler) as client:
        result = await make_fetcher(client, sleep=sleep).fetch("http://news.test/")
    assert result is not None
    assert result.content == b"ok"
    assert calls == 3
    assert len(sleep.delays) == 2


async def test_backoff_is_exponential_with_full_jitter() -> None:
    async with mock_client(lambda r: httpx.Response(503)) as client:
        sleep = SleepRecorder()
        fetcher = make_fetcher(client, sleep=sleep, attempts=5, base_delay=1.0, max_delay=3.0)
        with pytest.raises(FetchError):
            await fetcher.fetch("http://news.test/")
    ceilings = [1.0, 2.0, 3.0, 3.0]  # base * 2**n, capped by max_delay
    assert len(sleep.delays) == 4
    for delay, ceiling in zip(sleep.delays, ceilings, strict=True):
        assert 0.0 <= delay <= ceiling


async def test_gives_up_after_attempts_with_one_line_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(502)

    async with mock_client(handler) as client:
        fetcher = make_fetcher(client, sleep=SleepRecorder(), attempts=3)
        with (
            caplog.at_level(logging.WARNING, "news.ingest.fetch"),
            pytest.raises(FetchError) as info,
        ):
            await fetcher.fetch("http://news.test/x")
    assert calls == 3
    message = str(info.value)
    assert "\n" not in message
    assert "http://news.test/x" in message
    assert "HTTP 502" in message
    assert "3 attempts" in message
    assert info.value.status == 502
    assert info.value.url == "http://news.test/x"
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


@pytest.mark.parametrize("status", [404, 410, 403, 400])
async def test_no_retry_on_client_errors(status: int) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(status)

    sleep = SleepRecorder()
    async with mock_client(handler) as client:
        with pytest.raises(FetchError) as info:
            await make_fetcher(client, sleep=sleep).fetch("http://news.test/gone")
    assert calls == 1
    assert sleep.delays == []
    assert info.value.status == status
    assert f"HTTP {status}" in str(info.value)


async def test_retries_transport_errors() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("connection refused", request=request)
        if calls == 2:
            raise httpx.ReadTimeout("timed out", request=request)
        if calls == 3:
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return httpx.Response(200, content=b"ok")

    async with mock_client(handler) as client:
        result = await make_fetcher(client, sleep=SleepRecorder()).fetch("http://news.test/")
    assert result is not None
    assert calls == 4


async def test_retries_a_reset_mid_body() -> None:
    calls = 0

    async def broken_body() -> AsyncIterator[bytes]:
        yield b"<html>half"
        raise httpx.ReadError("connection reset by peer")

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(200, content=broken_body())
        return httpx.Response(200, content=b"<html>whole</html>")

    async with mock_client(handler) as client:
        result = await make_fetcher(client, sleep=SleepRecorder()).fetch("http://news.test/")
    assert result is not None
    assert result.content == b"<html>whole</html>"
    assert calls == 2


async def test_timeout_final_failure_names_the_cause() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    async with mock_client(handler) as client:
        fetcher = make_fetcher(client, sleep=SleepRecorder(), attempts=2)
        with pytest.raises(FetchError, match=r"http://news\.test/: timeout \(ConnectTimeout\)"):
            await fetcher.fetch("http://news.test/")


async def test_429_retry_after_seconds_is_honoured() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(429, headers={"Retry-After": "7"})
        return httpx.Response(200, content=b"ok")

    sleep = SleepRecorder()
    async with mock_client(handler) as client:
        await make_fetcher(client, sleep=sleep).fetch("http://news.test/")
    assert sleep.delays == [7.0]


async def test_429_retry_after_http_date_is_honoured() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})
        return httpx.Response(200, content=b"ok")

    sleep = SleepRecorder()
    async with mock_client(handler) as client:
        await make_fetcher(client, sleep=sleep).fetch("http://news.test/")
    assert len(sleep.delays) == 1
    assert 25.0 <= sleep.delays[0] <= 30.0


async def test_retry_after_is_capped() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(503, headers={"Retry-After": "86400"})
        return httpx.Response(200, content=b"ok")

    sleep = SleepRecorder()
    async with mock_client(handler) as client:
        await make_fetcher(client, sleep=sleep, max_retry_after=5.0).fetch("http://news.test/")
    assert sleep.delays == [5.0]


async def test_retry_after_really_waits_with_real_sleep() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(429, headers={"Retry-After": "1"})
        return httpx.Response(200, content=b"ok")

    async with mock_client(handler) as client:
        fetcher = make_fetcher(client, max_retry_after=0.2)  # the real asyncio.sleep
        loop = asyncio.get_running_loop()
        started = loop.time()
        await fetcher.fetch("http://news.test/")
        elapsed = loop.time() - started
    assert 0.19 <= elapsed < 2.0


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(None) is None
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 3 ") == 3.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:10 GMT", now=now) == 10.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None


async def test_size_cap_by_content_length_does_not_read_the_body() -> None:
    read = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        read = True
        yield b"x"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": "2000"}, content=body())

    async with mock_client(handler) as client:
        with pytest.raises(FetchError, match="Content-Length 2000 exceeds the 1000 byte cap"):
            await make_fetcher(client, max_bytes=1000).fetch("http://news.test/big")
    assert not read


async def test_size_cap_while_streaming_without_content_length() -> None:
    chunks_sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        while True:
            chunks_sent += 1
            yield b"x" * 100

    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        response = httpx.Response(200, content=endless())
        assert "Content-Length" not in response.headers
        return response

    async with mock_client(handler) as client:
        with pytest.raises(FetchError, match="body exceeds the 1000 byte cap"):
            await make_fetcher(client, max_bytes=1000).fetch("http://news.test/endless")
    assert chunks_sent == 11  # stopped on the first chunk past the cap
    assert calls == 1  # a too-big page is not retried


async def test_body_exactly_at_cap_is_fine() -> None:
    async with mock_client(lambda r: httpx.Response(200, content=b"y" * 1000)) as client:
        result = await make_fetcher(client, max_bytes=1000).fetch("http://news.test/")
    assert result is not None
    assert len(result.content) == 1000


async def test_follows_redirects_and_reports_final_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "/new"})
        if request.url.path == "/new":
            return httpx.Response(302, headers={"Location": "http://other.test/final"})
        return httpx.Response(200, content=b"final")

    async with mock_client(handler) as client:
        result = await make_fetcher(client).fetch("http://news.test/old")
    assert result is not None
    assert result.url == "http://other.test/final"
    assert result.content == b"final"


async def test_redirect_cap() -> None:
    hops: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hops.append(request.url.path)
        n = int(request.url.path.rsplit("/", 1)[1])
        return httpx.Response(302, headers={"Location": f"/r/{n + 1}"})

    async with mock_client(handler) as client:
        with pytest.raises(FetchError, match="more than 5 redirects"):
            await make_fetcher(client).fetch("http://news.test/r/0")
    assert len(hops) == 6  # the original request and five redirects


async def test_redirect_loop_is_a_fetch_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        target = "/b" if request.url.path == "/a" else "/a"
        return httpx.Response(302, headers={"Location": target})

    async with mock_client(handler) as client:
        with pytest.raises(FetchError, match="redirect loop"):
            await make_fetcher(client).fetch("http://news.test/a")


async def test_redirect_without_location_or_to_odd_scheme() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/nowhere":
            return httpx.Response(302)
        return httpx.Response(302, headers={"Location": "ftp://news.test/file"})

    async with mock_client(handler) as client:
        fetcher = make_fetcher(client)
        with pytest.raises(FetchError, match="without Location"):
            await fetcher.fetch("http://news.test/nowhere")
        with pytest.raises(FetchError, match="unsupported URL"):
            await fetcher.fetch("http://news.test/ftp")


async def test_conditional_get_returns_none_on_304() -> None:
    seen_headers: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_headers.append(request.headers)
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(
            200,
            content=b"list",
            headers={"ETag": '"v1"', "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"},
        )

    async with mock_client(handler) as client:
        fetcher = make_fetcher(client)
        first = await fetcher.fetch("http://news.test/list.shtml", conditional=True)
        second = await fetcher.fetch("http://news.test/list.shtml", conditional=True)
        third = await fetcher.fetch("http://news.test/list.shtml")  # unconditional
    assert first is not None
    assert first.content == b"list"
    assert second is None
    assert third is not None
    assert "If-None-Match" not in seen_headers[0]
    assert seen_headers[1]["If-None-Match"] == '"v1"'
    assert seen_headers[1]["If-Modified-Since"] == "Wed, 01 Jan 2025 00:00:00 GMT"
    assert "If-None-Match" not in seen_headers[2]
    assert fetcher.validators == {
        "http://news.test/list.shtml": Validators('"v1"', "Wed, 01 Jan 2025 00:00:00 GMT")
    }


async def test_validators_can_be_seeded() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-Modified-Since") == "Tue, 31 Dec 2024 00:00:00 GMT":
            return httpx.Response(304)
        return httpx.Response(200, content=b"list")

    async with mock_client(handler) as client:
        fetcher = make_fetcher(client)
        fetcher.validators["http://news.test/l"] = Validators(
            last_modified="Tue, 31 Dec 2024 00:00:00 GMT"
        )
        assert await fetcher.fetch("http://news.test/l", conditional=True) is None
        seeded = make_fetcher(
            client,
            validators={"http://news.test/l": Validators(None, "Tue, 31 Dec 2024 00:00:00 GMT")},
        )
        assert await seeded.fetch("http://news.test/l", conditional=True) is None


async def test_unconditional_fetches_do_not_fill_the_validator_cache() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"article", headers={"ETag": '"a"'})

    async with mock_client(handler) as client:
        fetcher = make_fetcher(client)
        await fetcher.fetch("http://news.test/article.shtml")
    assert fetcher.validators == {}


async def test_per_host_concurrency_limit() -> None:
    active: Counter[str] = Counter()
    peak: Counter[str] = Counter()

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        active[host] += 1
        peak[host] = max(peak[host], active[host])
        await asyncio.sleep(0.01)
        active[host] -= 1
        return httpx.Response(200, content=b"ok")

    async with mock_client(handler) as client:
        fetcher = make_fetcher(client, per_host_limit=2)
        urls = [f"http://a.test/{i}" for i in range(8)] + [f"http://b.test/{i}" for i in range(8)]
        results = await asyncio.gather(*(fetcher.fetch(url) for url in urls))
    assert all(result is not None for result in results)
    assert peak == Counter({"a.test": 2, "b.test": 2})


async def test_minimum_interval_between_requests_to_one_host() -> None:
    starts: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        starts.append(asyncio.get_running_loop().time())
        return httpx.Response(200, content=b"ok")

    async with mock_client(handler) as client:
        fetcher = make_fetcher(client, min_host_interval=0.05, per_host_limit=4)
        await asyncio.gather(*(fetcher.fetch(f"http://a.test/{i}") for i in range(4)))
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert len(gaps) == 3
    assert all(gap >= 0.045 for gap in gaps)


async def test_invalid_url_is_a_fetch_error() -> None:
    async with mock_client(lambda r: httpx.Response(200)) as client:
        fetcher = make_fetcher(client)
        with pytest.raises(FetchError, match="invalid URL"):
            await fetcher.fetch("mailto:editor@nen.com.cn")


async def test_body_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    secret = b"<html>SECRET-BODY-TEXT</html>"
    async with mock_client(lambda r: httpx.Response(200, content=secret)) as client:
        with caplog.at_level(logging.DEBUG, "news.ingest.fetch"):
            await make_fetcher(client).fetch("http://news.test/")
    assert any("http://news.test/" in r.getMessage() for r in caplog.records)
    assert not any("SECRET" in r.getMessage() for r in caplog.records)


async def test_make_client_defaults() -> None:
    async with make_client() as client:
        assert client.headers["User-Agent"] == DEFAULT_USER_AGENT
        assert "newsbot/0.1" in DEFAULT_USER_AGENT
        assert client.timeout.connect == 10.0
        assert client.timeout.read == 20.0
        assert client.max_redirects == 5
    async with make_client(proxy="http://127.0.0.1:3128", user_agent="other/1") as client:
        assert client.headers["User-Agent"] == "other/1"


def test_constructor_validates_arguments() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with pytest.raises(ValueError):
        Fetcher(client, attempts=0)
    with pytest.raises(ValueError):
        Fetcher(client, per_host_limit=0)
