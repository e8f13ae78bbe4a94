"""PostgreSQL keeps /latest pages until an article change is announced, from any instance."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

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
        real_fetch = one.db.fetch

        async def counting_fetch(sql: str, params: Any = ()) -> list[Any]:
            nonlocal queries
            queries += 1
            return await real_fetch(sql, params)

        one.db.fetch = counting_fetch  # type: ignore[method-assign]
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


async def test_without_its_listener_every_page_is_read_until_it_is_back(
    db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.postgres.store.RELISTEN_FIRST_SECONDS", 0.2)
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
        assert store._latest is None
        await add(other, 2)
        assert await newest_title(store) == ("标题2", 2)
        # Listening again: pages are kept, and another instance's change still clears them.
        for _ in range(100):
            if store._listener is not None:
                break
            await asyncio.sleep(0.02)
        assert store._listener is not None and store._listener is not listener
        assert await newest_title(store) == ("标题2", 2)
        assert store._latest
        await add(other, 3)
        await eventually(store, ("标题3", 3))
    finally:
        await store.close()
        await other.close()


async def test_a_listener_that_cannot_reconnect_tries_again_later_and_stops_on_close(
    db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.postgres.store as pg_module

    monkeypatch.setattr(pg_module, "RELISTEN_FIRST_SECONDS", 0.05)
    store = await open_store(db_target)
    assert isinstance(store, PostgresStore)
    attempts: list[float] = []
    real_connect = pg_module.asyncpg.connect

    async def down_twice(*args: object, **kwargs: object) -> object:
        attempts.append(asyncio.get_running_loop().time())
        if len(attempts) <= 2:
            raise OSError("connection refused")  # the server is still restarting
        return await real_connect(*args, **kwargs)

    monkeypatch.setattr(pg_module.asyncpg, "connect", down_twice)
    try:
        listener = store._listener
        assert listener is not None
        listener.terminate()
        await asyncio.sleep(0)
        assert store._listener is None
        for _ in range(100):
            if store._listener is not None:
                break
            await asyncio.sleep(0.02)
        assert store._listener is not None and len(attempts) == 3
        # Each wait is twice the one before.
        assert attempts[2] - attempts[1] > 1.5 * (attempts[1] - attempts[0])
        store._listener.terminate()  # lost again, and the store closes while it waits
        await asyncio.sleep(0)
        relisten = store._relisten
        assert relisten is not None and not relisten.done()
    finally:
        await store.close()
    await asyncio.sleep(0)
    assert relisten.cancelled() and len(attempts) == 3
