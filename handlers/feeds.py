"""Atom feeds for readers outside Telegram: latest, per source, per speaker, per search."""

# `feed_routes(bot_data)` returns aiohttp routes: the feed listener (NEWSBOT_FEEDS_LISTEN) serves
# them alone, and a webhook listener can add them to its own application. Feeds are built with
# feedgen from the store; each answer carries an ETag and a Last-Modified computed before the feed
# is built, so a conditional GET that matches costs two queries and no XML.

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web
from feedgen.feed import FeedGenerator

from handlers.context import BotData
from handlers.render import also_in, shorten
from handlers.search import MAX_QUERY_CHARS, parse_search
from news.models import Article, Person
from news.nlp.people import normalize_name

logger = logging.getLogger(__name__)

MAX_ENTRIES = 50
MAX_NAME_CHARS = 30
# Rendered feeds kept, one per feed a few readers poll.
RENDERED_FEEDS_KEPT = 64
# Readers poll; between crawls nothing changes, and a 304 is cheaper still.
CACHE_CONTROL = "public, max-age=300"
ATOM_TYPE = "application/atom+xml"
SITE_URL = "https://www.nen.com.cn/"
FEED_VERSION = "1"  # part of every ETag: bump when the feed's layout changes
EMPTY_FEED_UPDATED = datetime(
    2000, 1, 1, tzinfo=UTC
)  # a fixed time keeps an empty feed's ETag true


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One article as a feed shows it."""

    article: Article
    summary: str
    speakers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed's identity and entries, before it is written as XML."""

    feed_id: str
    title: str
    self_url: str
    entries: tuple[FeedEntry, ...]

    @property
    def updated(self) -> datetime:
        """Return the newest entry's update time (a fixed time for an empty feed)."""
        return max((entry_updated(e.article) for e in self.entries), default=EMPTY_FEED_UPDATED)

    @property
    def etag(self) -> str:
        """Return a strong ETag over everything the XML is built from."""
        parts = [FEED_VERSION, self.feed_id, self.title, self.self_url]
        for e in self.entries:
            a = e.article
            parts += [str(a.id), a.url, a.title, a.source, e.summary, *e.speakers, *a.also]
            parts.append(entry_updated(a).isoformat())
        digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()
        return f'"{digest[:32]}"'


def entry_updated(article: Article) -> datetime:
    """Return when an entry last changed: when it was fetched, never before it was published."""
    return max(article.published_at, article.fetched_at)


def entry_id(article: Article) -> str:
    """Return a stable tag: URI for an article, from its canonical URL and publication day."""
    parts = urlsplit(article.url)
    day = article.published_at.astimezone(UTC).strftime("%Y-%m-%d")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"tag:{parts.hostname or 'newsbot'},{day}:{path or '/'}"


def render_atom(feed: Feed, tz: ZoneInfo) -> bytes:
    """Write a feed as Atom 1.0 XML (CPU work: run it in a thread)."""
    generator = FeedGenerator()
    generator.id(feed.feed_id)
    generator.title(feed.title)
    generator.link(href=feed.self_url, rel="self", type=ATOM_TYPE)
    generator.link(href=SITE_URL, rel="alternate", type="text/html")
    generator.author(name="东北新闻网")
    generator.language("zh-CN")
    generator.generator("newsbot")
    generator.updated(feed.updated.astimezone(tz))
    for item in feed.entries:
        article = item.article
        entry = generator.add_entry(order="append")
        entry.id(entry_id(article))
        entry.title(article.title)
        entry.link(href=article.url, rel="alternate", type="text/html")
        entry.published(article.published_at.astimezone(tz))
        entry.updated(entry_updated(article).astimezone(tz))
        entry.author(name=article.source or "东北新闻网")
        also = also_in(article.also, "zh")
        entry.summary(f"{item.summary}\n{also}" if also else item.summary)
        if article.source:
            entry.category(term=article.source, scheme="urn:newsbot:source", label="来源")
        for name in item.speakers:
            entry.category(term=name, scheme="urn:newsbot:speaker", label="讲话")
    xml: bytes = generator.atom_str(pretty=False)
    return xml


def not_modified(request: web.Request, feed: Feed) -> bool:
    """Return True if the client's copy is current (If-None-Match first, as RFC 9110 says)."""
    tags = request.headers.get("If-None-Match")
    if tags is not None:
        wanted = {t.strip().removeprefix("W/") for t in tags.split(",")}
        return "*" in wanted or feed.etag in wanted
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False  # an unreadable date is ignored, as the RFC says
    if moment.tzinfo is None:
        return False
    return feed.updated.replace(microsecond=0) <= moment


def _plain_error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=message + "\n")


