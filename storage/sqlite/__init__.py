"""The SQLite backend: its adapter, its dialect overrides, its schema and the bot's file lock."""

from storage.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
