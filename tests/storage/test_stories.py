"""Stories in the store: reprints grouped on insert and in an archive stored before stories."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from fakes import DATA
from news.models import ArticleAnalysis, ParsedArticle, PersonInArticle
from storage import Store, open_store
from tests.store_sql import execute_sql, fetch_sql

pytestmark = pytest.mark.both_backends

TEXT = [
    line.strip()
    for line in (DATA / "texts" / "lnchinanews_2024-03-22_xiongmaoping.txt")
    .read_text(encoding="utf-8")
    .splitlines()[3:]
    if line.strip()
]
OTHER = [
    line.strip()
    for line in (DATA / "texts" / "78911_2018_yilianhong.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if len(line.strip()) > 20
]
SPOKE = ArticleAnalysis(
    summary="摘要", people=(PersonInArticle("熊茂平", "xiongmaoping", ("spoke",)),)
)


def article(n: int, title: str, paragraphs: list[str], hours: int = 0) -> ParsedArticle:
    return ParsedArticle(
        url=f"https://example.org/{n}.shtml",
        title=title,
        published_at=datetime(2024, 3, 22, 1, tzinfo=UTC) + timedelta(hours=hours),
        paragraphs=tuple(paragraphs),
        source="大连日报",
    )


async def add(
    store: Store, item: ParsedArticle, source: str | None = None
) -> tuple[int, int | None]:
    outcome = await store.add_article(
        item, url_key=item.url, fingerprint=f"fp-{item.url}", source_name=source, analysis=SPOKE
    )
    assert outcome.created
    return outcome.article_id, outcome.story_id


async def test_a_reprint_joins_its_story_and_leaves_every_list(store: Store) -> None:
    await store.upsert_source("lnd", "北国网·要闻", "nen")
    await store.upsert_source("syd", "沈阳网", "nen")
    first, story = await add(store, article(1, "原稿", TEXT), "lnd")
    assert story is None
    reprint = ["来源:大连日报", *TEXT[:2], *TEXT[3:]]
    second, story = await add(store, article(2, "另一个标题", reprint, hours=1), "syd")
    assert story == first
    other, story = await add(store, article(3, "别的新闻", OTHER, hours=2), "syd")
    assert story is None

    page, total = await store.latest_page(10)
    assert [h.id for h in page] == [other, first] and total == 2
    assert page[1].also == ("沈阳网",) and page[0].also == ()
    assert [a.id for a in await store.latest_articles(10)] == [other, first]
    hits, found = await store.search_articles(["熊茂平"])
    assert [h.article.id for h in hits] == [first] and found == 1
    assert hits[0].article.also == ("沈阳网",)
    # Only the first copy is analysed (each article here "has" the same speaker): a leader's
    # page counts the story once.
    person = await store.person_by_name("熊茂平")
    assert person is not None
    appearances = await store.person_appearances(person.id, 10)
    assert [a.article.id for a in appearances] == [other, first]

    outlets = await store.story_outlets([second, first, other])
    assert [(o.name, o.article_id) for o in outlets[second]] == [
        ("北国网", first),
        ("沈阳网", second),
    ]
    assert outlets[first] == outlets[second]
    assert [o.title for o in outlets[other]] == ["别的新闻"]


async def test_copies_stored_at_once_by_two_processes_are_one_story(
    store: Store, db_target: str
) -> None:
    async with await open_store(db_target) as other_process:
        copies = [article(n, f"标题{n}", [f"来源:报{n}", *TEXT]) for n in range(1, 5)]
        outcomes = await asyncio.gather(
            *(s.add_article(c, url_key=c.url, fingerprint=c.url, source_name=None)
              for s, c in zip([store, other_process] * 2, copies, strict=True))
        )  # fmt: skip
    stories = {o.story_id or o.article_id for o in outcomes}
    assert len(stories) == 1 and await store.count_articles() == 1


async def test_an_archive_stored_before_stories_is_grouped_once(store: Store) -> None:
    first, _ = await add(store, article(1, "原稿", TEXT))
    second, _ = await add(store, article(2, "别的新闻", OTHER, hours=1))
    # As a store before stories left them: a reprint stored as an article of its own, no sketch.
    for table in ("story_bands", "story_sketches"):
        await execute_sql(store, f"DELETE FROM {table}")
    await store.add_article(
        article(3, "转载", ["编辑:张琦", *TEXT[1:]], hours=2),
        url_key="u3",
        fingerprint="f3",
        source_name=None,
        analysis=SPOKE,
    )
    rows = await fetch_sql(store, "SELECT id FROM articles WHERE story_id IS NULL ORDER BY id")
    assert len(rows) == 3  # nothing to compare it with: a story of its own for now
    third = rows[-1][0]
    await execute_sql(store, f"DELETE FROM story_sketches WHERE article_id = {third}")
    await execute_sql(store, f"DELETE FROM story_bands WHERE article_id = {third}")
    assert await store.ungrouped_count() == 3
    seen: list[tuple[int, int]] = []
    done, reprints = await store.group_stored(batch=2, progress=lambda d, t: seen.append((d, t)))
    assert (done, reprints) == (3, 1) and seen == [(2, 3), (3, 3)]
    assert await store.count_articles() == 2
    assert [h.id for h in (await store.latest_page(10))[0]] == [second, first]
    hits, _total = await store.search_articles(["熊茂平"])
    assert [h.article.id for h in hits] == [first]
    assert await store.group_stored() == (0, 0)  # run again: nothing left
