"""What the store raises: StoreError and its StoreUnavailable, for every backend."""

from __future__ import annotations


class StoreError(Exception):
    """The database cannot be used (wrong kind, from a newer newsbot, unreachable)."""


class StoreUnavailable(StoreError):
    """The database refused a read or write for now (disk full, read-only, locked): retry later.

    Nothing was half-written: the statement or transaction that met it was rolled back.
    """
