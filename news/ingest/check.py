"""Check configured sources against the live sites, and probe a list page of an unknown site.

Both read a list page, count its article links, find its next page, then fetch and parse the
newest article: what an operator needs to know before trusting a source (or writing one).
Every fetch goes through the caller's Fetcher, so robots.txt and the pacing hold.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from dataclasses import replace as _replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from news.ingest.crawl import fetch_article
from news.ingest.dated import dated_list_url, is_dated_list, paper_today
from news.ingest.decode import decode_html
from news.ingest.errors import IngestError
from news.ingest.fetch import Fetcher
from news.ingest.sources import PROFILES, Profile, profile_for
from news.ingest.sources.families import FAMILIES
from news.ingest.sources.listing import split_selectors
from news.models import ListPage, ParsedArticle, SourceConfig
from news.nlp.analysis import analyse

# Days back a dated list (an e-paper) is tried for its latest issue.
CHECK_DAYS = 10
# An article shorter than this is taken for a parse that missed the body.
MIN_BODY_CHARS = 80
_GIST = re.compile(
    r"HTTP \d{3}|timeout|disallowed by robots\.txt|connection error|robots\.txt of \S+ unavailable"
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class SourceCheck:
    """What checking one source found; `problem` is empty when the source works."""

    source: str
    region: str
    list_status: str  # "200", "HTTP 404", "timeout" …
    links: int = 0
    next_page: str = ""
    newest: datetime | None = None
    title: str = ""
    body_chars: int = 0
    speakers: int = 0
    problem: str = ""
    warning: str = ""

    @property
    def verdict(self) -> str:
        """Return ok, warn or FAIL."""
        if self.problem:
            return "FAIL"
        return "warn" if self.warning else "ok"


@dataclass(frozen=True, slots=True)
class Probe:
    """What probing a list page found: the family that reads it, and a sample article."""

    url: str
    profile: str
    page_title: str
    links: int
    next_page: str
    sample: ParsedArticle | None
    sample_url: str
    speakers: tuple[str, ...] = ()


class ProbeError(Exception):
    """Probing failed; the message says why in one line."""


async def read_list(
    fetcher: Fetcher, url: str, profile: Profile, encoding: str = ""
) -> tuple[ListPage, str]:
    """Fetch and read one list page; return it and its decoded HTML."""
    result = await fetcher.fetch(url)
    assert result is not None  # only conditional fetches answer None
    html = decode_html(result.content, encoding or result.charset)
    page = await asyncio.to_thread(profile.parse_list, html, result.url)
    return page, html


async def check_source(fetcher: Fetcher, source: SourceConfig) -> SourceCheck:
    """Check one source: its list, links, next page and newest article; never raises."""
    profile = profile_for(source)
    base = SourceCheck(source.name, source.region, "-")
    urls = _recent_lists(source.lists[0]) if source.lists else []
    page: ListPage | None = None
    status = "-"
    for url in urls:  # a dated list: today's issue may not be out yet
        try:
            page, _html = await read_list(fetcher, url, profile, source.encoding)
            status = "200"
            break
        except IngestError as exc:
            status = _short(exc)
    if page is None:
        return _replace(base, list_status=status, problem=f"list: {status}")
    links = len(page.entries)
    following = page.next_pages[0] if page.next_pages else ""
    found = _replace(base, list_status=status, links=links, next_page=following)
    if not page.entries:
        return _replace(found, problem="no article links on the list")
    newest = max(
        page.entries,
        key=lambda e: e.published_at.timestamp() if e.published_at else float("-inf"),
    )
    try:
        article = await fetch_article(fetcher, newest.url, profile, encoding=source.encoding)
    except IngestError as exc:
        return _replace(found, problem=f"article: {_short(exc)}")
    analysis = await asyncio.to_thread(analyse, article.title, article.paragraphs)
    spoke = sum(1 for p in analysis.people if "spoke" in p.roles)
    checked = _replace(
        found,
        newest=article.published_at,
        title=article.title,
        body_chars=len(article.body),
        speakers=spoke,
    )
    if len(article.body) < MIN_BODY_CHARS:
        return _replace(checked, problem=f"article body only {len(article.body)} characters")
    if not following and len(source.lists) == 1 and "{date" not in source.lists[0]:
        return _replace(checked, warning="no next page found (a backfill stops at page 1)")
    return checked


async def probe(fetcher: Fetcher, url: str) -> Probe:
    """Find which family reads a list page and parse its newest article; ProbeError if none."""
    try:
        result = await fetcher.fetch(url)
    except IngestError as exc:
        raise ProbeError(f"cannot read the page: {exc}") from None
    assert result is not None
    html = decode_html(result.content, result.charset)
    title_match = _TITLE.search(html)
    page_title = " ".join(title_match.group(1).split()) if title_match else ""
    readings: list[tuple[int, int, str, ListPage]] = []
    for name, profile in PROFILES.items():
        try:
            page = await asyncio.to_thread(profile.parse_list, html, result.url)
        except IngestError:
            continue
        # Most links wins; a family (its own markup) before generic, before nen, on a tie.
        rank = 0 if name == "generic" else (-1 if name == "nen" else 1)
        readings.append((len(page.entries) + (1 if page.next_pages else 0), rank, name, page))
    readings.sort(key=lambda r: (r[0], r[1]), reverse=True)
    if not readings or not readings[0][3].entries:
        raise ProbeError(f"{url}: no article links found (is it a list page?)")
    links = readings[0][0]
    candidates = [r for r in readings if r[0] == links and r[3].entries]
    page = candidates[0][3]
    entry = max(
        page.entries,
        key=lambda e: e.published_at.timestamp() if e.published_at else float("-inf"),
    )
    # The article decides between families that read the list alike: the family whose own
    # selectors (not the shared fallbacks such as h1) fit the newest article's markup.
    try:
        fetched = await fetcher.fetch(entry.url)
    except IngestError as exc:
        raise ProbeError(f"{url}: the newest article {entry.url}: {_short(exc)}") from None
    assert fetched is not None
    article_html = decode_html(fetched.content, fetched.charset)
    order = sorted(candidates, key=lambda r: _family_fit(r[2], article_html), reverse=True)
    last_error = ""
    for _score, _rank, name, listed in order:
        try:
            article = await fetch_article(fetcher, entry.url, PROFILES[name])
        except IngestError as exc:
            last_error = _short(exc)
            continue
        if len(article.body) >= MIN_BODY_CHARS:
            analysis = await asyncio.to_thread(analyse, article.title, article.paragraphs)
            speakers = tuple(p.name for p in analysis.people if "spoke" in p.roles)
            return Probe(
                url=url,
                profile=name,
                page_title=page_title,
                links=len(listed.entries),
                next_page=listed.next_pages[0] if listed.next_pages else "",
                sample=article,
                sample_url=entry.url,
                speakers=speakers,
            )
    raise ProbeError(
        f"{url}: {len(page.entries)} article links, but no family parses {entry.url}"
        + (f" ({last_error})" if last_error else "")
    )


# Selectors every family falls back to: matching one says nothing about the family.
_SHARED = frozenset({"h1", ".info", ".content", ".title", ".time", ".source", ".date"})


def _family_fit(name: str, html: str) -> int:
    """Return how many of a family's own title, time and body selectors match the page."""
    family = FAMILIES.get(name)
    if family is None:
        return 0
    root = LexborHTMLParser(html)
    fit = 0
    for value in (family.selectors.title, family.selectors.time, family.selectors.body):
        own = [s for s in split_selectors(value) if s not in _SHARED]
        try:
            fit += any(root.css_first(s) is not None for s in own)
        except ValueError:
            continue
    return fit


