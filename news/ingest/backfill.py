"""Walk sources back in time: list pages (or an e-paper's days) down to a date, stored as it goes.

Each source has a cursor in the store, written after every list page whose articles are all
stored (or skipped for good): a run killed at any moment resumes at the page it was reading,
which is the only page fetched twice. A cursor never moves past an article that was not
stored; an article that could not be fetched for now (a timeout, a 5xx) stops the source's
walk, with one line, until the next run. On a shared database one process walks a source at
a time, under a lease.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from news.ingest.crawl import Analyser, CrawlStore, fetch_article
from news.ingest.dated import PAPER_TZ, dated_list_url, is_dated_list
from news.ingest.decode import decode_html
from news.ingest.errors import FetchError, IngestError, RobotsDisallowed
from news.ingest.fetch import Fetcher
from news.ingest.fingerprint import fingerprint
from news.ingest.sources import Profile, profile_for
from news.ingest.urls import url_key
from news.models import BackfillCursor, ListEntry, ListPage, SourceConfig
from news.nlp.analysis import analyse

logger = logging.getLogger(__name__)

# Articles of one source fetched at once (the Fetcher's per-host limit and pacing still hold).
ARTICLE_CONCURRENCY = 4
# Sources walked at once: each is its own host, paced on its own.
SOURCE_CONCURRENCY = 8
# List pages in a row that take the walk no further back in time: the list runs on (a
# calendar into the future, the same page under new numbers) and is left there.
STALE_PAGES = 30
# How long a source's lease lasts without renewal; it is renewed every third of that.
LEASE = timedelta(minutes=2)


class BackfillStore(CrawlStore, Protocol):
    """What a backfill needs from persistence beyond crawling (storage.Store provides it)."""

    @property
    def backfill(self) -> CursorStore: ...

    @property
    def leases(self) -> LeaseStore: ...


class CursorStore(Protocol):
    """The backfill cursors (storage.backfill.BackfillCursors)."""

    async def cursor(self, source: str) -> BackfillCursor | None: ...

    async def save(self, cursor: BackfillCursor) -> None: ...


class LeaseStore(Protocol):
    """Named leases shared by every instance (storage.leases.Leases)."""

    async def take(
        self, name: str, owner: str, until: datetime, now: datetime | None = None
    ) -> bool: ...

    async def release(self, name: str, owner: str) -> None: ...

    async def holder(self, name: str, now: datetime | None = None) -> str | None: ...

    async def take_over(self, name: str, dead: str, owner: str, until: datetime) -> bool: ...


@dataclass(slots=True)
class SourceResult:
    """How one source's walk ended this run."""

    source: str
    cursor: BackfillCursor | None = None
    status: str = "done"  # done, failed, busy (another process walks it)
    message: str = ""
    stored: int = 0  # articles stored by this run
    pages: int = 0  # list pages read by this run


Progress = Callable[[BackfillCursor, SourceResult], None]


class _Pause(Exception):
    """The walk stops here for now (transient trouble); the cursor stays where it is."""


@dataclass
class Backfiller:
    """Walks sources back to a date with one Fetcher into one store."""

    fetcher: Fetcher
    store: BackfillStore
    analyser: Analyser | None = None
    article_concurrency: int = ARTICLE_CONCURRENCY
    progress: Progress | None = None
    finished: Callable[[SourceResult], None] | None = None
    owner: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    )
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def run(
        self, sources: Sequence[SourceConfig], since: date, until: date
    ) -> list[SourceResult]:
        """Walk every source back to `since` (from `until`), several at once; one result each."""
        gate = asyncio.Semaphore(SOURCE_CONCURRENCY)

        async def one(source: SourceConfig) -> SourceResult:
            async with gate:
                result = await self.backfill_source(source, since, until)
            if self.finished is not None:
                self.finished(result)
            return result

        return list(await asyncio.gather(*(one(s) for s in sources)))

    async def backfill_source(self, source: SourceConfig, since: date, until: date) -> SourceResult:
        """Walk one source back to `since`, resuming at its cursor; never raises for a page."""
        result = SourceResult(source.name)
        lease = f"backfill:{source.name}"
        if not await self._take_lease(lease):
            result.status, result.message = "busy", "another process is backfilling it"
            return result
        keeper = asyncio.create_task(self._keep_lease(lease))
        try:
            await self.store.upsert_source(source.name, source.title, source.profile)
            cursor = await self._start(source, since, until)
            if cursor.done:
                result.message = f"already backfilled from {until} back to {since}"
            walk = _Walk(self, source, profile_for(source), cursor, result)
            await walk.run()
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            await self.store.leases.release(lease, self.owner)
        return result

    async def _take_lease(self, lease: str) -> bool:
        """Take a source's lease; from a killed process of this host at once, not after it."""
        if await self.store.leases.take(lease, self.owner, self.clock() + LEASE):
            return True
        holder = await self.store.leases.holder(lease)
        if holder is None or not _dead_here(holder):
            return False
        logger.info("%s: taking over from %s, a process that is gone", lease, holder)
        return await self.store.leases.take_over(lease, holder, self.owner, self.clock() + LEASE)

    async def _keep_lease(self, lease: str) -> None:
        """Renew a source's lease while its walk runs (a page may take minutes politely)."""
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            await self.store.leases.take(lease, self.owner, self.clock() + LEASE)

    async def _start(self, source: SourceConfig, since: date, until: date) -> BackfillCursor:
        """Return the cursor to go on from: the stored one for this range, else a fresh one."""
        stored = await self.store.backfill.cursor(source.name)
        now = self.clock()
        same = stored is not None and (stored.since, stored.until) == (since, until)
        if stored is not None and same and (stored.list_index < len(source.lists) or stored.done):
            return stored
        if stored is not None:
            logger.info(
                "%s: new range %s..%s (the cursor was for %s..%s): walking from the start",
                source.name,
                since,
                until,
                stored.since,
                stored.until,
            )
        cursor = BackfillCursor(
            source=source.name, since=since, until=until, started_at=now, updated_at=now
        )
        await self.store.backfill.save(cursor)
        return cursor


