"""`newsbot copy-db`: a whole SQLite store lands in PostgreSQL once, and only into a safe target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from fakes.archive import seed_store
from news.models import ParsedArticle
from storage import Store, StoreError, open_store
from storage.copy import copy_store
from storage.postgres import PostgresStore
from storage.postgres.terms import search_record
from storage.sqlite import SqliteStore
from tests.store_sql import execute_sql, fetch_sql

pytestmark = pytest.mark.postgres_only

DUE = datetime(2026, 12, 1, tzinfo=UTC)
TABLES = {
    "sources": "name",
    "articles": "id",
    "article_urls": "url_key",
    "list_validators": "url",
    "people": "id",
    "person_titles": "person_id, title",
    "mentions": "article_id, person_id, role",
    "chats": "id",
    "search_queries": "id",
    "subscriptions": "chat_id",
    "follows": "chat_id, person_id",
    "keyword_follows": "chat_id, keyword",
    "deliveries": "id",
    "alert_cursor": "id",
}


async def fill_everything(path: Path) -> None:
    """Put a row in every table of the SQLite schema."""
    await seed_store(path)
    async with await SqliteStore.open(path) as store:
        await store.upsert_source("nen-liaoning", "东北新闻网·辽宁", "nen")
        await store.record_source_error("nen-liaoning", "timeout")
        await store.save_list_validators("https://liaoning.nen.com.cn/l.shtml", '"e1"', None)
        await store.upsert_chat(5, "private", "zh", "Asia/Shanghai")
        await store.upsert_chat(-100777, "supergroup", "en", "Asia/Shanghai")
        await store.save_search_query(5, "振兴 2026-11-01..")
        sub = await store.subscriptions.subscribe(5, "08:00", "Asia/Shanghai", DUE, None)
        await store.subscriptions.subscribe(-100777, "09:30", "Asia/Shanghai", DUE, 12)
        person = await store.person_by_name("易炼红")
        assert person is not None
        await store.subscriptions.follow(5, person.id, None)
        await store.subscriptions.follow_keyword(-100777, "振兴", 12)
        await store.ledger.enqueue_alerts()
        await store.ledger.schedule_digest(
            sub, key="2026-12-01", next_due_at=DUE + timedelta(days=1), payload={"n": 1}
        )
        await store.ledger.add_manual_digest(-100777, "manual-1", {}, 12)
        [row] = await store.ledger.open_deliveries(1)
        await store.ledger.mark_deliveries([row.id], "sent")


async def table_rows(store: Store, table: str) -> list[tuple[Any, ...]]:
    """Return a table's rows in key order, with the columns both schemas have."""
    columns = {
        "article_urls": "url_key, url, article_id",
        # SQLite keeps the simplified copies (search_title, search_body) in articles;
        # PostgreSQL keeps them in articles_search.
        "articles": "id, url, title, published_at, source, editor, body, fetched_at, "
        "content_hash, source_name, subtitle, reporter, channel, related, summary, keywords",
    }.get(table, "*")
    return await fetch_sql(store, f"SELECT {columns} FROM {table} ORDER BY {TABLES[table]}")


async def test_everything_is_copied_once(tmp_path: Path, db_target: str) -> None:
    source_path = tmp_path / "old.db"
    await fill_everything(source_path)
    async with await SqliteStore.open(source_path) as source:
        target = await open_store(db_target)
        assert isinstance(target, PostgresStore)
        try:
            report = await copy_store(source, target)
            for table in TABLES:
                rows = await table_rows(source, table)
                assert rows, f"the test left {table} empty"
                assert await table_rows(target, table) == rows, table
                assert report.copied[table] == len(rows), table
            assert await target.article_urls(1) == await source.article_urls(1)
            for counts in (
                "SELECT person_id, role, n FROM person_counts ORDER BY person_id, role",
                "SELECT person_id, day, rank, n FROM person_days ORDER BY person_id, day, rank",
            ):
                assert await fetch_sql(target, counts) == await fetch_sql(source, counts) != []
            _hits, total = await target.search_articles(["城市品质"])
            assert total == (await source.search_articles(["城市品质"]))[1] > 0
            assert await target.ledger.delivery_counts() == await source.ledger.delivery_counts()
            # /said's statements are rebuilt on the target from the copied speeches.
            said = "SELECT article_id, person_id, text FROM statements ORDER BY 1, 2"
            assert await fetch_sql(target, said) == await fetch_sql(source, said) != []

            again = await copy_store(source, target)
            assert again.total_copied == 0 and again.read == report.read

            # The source grows; the next run copies just what is new, and new ids follow on.
            await source.add_article(
                ParsedArticle(
                    url="https://liaoning.nen.com.cn/network/new.shtml",
                    title="新文章",
                    published_at=DUE,
                    paragraphs=("振兴。",),
                ),
                url_key="new",
                fingerprint="new",
                source_name=None,
            )
            third = await copy_store(source, target)
            assert third.copied["articles"] == 1 and third.copied["article_urls"] == 1
            assert third.total_copied == 3  # the article, its URL, its story sketch
            added = await target.add_article(
                ParsedArticle(
                    url="https://liaoning.nen.com.cn/network/pg.shtml",
                    title="只在新库",
                    published_at=DUE,
                    paragraphs=("振兴。",),
                ),
                url_key="pg",
                fingerprint="pg",
                source_name=None,
            )
            assert added.article_id == await source.count_articles() + 1
        finally:
            await target.close()


