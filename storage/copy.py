"""Copy a whole SQLite store into PostgreSQL (`newsbot copy-db`), resumably and only once.

Every table of the SQLite schema is copied, in an order that satisfies the foreign keys. A
table still empty in the target is loaded in bulk, in one transaction: its secondary indexes
and its foreign keys are dropped, the rows are COPYed straight in, and the indexes (read back
from pg_indexes, so a later migration's are covered) and keys are made again at the end, then
ANALYZE. Building a GIN index once is many times faster than keeping it up to date row by row.
An interrupted bulk load leaves its table empty, and the next run loads it again. A table that
already holds rows (the source grew since the last copy) is copied a chunk at a time: COPY
into a temporary table, then INSERT … ON CONFLICT DO NOTHING, so a row already there is left as
it is and counted as not copied. SQLite's search tables are not copied: the search rows of
PostgreSQL (articles_search) are built from the articles, in worker processes for a big store,
and its triggers count each person's articles (person_counts and person_days).
The target remembers the copy in `copied_from`; a target that holds anything else is refused
before a row is written.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from storage.errors import StoreError
from storage.postgres import PostgresStore
from storage.postgres.schema import fill_statements
from storage.postgres.terms import SEARCH_COLUMNS, search_keys, search_record, search_text
from storage.rows import now, to_db_time
from storage.sqlite import SqliteStore

logger = logging.getLogger(__name__)

CHUNK_ROWS = 5000
# A bulk load reads and COPYs this many rows at a time (articles: 2,000, their text is long).
BULK_ROWS = 50_000
# Below this many articles their search rows are built in this process; above, in workers.
POOL_MIN_ARTICLES = 20_000
# Chunks of search rows being built at once: the workers stay busy while this process COPYs.
POOL_AHEAD = 4
# Memory for the index builds after a bulk load (one at a time, in the copy's session).
INDEX_BUILD_MEMORY = "1GB"
# Parents before children (foreign keys); a table not named here is copied after these.
COPY_ORDER = (
    "sources",
    "articles",
    "article_urls",
    "list_validators",
    "people",
    "person_titles",
    "mentions",
    "chats",
    "search_queries",
    "subscriptions",
    "follows",
    "keyword_follows",
    "deliveries",
    "alert_cursor",
)
# SQLite's FTS5 search indexes (and their shadow tables) and /said's statements: derived data,
# rebuilt on the target (statements from the copied mentions, with PostgreSQL's own keys).
SQLITE_DERIVED = ("articles_fts", "articles_grams", "statements")
# Tables the target's triggers fill from the rows copied (a copy would count them twice).
KEPT_BY_TRIGGERS = ("person_counts", "person_days", "article_count")
# Columns the target numbers itself; after a copy each sequence must start past the copied ids.
IDENTITIES = (
    ("articles", "id"),
    ("people", "id"),
    ("search_queries", "id"),
    ("deliveries", "id"),
    ("article_urls", "seq"),
)

Progress = Callable[[str, int, int], None]
Record = tuple[Any, ...]


@dataclass
class CopyReport:
    """Per table: rows read from the source, and rows that were new to the target."""

    read: dict[str, int] = field(default_factory=dict)
    copied: dict[str, int] = field(default_factory=dict)

    @property
    def total_copied(self) -> int:
        """Return how many rows this run added to the target in all."""
        return sum(self.copied.values())


@dataclass(frozen=True)
class _Table:
    """One source table as the copy reads it, and where its rows go."""

    name: str
    columns: list[str]  # read from the source and written to the target, in this order
    target_columns: list[str]  # columns, plus seq for article_urls (SQLite's rowid)

    def record(self, row: Any) -> Record:
        """Turn a source row (rowid first) into the target's record."""
        return (*row[1:], row[0]) if self.name == "article_urls" else tuple(row[1:])


