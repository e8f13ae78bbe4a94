"""Parity: the same articles on SQLite and PostgreSQL give the same searches, speakers, pages."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fakes.archive import analysed_articles
from handlers.search import parse_search
from news.ingest.fingerprint import fingerprint
from news.models import ParsedArticle, Person
from storage import Store, open_store

pytestmark = pytest.mark.postgres_only

FETCHED = datetime(2026, 11, 30, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Words at very different rates, 1, 2, 3 and more characters, ASCII in two cases, a word
# with LIKE's wildcards in it, and traditional characters the search turns into simplified.
PHRASES = ("于静", "雷", "雷锋精神", "振兴", "营商环境", "NEN新闻", "100%_达标", "城市品质", "辽")


def synthetic(n: int, rng: random.Random) -> ParsedArticle:
    """Return an article whose words and date are drawn from a seeded generator."""
    picked = [p for p in PHRASES if rng.random() < 0.3]
    if rng.random() < 0.2:
        picked.append("nen新闻")  # lower case: the search folds case on both backends
    body = "。".join([f"第{n}篇报道", *picked, "沈阳市委书记主持会议"]) + "。"
    return ParsedArticle(
        url=f"https://liaoning.nen.com.cn/network/p/{n:018d}.shtml",
        title=f"标题{n}" + ("雷" if rng.random() < 0.1 else ""),
        published_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(400) * 6),
        paragraphs=(body,),
    )


async def fill(store: Store) -> None:
    """Store the analysed leader texts and 200 synthetic articles, in one fixed order."""
    for _name, article, analysis in analysed_articles():
        await store.add_article(
            article,
            url_key=article.url,
            fingerprint=fingerprint(article.title, article.body),
            source_name=None,
            fetched_at=FETCHED,
            analysis=analysis,
        )
    rng = random.Random(11)
    for n in range(200):
        article = synthetic(n, rng)
        await store.add_article(
            article, url_key=article.url, fingerprint=f"s{n}", source_name=None, fetched_at=FETCHED
        )


@pytest.fixture
async def both(db_target: str, tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    """Open an SQLite store and a PostgreSQL store holding the same articles."""
    async with (
        await open_store(tmp_path / "parity.db") as sqlite,
        await open_store(db_target) as postgres,
    ):
        assert (sqlite.backend, postgres.backend) == ("sqlite", "postgresql")
        await fill(sqlite)
        await fill(postgres)
        yield sqlite, postgres


SEARCHES = [
    "于静",
    "雷",
    "雷锋精神",
    "雷鋒精神",  # traditional: searched as 雷锋精神
    "於静",  # 於 -> 于
    "振興",
    "营商环境 振兴",
    "于静 雷",
    "nen新闻",
    "NEN",
    "100%_达标",
    "%",
    "_达",
    "易炼红",
    "城市品质",
    "书记",
    "辽",
    "沈阳市委书记",
    "不存在的词",
    "振兴 2025-02-01..2025-03-15",
    "雷 ..2025-02-01",
    "营商环境 2025-03-01..",
]


async def test_searches_match(both: tuple[Store, Store]) -> None:
    sqlite, postgres = both
    for raw in SEARCHES:
        query = parse_search(raw, SHANGHAI)
        assert query is not None, raw
        for offset in (0, 5, 40):
            results = []
            for store in (sqlite, postgres):
                hits, total = await store.search_articles(
                    list(query.words),
                    since=query.since,
                    until=query.until,
                    limit=5,
                    offset=offset,
                )
                results.append(([h.article for h in hits], total))
            assert results[0] == results[1], (raw, offset)
        # Every other word is somewhere; a lone "%" has no letter, which no index holds.
        assert results[0][1] > 0 or raw in ("不存在的词", "%"), raw
        # By relevance the two rank differently (bm25 against term frequency), the set is one.
        found = []
        for store in (sqlite, postgres):
            hits, total = await store.search_articles(
                list(query.words),
                since=query.since,
                until=query.until,
                by_relevance=True,
                limit=1000,
            )
            found.append((sorted(h.article.id for h in hits), total))
        assert found[0] == found[1], raw


def same_person(person: Person | None) -> Person | None:
    """Return the person without the id, which differs (PostgreSQL's upsert uses up ids)."""
    return dataclasses.replace(person, id=0) if person else None


async def test_speaker_lookups_match(both: tuple[Store, Store]) -> None:
    sqlite, postgres = both
    names = [name for name, _pinyin in await sqlite.all_people_names()]
    assert names and sorted(names) == sorted(n for n, _ in await postgres.all_people_names())
    for name in names:
        on_sqlite = await sqlite.person_by_name(name)
        on_postgres = await postgres.person_by_name(name)
        assert on_sqlite is not None and on_postgres is not None
        assert same_person(on_postgres) == same_person(on_sqlite)
        assert [same_person(p) for p in await postgres.people_by_pinyin(on_sqlite.pinyin)] == [
            same_person(p) for p in await sqlite.people_by_pinyin(on_sqlite.pinyin)
        ]
        for page in (0, 5):
            assert await postgres.person_statements(
                on_postgres.id, limit=5, offset=page
            ) == await sqlite.person_statements(on_sqlite.id, limit=5, offset=page)
        assert await postgres.count_person_statements(
            on_postgres.id
        ) == await sqlite.count_person_statements(on_sqlite.id)
        assert await postgres.person_role_counts(on_postgres.id) == await sqlite.person_role_counts(
            on_sqlite.id
        )
        for page in (0, 3):
            assert await postgres.person_appearances(
                on_postgres.id, limit=3, offset=page
            ) == await sqlite.person_appearances(on_sqlite.id, limit=3, offset=page)
    for title in ("书记", "省长", "市委", "主任", "不存在"):
        assert [same_person(p) for p in await postgres.people_by_title(title)] == [
            same_person(p) for p in await sqlite.people_by_title(title)
        ]
    since = datetime(2026, 11, 1, tzinfo=UTC)
    assert [(same_person(p), n) for p, n in await postgres.top_speakers(since)] == [
        (same_person(p), n) for p, n in await sqlite.top_speakers(since)
    ]
    ids = range(1, 30)
    assert await postgres.speakers_of_articles(ids) == await sqlite.speakers_of_articles(ids)


async def test_latest_pages_match(both: tuple[Store, Store]) -> None:
    sqlite, postgres = both
    assert await postgres.count_articles() == await sqlite.count_articles() > 200
    for offset in (0, 10, 100, 210, 400):
        assert await postgres.latest_articles(10, offset) == await sqlite.latest_articles(
            10, offset
        )
    for article_id in (1, 5, 17, 100):
        assert await postgres.get_article(article_id) == await sqlite.get_article(article_id)
        assert await postgres.article_summary(article_id) == await sqlite.article_summary(
            article_id
        )
        assert await postgres.article_urls(article_id) == await sqlite.article_urls(article_id)
        assert await postgres.article_related(article_id) == await sqlite.article_related(
            article_id
        )
