"""The SQLite adapter: one aiosqlite connection whose writes take turns, and a reader."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from storage.database import Database, Dialect, Queries, Row, Transaction
from storage.errors import StoreError, StoreUnavailable

logger = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
# A write transaction open this long is logged: other processes' writes wait for it.
SLOW_TRANSACTION_SECONDS = 1.0
# New database files get pages of this size: an article's row and its neighbours fill a page
# to within a tenth, where 4 KB pages left a quarter of each page empty; larger pages make an
# empty file and each commit's log pages larger than a small disk may spare.
PAGE_SIZE = 16384
# A long word is checked in the rows of its candidates: a larger page cache keeps the recent
# articles' pages at hand (the default is 2 MB) at the cost of the process's memory.
CACHE_KIB = 16384
WAL_CHECKPOINT_BYTES = 4 << 20
# After a checkpoint the log file is cut back to this size: without a limit it keeps the size
# it once grew to (a long transaction, a reader holding a snapshot, a disk that filled up).
WAL_SIZE_LIMIT = 4 * WAL_CHECKPOINT_BYTES
# Statements that only read; any other takes the write lock (a write must never land inside
# another task's open transaction on the shared connection, where its ROLLBACK would take it).
_READS = ("SELECT", "EXPLAIN", "PRAGMA", "VALUES")

# What SQLite says when the trouble is the disk or another process, not the statement.
_UNAVAILABLE_CAUSES = (
    "database or disk is full",
    "disk i/o error",
    "readonly database",
    "read-only",
    "database is locked",
    "unable to open database file",
)


def unavailable(path: str, exc: sqlite3.Error) -> StoreUnavailable | None:
    """Return the one-line StoreUnavailable for an SQLite error about the disk, else None."""
    cause = str(exc)
    if not any(known in cause.lower() for known in _UNAVAILABLE_CAUSES):
        return None
    hint = ""
    if "disk i/o" in cause.lower():
        hint = " (is the disk full or the file too large?)"
    elif "locked" in cause.lower():
        # SQLITE_BUSY is a lock held past the busy timeout; SQLITE_BUSY_SNAPSHOT a write from
        # a read transaction that another connection's commit made stale: the same words.
        name: str | None = getattr(exc, "sqlite_errorname", None)
        hint = f" ({name})" if name else ""
    return StoreUnavailable(f"NEWSBOT_DB: {path!r}: {cause}{hint}")


def check_sqlite_file(path: Path) -> None:
    """Raise StoreError if the file exists, is not empty, and is not an SQLite database."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_MAGIC))
    if header != SQLITE_MAGIC:
        raise StoreError(f"NEWSBOT_DB: {str(path)!r} is not an SQLite database; not touching it")


def split_sql(script: str) -> list[str]:
    """Split a migration script into complete statements (triggers hold ';' inside)."""
    statements: list[str] = []
    buffer = ""
    for part in script.split(";"):
        buffer += part + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip(" \n;"):
        raise ValueError(f"incomplete SQL statement in migration: {buffer.strip()[:80]!r}")
    return statements


class SqliteDialect(Dialect):
    """SQLite's spelling of the fragments that differ."""

    name = "sqlite"
    bytewise = "COLLATE BINARY"
    skip_locked = ""
    for_update = ""
    database_bytes = "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"

    def in_list(self, column: str, values: Sequence[Any], sql_type: str) -> tuple[str, list[Any]]:
        """Return `column IN (?, ?, …)` and the values."""
        return f"{column} IN ({','.join('?' * len(values))})", list(values)

    def contains(self, haystack: str, needle: str) -> str:
        """Return instr(haystack, needle) > 0."""
        return f"instr({haystack}, {needle}) > 0"

    def least(self, a: str, b: str) -> str:
        """Return SQLite's two-argument min()."""
        return f"min({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        """Return SQLite's two-argument max()."""
        return f"max({a}, {b})"

    def json_object(self, key: str, value: str) -> str:
        """Return json_object(key, value)."""
        return f"json_object({key}, {value})"

    def unindexed(self, column: str) -> str:
        """Return +column: SQLite's way of keeping an index off a term."""
        return f"+{column}"


class SqliteTransaction(Transaction):
    """Statements on the shared connection inside its write lock, the disk's errors mapped."""

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self.db = db
        self.path = path

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        try:
            cursor = await self.db.execute(sql, tuple(params))
        except sqlite3.OperationalError as exc:
            raise unavailable(self.path, exc) or exc from None
        count = cursor.rowcount
        await cursor.close()
        return max(count, 0)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""
        try:
            await self.db.executemany(sql, [tuple(r) for r in rows])
        except sqlite3.OperationalError as exc:
            raise unavailable(self.path, exc) or exc from None

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Return every row of a statement."""
        # One trip to the connection's thread, not three (execute, fetch, close): waking that
        # thread is the dearest part of a small read when the machine was idle.
        try:
            return list(await self.db.execute_fetchall(sql, tuple(params)))
        except sqlite3.OperationalError as exc:
            raise unavailable(self.path, exc) or exc from None

    async def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Insert the rows (SQLite has no bulk path faster than a prepared INSERT)."""
        marks = ", ".join("?" * len(columns))
        await self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    async def run_script(self, script: str) -> None:
        """Run each statement of a migration script."""
        for statement in split_sql(script):
            await self.execute(statement)

    async def set_schema_version(self, number: int) -> None:
        """Record the version in PRAGMA user_version."""
        await self.execute(f"PRAGMA user_version = {int(number)}")


