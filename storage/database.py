"""The Database adapter each backend implements: `?` SQL in, named rows out, one transaction.

The store's queries are written once over this surface (storage.articles, storage.people, …);
a backend supplies an adapter (storage.sqlite.database, storage.postgres.database) and a
Dialect for the few fragments the two SQL dialects spell differently. Every method raises
StoreUnavailable (one line, no secret) when the database is out of reach for now.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from storage.errors import StoreError

logger = logging.getLogger(__name__)

# A row read by column name (sqlite3.Row, asyncpg.Record); both also index by position.
Row = Any


class Queries(ABC):
    """What a database and a transaction on it both run: `?` placeholders, named rows."""

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""

    @abstractmethod
    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Return every row of a statement (a SELECT, or a write with RETURNING)."""

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Return the first row of a statement that yields at most a few, or None."""
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Return the first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return row[0] if row is not None else None


class Transaction(Queries):
    """Statements that land together or not at all (the block of Database.transaction)."""

    @abstractmethod
    async def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Load rows into a table in bulk."""

    @abstractmethod
    async def run_script(self, script: str) -> None:
        """Run a migration's SQL script (several statements)."""

    @abstractmethod
    async def set_schema_version(self, number: int) -> None:
        """Record that migration `number` is applied."""


class Dialect(ABC):
    """The SQL fragments the backends spell differently; everything else is written once."""

    name: str
    """"sqlite" or "postgresql"."""
    bytewise: str
    """A COLLATE clause ordering text by code point, as SQLite always does."""
    skip_locked: str
    """FOR UPDATE SKIP LOCKED where rows can be locked, else nothing (SQLite locks the file)."""
    for_update: str
    """FOR UPDATE where rows can be locked, else nothing."""
    database_bytes: str
    """A SELECT of the database's size on disk, in bytes."""

    @abstractmethod
    def in_list(self, column: str, values: Sequence[Any], sql_type: str) -> tuple[str, list[Any]]:
        """Return `column IN (values)` and its parameters."""

    @abstractmethod
    def contains(self, haystack: str, needle: str) -> str:
        """Return SQL true when `haystack` contains `needle` (two SQL expressions)."""

    @abstractmethod
    def least(self, a: str, b: str) -> str:
        """Return the smaller of two non-null SQL expressions."""

    @abstractmethod
    def greatest(self, a: str, b: str) -> str:
        """Return the larger of two non-null SQL expressions."""

    @abstractmethod
    def json_object(self, key: str, value: str) -> str:
        """Return a one-key JSON object as text."""

    @abstractmethod
    def unindexed(self, column: str) -> str:
        """Return the column so that the planner does not pick an index on it."""


class Database(Queries):
    """One backend's connection (or pool): queries, transactions, migrations, closing."""

    dialect: Dialect
    name: str
    """The database as it may be shown (a file path, a URL without its password)."""

    @abstractmethod
    def transaction(self, *, durable: bool = True) -> AbstractAsyncContextManager[Transaction]:
        """Run the block in one transaction: all of it lands, or none.

        With durable=False the commit may skip waiting for the disk where the backend can:
        a crash right after it may lose it, a failure never half-writes it.
        """

    async def fetchval(self, sql: str, params: Sequence[Any] = (), *, durable: bool = True) -> Any:
        """Return the first column of the first row; durable=False as for transaction()."""
        if durable:
            return await super().fetchval(sql, params)
        async with self.transaction(durable=False) as tx:
            return await tx.fetchval(sql, params)

    async def lookup(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Return the rows of a read by key, the cheapest way this backend has."""
        return await self.fetch(sql, params)

    @abstractmethod
    async def close(self) -> None:
        """Close every connection."""

    @abstractmethod
    async def schema_version(self) -> int:
        """Return the number of migrations applied to this database."""

    @abstractmethod
    def migration_lock(self) -> AbstractAsyncContextManager[Database]:
        """Hold the lock under which one process at a time migrates; yield what to migrate on."""


MigrationStep = Callable[[Transaction], Awaitable[None]]


def migrations(scripts: Mapping[int, str]) -> tuple[Migration, ...]:
    """Return the migrations of a {number: SQL} table, in number order."""
    return tuple(Migration(number, sql) for number, sql in sorted(scripts.items()))


@dataclass(frozen=True)
class Migration:
    """One schema change: its number, its SQL, and (found by number) a Python step after it."""

    number: int
    sql: str


@dataclass(frozen=True)
class Schema:
    """A backend's migrations, numbered 1, 2, …, and the Python steps of some of them."""

    migrations: tuple[Migration, ...]
    steps: Mapping[int, MigrationStep]

    def __post_init__(self) -> None:
        numbers = [m.number for m in self.migrations]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"migrations must be numbered 1..n in order: {numbers}")
        if not set(self.steps) <= set(numbers):
            raise ValueError(f"steps for migrations that do not exist: {sorted(self.steps)}")

    @property
    def version(self) -> int:
        """Return the version a fully migrated database has."""
        return len(self.migrations)


async def migrate(db: Database, schema: Schema) -> None:
    """Apply the migrations a database lacks, each with its step in one transaction."""
    async with db.migration_lock() as locked:
        version = await locked.schema_version()
        if version > schema.version:
            raise StoreError(
                f"NEWSBOT_DB: {db.name!r} is at schema version {version}, newer than this "
                f"newsbot ({schema.version}); upgrade newsbot or use another database"
            )
        for migration in schema.migrations[version:]:
            async with locked.transaction() as tx:
                await tx.run_script(migration.sql)
                step = schema.steps.get(migration.number)
                if step is not None:
                    await step(tx)
                await tx.set_schema_version(migration.number)
            logger.info("database migrated to schema version %d", migration.number)
