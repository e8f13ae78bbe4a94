"""Raw SQL for tests that set up a state no store method makes (either backend)."""

from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg

from storage import Store

# What a UNIQUE or PRIMARY KEY violation raises on each backend.
INTEGRITY_ERRORS = (sqlite3.IntegrityError, asyncpg.UniqueViolationError)


async def execute_sql(store: Store, sql: str, *params: Any) -> None:
    """Run one statement written with `?` placeholders on the store's database."""
    await store.db.execute(sql, params)


async def fetch_sql(store: Store, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Return the rows of one query written with `?` placeholders, as tuples."""
    return [tuple(r) for r in await store.db.fetch(sql, params)]
