"""One running bot per SQLite file: an advisory lock beside the database, held while it runs."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from storage.errors import StoreError


class StoreInUse(StoreError):
    """Another `newsbot run` holds this database file."""


def lock_path(db_path: Path) -> Path:
    """Return the lock file that belongs to a database file."""
    return db_path.with_name(db_path.name + ".lock")


@contextlib.contextmanager
def hold_bot_lock(db_path: Path) -> Iterator[None]:
    """Hold the file's bot lock for the block, or raise StoreInUse naming the other process.

    flock() belongs to the open file, so the kernel drops it when the holder exits in any way
    (SIGKILL included): a lock left by a dead process never blocks a restart. Other commands
    (ingest, parse, bench) do not take it; they may run beside the bot.
    """
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="ascii")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise StoreInUse(
                f"NEWSBOT_DB: {str(db_path)!r} is in use by another newsbot run (pid {holder});"
                " stop it first, or give this one another NEWSBOT_DB"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock
