"""Measure the archive's database bytes per article, against the UTF-8 text it stores.

Also reads a PostgreSQL archive into the OS page cache before it is timed, as a running bot
has it.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ArchiveSize:
    """The database's bytes, its articles, and the UTF-8 bytes of their titles and bodies."""

    database_bytes: int
    articles: int
    text_bytes: int

    @property
    def per_article(self) -> float:
        """Return the database bytes per article."""
        return self.database_bytes / max(self.articles, 1)

    @property
    def ratio(self) -> float:
        """Return the database size over the size of the text it stores."""
        return self.database_bytes / max(self.text_bytes, 1)


def sqlite_size(path: Path) -> ArchiveSize:
    """Measure a SQLite archive: the file and its -wal, over its articles' title and body."""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        articles, text = con.execute(
            "SELECT count(*), coalesce(sum(length(CAST(title AS BLOB)) "
            "+ length(CAST(body AS BLOB))), 0) FROM articles"
        ).fetchone()
    finally:
        con.close()
    wal = Path(f"{path}-wal")
    size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return ArchiveSize(size, int(articles), int(text))


async def postgres_size(url: str) -> ArchiveSize:
    """Measure a PostgreSQL archive: pg_database_size, over its articles' title and body."""
    import asyncpg

    con = await asyncpg.connect(url)
    try:
        row = await con.fetchrow(
            "SELECT pg_database_size(current_database()) AS size, count(*) AS articles, "
            "coalesce(sum(octet_length(title) + octet_length(body)), 0) AS text FROM articles"
        )
    finally:
        await con.close()
    assert row is not None
    return ArchiveSize(int(row["size"]), int(row["articles"]), int(row["text"]))


async def warm_postgres(url: str) -> str:
    """Read the archive's tables and indexes into the OS page cache, as a running bot has them.

    A database just copied (or the machine just started) has them on disk only; the SQLite
    runs time a fresh copy of their file, which the copy leaves in the cache likewise. Left
    out: the TOAST of articles_search, whose bulk is every row's keys (no query reads them;
    the GIN index holds them) and which alone would not fit beside the rest. Returns what
    was read, for the report.
    """
    import asyncpg

    con = await asyncpg.connect(url)
    try:
        try:
            await con.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except asyncpg.PostgresError as exc:
            return f"not read into the cache first (no pg_prewarm: {type(exc).__name__})"
        started = time.perf_counter()
        blocks = await con.fetchval(
            "SELECT coalesce(sum(pg_prewarm(c.oid, 'read')), 0) FROM pg_class c "
            "WHERE c.relkind IN ('r', 'i', 't') AND c.relpersistence = 'p' "
            "AND (c.relnamespace = 'public'::regnamespace OR c.oid IN ("
            "  SELECT reltoastrelid FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            "  AND relname <> 'articles_search'"
            "  UNION SELECT indexrelid FROM pg_index WHERE indrelid IN ("
            "    SELECT reltoastrelid FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            "    AND relname <> 'articles_search')))"
        )
        seconds = time.perf_counter() - started
    finally:
        await con.close()
    return (
        f"read into the OS page cache first (pg_prewarm, {int(blocks) * 8 / 1024:,.0f} MB in "
        f"{seconds:.0f} s: every table and index but articles_search's TOAST)"
    )
