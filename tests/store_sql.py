"""Raw SQL for tests that set up a state no store method makes (either backend)."""

from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg

from storage import Store
from storage.postgres import PostgresStore
from storage.store import SqliteStore

# What a UNIQUE or PRIMARY KEY violation raises on each backend.
INTEGRITY_ERRORS = (sqlite3.IntegrityError, asyncpg.UniqueViolationError)


async def execute_sql(store: Store, sql: str, *params: Any) -> None:
    """Run one statement written with `?` placeholders on the store's database."""
    if isinstance(store, SqliteStore):
        await store._write(sql, params)
    elif isinstance(store, PostgresStore):
        await store._execute(sql, *params)
    else:
        raise TypeError(f"no raw SQL for {type(store).__name__}")


async def fetch_sql(store: Store, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Return the rows of one query written with `?` placeholders, as tuples."""
    if isinstance(store, SqliteStore):
        return [tuple(r) for r in await store._fetchall(sql, params)]
    if isinstance(store, PostgresStore):
        return [tuple(r) for r in await store._fetch(sql, *params)]
    raise TypeError(f"no raw SQL for {type(store).__name__}")
