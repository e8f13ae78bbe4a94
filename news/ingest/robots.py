"""robots.txt, per host: what the user agent `newsbot` may fetch, and how slowly.

Protego (Scrapy's parser) owns the parsing: Google's rules (longest match, `*` and `$`
wildcards, Crawl-delay), and it never raises on garbage. This module owns the fetching and
the caching: one robots.txt per host, kept a day; a missing one (any 4xx) allows everything;
a 5xx or an unreachable host means waiting, and nothing of that host is fetched until a
retry finds the file.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from protego import Protego

logger = logging.getLogger(__name__)

ROBOTS_AGENT = "newsbot"
# A robots.txt is read once a day per host (what Google does, give or take).
ROBOTS_TTL = 24 * 3600.0
# After a 5xx or an unreachable host: wait this long before asking for the file again.
ROBOTS_RETRY = 600.0
# Google reads the first 500 KiB of a robots.txt and ignores the rest; so does this.
ROBOTS_MAX_BYTES = 500 * 1024
# A Crawl-delay beyond this is taken as this (a site that asks for an hour a page means
# "rarely"; the bot still reads its list every run).
MAX_CRAWL_DELAY = 60.0


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """One host's rules as read: a parser, or None where everything is allowed."""

    parser: Protego | None
    note: str = ""  # why everything is allowed (missing, HTML…), for the log

    def allows(self, url: str) -> bool:
        """Return whether `newsbot` may fetch url."""
        return self.parser is None or bool(self.parser.can_fetch(url, ROBOTS_AGENT))

    @property
    def crawl_delay(self) -> float:
        """Return the host's Crawl-delay for `newsbot` in seconds (0 when none), capped."""
        if self.parser is None:
            return 0.0
        delay = self.parser.crawl_delay(ROBOTS_AGENT)
        if delay is None:
            return 0.0
        try:
            return max(0.0, min(float(delay), MAX_CRAWL_DELAY))
        except (TypeError, ValueError):
            return 0.0


ALLOW_ALL = RobotsRules(None, "allowed")


class RobotsUnavailable(Exception):
    """The host's robots.txt could not be read (5xx, unreachable): wait until `retry_at`."""

    def __init__(self, host: str, cause: str, retry_in: float) -> None:
        super().__init__(
            f"robots.txt of {host} unavailable ({cause}); retrying in {retry_in:.0f} s"
        )
        self.host = host
        self.cause = cause
        self.retry_in = retry_in


@dataclass(slots=True)
class _Entry:
    rules: RobotsRules | None  # None while the host's file is unavailable
    expires: float  # monotonic time the rules (or the wait) end
    cause: str = ""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def parse_robots(content: bytes, content_type: str = "") -> RobotsRules:
    """Parse a robots.txt body into rules; an HTML page or an empty file allows everything."""
    text = content[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace").lstrip("\ufeff")
    head = text.lstrip()[:200].lower()
    if "html" in content_type.lower() or head.startswith(("<!doctype", "<html", "<?xml", "<")):
        # A site that answers every path with its home page (or a soft 404) has no rules.
        return RobotsRules(None, "served as HTML: allowed")
    if not text.strip():
        return RobotsRules(None, "empty: allowed")
    return RobotsRules(Protego.parse(text))


class RobotsCache:
    """robots.txt rules per host, fetched on first use through the caller's client."""

    def __init__(
        self,
        *,
        ttl: float = ROBOTS_TTL,
        retry: float = ROBOTS_RETRY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._retry = retry
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def seed(self, origin: str, rules: RobotsRules) -> None:
        """Set a host's rules without fetching (tests, and a benchmark with politeness off)."""
        self._entries[origin] = _Entry(rules, self._clock() + self._ttl)

    async def rules(self, client: httpx.AsyncClient, url: httpx.URL) -> RobotsRules:
        """Return the rules of url's host; raise RobotsUnavailable while it must be waited for."""
        origin = origin_of(url)
        entry = self._entries.get(origin)
        if entry is None:
            entry = self._entries[origin] = _Entry(None, -1.0)
        now = self._clock()
        if entry.expires > now:
            if entry.rules is not None:
                return entry.rules
            raise RobotsUnavailable(origin, entry.cause, entry.expires - now)
        # One request per host, however many fetches start at once.
        async with entry.lock:
            now = self._clock()
            if entry.expires > now:
                if entry.rules is not None:
                    return entry.rules
                raise RobotsUnavailable(origin, entry.cause, entry.expires - now)
            try:
                entry.rules = await self._fetch(client, origin)
                entry.expires = self._clock() + self._ttl
                entry.cause = ""
                return entry.rules
            except _Unavailable as exc:
                entry.rules = None
                entry.cause = exc.cause
                entry.expires = self._clock() + self._retry
                logger.warning(
                    "robots.txt of %s unavailable (%s): nothing fetched there for %.0f s",
                    origin,
                    exc.cause,
                    self._retry,
                )
                raise RobotsUnavailable(origin, exc.cause, self._retry) from None

    async def _fetch(self, client: httpx.AsyncClient, origin: str) -> RobotsRules:
        url = origin + "/robots.txt"
        try:
            request = client.build_request("GET", url)
            response = await client.send(request, stream=True, follow_redirects=True)
        except httpx.TimeoutException:
            raise _Unavailable("timeout") from None
        except httpx.TooManyRedirects:
            return RobotsRules(None, "redirect loop: allowed")
        except httpx.HTTPError as exc:
            raise _Unavailable(" ".join(str(exc).split()) or type(exc).__name__) from None
        try:
            status = response.status_code
            if status == 429 or status >= 500:
                raise _Unavailable(f"HTTP {status}")
            if 400 <= status < 500:
                rules = RobotsRules(None, f"HTTP {status}: allowed")
            elif 200 <= status < 300:
                body = bytearray()
                try:
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) >= ROBOTS_MAX_BYTES:
                            break  # the rest is ignored, not an error
                except httpx.HTTPError as exc:
                    raise _Unavailable(f"body lost ({type(exc).__name__})") from None
                rules = parse_robots(bytes(body), response.headers.get("Content-Type", ""))
            else:
                rules = RobotsRules(None, f"HTTP {status}: allowed")
        finally:
            await response.aclose()
        logger.debug("robots.txt of %s: %s", origin, rules.note or "rules read")
        return rules


class _Unavailable(Exception):
    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def origin_of(url: httpx.URL) -> str:
    """Return scheme://host[:port] of a URL, the unit robots.txt applies to."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"