async def copy_store(
    source: SqliteStore, target: PostgresStore, progress: Progress | None = None
) -> CopyReport:
    """Copy every table of an SQLite store into a PostgreSQL store; rows already there stay."""
    tables = await _source_tables(source)
    target_columns = await _target_columns(target)
    missing = [t for t in tables if t not in target_columns]
    if missing:
        raise StoreError(
            f"copy-db: the PostgreSQL schema has no table {missing[0]!r}; "
            "update newsbot where the target was created"
        )
    key = await _source_key(source)
    await _claim_target(target, key, tables)
    report = CopyReport()
    with _search_pool(await _article_count(source)) as pool:
        for name in tables:
            columns = await _source_columns(source, name)
            shared = [c for c in columns if c in target_columns[name]]
            table = _Table(name, shared, [*shared, "seq"] if name == "article_urls" else shared)
            counts = await _bulk_copy_table(source, target, table, pool, progress)
            if counts is None:
                counts = await _copy_table(source, target, table, progress)
            report.read[name], report.copied[name] = counts
    async with target.db.connection() as con, con.transaction():
        for name, column in IDENTITIES:
            await con.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
                f"coalesce((SELECT max({column}) FROM {name}), 0) + 1, false)"
            )
    async with target.db.transaction() as tx:
        await fill_statements(tx)  # the copied speeches that have no statements row yet
    logger.info("copy-db: %d rows copied", report.total_copied)
    return report


