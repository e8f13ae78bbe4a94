"""Fetch news pages politely: bounded size, capped redirects, retries with backoff, conditional GET.

Every network access of the ingestion layer goes through one `Fetcher`, which wraps one
`httpx.AsyncClient` owned by the caller (so tests can hand in a client on a `MockTransport`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import cast

import httpx

from news.ingest.errors import FetchError, RobotsDisallowed, RobotsWait
from news.ingest.robots import RobotsCache, RobotsUnavailable

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot; regional news reader)"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_GONE_STATUSES = frozenset({404, 410})


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A page fetched successfully: raw bytes plus what the headers said about them."""

    url: str  # final URL, after redirects
    status: int
    content: bytes
    charset: str | None  # declared in Content-Type (lower-cased), None when absent
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Validators:
    """The cache validators last seen for a URL, replayed on the next conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(slots=True)
class _HostState:
    semaphore: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_start: float = -math.inf
    crawl_delay: float = 0.0  # the host's robots.txt Crawl-delay, seconds


@dataclass(frozen=True, slots=True)
class _Redirect:
    location: str
    status: int


class _NotModified:
    pass


_NOT_MODIFIED = _NotModified()


class _RetryableError(Exception):
    """A transient failure of one attempt; turned into a FetchError once attempts run out."""

    def __init__(
        self, cause: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(cause)
        self.cause = cause
        self.status = status
        self.retry_after = retry_after


def make_client(
    proxy: str | None = None, user_agent: str = DEFAULT_USER_AGENT
) -> httpx.AsyncClient:
    """Create the client for news sites; the caller passes NEWSBOT_FETCH_PROXY as proxy."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(20.0, connect=10.0),
        headers={
            "User-Agent": user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
        },
        # The Fetcher follows redirects itself (per-hop politeness, loop detection); this is
        # only the cap should someone use the client directly.
        follow_redirects=False,
        max_redirects=MAX_REDIRECTS,
        proxy=proxy,
        # The proxy must come from NEWSBOT_FETCH_PROXY alone, not from a stray HTTPS_PROXY.
        trust_env=False,
    )


