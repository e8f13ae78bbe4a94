"""Store queries behind charts and feeds: activity by role and hour, search trends, sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from news.models import ArticleAnalysis, ParsedArticle, PersonInArticle
from storage import Store, open_store

# On SQLite and, with NEWSBOT_TEST_POSTGRES, on PostgreSQL.
pytestmark = pytest.mark.both_backends

SINCE = datetime(2024, 1, 1, tzinfo=UTC)
UNTIL = datetime(2025, 1, 1, tzinfo=UTC)


def article(n: int, when: datetime, title: str, body: str = "正文。") -> ParsedArticle:
    return ParsedArticle(
        url=f"https://liaoning.nen.com.cn/network/x/{n:06d}.shtml",
        title=title,
        published_at=when,
        paragraphs=(body,),
        source="辽宁日报",
    )


def person(name: str, *roles: str) -> PersonInArticle:
    statements = ("要优化营商环境。",) if "spoke" in roles else ()
    return PersonInArticle(name, name, tuple(roles), ("省长",), statements)


async def add(
    store: Store, item: ParsedArticle, *people: PersonInArticle, source: str | None = None
) -> int:
    outcome = await store.add_article(
        item,
        url_key=item.url,
        fingerprint=f"fp-{item.url}",
        source_name=source,
        analysis=ArticleAnalysis(summary="摘要。", people=people),
    )
    return outcome.article_id


async def test_person_activity_counts_each_article_once_under_its_main_role(
    db_target: str,
) -> None:
    async with await open_store(db_target) as store:
        march = datetime(2024, 3, 5, 2, 30, tzinfo=UTC)
        await add(store, article(1, march, "甲"), person("李乐成", "spoke", "presided"))
        await add(store, article(2, march, "乙"), person("李乐成", "presided", "attended"))
        await add(store, article(3, march + timedelta(hours=1), "丙"), person("李乐成", "met"))
        await add(store, article(4, march, "丁"), person("李乐成", "mentioned"))
        await add(
            store, article(5, datetime(2023, 12, 31, tzinfo=UTC), "早"), person("李乐成", "spoke")
        )
        await add(store, article(6, march, "他人"), person("王新伟", "spoke"))
        # Local midnight of 1 April in Shanghai is 16:00 UTC on 31 March.
        late_march = datetime(2024, 3, 31, 15, 59, tzinfo=UTC)
        await add(store, article(7, late_march, "月末"), person("李乐成", "attended"))
        await add(
            store, article(8, late_march + timedelta(minutes=1), "月初"), person("李乐成", "spoke")
        )
        who = await store.person_by_name("李乐成")
        assert who is not None
        bounds = [SINCE, datetime(2024, 3, 31, 16, tzinfo=UTC), UNTIL]
        rows = await store.person_activity(who.id, bounds)
        assert await store.person_activity(who.id, [SINCE]) == []
    by_period_role = {(row.period, row.label): row.count for row in rows}
    assert by_period_role == {
        (0, "spoke"): 1,
        (0, "presided"): 1,
        (0, "attended"): 1,
        (0, "other"): 2,
        (1, "spoke"): 1,
    }


async def test_search_activity_and_top_speakers_follow_the_search(db_target: str) -> None:
    async with await open_store(db_target) as store:
        base = datetime(2024, 5, 1, 1, tzinfo=UTC)
        for n in range(5):
            await add(
                store,
                article(n, base + timedelta(days=31 * n), f"营商环境第{n}篇"),
                person("李乐成", "spoke"),
                *([person("王新伟", "spoke")] if n < 2 else []),
            )
        await add(store, article(9, base, "别的", "振兴。"), person("王新伟", "spoke"))
        await add(store, article(10, datetime(2023, 5, 1, tzinfo=UTC), "营商环境旧文"))
        july = datetime(2024, 7, 1, tzinfo=UTC)
        activity = await store.search_activity(["营商环境"], [SINCE, july, UNTIL])
        _hits, total = await store.search_articles(["营商环境"], since=SINCE, until=UNTIL)
        _hits, before_july = await store.search_articles(["营商环境"], since=SINCE, until=july)
        short = await store.search_activity(["振兴"], [SINCE, UNTIL])
        top = await store.search_top_speakers(["营商环境"], SINCE, UNTIL, limit=3)
        nothing = await store.search_activity(["!!"], [SINCE, UNTIL])
    assert sum(a.count for a in activity) == total == 5
    assert {a.period: a.count for a in activity} == {0: before_july, 1: total - before_july}
    assert sum(a.count for a in short) == 1  # two characters: the bigram index
    assert [(p.name, n) for p, n in top] == [("李乐成", 5), ("王新伟", 2)]
    assert nothing == []


async def test_top_speakers_are_counted_in_the_newest_matches_only(
    db_target: str,
) -> None:
    async with await open_store(db_target) as store:
        base = datetime(2024, 2, 1, 1, tzinfo=UTC)
        for n in range(5):
            speakers = [person("李乐成", "spoke")] if n < 4 else []
            if n >= 3:
                speakers.append(person("王新伟", "spoke"))
            await add(store, article(n, base + timedelta(days=40 * n), f"营商环境{n}"), *speakers)
        top = await store.search_top_speakers(["营商环境"], SINCE, UNTIL, limit=3, newest=2)
    # Of the newest two (n = 3, 4) 王新伟 spoke in both and 李乐成 in one; in all five it
    # would be 李乐成 4, 王新伟 2.
    assert [(p.name, n) for p, n in top] == [("王新伟", 2), ("李乐成", 1)]


async def test_sources_and_their_latest_articles(db_target: str) -> None:
    async with await open_store(db_target) as store:
        await store.upsert_source("nen-a", "甲", "nen")
        await store.upsert_source("nen-b", "乙", "nen")
        base = datetime(2024, 5, 1, tzinfo=UTC)
        for n in range(4):
            await add(store, article(n, base + timedelta(hours=n), f"甲{n}"), source="nen-a")
        await add(store, article(9, base, "乙0"), source="nen-b")
        assert await store.source_names() == ["nen-a", "nen-b"]
        newest = await store.latest_articles_of_source("nen-a", limit=3)
        assert [a.title for a in newest] == ["甲3", "甲2", "甲1"]
        assert await store.latest_articles_of_source("nen-c") == []
