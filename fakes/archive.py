"""Fill a database with real articles: the corpus's leader texts, read by the real analysis."""

from __future__ import annotations

import dataclasses
import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fakes import LEADERS, SEED_ARTICLE
from news.ingest.fingerprint import fingerprint
from news.models import ArticleAnalysis, Link, ParsedArticle
from news.nlp.analysis import analyse
from storage import open_store


def leader_texts() -> list[tuple[str, str, list[str]]]:
    """Return (file name, title, paragraphs) of every leader text and the seed article."""
    files = sorted(LEADERS.glob("*.txt"))
    files.append(SEED_ARTICLE)
    result = []
    for path in files:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        lines = [line for line in lines if line]
        if path.name.startswith("seed_"):
            lines = lines[: lines.index("更多>>时政要闻")] if "更多>>时政要闻" in lines else lines
        title = lines[0][:60]
        result.append((path.name, title, lines[1:] or lines))
    return result


@functools.cache
def analysed_articles() -> tuple[tuple[str, ParsedArticle, ArticleAnalysis], ...]:
    """Return every leader text as a parsed article with its analysis (computed once)."""
    base = datetime(2026, 11, 1, tzinfo=UTC)
    result = []
    for n, (name, title, paragraphs) in enumerate(leader_texts()):
        article = ParsedArticle(
            url=f"https://liaoning.nen.com.cn/network/lnnews/2026/11/{n + 1:02d}/{n:018d}.shtml",
            title=title,
            published_at=base + timedelta(days=n),
            paragraphs=tuple(paragraphs),
            source="东北新闻网",
            channel="辽宁 > 时政要闻",
            related=(Link("https://liaoning.nen.com.cn/network/r.shtml", f"相关报道 {n}"),),
        )
        result.append((name, article, analyse(article.title, article.paragraphs)))
    return tuple(result)


async def seed_store(
    target: Path | str,
    *,
    fetched_at: datetime | None = None,
    published_at: datetime | None = None,
) -> dict[str, int]:
    """Store every leader text as an article; return their ids by file name.

    With published_at the articles are today's news: published a minute apart up to it
    (digests and alerts choose articles by publication time); otherwise a day apart in 2026-11.
    """
    ids: dict[str, int] = {}
    store = await open_store(target)
    try:
        seeded = analysed_articles()
        for n, (name, article, analysis) in enumerate(seeded):
            if published_at is not None:
                moment = published_at - timedelta(minutes=len(seeded) - 1 - n)
                article = dataclasses.replace(article, published_at=moment)
            outcome = await store.add_article(
                article,
                url_key=article.url,
                fingerprint=fingerprint(article.title, article.body),
                source_name=None,
                fetched_at=fetched_at,
                analysis=analysis,
            )
            ids[name] = outcome.article_id
    finally:
        await store.close()
    return ids


async def add_numbered_articles(
    target: Path | str, count: int, *, title: str, body: str, source_name: str | None = None
) -> None:
    """Store `count` short articles, one an hour from 2026-10-01 02:00 UTC.

    `title` and `body` are format strings of `n` (1, 2, …); with source_name, that source is
    recorded first (articles refer to it).
    """
    store = await open_store(target)
    try:
        if source_name is not None:
            await store.upsert_source(source_name, source_name, "nen")
        for n in range(1, count + 1):
            article = ParsedArticle(
                url=f"https://liaoning.nen.com.cn/network/lnnews/2026/10/01/{n:06d}.shtml",
                title=title.format(n=n),
                published_at=datetime(2026, 10, 1, 2, tzinfo=UTC) + timedelta(hours=n),
                paragraphs=(body.format(n=n),),
                source="辽宁日报",
            )
            await store.add_article(
                article,
                url_key=article.url,
                fingerprint=fingerprint(article.title, article.body),
                source_name=source_name,
            )
    finally:
        await store.close()