class Fetcher:
    """Fetch pages through one shared httpx.AsyncClient, politely and defensively."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        attempts: int = 4,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        max_retry_after: float = 60.0,
        per_host_limit: int = 2,
        min_host_interval: float = 0.5,
        max_redirects: int = MAX_REDIRECTS,
        validators: Mapping[str, Validators] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        robots: RobotsCache | bool | None = True,
    ) -> None:
        """Set up politeness; robots=True reads each host's robots.txt, False ignores it."""
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if per_host_limit < 1:
            raise ValueError("per_host_limit must be at least 1")
        self._client = client
        self._max_bytes = max_bytes
        self._attempts = attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._max_retry_after = max_retry_after
        self._per_host_limit = per_host_limit
        self._min_host_interval = min_host_interval
        self._max_redirects = max_redirects
        self._validators: dict[str, Validators] = dict(validators or {})
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._hosts: dict[str, _HostState] = {}
        if robots is True:
            robots = RobotsCache()
        self._robots: RobotsCache | None = robots or None

    @property
    def validators(self) -> dict[str, Validators]:
        """Return the live URL → validators cache (mutate it to seed or persist it)."""
        return self._validators

    async def fetch(self, url: str, *, conditional: bool = False) -> FetchResult | None:
        """Fetch url; with conditional=True return None when the server answers 304."""
        try:
            return await self._fetch(url, conditional=conditional)
        except (RobotsDisallowed, RobotsWait) as exc:
            # Said once elsewhere (per source by the caller; per host when waiting begins).
            logger.debug("%s", exc)
            raise
        except FetchError as exc:
            logger.warning("fetch failed: %s", exc)
            raise

    async def _fetch(self, url: str, *, conditional: bool) -> FetchResult | None:
        headers = self._conditional_headers(url) if conditional else {}
        current = url
        seen = {url}
        for _hop in range(self._max_redirects + 1):
            await self._obey_robots(current)
            outcome = await self._request_with_retries(current, headers)
            if isinstance(outcome, _Redirect):
                if outcome.location in seen:
                    raise FetchError(
                        f"GET {url}: redirect loop ({outcome.status} back to {outcome.location})",
                        url=url,
                        status=outcome.status,
                    )
                seen.add(outcome.location)
                current = outcome.location
                continue
            if isinstance(outcome, _NotModified):
                if not conditional:
                    raise FetchError(f"GET {url}: unexpected 304 Not Modified", url=url, status=304)
                return None
            if conditional:
                self._remember_validators(url, outcome)
            return outcome
        raise FetchError(f"GET {url}: more than {self._max_redirects} redirects", url=url)

    async def _obey_robots(self, url: str) -> None:
        """Raise unless the host's robots.txt lets `newsbot` fetch url; note its Crawl-delay."""
        if self._robots is None:
            return
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            return  # the request itself reports the bad URL
        if target.scheme not in ("http", "https") or not target.host:
            return
        try:
            rules = await self._robots.rules(self._client, target)
        except RobotsUnavailable as exc:
            raise RobotsWait(f"GET {url}: {exc}", url=url, retry_in=exc.retry_in) from None
        self._host_state(target).crawl_delay = rules.crawl_delay
        if not rules.allows(url):
            raise RobotsDisallowed(f"GET {url}: disallowed by robots.txt", url=url)

    def _conditional_headers(self, url: str) -> dict[str, str]:
        seen = self._validators.get(url)
        headers: dict[str, str] = {}
        if seen is not None:
            if seen.etag:
                headers["If-None-Match"] = seen.etag
            if seen.last_modified:
                headers["If-Modified-Since"] = seen.last_modified
        return headers

    def _remember_validators(self, url: str, result: FetchResult) -> None:
        if result.etag or result.last_modified:
            self._validators[url] = Validators(result.etag, result.last_modified)
        else:
            # A stale validator would make the server answer 304 for content we never saw.
            self._validators.pop(url, None)

    async def _request_with_retries(
        self, url: str, headers: Mapping[str, str]
    ) -> FetchResult | _Redirect | _NotModified:
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._attempt(url, headers)
            except _RetryableError as exc:
                if attempt == self._attempts:
                    raise FetchError(
                        f"GET {url}: {exc.cause} (gave up after {attempt} attempts)",
                        url=url,
                        status=exc.status,
                        transient=True,
                    ) from exc
                delay = self._backoff(attempt, exc.retry_after)
                logger.debug(
                    "GET %s: %s, retrying in %.2f s (attempt %d/%d)",
                    url,
                    exc.cause,
                    delay,
                    attempt,
                    self._attempts,
                )
                await self._sleep(delay)
        raise AssertionError("unreachable")  # the loop either returns or raises

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        # Full jitter keeps several bot instances from retrying in lockstep.
        ceiling = min(self._max_delay, self._base_delay * 2 ** (attempt - 1))
        delay = self._rng.uniform(0.0, ceiling)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self._max_retry_after))
        return delay

    async def _attempt(
        self, url: str, headers: Mapping[str, str]
    ) -> FetchResult | _Redirect | _NotModified:
        try:
            request = self._client.build_request("GET", url, headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise FetchError(f"GET {url}: invalid URL ({_one_line(exc)})", url=url) from exc
        if request.url.scheme not in ("http", "https"):
            raise FetchError(f"GET {url}: invalid URL (not http or https)", url=url)
        loop = asyncio.get_running_loop()
        async with self._host_slot(request.url):
            started = loop.time()
            try:
                response = await self._client.send(request, stream=True, follow_redirects=False)
            except httpx.TimeoutException as exc:
                raise _RetryableError(f"timeout ({type(exc).__name__})") from exc
            except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
                raise _RetryableError(f"connection error ({_one_line(exc)})") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"GET {url}: {_one_line(exc)}", url=url) from exc
            try:
                outcome = await self._handle(url, response)
            finally:
                await response.aclose()
            logger.debug(
                "GET %s -> %d (%s, %.2f s)",
                url,
                response.status_code,
                f"{len(outcome.content)} bytes" if isinstance(outcome, FetchResult) else "no body",
                loop.time() - started,
            )
            return outcome

    async def _handle(
        self, url: str, response: httpx.Response
    ) -> FetchResult | _Redirect | _NotModified:
        status = response.status_code
        if 200 <= status < 300:
            content = await self._read_capped(url, response)
            return FetchResult(
                url=str(response.url),
                status=status,
                content=content,
                charset=response.charset_encoding,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
        if status == 304:
            return _NOT_MODIFIED
        if status in _REDIRECT_STATUSES:
            location = response.headers.get("Location")
            if not location:
                raise FetchError(
                    f"GET {url}: HTTP {status} without Location", url=url, status=status
                )
            try:
                target = response.url.join(location)
            except httpx.InvalidURL as exc:
                raise FetchError(
                    f"GET {url}: bad redirect Location {location!r}", url=url, status=status
                ) from exc
            if target.scheme not in ("http", "https"):
                raise FetchError(
                    f"GET {url}: redirect to unsupported URL {location!r}", url=url, status=status
                )
            return _Redirect(str(target), status)
        if status == 429 or status >= 500:
            raise _RetryableError(
                f"HTTP {status}",
                status=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        reason = "gone" if status in _GONE_STATUSES else "client error"
        raise FetchError(f"GET {url}: HTTP {status} ({reason})", url=url, status=status)

    async def _read_capped(self, url: str, response: httpx.Response) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self._max_bytes:
            raise FetchError(
                f"GET {url}: Content-Length {int(declared)} exceeds the {self._max_bytes} byte cap",
                url=url,
            )
        chunks: list[bytes] = []
        total = 0
        try:
            # Counted after decompression, so a small gzip bomb is caught as well.
            # aiter_bytes() is an async generator (typed as a mere iterator); closing it
            # promptly when the cap is hit releases the connection instead of leaving it to GC.
            chunks_iter = cast(AsyncGenerator[bytes, None], response.aiter_bytes())
            async with aclosing(chunks_iter) as body:
                async for chunk in body:
                    total += len(chunk)
                    if total > self._max_bytes:
                        raise FetchError(
                            f"GET {url}: body exceeds the {self._max_bytes} byte cap",
                            url=url,
                        )
                    chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise _RetryableError(f"timeout reading body ({type(exc).__name__})") from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _RetryableError(f"connection lost mid-body ({_one_line(exc)})") from exc
        except httpx.DecodingError as exc:
            raise FetchError(f"GET {url}: undecodable body ({_one_line(exc)})", url=url) from exc
        return b"".join(chunks)

    def _host_state(self, url: httpx.URL) -> _HostState:
        key = f"{url.scheme}://{url.host}:{url.port or ''}"
        state = self._hosts.get(key)
        if state is None:
            state = self._hosts[key] = _HostState(asyncio.Semaphore(self._per_host_limit))
        return state

    @asynccontextmanager
    async def _host_slot(self, url: httpx.URL) -> AsyncIterator[None]:
        state = self._host_state(url)
        async with state.semaphore:
            interval = max(self._min_host_interval, state.crawl_delay)
            if interval > 0:
                # The lock serialises request starts so the interval holds between all of them.
                async with state.lock:
                    loop = asyncio.get_running_loop()
                    wait = state.last_start + interval - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    state.last_start = loop.time()
            yield


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header (delta seconds or HTTP date) into seconds, None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
