"""Persistent state: the store contract, its SQLite and PostgreSQL backends, and the opener."""

from storage.base import (
    RELEVANCE_CAP,
    SEARCH_COUNT_CAP,
    TOP_SPEAKERS_CAP,
    DeliveryStore,
    Store,
    StoreError,
    StoreUnavailable,
)
from storage.open import open_store
from storage.target import is_postgres_url, redact_target

__all__ = [
    "RELEVANCE_CAP",
    "SEARCH_COUNT_CAP",
    "TOP_SPEAKERS_CAP",
    "DeliveryStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "is_postgres_url",
    "open_store",
    "redact_target",
]
