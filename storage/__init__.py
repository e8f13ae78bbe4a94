"""Persistent state: one Store written once over a Database adapter per backend, and its opener."""

from storage.errors import StoreError, StoreUnavailable
from storage.fulltext import RELEVANCE_CAP, SEARCH_COUNT_CAP, TOP_SPEAKERS_CAP
from storage.open import open_store
from storage.store import Store
from storage.target import is_postgres_url, redact_target

__all__ = [
    "RELEVANCE_CAP",
    "SEARCH_COUNT_CAP",
    "TOP_SPEAKERS_CAP",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "is_postgres_url",
    "open_store",
    "redact_target",
]