async def _source_tables(source: SqliteStore) -> list[str]:
    rows = await source.db.fetch(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    names = [
        r[0]
        for r in rows
        if r[0] not in KEPT_BY_TRIGGERS
        and not any(r[0] == d or r[0].startswith(d + "_") for d in SQLITE_DERIVED)
    ]
    ordered = [t for t in COPY_ORDER if t in names]
    return ordered + sorted(t for t in names if t not in COPY_ORDER)


async def _source_columns(source: SqliteStore, table: str) -> list[str]:
    rows = await source.db.fetch(f"SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
    return [r[0] for r in rows]


async def _article_count(source: SqliteStore) -> int:
    row = await source.db.fetchone("SELECT count(*) FROM articles")
    return int(row[0]) if row else 0


async def _target_columns(target: PostgresStore) -> dict[str, set[str]]:
    rows = await target.db.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    )
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    return columns


async def _source_key(source: SqliteStore) -> str:
    """Name the source store by its first article, which stays the same as the store grows."""
    row = await source.db.fetchone("SELECT url, fetched_at FROM articles ORDER BY id LIMIT 1")
    return f"sqlite:{row[0]}@{row[1]}" if row else "sqlite:no-articles"


async def _claim_target(target: PostgresStore, key: str, tables: list[str]) -> None:
    """Refuse a target holding anything but an earlier copy of this source; mark it ours."""
    async with target.db.connection() as con, con.transaction():
        # One copy at a time into one database; a second waits here, then finds the mark.
        await con.execute("LOCK TABLE copied_from IN EXCLUSIVE MODE")
        marks = {r[0] for r in await con.fetch("SELECT source FROM copied_from")}
        if key in marks:
            return
        holding = [t for t in tables if await con.fetchval(f"SELECT EXISTS (SELECT 1 FROM {t})")]
        if marks or holding:
            raise StoreError(
                "copy-db: the PostgreSQL database is not empty and is not a copy of this "
                f"store (it holds {holding[0] if holding else 'another copy'}); not touching it"
            )
        await con.execute(
            "INSERT INTO copied_from (source, copied_at) VALUES ($1, $2)", key, to_db_time(now())
        )


# --- bulk: a table still empty in the target ----------------------------------------------


async def _bulk_copy_table(
    source: SqliteStore,
    target: PostgresStore,
    table: _Table,
    pool: Executor | None,
    progress: Progress | None,
) -> tuple[int, int] | None:
    """Load a table empty in the target in one transaction; None if it holds rows already."""
    loaded = [table.name, "articles_search"] if table.name == "articles" else [table.name]
    total = await _source_count(source, table.name)
    async with target.db.connection() as con, con.transaction():
        # Taken before looking: a copy running beside this one waits, then finds the rows.
        await con.execute(f"LOCK TABLE {', '.join(loaded)} IN ACCESS EXCLUSIVE MODE")
        if any([await con.fetchval(f"SELECT EXISTS (SELECT 1 FROM {t})") for t in loaded]):
            return None
        if progress is not None:
            progress(table.name, 0, total)
        if total == 0:
            return 0, 0
        await con.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
        rebuild = await _drop_derived(con, loaded)
        read = 0
        async for records, searched in _bulk_chunks(source, table, pool):
            await con.copy_records_to_table(
                table.name, records=records, columns=table.target_columns
            )
            if searched is not None:
                await con.copy_to_table(
                    "articles_search",
                    source=memoryview(searched),  # bytes would be taken for a file name
                    columns=list(SEARCH_COLUMNS),
                    format="binary",
                )
            read += len(records)
            if progress is not None:
                progress(table.name, min(read, total), total)
        for step, statement in enumerate(rebuild, start=1):
            await con.execute(statement)
            if progress is not None:
                progress(f"{table.name} indexes", step, len(rebuild))
        for name in loaded:
            await con.execute(f"ANALYZE {name}")
    return read, read


async def _drop_derived(con: Any, tables: list[str]) -> list[str]:
    """Drop the tables' secondary indexes and foreign keys; return the statements remaking them.

    Indexes that hold up a constraint (primary keys, UNIQUE) stay: they check the rows as they
    arrive. The definitions are read from the catalog, so indexes a later migration adds are
    dropped and remade too.
    """
    indexes = await con.fetch(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = ANY($1::text[]) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
        "WHERE k.conindid = format('%I.%I', schemaname, indexname)::regclass) "
        "ORDER BY tablename, indexname",
        tables,
    )
    keys = await con.fetch(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY($1::text[]::regclass[]) ORDER BY 1, 2",
        tables,
    )
    for name, _definition in indexes:
        await con.execute(f'DROP INDEX "{name}"')
    for table, name, _definition in keys:
        await con.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return [definition for _name, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition in keys
    ]


async def _bulk_chunks(
    source: SqliteStore, table: _Table, pool: Executor | None
) -> AsyncIterator[tuple[list[Record], bytes | None]]:
    """Yield (records, their search rows as binary COPY or None) a chunk at a time, built ahead."""
    articles = table.name == "articles"
    size = BULK_ROWS // 25 if articles else BULK_ROWS
    if not articles:
        async for rows in _source_chunks(source, table, size):
            yield [table.record(r) for r in rows], None
        return
    at = {name: i for i, name in enumerate(table.columns)}
    fields = [at["id"], at["published_at"], at["title"], at["body"]]
    loop = asyncio.get_running_loop()
    ahead: deque[tuple[list[Record], Any]] = deque()
    async for rows in _source_chunks(source, table, size):
        records = [table.record(r) for r in rows]
        texts = [tuple(r[i] for i in fields) for r in records]
        if pool is None:
            yield records, search_copy_data(texts)
            continue
        ahead.append((records, loop.run_in_executor(pool, search_copy_data, texts)))
        if len(ahead) >= POOL_AHEAD:
            records, pending = ahead.popleft()
            yield records, await pending
    while ahead:
        records, pending = ahead.popleft()
        yield records, await pending


def search_rows(articles: list[Record]) -> list[Record]:
    """Return the articles_search rows of (id, published_at, title, body) tuples."""
    return [search_record(*article) for article in articles]


def search_copy_data(articles: list[Record]) -> bytes:
    """Return the articles_search rows of (id, published_at, title, body) tuples as binary COPY.

    Run in a worker, this hands back one buffer instead of a Python int for every one of an
    article's ~2,000 keys, which unpickling and re-encoding in this process would cost more
    than building them did.
    """
    parts = [_BINARY_HEADER]
    for article_id, published_at, title, body in articles:
        text = search_text(title, body)
        parts.append(binary_row(article_id, published_at, text, search_keys(text, published_at)))
    parts.append(_BINARY_TRAILER)
    return b"".join(parts)


# PostgreSQL's binary COPY format: a signature, flags and header extension length; a row is
# its field count, then each field's byte length and bytes; -1 as a field count ends the data.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\0" + struct.pack("!ii", 0, 0)
_BINARY_TRAILER = struct.pack("!h", -1)
_INT8_OID = 20
# An int8[] element: its length (8) and its value, both big-endian.
_KEY_ELEMENT = [("length", ">i4"), ("value", ">i8")]


def binary_row(article_id: int, published_at: str, text: str, keys: Any) -> bytes:
    """Return one articles_search row (SEARCH_COLUMNS) in binary COPY format."""
    import numpy as np

    published = published_at.encode()
    body = text.encode()
    elements = np.empty(len(keys), dtype=_KEY_ELEMENT)
    elements["length"] = 8
    elements["value"] = keys
    # A one-dimensional array without NULLs: ndim, has-null flag, element type, size, lower bound.
    array = struct.pack("!iiiii", 1, 0, _INT8_OID, len(keys), 1) + elements.tobytes()
    return b"".join(
        (
            struct.pack("!hiq", 4, 8, article_id),
            struct.pack("!i", len(published)),
            published,
            struct.pack("!i", len(body)),
            body,
            struct.pack("!i", len(array)),
            array,
        )
    )


@contextmanager
def _search_pool(articles: int) -> Iterator[Executor | None]:
    """Yield worker processes for the search rows of a big store (None: build them here)."""
    if articles < POOL_MIN_ARTICLES:
        yield None
        return
    # Spawned, not forked: this process runs threads (aiosqlite's) that a fork would copy.
    workers = max(1, min(4, os.cpu_count() or 1))
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        yield pool


async def _source_count(source: SqliteStore, table: str) -> int:
    row = await source.db.fetchone(f"SELECT count(*) FROM {table}")
    return int(row[0]) if row else 0


async def _source_chunks(source: SqliteStore, table: _Table, size: int) -> AsyncIterator[list[Any]]:
    """Yield a table's rows (rowid first, then its columns) in rowid order, `size` at a time."""
    listed = ", ".join(table.columns)
    last = -(2**63)  # rowids may be negative: a group's chat id is its INTEGER PRIMARY KEY
    while True:
        rows = await source.db.fetch(
            f"SELECT rowid, {listed} FROM {table.name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (last, size),
        )
        if not rows:
            return
        last = rows[-1][0]
        yield rows


# --- incremental: a table holding rows of an earlier copy -------------------------------


async def _copy_table(
    source: SqliteStore, target: PostgresStore, table: _Table, progress: Progress | None
) -> tuple[int, int]:
    """Copy one table a chunk at a time; return (rows read, rows new to the target)."""
    total = await _source_count(source, table.name)
    read = copied = 0
    if progress is not None:
        progress(table.name, 0, total)
    async for rows in _source_chunks(source, table, CHUNK_ROWS):
        records = [table.record(r) for r in rows]
        async with target.db.connection() as con, con.transaction():
            new = await _insert_chunk(con, table.name, table.target_columns, records)
            if table.name == "articles" and new:
                # Only the new articles need search rows; an article and its row land together.
                at = {name: i for i, name in enumerate(table.columns)}
                fresh = set(new)
                texts = [
                    (r[at["id"]], r[at["published_at"]], r[at["title"]], r[at["body"]])
                    for r in records
                    if r[at["id"]] in fresh
                ]
                await _insert_chunk(
                    con, "articles_search", list(SEARCH_COLUMNS), search_rows(texts)
                )
        copied += len(new)
        read += len(rows)
        if progress is not None:
            progress(table.name, min(read, total), total)
    if progress is not None and total == 0:
        progress(table.name, 0, 0)
    return read, copied


async def _insert_chunk(
    con: Any, table: str, columns: list[str], records: list[Record]
) -> list[Any]:
    """Insert the rows the target lacks; return the first column of those that were new."""
    listed = ", ".join(columns)
    stage = f"copy_stage_{table}"
    await con.execute(
        f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS "
        f"SELECT {listed} FROM {table} WITH NO DATA"
    )
    await con.copy_records_to_table(stage, records=records, columns=columns)
    rows = await con.fetch(
        f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {stage} "
        f"ORDER BY 1 ON CONFLICT DO NOTHING RETURNING {columns[0]}"
    )
    return [r[0] for r in rows]
