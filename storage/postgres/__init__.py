"""The PostgreSQL backend: its adapter, its dialect overrides and its schema, over asyncpg."""

from storage.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
