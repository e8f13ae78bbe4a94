"""The PostgreSQL backend of the store contract, over asyncpg (one pool per process)."""

from storage.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
