"""`newsbot ingest` and `newsbot parse`: crawl now, or show what a page parses into."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from bot.config import Settings, load_sources, sources_origin
from news.ingest.crawl import Crawler, fetch_article
from news.ingest.decode import decode_html
from news.ingest.errors import IngestError
from news.ingest.fetch import Fetcher, make_client
from news.ingest.sources import get_profile
from news.models import CrawlReport, ParsedArticle
from storage import open_store


class Progress:
    """Show crawl progress: a bar that redraws on a terminal, nothing otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, source: str, done: int, total: int) -> None:
        """Redraw the bar for one source."""
        if not self.tty or total == 0:
            return
        width = 30
        filled = width * done // total
        bar = "█" * filled + "·" * (width - filled)
        self.stream.write(f"\r{source:<28} {bar} {done}/{total}")
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def format_report(report: CrawlReport) -> str:
    """Return one line of counts for a source."""
    return (
        f"{report.source}: listed {report.listed}, new {report.new}, "
        f"duplicate {report.duplicate}, failed {report.failed}"
    )


async def ingest(settings: Settings, source_name: str | None, once: bool, out: TextIO) -> int:
    """Crawl the configured sources now (and again at their intervals unless `once`)."""
    sources = load_sources(settings)
    if source_name is not None:
        sources = tuple(s for s in sources if s.name == source_name)
        if not sources:
            print(f"newsbot ingest: no source named {source_name!r}", file=sys.stderr)
            return 2
    if not sources:
        print(f"newsbot ingest: {sources_origin(settings)} lists no sources", file=sys.stderr)
        return 2
    store = await open_store(settings.db)
    client = make_client(proxy=settings.fetch_proxy)
    try:
        crawler = Crawler(Fetcher(client), store, progress=Progress(sys.stderr))
        failed = False
        while True:
            reports = [await crawler.crawl(source) for source in sources]
            for report in reports:
                print(format_report(report), file=out, flush=True)
                for error in report.errors[:5]:
                    print(f"  ! {error}", file=out)
                failed = failed or (report.listed == 0 and bool(report.errors))
            if once:
                break
            await asyncio.sleep(min(s.interval_minutes for s in sources) * 60)
    finally:
        await client.aclose()
        await store.close()
    return 1 if failed else 0


def article_json(article: ParsedArticle) -> dict[str, object]:
    """Return the article as the JSON object `newsbot parse` prints."""
    return {
        "url": article.url,
        "title": article.title,
        "subtitle": article.subtitle,
        "published_at": article.published_at.isoformat(),
        "source": article.source,
        "editor": article.editor,
        "reporter": article.reporter,
        "channel": article.channel,
        "body": article.body,
        "related": [{"url": link.url, "title": link.title} for link in article.related],
    }


async def parse(
    settings: Settings, target: str, profile_name: str, url: str | None, out: TextIO
) -> int:
    """Print the article extracted from a file or URL as JSON; exit 1 on a non-article."""
    profile = get_profile(profile_name)
    try:
        if target.startswith(("http://", "https://")):
            async with make_client(proxy=settings.fetch_proxy) as client:
                article = await fetch_article(Fetcher(client, attempts=2), target, profile)
        else:
            path = Path(target)
            try:
                data = path.read_bytes()
            except OSError as exc:
                print(f"newsbot parse: cannot read {target}: {exc.strerror}", file=sys.stderr)
                return 2
            page_url = url or path.resolve().as_uri()
            article = profile.parse_article(decode_html(data), page_url)
    except IngestError as exc:
        print(f"newsbot parse: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    json.dump(article_json(article), out, ensure_ascii=False, indent=2)
    out.write("\n")
    return 0
