"""PostgreSQL search plans stay flat: the statements search_articles runs, replayed under
EXPLAIN (ANALYZE, BUFFERS), read the GIN index and sort at most one window of months, never
every match, and a database from before the re-gram migration is re-indexed by it."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import storage.postgres.store as pg_module
from storage import open_store
from storage.database import Schema
from storage.postgres import PostgresStore
from storage.postgres import terms as pg_terms
from storage.postgres.terms import gram_terms, search_text

pytestmark = pytest.mark.postgres_only

START = datetime(2021, 1, 1, tzinfo=UTC)
ARTICLES = 3000
DAYS = 3 * 365
# Each word's share of the articles: two common ones, a name, a rare one.
SHARES = {"振兴": 0.6, "营商环境": 0.3, "易炼红": 0.25, "于静": 0.01}
CAP = 20  # the count cap of a large archive, scaled to this small one


def _rows(rng: random.Random) -> Iterator[tuple[int, str, str, str]]:
    for n in range(1, ARTICLES + 1):
        words = [w for w, share in SHARES.items() if rng.random() < share]
        body = "。".join([f"第{n}篇", *words, "辽宁沈阳召开会议"]) + "。"
        # Dates shuffled against ids, as a backfilled archive has them.
        when = START + timedelta(days=rng.randrange(DAYS), seconds=rng.randrange(86400))
        yield n, when.strftime("%Y-%m-%dT%H:%M:%SZ"), f"标题{n}", body


@pytest.fixture
async def archive(db_target: str) -> AsyncIterator[PostgresStore]:
    store = await open_store(db_target)
    assert isinstance(store, PostgresStore)
    rows = list(_rows(random.Random(16)))
    async with store.db.connection() as con, con.transaction():
        await con.copy_records_to_table(
            "articles",
            records=[
                (n, f"https://e.cn/{n}", title, at, body, at, f"h{n}")
                for n, at, title, body in rows
            ],
            columns=["id", "url", "title", "published_at", "body", "fetched_at", "content_hash"],
        )
        await con.copy_records_to_table(
            "articles_search",
            records=[pg_terms.search_record(*row) for row in rows],
            columns=list(pg_terms.SEARCH_COLUMNS),
        )
    await store.db.execute("VACUUM ANALYZE articles_search")
    try:
        yield store
    finally:
        await store.close()


class _Recording:
    """A connection that notes every query it is given, then runs it."""

    def __init__(self, con: Any, seen: list[tuple[str, tuple[Any, ...]]]) -> None:
        self._con = con
        self._seen = seen

    async def fetch(self, sql: str, *args: Any) -> Any:
        self._seen.append((sql, args))
        return await self._con.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        self._seen.append((sql, args))
        return await self._con.fetchrow(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


class _RecordingPool:
    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self.seen: list[tuple[str, tuple[Any, ...]]] = []

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[_Recording]:
        async with self._pool.acquire() as con:
            yield _Recording(con, self.seen)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


async def _search_plans(
    store: PostgresStore, words: list[str], **options: Any
) -> tuple[int, list[dict[str, Any]]]:
    """Run one search; return its total and the analysed plan of each statement it ran."""
    pool = store.db.pool
    recording = _RecordingPool(pool)
    store.db.pool = recording
    try:
        _hits, total = await store.search_articles(words, **options)
    finally:
        store.db.pool = pool
    plans = []
    async with pool.acquire() as con, con.transaction():
        await con.execute(pg_module.SEARCH_SETTINGS)
        for sql, args in recording.seen:
            if "articles_search s" not in sql:
                continue  # the two ends of the date range: one index entry each
            explained = await con.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *args)
            plans.append(json.loads(explained)[0]["Plan"])
    assert plans
    return total, plans


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _matches(store: PostgresStore, words: list[str], low: str, high: str) -> int:
    rows = await store.db.fetch(
        "SELECT text FROM articles_search WHERE published_at >= ? AND published_at < ?",
        (low, high),
    )
    return sum(all(w in r[0] for w in words) for r in rows)


async def _largest_month(store: PostgresStore) -> int:
    return int(
        await store.db.fetchval(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM articles_search "
            "GROUP BY left(published_at, 7)) m"
        )
    )


@pytest.mark.parametrize(
    ("words", "since", "until"),
    [
        (["易炼红", "振兴"], None, None),
        (["营商环境", "振兴", "易炼红"], None, None),
        (["振兴"], datetime(2022, 1, 1, tzinfo=UTC), datetime(2022, 7, 1, tzinfo=UTC)),
        (["营商环境"], datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)),
        (["振兴"], None, None),
    ],
)
async def test_a_search_reads_the_index_and_sorts_one_window_of_months(
    archive: PostgresStore,
    monkeypatch: pytest.MonkeyPatch,
    words: list[str],
    since: datetime | None,
    until: datetime | None,
) -> None:
    monkeypatch.setattr(pg_module, "SEARCH_COUNT_CAP", CAP)
    low = since.strftime("%Y-%m-%dT%H:%M:%SZ") if since else ""
    high = until.strftime("%Y-%m-%dT%H:%M:%SZ") if until else "~"
    every = await _matches(archive, words, low, high)
    assert every > 4 * CAP  # common enough that a plain plan would test and sort them all
    total, plans = await _search_plans(archive, words, since=since, until=until)
    assert total == CAP + 1
    month = await _largest_month(archive)
    heap_rows = 0
    for plan in plans:
        nodes = list(_nodes(plan))
        kinds = {n["Node Type"] for n in nodes}
        assert "Seq Scan" not in kinds and "Index Scan" not in kinds, kinds
        scans = [n for n in nodes if n["Node Type"] == "Bitmap Index Scan"]
        # The terms and months always; the planner may AND a date range's bitmap to them.
        assert "articles_search_terms" in {n["Index Name"] for n in scans}
        assert {n["Index Name"] for n in scans} <= {
            "articles_search_terms",
            "articles_search_by_date",
        }
        for node in nodes:
            if node["Node Type"] == "Bitmap Heap Scan":
                heap_rows += node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
                # Terms of up to 4 letters prove a word: no row's text is read again.
                assert node.get("Rows Removed by Index Recheck", 0) == 0
                assert "Recheck Cond" not in node or node.get("Lossy Heap Blocks", 0) == 0
                assert "LIKE" not in node.get("Filter", "") and "~~" not in node.get("Filter", "")
            if node["Node Type"] == "Sort":
                # Sorted: the matches of the window of months read, never every match.
                (child,) = node["Plans"]
                assert child["Actual Rows"] <= month, (child["Actual Rows"], month)
    assert heap_rows < every / 2, (heap_rows, every)


async def test_relevance_ranks_the_newest_matches_only(
    archive: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_module, "SEARCH_COUNT_CAP", CAP)
    monkeypatch.setattr(pg_module, "RELEVANCE_CAP", CAP)
    words = ["营商环境", "振兴"]
    total, plans = await _search_plans(archive, words, by_relevance=True)
    assert total == CAP + 1
    rank = plans[-1]
    assert "ANY" in json.dumps(rank)
    (sort,) = [n for n in _nodes(rank) if n["Node Type"] == "Sort"]
    assert sort["Plans"][0]["Actual Rows"] == CAP
    hits, _total = await archive.search_articles(words, by_relevance=True, limit=CAP)
    newest, _ = await archive.search_articles(words, limit=CAP)
    assert sorted(h.article.id for h in hits) == sorted(h.article.id for h in newest)
    assert [h.rank for h in hits] == sorted(h.rank for h in hits) and hits[0].rank < 0


async def test_the_regram_and_key_migrations_index_the_articles_already_stored(
    db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as before:
        schema = pg_module.SCHEMA
        before.setattr(
            pg_module,
            "SCHEMA",
            Schema(schema.migrations[:4], {n: s for n, s in schema.steps.items() if n <= 4}),
        )
        store = await open_store(db_target)
        assert isinstance(store, PostgresStore) and await store.schema_version() == 4
        async with store.db.connection() as con, con.transaction():
            for n, title, body in [
                (1, "振兴新突破", "营商环境持续优化"),
                (2, "易炼红调研", "于静"),
            ]:
                at = f"2024-0{n}-01T00:00:00Z"
                await con.execute(
                    "INSERT INTO articles (id, url, title, published_at, body, fetched_at, "
                    "content_hash) VALUES ($1, $2, $3, $4, $5, $4, $2)",
                    n,
                    f"u{n}",
                    title,
                    at,
                    body,
                )
                text = search_text(title, body)  # the index as migration 4 left it
                await con.execute(
                    "INSERT INTO articles_search VALUES ($1, $2, $3, $4)",
                    n,
                    at,
                    text,
                    gram_terms(text),
                )
        await store.close()
    async with await open_store(db_target) as store:
        assert await store.schema_version() == pg_module.SCHEMA.version
        for words, found in [
            (["营商环境"], [1]),
            (["易炼红", "于静"], [2]),
            (["振兴", "优化"], [1]),
            (["于"], [2]),
            (["营商环境", "于静"], []),
        ]:
            hits, total = await store.search_articles(words)
            assert [h.article.id for h in hits] == found and total == len(found), words
        assert await _terms_index_options(store) == ["fastupdate=off"]
        async with store.db.connection() as con, con.transaction():
            columns = await con.fetch(
                "SELECT attname, attcompression FROM pg_attribute "
                "WHERE attrelid = 'articles_search'::regclass AND attnum > 0 "
                "AND NOT attisdropped ORDER BY attnum"
            )
            keys = await con.fetch("SELECT id, published_at, text, terms FROM articles_search")
        # grams is gone, and its keys are what a new row gets.
        assert [c[0] for c in columns] == list(pg_terms.SEARCH_COLUMNS)
        assert {c[0]: c[1] for c in columns}["terms"] == b"l"  # lz4 (this server has it)
        assert all(list(r[3]) == pg_terms.search_keys(r[2], r[1]).tolist() for r in keys)


async def test_a_new_database_s_search_index_has_no_pending_list(db_target: str) -> None:
    # With GIN's pending list, every search read each crawled article's terms unsorted until
    # a vacuum: 2 ms a window instead of 0.05 ms, seconds for a busy bot.
    async with await open_store(db_target) as store:
        assert isinstance(store, PostgresStore)
        assert await _terms_index_options(store) == ["fastupdate=off"]


async def _terms_index_options(store: PostgresStore) -> list[str]:
    """Return the storage options of the search terms' GIN index."""
    async with store.db.connection() as con, con.transaction():
        options = await con.fetchval(
            "SELECT reloptions FROM pg_class WHERE relname = 'articles_search_terms'"
        )
    return list(options or [])


async def test_every_statement_is_planned_for_its_parameters(archive: PostgresStore) -> None:
    # A generic plan for the search window walked the date index and detoasted every row.
    async with archive.db.connection() as con, con.transaction():
        assert await con.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
        words = pg_module.search_match(["振兴"])
        assert words is not None
        sql, params = pg_module.windows_sql(words, ["2022-06"], "", "~", 10)
        await con.execute(pg_module.SEARCH_SETTINGS)
        statement = await con.prepare(sql)
        for _ in range(8):  # past the five custom plans after which a generic one may stick
            await statement.fetch(*params)
        literals = [
            f"'{{{','.join(map(str, p))}}}'" if isinstance(p, list) else repr(p) for p in params
        ]  # the keys, the range and the limits
        plan = await con.fetchval(
            f"EXPLAIN (FORMAT JSON) EXECUTE {statement.get_name()} ({', '.join(literals)})"
        )
    assert "articles_search_terms" in plan, plan
