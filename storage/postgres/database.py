"""The PostgreSQL adapter: one asyncpg pool, `?` SQL turned into `$n`, a migration lock."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from functools import lru_cache
from typing import Any

import asyncpg

from storage.database import Database, Dialect, Row, Transaction
from storage.errors import StoreError, StoreUnavailable
from storage.rows import now, to_db_time
from storage.target import redact_target

# Connections per process: the handlers' concurrent reads plus a delivery tick; three
# instances stay far below the server's default max_connections (100).
POOL_MIN = 1
POOL_MAX = 8
# Every instance that starts takes this lock before it looks at schema_migrations, so three
# starting at once migrate once. The number is 'newsbot' in ASCII.
MIGRATION_LOCK = 0x6E657773626F74
# asyncpg prepares every statement, and after five runs PostgreSQL may keep one generic plan
# for all parameters. For a search window that plan, blind to the words, walks the date index
# and detoasts every row's terms: a busy bot's searches then queued for seconds. Planning each
# run costs a tenth of a millisecond.
SESSION_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
# What a server gone away, restarting or full of connections raises: the store is out of
# reach for now, not the statement wrong.
_UNREACHABLE = (
    OSError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)
_PLACEHOLDER_RE = re.compile(r"\?(\d*)")


@lru_cache(maxsize=1024)
def pg(sql: str) -> str:
    """Turn the placeholders of portable SQL into asyncpg's: `?` into `$1, $2, …`, `?N` into `$N`.

    No literal in the store's SQL holds a question mark.
    """
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER_RE.sub(lambda m: f"${m.group(1) or next(counter)}", sql)


def rowcount(status: str) -> int:
    """Return the row count from an asyncpg command status ('UPDATE 3', 'INSERT 0 1')."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


async def _keep_session(con: Any) -> None:
    """Hand a connection back to the pool without asyncpg's reset query.

    That query (RESET ALL, UNLISTEN *, CLOSE ALL, an advisory unlock) is a second round trip
    on every pooled statement, and the caller waits for it before it gets its rows. The store
    leaves no session state: settings are SET LOCAL, the migration lock is released in a
    finally, nothing LISTENs or keeps a cursor on a pooled connection. asyncpg still rolls back
    a transaction left open before it calls this.
    """


class PostgresDialect(Dialect):
    """PostgreSQL's spelling of the fragments that differ."""

    name = "postgresql"
    bytewise = 'COLLATE "C"'
    skip_locked = " FOR UPDATE SKIP LOCKED"
    for_update = " FOR UPDATE"
    database_bytes = "SELECT pg_database_size(current_database())"

    def in_list(self, column: str, values: Sequence[Any], sql_type: str) -> tuple[str, list[Any]]:
        """Return `column = ANY(?::type[])` and the values as one array parameter."""
        return f"{column} = ANY(?::{sql_type}[])", [list(values)]

    def contains(self, haystack: str, needle: str) -> str:
        """Return strpos(haystack, needle) > 0."""
        return f"strpos({haystack}, {needle}) > 0"

    def least(self, a: str, b: str) -> str:
        """Return least(a, b)."""
        return f"least({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        """Return greatest(a, b)."""
        return f"greatest({a}, {b})"

    def json_object(self, key: str, value: str) -> str:
        """Return json_build_object(key, value) as text."""
        return f"json_build_object({key}, {value})::text"

    def unindexed(self, column: str) -> str:
        """Return the column as it is: PostgreSQL's planner needs no hint here."""
        return column


@contextlib.contextmanager
def reachable(name: str) -> Any:
    """Turn a lost or refused server connection into StoreUnavailable (one line, no secret)."""
    try:
        yield
    except _UNREACHABLE as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreUnavailable(f"NEWSBOT_DB: {name!r}: {reason}") from None


class PostgresTransaction(Transaction):
    """The statements of one transaction on one pooled connection (or, outside one, the pool)."""

    def __init__(self, con: Any, name: str) -> None:
        # asyncpg's own (a connection, or the pool: both run statements), for what only this
        # backend does.
        self.connection = con
        self.name = name

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        with reachable(self.name):
            return rowcount(await self.connection.execute(pg(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""
        with reachable(self.name):
            await self.connection.executemany(pg(sql), [tuple(r) for r in rows])

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Return every row of a statement."""
        with reachable(self.name):
            return list(await self.connection.fetch(pg(sql), *params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Return the first row of a statement, or None."""
        with reachable(self.name):
            return await self.connection.fetchrow(pg(sql), *params)

    async def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """COPY the rows into the table."""
        with reachable(self.name):
            await self.connection.copy_records_to_table(
                table, records=[tuple(r) for r in rows], columns=list(columns)
            )

    async def run_script(self, script: str) -> None:
        """Run a migration script (asyncpg runs several statements in one call)."""
        await self.connection.execute(script)

    async def set_schema_version(self, number: int) -> None:
        """Record the migration in schema_migrations."""
        await self.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
            (number, to_db_time(now())),
        )


class PostgresDatabase(Database):
    """A PostgreSQL database through one connection pool per process."""

    dialect = PostgresDialect()

    def __init__(self, pool: Any, url: str) -> None:
        self.pool = pool
        self.url = url  # to open more connections; never shown (it may hold a password)
        self.name = redact_target(url)
        # Statements outside a transaction: each on whichever pooled connection is free.
        self._statements = PostgresTransaction(pool, self.name)

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        """Connect a pool to the database."""
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=POOL_MIN,
                max_size=POOL_MAX,
                reset=_keep_session,
                server_settings=SESSION_SETTINGS,
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # asyncpg's messages name host, user and database, never the password.
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(
                f"NEWSBOT_DB: cannot connect to {redact_target(url)!r}: {reason}"
            ) from None
        return cls(pool, url)

    async def close(self) -> None:
        """Close every connection of the pool."""
        await self.pool.close()

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement on its own; return how many rows it changed."""
        return await self._statements.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""
        await self._statements.executemany(sql, rows)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Return every row of a statement."""
        return await self._statements.fetch(sql, params)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Return the first row of a statement, or None."""
        return await self._statements.fetchone(sql, params)

    @contextlib.asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[PostgresTransaction]:
        """Run the block on one connection in one transaction: all of it lands, or none."""
        with reachable(self.name):
            async with self.pool.acquire() as con, con.transaction():
                if not durable:
                    await con.execute("SET LOCAL synchronous_commit = off")
                yield PostgresTransaction(con, self.name)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """Lend one pooled asyncpg connection, for what only this backend does."""
        with reachable(self.name):
            async with self.pool.acquire() as con:
                yield con

    async def schema_version(self) -> int:
        """Return the highest version in schema_migrations (0 before the first migration)."""
        async with self.connection() as con:
            exists = await con.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
            if not exists:
                return 0
            return int(
                await con.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
            )

    @contextlib.asynccontextmanager
    async def migration_lock(self) -> AsyncIterator[PostgresDatabase]:
        """Hold the advisory lock on one connection, and migrate on that connection alone.

        Alone: a store just opened then holds one connection, not one for the lock and
        another for the migrations.
        """
        async with self.connection() as con:
            await con.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                yield PostgresDatabase(_OneConnection(con), self.url)
            finally:
                await con.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


class _OneConnection:
    """A pool of one connection: it runs statements itself and lends itself on acquire()."""

    def __init__(self, con: Any) -> None:
        self._con = con

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        """Lend the connection."""
        yield self._con