class FeedHandlers:
    """The aiohttp handlers of every feed, reading the store through bot_data."""

    def __init__(self, bot_data: BotData) -> None:
        self.bot_data = bot_data
        # The XML of the feeds served last, by ETag: readers poll the same feeds, and between
        # crawls a feed's entries, hence its ETag and its XML, stay the same.
        self._rendered: OrderedDict[str, bytes] = OrderedDict()

    async def _entries(self, articles: Sequence[Article]) -> tuple[FeedEntry, ...]:
        store = self.bot_data.store
        ids = [a.id for a in articles]
        summaries = await store.article_summaries(ids)
        speakers = await store.speakers_of_articles(ids)
        return tuple(
            FeedEntry(a, summaries.get(a.id) or shorten(a.body, 200), tuple(speakers.get(a.id, [])))
            for a in articles
        )

    async def _respond(self, request: web.Request, feed: Feed) -> web.StreamResponse:
        headers = {
            "ETag": feed.etag,
            "Cache-Control": CACHE_CONTROL,
            "Last-Modified": format_datetime(feed.updated.astimezone(UTC), usegmt=True),
        }
        if not_modified(request, feed):
            return web.Response(status=304, headers=headers)
        body = self._rendered.get(feed.etag)
        if body is None:
            body = await asyncio.to_thread(render_atom, feed, self.bot_data.tz)
            self._rendered[feed.etag] = body
            if len(self._rendered) > RENDERED_FEEDS_KEPT:
                self._rendered.popitem(last=False)
        else:
            self._rendered.move_to_end(feed.etag)
        return web.Response(body=body, headers=headers, content_type=ATOM_TYPE, charset="utf-8")

    async def latest(self, request: web.Request) -> web.StreamResponse:
        """Serve /feeds/latest.atom: the 50 newest articles."""
        articles = await self.bot_data.store.latest_articles(MAX_ENTRIES)
        entries = await self._entries(articles)
        feed = Feed("urn:newsbot:feed:latest", "东北新闻网 · 最新新闻", str(request.url), entries)
        return await self._respond(request, feed)

    async def source(self, request: web.Request) -> web.StreamResponse:
        """Serve /feeds/source/NAME.atom: the newest articles one configured source found."""
        name = request.match_info["name"]
        titles = {s.name: s.title for s in self.bot_data.sources}
        store = self.bot_data.store
        if name not in titles and name not in await store.source_names():
            raise _plain_error(web.HTTPNotFound, f"no source called {name!r}")
        articles = await store.latest_articles_of_source(name, MAX_ENTRIES)
        feed = Feed(
            f"urn:newsbot:feed:source:{name}",
            titles.get(name) or name,
            str(request.url),
            await self._entries(articles),
        )
        return await self._respond(request, feed)

    async def _person(self, raw: str) -> Person | None:
        """Return the person a name (simplified or traditional) or an unambiguous pinyin means."""
        if not raw or len(raw) > MAX_NAME_CHARS:
            return None
        store = self.bot_data.store
        if raw.isascii():
            letters = re.sub(r"[^a-z]", "", raw.lower())
            by_sound = await store.people_by_pinyin(letters) if letters else []
            return by_sound[0] if len(by_sound) == 1 else None
        name = normalize_name(raw)
        return await store.person_by_name(name) if name else None

    async def speaker(self, request: web.Request) -> web.StreamResponse:
        """Serve /feeds/speaker/NAME.atom: the newest articles where that person spoke."""
        raw = request.match_info["name"]
        person = await self._person(raw)
        if person is None:
            raise _plain_error(web.HTTPNotFound, f"nobody called {raw!r} is known")
        statements = await self.bot_data.store.person_statements(person.id, MAX_ENTRIES)
        feed = Feed(
            f"urn:newsbot:feed:speaker:{person.name}",
            f"东北新闻网 · {person.name} 的讲话",
            str(request.url),
            await self._entries([s.article for s in statements]),
        )
        return await self._respond(request, feed)

    async def search(self, request: web.Request) -> web.StreamResponse:
        """Serve /feeds/search.atom?q=WORDS: the newest articles containing every word."""
        raw = request.query.get("q", "")
        parsed = parse_search(raw, self.bot_data.tz)
        if parsed is None:
            raise _plain_error(
                web.HTTPBadRequest,
                f"q must be 1-8 words, {MAX_QUERY_CHARS} characters at most, with an optional "
                "date range such as 2023-01..2024-06",
            )
        hits, _total = await self.bot_data.store.search_articles(
            list(parsed.words), since=parsed.since, until=parsed.until, limit=MAX_ENTRIES
        )
        feed = Feed(
            f"urn:newsbot:feed:search:{' '.join(raw.split())}",
            f"东北新闻网 · 搜索“{shorten(raw, 60)}”",
            str(request.url),
            await self._entries([h.article for h in hits]),
        )
        return await self._respond(request, feed)

    async def said(self, request: web.Request) -> web.StreamResponse:
        """Serve /feeds/said/NAME.atom?q=WORDS: that person's newest statements holding every
        word (as /said), each entry's summary the statement."""
        raw = request.match_info["name"]
        person = await self._person(raw)
        if person is None:
            raise _plain_error(web.HTTPNotFound, f"nobody called {raw!r} is known")
        words = request.query.get("q", "")
        parsed = parse_search(words, self.bot_data.tz)
        if parsed is None:
            raise _plain_error(
                web.HTTPBadRequest,
                f"q must be 1-8 words, {MAX_QUERY_CHARS} characters at most, with an optional "
                "date range such as 2018..2020",
            )
        found, _more = await self.bot_data.store.person_said(
            person.id,
            list(parsed.words),
            since=parsed.since,
            until=parsed.until,
            limit=MAX_ENTRIES,
        )
        entries = await self._entries([s.article for s in found])
        feed = Feed(
            f"urn:newsbot:feed:said:{person.name}:{' '.join(words.split())}",
            f"东北新闻网 · {person.name}说过“{shorten(words, 60)}”",
            str(request.url),
            tuple(replace(e, summary=s.statement) for e, s in zip(entries, found, strict=True)),
        )
        return await self._respond(request, feed)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def feed_routes(bot_data: BotData) -> list[web.RouteDef]:
    """Return the feed routes (GET, and HEAD), for the feed listener or a webhook app to add."""
    handlers = FeedHandlers(bot_data)
    routes: list[tuple[str, Handler]] = [
        ("/feeds/latest.atom", handlers.latest),
        ("/feeds/source/{name}.atom", handlers.source),
        ("/feeds/speaker/{name}.atom", handlers.speaker),
        ("/feeds/search.atom", handlers.search),
        ("/feeds/said/{name}.atom", handlers.said),
    ]
    return [web.get(path, handler) for path, handler in routes]
