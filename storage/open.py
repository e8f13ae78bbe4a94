"""Open the store NEWSBOT_DB names: a file path is SQLite, a postgresql:// URL is PostgreSQL.

The target's parsing lives in storage.target, which the backends import; this module imports
the backends, so the two directions stay apart (no module imports one that imports it back).
"""

from __future__ import annotations

from pathlib import Path

from storage.store import Store
from storage.target import check_target, is_postgres_url


async def open_store(target: str | Path) -> Store:
    """Open the store NEWSBOT_DB names (creating and migrating it if needed)."""
    check_target(target)
    if is_postgres_url(target):
        from storage.postgres import PostgresStore

        return await PostgresStore.open(str(target))
    from storage.sqlite import SqliteStore

    return await SqliteStore.open(target)
