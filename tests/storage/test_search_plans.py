"""Search and counting shortcuts give exactly what the plain queries give, on every path and
on both backends."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage.postgres.store as pg_module
import storage.sqlite.store as store_module
from news.models import Article, ParsedArticle
from storage import Store, open_store
from storage.sqlite import SqliteStore

START = datetime(2020, 1, 1, tzinfo=UTC)
WORDS = ("振兴", "营商环境", "于静", "城市品质")

pytestmark = pytest.mark.both_backends


def _article(n: int, rng: random.Random) -> ParsedArticle:
    # Words at very different rates; dates shuffled against ids (late-found, backfilled
    # articles) and repeated, so that ties on published_at are broken by id.
    picked = [
        w for w, share in zip(WORDS, (0.6, 0.3, 0.05, 0.5), strict=True) if rng.random() < share
    ]
    body = "。".join([f"第{n}篇", *picked, "辽宁沈阳"]) + "。"
    return ParsedArticle(
        url=f"https://liaoning.nen.com.cn/network/x/{n:018d}.shtml",
        title=f"标题{n}" + ("振兴" if rng.random() < 0.1 else ""),
        published_at=START + timedelta(hours=rng.randrange(600) * 12),
        paragraphs=(body,),
    )


@pytest.fixture
async def archive(db_target: str) -> AsyncIterator[Store]:
    rng = random.Random(7)
    async with await open_store(db_target) as store:
        for n in range(300):
            await store.add_article(
                _article(n, rng), url_key=f"k{n}", fingerprint=f"f{n}", source_name=None
            )
        yield store


async def _expected(
    store: Store, words: list[str], since: datetime | None, until: datetime | None
) -> list[int]:
    """Return every matching id newest first, found by substring in the stored texts."""
    everything: list[Article] = await store.latest_articles(limit=100_000)
    kept = [
        a
        for a in everything
        if all(w in a.title + "\n" + a.body for w in words)
        and (since is None or a.published_at >= since)
        and (until is None or a.published_at < until)
    ]
    kept.sort(key=lambda a: (a.published_at, a.id), reverse=True)
    return [a.id for a in kept]


QUERIES = [
    (["振兴"], None, None),
    (["营商环境"], None, None),
    (["于静"], None, None),
    (["城市品质", "振兴"], None, None),
    (["营商环境", "振兴"], None, None),
    (["振兴"], START + timedelta(days=60), START + timedelta(days=200)),
    (["营商环境"], None, START + timedelta(days=100)),
    (["城市品质"], START + timedelta(days=250), None),
    (["不存在的词"], None, None),
]


@pytest.mark.parametrize("cap", [1000, 20, 3])
async def test_every_plan_pages_and_counts_like_a_plain_scan(
    archive: Store, monkeypatch: pytest.MonkeyPatch, cap: int
) -> None:
    # Small caps and windows send these few articles down the paths a large archive takes.
    monkeypatch.setattr(store_module, "SEARCH_COUNT_CAP", cap)
    monkeypatch.setattr(pg_module, "SEARCH_COUNT_CAP", cap)
    for words, since, until in QUERIES:
        expected = await _expected(archive, words, since, until)
        for offset in (0, 5, 25, 60, 400):
            hits, total = await archive.search_articles(
                words, since=since, until=until, limit=5, offset=offset
            )
            case = (words, since, until, offset)
            assert total == min(len(expected), cap + 1), case
            assert [h.article.id for h in hits] == expected[offset : offset + 5], case
            assert all(h.rank == 0.0 for h in hits)  # ranks come with relevance order only


async def test_relevance_order_ranks_every_hit(archive: Store) -> None:
    words = ["营商环境", "振兴"]
    expected = await _expected(archive, words, None, None)
    hits, total = await archive.search_articles(words, by_relevance=True, limit=len(expected))
    assert total == len(expected)
    assert sorted(h.article.id for h in hits) == sorted(expected)
    order = [(h.rank, -h.article.published_at.timestamp()) for h in hits]
    assert order == sorted(order)  # best bm25 first, ties newest first


async def test_article_count_follows_every_change(tmp_path: Path) -> None:
    rng = random.Random(3)
    path = tmp_path / "c.db"
    async with await SqliteStore.open(path) as bot, await SqliteStore.open(path) as ingest:
        assert await bot.count_articles() == 0
        await bot.add_article(_article(1, rng), url_key="a", fingerprint="a", source_name=None)
        assert await bot.count_articles() == 1  # this connection's own insert
        await ingest.add_article(_article(2, rng), url_key="b", fingerprint="b", source_name=None)
        assert await bot.count_articles() == 2  # another connection's (newsbot ingest)
        assert await bot.count_articles() == 2  # and again, from what was kept
        con = sqlite3.connect(path)
        con.execute("DELETE FROM article_urls WHERE article_id = 2")
        con.execute("DELETE FROM articles WHERE id = 2")
        con.commit()
        con.close()
        assert await bot.count_articles() == 1  # another process, plain sqlite3


async def test_article_count_never_keeps_a_transaction_that_rolls_back(tmp_path: Path) -> None:
    rng = random.Random(5)
    async with await SqliteStore.open(tmp_path / "r.db") as store:
        await store.add_article(_article(1, rng), url_key="a", fingerprint="a", source_name=None)
        assert await store.count_articles() == 1
        inserted = asyncio.Event()
        release = asyncio.Event()

        async def doomed() -> None:
            async with store.db.transaction() as db:
                await db.execute(
                    "INSERT INTO articles (url, title, published_at, body, fetched_at, "
                    "content_hash) VALUES ('u', 't', '2020-01-01T00:00:00Z', 'b', "
                    "'2020-01-01T00:00:00Z', 'h')"
                )
                inserted.set()
                await release.wait()
                raise RuntimeError("roll back")

        task = asyncio.create_task(doomed())
        await inserted.wait()
        assert await store.count_articles() in (1, 2)  # mid-transaction: either is honest
        release.set()
        with pytest.raises(RuntimeError):
            await task
        assert await store.count_articles() == 1