class SqliteDatabase(Database):
    """One SQLite file (or :memory:): one connection shared by every task, writes in turn."""

    dialect = SqliteDialect()

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self.db = db
        self.path = self.name = path
        # Statements outside a transaction run through the same code, under the write lock
        # when they write.
        self._statements = SqliteTransaction(db, path)
        # One connection serves every task; a write must never land inside another task's
        # open transaction (where its ROLLBACK would take it along), so writes take turns.
        self._write_lock = asyncio.Lock()
        # A read-only connection used on the event loop itself for the few reads that take
        # well under a millisecond: handing them to aiosqlite's thread costs more than the
        # query, and each hop lets other chats' work run first.
        self.reader: sqlite3.Connection | None = None
        # A write met a full disk: the log is checkpointed and truncated after the next one.
        self._disk_was_full = False

    @classmethod
    async def open(cls, path: Path | str) -> SqliteDatabase:
        """Open (creating if needed) the file, checked and configured."""
        target = str(path)
        if target != ":memory:":
            check_sqlite_file(Path(target))
        try:
            db = await aiosqlite.connect(target, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"NEWSBOT_DB: cannot open {target!r}: {exc}") from None
        db.row_factory = sqlite3.Row
        database = cls(db, target)
        try:
            await database._configure()
        except BaseException:
            await db.close()
            raise
        return database

    def open_reader(self) -> None:
        """Open the read-only connection for reads on the event loop (none for :memory:)."""
        if self.path == ":memory:":
            return
        reader = sqlite3.connect(
            f"{Path(self.path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        reader.row_factory = sqlite3.Row
        reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.reader = reader

    async def _configure(self) -> None:
        try:
            await self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await self.db.execute("PRAGMA foreign_keys = ON")
            # Takes effect on a new, empty file only; an existing one keeps its page size.
            await self.db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            await self.db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            if self.path != ":memory:":
                await self.db.execute("PRAGMA journal_mode = WAL")
                # WAL makes NORMAL durable across application crashes; only power loss can
                # roll back the last transactions.
                await self.db.execute("PRAGMA synchronous = NORMAL")
                # Checkpoint at a fixed size of log whatever the page size (SQLite counts
                # pages, which grow with the page size).
                async with self.db.execute("PRAGMA page_size") as cursor:
                    row = await cursor.fetchone()
                pages = max(100, WAL_CHECKPOINT_BYTES // int(row[0] if row else 4096))
                await self.db.execute(f"PRAGMA wal_autocheckpoint = {pages}")
                await self.db.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"NEWSBOT_DB: {self.path!r} is not a usable database: {exc}") from None

    async def close(self) -> None:
        """Close both connections."""
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        await self.db.close()

    async def schema_version(self) -> int:
        """Return PRAGMA user_version."""
        try:
            async with self.db.execute("PRAGMA user_version") as cursor:
                row = await cursor.fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"NEWSBOT_DB: {self.path!r} is not a usable database: {exc}") from None
        return int(row[0]) if row else 0

    @contextlib.asynccontextmanager
    async def migration_lock(self) -> AsyncIterator[SqliteDatabase]:
        """Migrate under the file's own lock: each migration is an IMMEDIATE transaction."""
        yield self

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement on its own; return how many rows it changed."""
        async with self._write_lock, self._writing():
            return await self._statements.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one write statement once per parameter row, on its own."""
        async with self._write_lock, self._writing():
            await self._statements.executemany(sql, rows)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Return every row of a statement (a write with RETURNING takes the write lock)."""
        if sql.lstrip()[:8].upper().startswith(_READS):
            return await self._statements.fetch(sql, params)
        async with self._write_lock, self._writing():
            return await self._statements.fetch(sql, params)

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """Note a write that met a full disk; after the next that lands, cut the log back.

        Called under the write lock. The log grew until the disk refused it, and checkpoints
        reuse it from the start but keep its size: the space returns only once it is
        checkpointed and truncated, which needs no reader in the middle of a snapshot.
        """
        try:
            yield
        except StoreUnavailable as exc:
            if any(cause in str(exc).lower() for cause in ("full", "disk i/o")):
                self._disk_was_full = True
            raise
        if self._disk_was_full:
            await self._truncate_wal()

    async def _truncate_wal(self) -> None:
        wal = Path(f"{self.path}-wal")
        before = wal.stat().st_size if wal.exists() else 0
        try:
            async with self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
                row = await cursor.fetchone()
        except sqlite3.OperationalError as exc:
            logger.warning("could not checkpoint %r after the full disk: %s", self.path, exc)
            return
        if row is not None and row[0]:
            return  # a reader holds an old snapshot: the next write tries again
        self._disk_was_full = False
        after = wal.stat().st_size if wal.exists() else 0
        logger.info(
            "%r writable again: its write-ahead log checkpointed and cut from %.1f MB to %.1f MB",
            self.path,
            before / 1e6,
            after / 1e6,
        )

    async def fetchval(self, sql: str, params: Sequence[Any] = (), *, durable: bool = True) -> Any:
        """Return the first column of the first row (one statement commits on its own here)."""
        del durable  # WAL commits never wait for the disk: a transaction would only add hops
        return await Queries.fetchval(self, sql, params)

    async def lookup(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Return the rows of a read by key on the event loop, through the read-only connection."""
        if self.reader is None:
            return await self.fetch(sql, params)
        try:
            return self.reader.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError as exc:
            raise unavailable(self.path, exc) or exc from None

    @contextlib.asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[SqliteTransaction]:
        """Run the block in one IMMEDIATE transaction: all of it lands, or none.

        A full disk, a read-only file or a lock held too long raises StoreUnavailable, after
        the transaction is rolled back. SQLite's commits in WAL mode never wait for the disk,
        so `durable` changes nothing here.
        """
        del durable
        async with self._write_lock, self._writing():
            try:
                await self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise unavailable(self.path, exc) or exc from None
            began = time.monotonic()
            try:
                yield self._statements
                await self.db.execute("COMMIT")
            except BaseException as exc:
                # After a failed COMMIT SQLite may already have rolled back.
                if self.db.in_transaction:
                    await self.db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise unavailable(self.path, exc) or exc from None
                raise
            finally:
                held = time.monotonic() - began
                if held > SLOW_TRANSACTION_SECONDS:
                    # Every other writer of the file waits this long (up to the busy timeout).
                    logger.warning("a write transaction held %r for %.1f s", self.path, held)