SCHEMA_SQL = (
    "SELECT tablename, indexname, indexdef FROM pg_indexes "
    "WHERE schemaname = current_schema() ORDER BY 1, 2",
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2",
)


async def test_a_bulk_load_remakes_every_index_and_key(
    tmp_path: Path, db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.copy

    # Search rows built by worker processes, as for a big store.
    monkeypatch.setattr(storage.copy, "POOL_MIN_ARTICLES", 0)
    source_path = tmp_path / "old.db"
    await fill_everything(source_path)
    async with await SqliteStore.open(source_path) as source:
        target = await open_store(db_target)
        assert isinstance(target, PostgresStore)
        try:
            before = [await fetch_sql(target, sql) for sql in SCHEMA_SQL]
            steps: list[tuple[str, int, int]] = []
            await copy_store(source, target, lambda *step: steps.append(step))
            assert [await fetch_sql(target, sql) for sql in SCHEMA_SQL] == before
            rebuilt = [s for s in steps if s[0] == "articles indexes"]
            assert rebuilt and rebuilt[-1][1] == rebuilt[-1][2]  # the progress says each
            assert any(s[0] == "mentions indexes" for s in steps)
            # The planner has statistics: the tables were analysed after the load.
            analysed = await fetch_sql(
                target,
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL "
                "AND relname IN ('articles', 'articles_search', 'mentions')",
            )
            assert len(analysed) == 3
            searched = await fetch_sql(
                target, "SELECT id, published_at, text, terms FROM articles_search ORDER BY id"
            )
            articles = await fetch_sql(
                source, "SELECT id, published_at, title, body FROM articles ORDER BY id"
            )
            assert searched == [search_record(*a) for a in articles]
        finally:
            await target.close()


async def test_a_target_holding_something_else_is_refused_untouched(
    tmp_path: Path, db_target: str
) -> None:
    source_path = tmp_path / "old.db"
    await fill_everything(source_path)
    target = await open_store(db_target)
    assert isinstance(target, PostgresStore)
    try:
        await target.upsert_chat(99, "private", "zh", "Asia/Shanghai")
        async with await SqliteStore.open(source_path) as source:
            with pytest.raises(StoreError, match="not a copy") as info:
                await copy_store(source, target)
        assert "\n" not in str(info.value)
        assert await target.count_articles() == 0
        assert await fetch_sql(target, "SELECT count(*) FROM copied_from") == [(0,)]
        await execute_sql(target, "DELETE FROM chats")
    finally:
        await target.close()


def test_the_command_copies_and_says_what(
    tmp_path: Path, db_target: str, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    import asyncio

    monkeypatch.setenv("NEWSBOT_DB", str(tmp_path / "unused.db"))
    source_path = tmp_path / "old.db"
    asyncio.run(fill_everything(source_path))
    password_url = db_target.replace("postgres@", "postgres:s3cret@", 1)
    assert main(["copy-db", str(source_path), password_url]) == 0
    out = capsys.readouterr().out
    assert "articles: " in out and "copied " in out and "s3cret" not in out
    assert main(["copy-db", str(source_path), db_target]) == 0
    assert "copied 0 rows" in capsys.readouterr().out
    for args in (
        [db_target, str(source_path)],
        [str(tmp_path / "missing.db"), db_target],
        [str(source_path), "mysql://u:s3cret@h/db"],
    ):
        assert main(["copy-db", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("newsbot copy-db") and err.count("\n") == 1
        assert "s3cret" not in err


async def test_binary_search_rows_read_back_as_written(db_target: str) -> None:
    import numpy as np

    from storage.copy import binary_row, search_copy_data

    articles = [
        (1, "2024-01-02T03:04:05Z", "tab\there", "new\nline, cr\r, back\\slash \\N 振兴 𠀀"),
        (2, "2024-01-02T03:04:06Z", "", ""),
    ]
    target = await open_store(db_target)
    assert isinstance(target, PostgresStore)
    try:
        async with target.db.connection() as con, con.transaction():
            await con.execute(
                "CREATE TEMPORARY TABLE t (id BIGINT, published_at TEXT, text TEXT, terms BIGINT[])"
            )
            data = search_copy_data(articles)
            await con.copy_to_table("t", source=memoryview(data), format="binary")
            # Keys at both ends of the range, and none.
            extremes = np.array([-(2**63), 2**63 - 1, 0, -1], dtype=np.int64)
            rows = binary_row(3, "x", "", extremes) + binary_row(4, "", "", extremes[:0])
            more = data[:19] + rows + data[-2:]
            await con.copy_to_table("t", source=memoryview(more), format="binary")
            back = [tuple(r) for r in await con.fetch("SELECT * FROM t ORDER BY id")]
        assert back[:2] == [search_record(*a) for a in articles]
        assert back[2:] == [(3, "x", "", [-(2**63), 2**63 - 1, 0, -1]), (4, "", "", [])]
    finally:
        await target.close()