def _recent_lists(template: str) -> list[str]:
    """Return the list URLs to try: the list, or a dated list's last days (holidays, late)."""
    if not is_dated_list(template):
        return [template]
    today = paper_today()
    return [dated_list_url(template, today - timedelta(days=n)) for n in range(CHECK_DAYS)]


def guess_name(url: str) -> str:
    """Return a source name from a URL's host and path: lowercase, [a-z0-9-]."""
    parts = urlsplit(url)
    host = (parts.hostname or "site").removeprefix("www.")
    words = [
        w for w in re.split(r"[^a-z0-9]+", host.lower()) if w and w not in ("com", "cn", "gov")
    ]
    path = [w for w in re.split(r"[^a-z0-9]+", parts.path.lower()) if w and not w.isdigit()]
    path = [w for w in path if w not in ("index", "html", "shtml", "htm", "list")]
    name = "-".join((words[:2] or ["site"]) + path[-1:])
    return name[:40].strip("-") or "site"


def guess_kind(url: str) -> str:
    """Return 政府, 报纸 or 网站 from a URL's host."""
    host = urlsplit(url).hostname or ""
    if ".gov.cn" in host:
        return "政府"
    if "epaper" in host or "paper" in urlsplit(url).path:
        return "报纸"
    return "网站"


def _short(exc: Exception) -> str:
    """Return the gist of a fetch error: its HTTP status, a timeout, robots.txt …"""
    text = " ".join(str(exc).split())
    found = _GIST.search(text)
    return found.group(0) if found else text[:120]
