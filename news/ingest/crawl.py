"""Crawl one source: list pages, then new article URLs, fetch, decode, parse, store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from news.ingest.dated import is_dated_list, recent_list_urls
from news.ingest.decode import decode_html
from news.ingest.errors import FetchError, IngestError, ParseError, RobotsDisallowed
from news.ingest.fetch import Fetcher, Validators
from news.ingest.fingerprint import fingerprint
from news.ingest.sources import Profile, profile_for
from news.ingest.urls import url_key
from news.models import (
    ArticleAnalysis,
    CrawlReport,
    ListEntry,
    ParsedArticle,
    SourceConfig,
    StoreOutcome,
)
from news.nlp.analysis import analyse

logger = logging.getLogger(__name__)

# Articles of one source fetched at once; the Fetcher's per-host limit still applies.
ARTICLE_CONCURRENCY = 4
# What _one_list_page answers for a dated list page that does not exist (no issue that day).
_MISSING = "\x00missing"
# Continuation pages (_01.shtml, _02.shtml …) followed for one article at most.
MAX_CONTINUATION_PAGES = 20


class CrawlStore(Protocol):
    """What crawling needs from persistence (storage.Store provides it)."""

    async def upsert_source(self, name: str, title: str, profile: str) -> None: ...

    async def known_url_keys(self, keys: list[str]) -> set[str]: ...

    async def add_article(
        self,
        article: ParsedArticle,
        *,
        url_key: str,
        fingerprint: str,
        source_name: str | None,
        fetched_at: datetime | None = None,
        analysis: ArticleAnalysis | None = None,
    ) -> StoreOutcome: ...

    async def list_validators(self, url: str) -> tuple[str | None, str | None]: ...

    async def save_list_validators(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> None: ...

    async def record_source_success(self, name: str, at: datetime | None = None) -> None: ...

    async def record_source_error(
        self, name: str, error: str, at: datetime | None = None
    ) -> None: ...


ProgressCallback = Callable[[str, int, int], None]  # (source, done, total)
Analyser = Callable[[str, Sequence[str]], Awaitable[ArticleAnalysis]]


@dataclass
class Crawler:
    """Crawls sources with one Fetcher into one store."""

    fetcher: Fetcher
    store: CrawlStore
    article_concurrency: int = ARTICLE_CONCURRENCY
    progress: ProgressCallback | None = None
    # Where articles are analysed: the bot passes its worker process's; else a thread here.
    analyser: Analyser | None = None
    # Sources whose robots.txt forbids a list page, said once in the log (not every run).
    robots_said: set[str] = field(default_factory=set)

    async def crawl(self, source: SourceConfig) -> CrawlReport:
        """Crawl one source once and return its counts; never raises for a bad page."""
        report = CrawlReport(source=source.name)
        profile = profile_for(source)
        await self.store.upsert_source(source.name, source.title, source.profile)
        validators: dict[str, tuple[str | None, str | None]] = {}
        try:
            entries = await self._list_entries(source, profile, report, validators)
            await self._ingest_entries(source, profile, entries, report)
        except IngestError as exc:  # pragma: no cover - every step catches its own errors
            report.errors.append(str(exc))
        await self._settle_validators(validators, keep=report.failed == 0)
        if report.run_failed:
            await self.store.record_source_error(source.name, report.errors[-1])
        else:
            await self.store.record_source_success(source.name)
            if report.errors:
                # The run went through but something needs an admin's eye (a list page that
                # suddenly yields nothing is a changed template, not a quiet day).
                await self.store.record_source_error(source.name, report.errors[-1])
        logger.info(
            "crawled %s: listed %d, new %d, duplicate %d, failed %d",
            source.name,
            report.listed,
            report.new,
            report.duplicate,
            report.failed,
        )
        return report

    async def _settle_validators(
        self, validators: dict[str, tuple[str | None, str | None]], *, keep: bool
    ) -> None:
        """Remember list pages' validators, unless an article failed.

        A list page answered 304 next time would hide the failed article until the list
        changes; forgetting the validators makes the next run read the lists and retry it.
        """
        for url, (etag, last_modified) in validators.items():
            if keep:
                await self.store.save_list_validators(url, etag, last_modified)
            else:
                self.fetcher.validators.pop(url, None)
                await self.store.save_list_validators(url, None, None)

    async def _list_entries(
        self,
        source: SourceConfig,
        profile: Profile,
        report: CrawlReport,
        validators: dict[str, tuple[str | None, str | None]],
    ) -> list[ListEntry]:
        entries: dict[str, ListEntry] = {}
        for template in source.lists:
            days = recent_list_urls(template)
            dated = is_dated_list(template)
            missing = 0
            for list_url in days:
                page_url: str | None = list_url
                seen_pages: set[str] = set()
                for _page in range(source.max_pages):
                    if page_url is None or page_url in seen_pages:
                        break
                    seen_pages.add(page_url)
                    page_url = await self._one_list_page(
                        page_url, source, profile, entries, report, validators, missing_ok=dated
                    )
                    if page_url is _MISSING:
                        missing += 1
                        break
            if dated and missing == len(days):
                # One day without an issue is a holiday; none in a row is a broken source.
                report.errors.append(f"list {template}: no issue on the last {len(days)} days")
        report.listed = len(entries)
        return list(entries.values())

    async def _one_list_page(
        self,
        url: str,
        source: SourceConfig,
        profile: Profile,
        entries: dict[str, ListEntry],
        report: CrawlReport,
        validators: dict[str, tuple[str | None, str | None]],
        *,
        missing_ok: bool = False,
    ) -> str | None:
        """Read one list page into `entries`; return the next list page to follow, if any.

        missing_ok: a 404 is a day without an issue (an e-paper's holiday), answered _MISSING.
        """
        etag, last_modified = await self.store.list_validators(url)
        if etag or last_modified:
            self.fetcher.validators.setdefault(url, Validators(etag, last_modified))
        try:
            report.fetches += 1
            result = await self.fetcher.fetch(url, conditional=True)
            if result is None:
                logger.debug("list page unchanged: %s", url)
                return None
            text = decode_html(result.content, source.encoding or result.charset)
            page = await asyncio.to_thread(profile.parse_list, text, result.url)
        except RobotsDisallowed:
            message = f"list {url}: disallowed by the site's robots.txt (not read)"
            if report.source not in self.robots_said:
                self.robots_said.add(report.source)
                logger.warning("%s: %s", report.source, message)
            report.errors.append(message)
            return None
        except IngestError as exc:
            if missing_ok and isinstance(exc, FetchError) and exc.status == 404:
                logger.info("no issue at %s (a holiday, or not out yet)", url)
                return _MISSING
            report.errors.append(f"list {url}: {exc}")
            return None
        validators[url] = (result.etag, result.last_modified)
        if not page.entries and not page.next_pages:
            message = f"list {url}: no article links found (did the page's markup change?)"
            logger.warning(message)
            report.errors.append(message)
        for entry in page.entries:
            entries.setdefault(url_key(entry.url), entry)
        return page.next_pages[0] if page.next_pages else None

    async def _ingest_entries(
        self,
        source: SourceConfig,
        profile: Profile,
        entries: list[ListEntry],
        report: CrawlReport,
    ) -> None:
        keys = [url_key(e.url) for e in entries]
        known = await self.store.known_url_keys(keys)
        report.duplicate += len(known)
        todo = [e for e, k in zip(entries, keys, strict=True) if k not in known]
        semaphore = asyncio.Semaphore(self.article_concurrency)
        done = 0

        async def one(entry: ListEntry) -> None:
            nonlocal done
            async with semaphore:
                await self._ingest_one(source, profile, entry, report)
            done += 1
            if self.progress is not None:
                self.progress(source.name, done, len(todo))

        # Every article task finishes before an unexpected error (a database failure) goes up:
        # none is left running against a client that is about to close.
        outcomes = await asyncio.gather(*(one(entry) for entry in todo), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _ingest_one(
        self, source: SourceConfig, profile: Profile, entry: ListEntry, report: CrawlReport
    ) -> None:
        try:
            article = await fetch_article(
                self.fetcher, entry.url, profile, encoding=source.encoding, report=report
            )
            # Summary and speakers are CPU work (jieba): off the event loop.
            if self.analyser is not None:
                analysis = await self.analyser(article.title, article.paragraphs)
            else:
                analysis = await asyncio.to_thread(analyse, article.title, article.paragraphs)
            outcome = await self.store.add_article(
                article,
                url_key=url_key(entry.url),
                fingerprint=fingerprint(article.title, article.body),
                source_name=source.name,
                analysis=analysis,
            )
        except IngestError as exc:
            report.failed += 1
            report.errors.append(f"{entry.url}: {exc}")
            logger.warning("skipped %s: %s", entry.url, exc)
            return
        if outcome.created:
            report.new += 1
        else:
            report.duplicate += 1


async def fetch_article(
    fetcher: Fetcher,
    url: str,
    profile: Profile,
    *,
    encoding: str = "",
    report: CrawlReport | None = None,
) -> ParsedArticle:
    """Fetch, decode and parse one article, joining its continuation pages.

    encoding, when a source sets it, wins over what the server and the page declare; each
    page asked for is counted in report's fetches.
    """
    article = await _fetch_and_parse(fetcher, url, profile, encoding, report)
    if not article.continuation_urls:
        return article
    more: list[ParsedArticle] = []
    for next_url in article.continuation_urls[:MAX_CONTINUATION_PAGES]:
        try:
            more.append(await _fetch_and_parse(fetcher, next_url, profile, encoding, report))
        except IngestError as exc:
            # A missing page 2 must not leave a silently truncated article.
            raise ParseError(f"continuation page {next_url} failed: {exc}") from exc
    return profile.join_pages(article, more)


async def _fetch_and_parse(
    fetcher: Fetcher,
    url: str,
    profile: Profile,
    encoding: str = "",
    report: CrawlReport | None = None,
) -> ParsedArticle:
    if report is not None:
        report.fetches += 1
    result = await fetcher.fetch(url)
    if result is None:  # pragma: no cover - only conditional fetches answer None
        raise ParseError(f"{url}: empty answer")
    text = decode_html(result.content, encoding or result.charset)
    return await asyncio.to_thread(profile.parse_article, text, url)
