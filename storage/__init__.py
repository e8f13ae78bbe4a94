"""Persistent state: the Store over SQLite and its migrations."""

from storage.store import Store, StoreError

__all__ = ["Store", "StoreError"]