@dataclass
class _Walk:
    """One source's walk in one run."""

    owner: Backfiller
    source: SourceConfig
    profile: Profile
    cursor: BackfillCursor
    result: SourceResult

    async def run(self) -> None:
        try:
            while not self.cursor.done and self.cursor.list_index < len(self.source.lists):
                template = self.source.lists[self.cursor.list_index]
                if is_dated_list(template):
                    await self._walk_days(template)
                else:
                    await self._walk_pages(template)
                last = self.cursor.list_index + 1 >= len(self.source.lists)
                await self._save(
                    list_index=self.cursor.list_index + 1,
                    page_url=None,
                    page_no=0,
                    day=None,
                    done=last,
                    error="",
                )
        except _Pause as exc:
            await self._save(error=str(exc))
            self.result.status, self.result.message = "failed", str(exc)
            logger.warning("backfill %s stopped: %s", self.source.name, exc)
        else:
            self.result.status = "done"
            self.result.message = self.result.message or "done"
        self.result.cursor = self.cursor

    # --- a list walked page by page ------------------------------------------------------

    async def _walk_pages(self, first: str) -> None:
        url: str | None = self.cursor.page_url or first
        seen: set[str] = set()
        stale = 0
        while url is not None:
            if url in seen:
                self._say(f"pagination loops back to {url}: the list ends there")
                return
            seen.add(url)
            page = await self._list_page(url, first_page=self.cursor.page_no == 0)
            if page is None:
                return
            oldest_before = self.cursor.reached
            newest = await self._take_page(page)
            following = next((p for p in page.next_pages if p not in seen), None)
            await self._save(
                page_url=following, page_no=self.cursor.page_no + 1, pages=self.cursor.pages + 1
            )
            if newest is not None and newest < self.cursor.since:
                return  # the whole page is older than the range: the walk is through
            if self.cursor.reached is not None and (
                oldest_before is None or self.cursor.reached < oldest_before
            ):
                stale = 0
            else:
                stale += 1
                if stale >= STALE_PAGES:
                    self._say(f"{stale} list pages without going back in time: stopped at {url}")
                    return
            if following is None and page.next_pages:
                self._say(f"pagination loops back to {page.next_pages[0]}: the list ends there")
            url = following

    # --- a dated list (an e-paper) walked day by day ---------------------------------------

    async def _walk_days(self, template: str) -> None:
        day = self.cursor.day or self.cursor.until
        while day >= self.cursor.since:
            url: str | None = self.cursor.page_url or dated_list_url(template, day)
            seen: set[str] = set()
            first = self.cursor.page_url is None
            while url is not None and url not in seen:
                seen.add(url)
                page = await self._list_page(url, first_page=first, day=day)
                if page is None:
                    break
                await self._take_page(page, day=day)
                following = next((p for p in page.next_pages if p not in seen), None)
                await self._save(
                    page_url=following,
                    page_no=self.cursor.page_no + 1,
                    pages=self.cursor.pages + 1,
                    day=day,
                )
                url, first = following, False
            day -= timedelta(days=1)
            await self._save(day=day, page_url=None, page_no=0)

    # --- one list page ---------------------------------------------------------------------

    async def _list_page(
        self, url: str, *, first_page: bool, day: date | None = None
    ) -> ListPage | None:
        """Fetch and read a list page; None where the list ends (said in one line)."""
        try:
            fetched = await self.owner.fetcher.fetch(url)
            assert fetched is not None  # only conditional fetches answer None
            text = decode_html(fetched.content, self.source.encoding or fetched.charset)
            page = await asyncio.to_thread(self.profile.parse_list, text, fetched.url)
        except RobotsDisallowed as exc:
            raise _Pause(f"list {url}: disallowed by the site's robots.txt") from exc
        except FetchError as exc:
            if exc.transient:
                raise _Pause(f"list page: {exc}") from exc
            if day is not None and first_page and exc.status in (404, 410):
                logger.info("%s: no issue on %s (%s)", self.source.name, day, exc.status)
                return None
            if first_page and day is None:
                raise _Pause(f"list page: {exc}") from exc
            self._say(f"list page: {exc}; the list ends there")
            return None
        except IngestError as exc:
            if first_page and day is None:
                raise _Pause(f"list {url}: {exc}") from exc
            self._say(f"list {url}: {exc}; the list ends there")
            return None
        if not page.entries and not page.next_pages:
            message = f"list {url}: no article links (not a list page?)"
            if first_page and day is None:
                raise _Pause(message)
            if day is None:
                self._say(message + "; the list ends there")
            return None
        self.result.pages += 1
        return page

    async def _take_page(self, page: ListPage, day: date | None = None) -> date | None:
        """Store a page's articles in range; return the newest publication day it showed.

        Raise _Pause when an article could not be fetched for now: the page is read again
        next run, and its stored articles are skipped then.
        """
        since, until = self.cursor.since, self.cursor.until
        days: list[date] = []
        todo: list[ListEntry] = []
        for entry in page.entries:
            when = _paper_day(entry.published_at) if entry.published_at else day
            if when is not None:
                days.append(when)
                if not since <= when <= until:
                    continue
            todo.append(entry)
        keys = [url_key(e.url) for e in todo]
        known = await self.owner.store.known_url_keys(keys)
        todo = [e for e, k in zip(todo, keys, strict=True) if k not in known]
        gate = asyncio.Semaphore(self.owner.article_concurrency)
        pauses: list[str] = []

        async def one(entry: ListEntry) -> None:
            async with gate:
                when = await self._take_article(entry, pauses)
                if when is not None:
                    days.append(when)

        outcomes = await asyncio.gather(*(one(e) for e in todo), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # a database failure: nothing more is right
        if pauses:
            raise _Pause(
                f"{pauses[0]} (and {len(pauses) - 1} more)" if len(pauses) > 1 else pauses[0]
            )
        if days:
            oldest = min(days)
            reached = self.cursor.reached
            if reached is None or oldest < reached:
                self.cursor = dataclasses.replace(self.cursor, reached=max(oldest, since))
            return max(days)
        return None

    async def _take_article(self, entry: ListEntry, pauses: list[str]) -> date | None:
        """Fetch, analyse and store one article in range; return its publication day."""
        try:
            article = await fetch_article(
                self.owner.fetcher, entry.url, self.profile, encoding=self.source.encoding
            )
        except RobotsDisallowed:
            self._count(failed=1)
            return None
        except FetchError as exc:
            if exc.transient:
                pauses.append(f"{entry.url}: {exc}")
            else:
                logger.info("backfill %s skipped %s: %s", self.source.name, entry.url, exc)
                self._count(failed=1)
            return None
        except IngestError as exc:
            logger.info("backfill %s skipped %s: %s", self.source.name, entry.url, exc)
            self._count(failed=1)
            return None
        when = _paper_day(article.published_at)
        if not self.cursor.since <= when <= self.cursor.until:
            return when  # the list did not say its date; the article is out of range
        if self.owner.analyser is not None:
            analysis = await self.owner.analyser(article.title, article.paragraphs)
        else:
            analysis = await asyncio.to_thread(analyse, article.title, article.paragraphs)
        outcome = await self.owner.store.add_article(
            article,
            url_key=url_key(entry.url),
            fingerprint=fingerprint(article.title, article.body),
            source_name=self.source.name,
            analysis=analysis,
        )
        if outcome.created:
            self._count(articles=1)
            self.result.stored += 1
        return when

    # --- the cursor ------------------------------------------------------------------------

    def _count(self, *, articles: int = 0, failed: int = 0) -> None:
        self.cursor = dataclasses.replace(
            self.cursor,
            articles=self.cursor.articles + articles,
            failed=self.cursor.failed + failed,
        )

    async def _save(self, **changes: object) -> None:
        """Write the cursor with these changes and tell the progress."""
        self.cursor = dataclasses.replace(
            self.cursor,
            **changes,  # type: ignore[arg-type]
            updated_at=self.owner.clock(),
        )
        await self.owner.store.backfill.save(self.cursor)
        if self.owner.progress is not None:
            self.owner.progress(self.cursor, self.result)

    def _say(self, message: str) -> None:
        logger.info("backfill %s: %s", self.source.name, message)
        self.result.message = message


def _dead_here(owner: str) -> bool:
    """Tell whether a lease owner (host:pid:tag) is a process of this host that is gone."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def _paper_day(moment: datetime) -> date:
    """Return a publication time's day on the papers' calendar."""
    return moment.astimezone(PAPER_TZ).date()
