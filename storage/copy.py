"""Copy a whole SQLite store into PostgreSQL (`newsbot copy-db`), resumably and only once.

Every table of the SQLite schema is copied, in an order that satisfies the foreign keys, a
chunk at a time: COPY into a temporary table, then INSERT … ON CONFLICT DO NOTHING, so a row
already in the target (an earlier or interrupted run) is left as it is and counted as not
copied. SQLite's search tables are not copied: the PostgreSQL search index is built from the
articles as they arrive, and its triggers count each person's articles (person_counts and
person_days). The target remembers the copy in `copied_from`; a target that holds anything
else is refused before a row is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from storage.base import StoreError, _now, to_db_time
from storage.postgres.store import PostgresStore, search_record
from storage.store import SqliteStore

logger = logging.getLogger(__name__)

CHUNK_ROWS = 5000
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
# SQLite's FTS5 search indexes (and their shadow tables): derived data, rebuilt on the target.
SQLITE_DERIVED = ("articles_fts", "articles_grams")
# Tables the target's triggers fill from the rows copied (a copy would count them twice).
KEPT_BY_TRIGGERS = ("person_counts", "person_days")
# Columns the target numbers itself; after a copy each sequence must start past the copied ids.
IDENTITIES = (
    ("articles", "id"),
    ("people", "id"),
    ("search_queries", "id"),
    ("deliveries", "id"),
    ("article_urls", "seq"),
)

Progress = Callable[[str, int, int], None]


@dataclass
class CopyReport:
    """Per table: rows read from the source, and rows that were new to the target."""

    read: dict[str, int] = field(default_factory=dict)
    copied: dict[str, int] = field(default_factory=dict)

    @property
    def total_copied(self) -> int:
        """Return how many rows this run added to the target in all."""
        return sum(self.copied.values())


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
    for table in tables:
        columns = await _source_columns(source, table)
        shared = [c for c in columns if c in target_columns[table]]
        read, copied = await _copy_table(source, target, table, shared, progress)
        report.read[table] = read
        report.copied[table] = copied
    async with target.transaction() as con:
        for table, column in IDENTITIES:
            await con.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
            )
    logger.info("copy-db: %d rows copied", report.total_copied)
    return report


async def _source_tables(source: SqliteStore) -> list[str]:
    rows = await source._fetchall(
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
    rows = await source._fetchall(f"SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
    return [r[0] for r in rows]


async def _target_columns(target: PostgresStore) -> dict[str, set[str]]:
    rows = await target._fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    )
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    return columns


async def _source_key(source: SqliteStore) -> str:
    """Name the source store by its first article, which stays the same as the store grows."""
    row = await source._fetchone("SELECT url, fetched_at FROM articles ORDER BY id LIMIT 1")
    return f"sqlite:{row[0]}@{row[1]}" if row else "sqlite:no-articles"


async def _claim_target(target: PostgresStore, key: str, tables: list[str]) -> None:
    """Refuse a target holding anything but an earlier copy of this source; mark it ours."""
    async with target.transaction() as con:
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
            "INSERT INTO copied_from (source, copied_at) VALUES ($1, $2)", key, to_db_time(_now())
        )


async def _copy_table(
    source: SqliteStore,
    target: PostgresStore,
    table: str,
    columns: list[str],
    progress: Progress | None,
) -> tuple[int, int]:
    """Copy one table a chunk at a time; return (rows read, rows new to the target)."""
    count_row = await source._fetchone(f"SELECT count(*) FROM {table}")
    total = int(count_row[0]) if count_row else 0
    # article_urls keeps SQLite's insertion order (its rowid) in seq.
    target_columns = [*columns, "seq"] if table == "article_urls" else columns
    listed = ", ".join(columns)
    read = copied = 0
    last = -(2**63)  # rowids may be negative: a group's chat id is its INTEGER PRIMARY KEY
    if progress is not None:
        progress(table, 0, total)
    while True:
        rows = await source._fetchall(
            f"SELECT rowid, {listed} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (last, CHUNK_ROWS),
        )
        if not rows:
            break
        last = rows[-1][0]
        records = [(*r[1:], r[0]) if table == "article_urls" else tuple(r[1:]) for r in rows]
        copied += await _insert_chunk(target, table, target_columns, records)
        if table == "articles":
            await _index_articles(target, columns, records)
        read += len(rows)
        if progress is not None:
            progress(table, min(read, total), total)
    if progress is not None and total == 0:
        progress(table, 0, 0)
    return read, copied


async def _insert_chunk(
    target: PostgresStore, table: str, columns: list[str], records: list[tuple[Any, ...]]
) -> int:
    """Insert rows the target lacks, in one transaction; return how many were new."""
    listed = ", ".join(columns)
    stage = f"copy_stage_{table}"
    async with target.transaction() as con:
        await con.execute(
            f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS "
            f"SELECT {listed} FROM {table} WITH NO DATA"
        )
        await con.copy_records_to_table(stage, records=records, columns=columns)
        status = await con.execute(
            f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {stage} "
            "ORDER BY 1 ON CONFLICT DO NOTHING"
        )
    return int(status.rsplit(" ", 1)[-1])


async def _index_articles(
    target: PostgresStore, columns: list[str], records: list[tuple[Any, ...]]
) -> None:
    """Build the PostgreSQL search rows of copied articles (those already indexed stay)."""
    at = {name: i for i, name in enumerate(columns)}
    search_rows = [
        search_record(r[at["id"]], r[at["published_at"]], r[at["title"]], r[at["body"]])
        for r in records
    ]
    await _insert_chunk(
        target, "articles_search", ["id", "published_at", "text", "grams"], search_rows
    )
