"""History is silent: old articles (a backfill's) never alert and never reach a digest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from news.ingest.fingerprint import fingerprint
from news.models import ParsedArticle
from news.nlp.analysis import analyse
from storage import Store, open_store
from tests.store_sql import execute_sql

pytestmark = pytest.mark.both_backends

SPEECH = ("省委书记郝鹏出席会议并讲话。郝鹏强调，要全面振兴。",)


@pytest.fixture
async def store(db_target: str) -> AsyncIterator[Store]:
    opened = await open_store(db_target)
    yield opened
    await opened.close()


async def add(
    store: Store, n: int, published_at: datetime, fetched_at: datetime | None = None
) -> int:
    article = ParsedArticle(
        url=f"https://www.lnd.com.cn/news/{n}.html",
        title=f"全面振兴新突破第{n}篇",
        published_at=published_at,
        paragraphs=SPEECH,
    )
    outcome = await store.add_article(
        article,
        url_key=article.url,
        fingerprint=fingerprint(article.title, str(n)),
        source_name=None,
        fetched_at=fetched_at,
        analysis=analyse(article.title, article.paragraphs),
    )
    return outcome.article_id


async def alerted_articles(store: Store, chat_id: int) -> set[str]:
    rows = await store.ledger.open_deliveries()
    return {r.key for r in rows if r.chat_id == chat_id and r.kind == "alert"}


async def test_an_article_published_before_the_follow_or_the_cursor_never_alerts(
    store: Store,
) -> None:
    now = datetime.now(UTC)
    await add(store, 1, now - timedelta(days=1))  # a person to follow
    person = await store.person_by_name("郝鹏")
    assert person is not None
    await store.subscriptions.follow(7, person.id, None)
    await store.subscriptions.follow_keyword(8, "全面振兴", None)
    assert await store.ledger.enqueue_alerts() == 0  # sets the cursor
    backfilled = await add(store, 2, datetime(2017, 3, 1, 2, tzinfo=UTC))
    before_follow = await add(store, 3, now - timedelta(hours=2))
    fresh = await add(store, 4, datetime.now(UTC) + timedelta(minutes=1))
    await store.ledger.enqueue_alerts()
    assert await alerted_articles(store, 7) == {str(fresh)}
    assert await alerted_articles(store, 8) == {str(fresh)}
    assert str(backfilled) not in await alerted_articles(store, 7)
    assert str(before_follow) not in await alerted_articles(store, 8)


async def test_a_follow_of_long_ago_is_not_woken_by_a_backfill(store: Store) -> None:
    now = datetime.now(UTC)
    await add(store, 1, now - timedelta(days=1))
    person = await store.person_by_name("郝鹏")
    assert person is not None
    await store.subscriptions.follow(7, person.id, None)
    await execute_sql(store, "UPDATE follows SET created_at = '2015-01-01T00:00:00Z'")
    assert await store.ledger.enqueue_alerts() == 0
    # Followed since 2015: an article of 2017 is after the follow, but long before the cursor.
    await add(store, 2, datetime(2017, 3, 1, 2, tzinfo=UTC))
    late = await add(store, 3, now - timedelta(hours=6))  # a site that posts hours late
    await store.ledger.enqueue_alerts()
    assert await alerted_articles(store, 7) == {str(late)}


async def test_a_bot_down_for_a_week_alerts_that_weeks_news(store: Store) -> None:
    now = datetime.now(UTC)
    await add(store, 1, now - timedelta(days=8))
    person = await store.person_by_name("郝鹏")
    assert person is not None
    await store.subscriptions.follow(7, person.id, None)
    await execute_sql(store, "UPDATE follows SET created_at = '2015-01-01T00:00:00Z'")
    assert await store.ledger.enqueue_alerts() == 0
    week_ago = (now - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    await execute_sql(store, "UPDATE alert_cursor SET moved_at = ?", week_ago)
    missed = await add(store, 2, now - timedelta(days=5))
    await store.ledger.enqueue_alerts()
    assert await alerted_articles(store, 7) == {str(missed)}


async def test_digests_choose_by_publication_time_each_article_once(store: Store) -> None:
    since = datetime(2026, 11, 25, 0, tzinfo=UTC)
    until = since + timedelta(days=1)
    later = until + timedelta(days=1)
    inside = await add(store, 1, since + timedelta(hours=3), fetched_at=since + timedelta(hours=4))
    backfilled = await add(store, 2, datetime(2016, 5, 1, tzinfo=UTC), since + timedelta(hours=5))
    # Published just before the window, stored only during it: the last digest never saw it.
    posted_late = await add(store, 3, since - timedelta(hours=3), since + timedelta(hours=2))
    # Published before the window and stored before it too: the last digest held it.
    await add(store, 4, since - timedelta(hours=3), since - timedelta(hours=2))
    # Published in the window, stored after it ended: the next digest's.
    after = await add(store, 5, until - timedelta(hours=1), until + timedelta(hours=1))
    first = await store.articles_between(since, until)
    assert set(first) == {inside, posted_late}
    assert backfilled not in first
    second = await store.articles_between(until, later)
    assert second == [after]
