"""Persistent state: the Store over SQLite and its migrations."""

from storage.store import Store, StoreError, StoreUnavailable

__all__ = ["Store", "StoreError", "StoreUnavailable"]
