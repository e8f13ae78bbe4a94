"""Persistent state: the store contract, its SQLite and PostgreSQL backends, and the opener."""

from storage.base import DeliveryStore, Store, StoreError, StoreUnavailable
from storage.open import open_store
from storage.target import is_postgres_url, redact_target

__all__ = [
    "DeliveryStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "is_postgres_url",
    "open_store",
    "redact_target",
]
