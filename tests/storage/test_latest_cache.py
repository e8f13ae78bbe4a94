"""PostgreSQL keeps /latest pages until an article change is announced, from any instance."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from news.models import ParsedArticle
from storage import open_store
from storage.postgres import PostgresStore
from tests.store_sql import execute_sql

pytestmark = pytest.mark.postgres_only


def article(n: int) -> ParsedArticle:
    """Return a distinct article, newer as n grows."""
    return ParsedArticle(
        url=f"https://liaoning.nen.com.cn/network/{n}.shtml",
        title=f"标题{n}",
        published_at=datetime(2026, 12, 1, n, tzinfo=UTC),
        paragraphs=("振兴。",),
    )


async def add(store: PostgresStore, n: int) -> None:
    """Store article n."""
    await store.add_article(article(n), url_key=str(n), fingerprint=str(n), source_name=None)


async def newest_title(store: PostgresStore) -> tuple[str, int]:
    """Return the newest headline's title and the article count."""
    page, total = await store.latest_page(1)
    return page[0].title, total


async def eventually(store: PostgresStore, expected: tuple[str, int]) -> None:
    """Wait (a second at most) until the store's first /latest page says `expected`."""
    for _ in range(100):
        if await newest_title(store) == expected:
            return
        await asyncio.sleep(0.01)
    assert await newest_title(store) == expected


async def test_a_change_anywhere_clears_the_pages(db_target: str) -> None:
    one = await open_store(db_target)
    other = await open_store(db_target)
    assert isinstance(one, PostgresStore) and isinstance(other, PostgresStore)
    try:
        await add(one, 1)
        assert await newest_title(one) == ("标题1", 1)  # its own write: at once
        await asyncio.sleep(0.2)  # its own announcement comes round too, and clears the pages
        assert await newest_title(one) == ("标题1", 1)
        queries = 0
        real_fetch = one._fetch

        async def counting_fetch(sql: str, *args: object) -> list[object]:
            nonlocal queries
            queries += 1
            return await real_fetch(sql, *args)

        one._fetch = counting_fetch  # type: ignore[method-assign]
        assert await newest_title(one) == ("标题1", 1)
        assert queries == 0  # kept

        await add(other, 2)  # another instance
        await eventually(one, ("标题2", 2))
        await execute_sql(other, "UPDATE articles SET title = '新标题' WHERE id = 2")
        await eventually(one, ("新标题", 2))
        await execute_sql(other, "DELETE FROM articles WHERE id = 2")
        await eventually(one, ("标题1", 1))
    finally:
        await one.close()
        await other.close()


async def test_without_its_listener_every_page_is_read(db_target: str) -> None:
    store = await open_store(db_target)
    other = await open_store(db_target)
    assert isinstance(store, PostgresStore) and isinstance(other, PostgresStore)
    try:
        await add(store, 1)
        assert await newest_title(store) == ("标题1", 1)
        listener = store._listener
        assert listener is not None
        listener.terminate()  # the server went away and came back, say
        await asyncio.sleep(0)
        await add(other, 2)
        assert await newest_title(store) == ("标题2", 2)
    finally:
        await store.close()
        await other.close()
