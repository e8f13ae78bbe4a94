"""`newsbot copy-db FROM TO`: move a store from an SQLite file to a PostgreSQL database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, parse_db_target
from bot.ingest_cli import Progress
from storage import is_postgres_url, open_store, redact_target
from storage.copy import copy_store
from storage.postgres import PostgresStore
from storage.sqlite import SqliteStore


async def copy_db(source: str, target: str, out: TextIO) -> int:
    """Copy every table of the SQLite store FROM into the PostgreSQL store TO; 2 on bad input."""
    if is_postgres_url(source) or not is_postgres_url(target):
        print(
            "newsbot copy-db: FROM is an SQLite file, TO a postgresql://user@host/dbname URL",
            file=sys.stderr,
        )
        return 2
    if not Path(source).is_file():
        print(f"newsbot copy-db: {source!r} does not exist", file=sys.stderr)
        return 2
    try:
        parse_db_target(target)
    except ConfigError as exc:
        print(f"newsbot copy-db: {exc}", file=sys.stderr)
        return 2
    from_store = await open_store(source)
    try:
        to_store = await open_store(target)
        try:
            assert isinstance(from_store, SqliteStore) and isinstance(to_store, PostgresStore)
            report = await copy_store(from_store, to_store, Progress(sys.stderr))
        finally:
            await to_store.close()
    finally:
        await from_store.close()
    for table, read in report.read.items():
        print(f"{table}: {read} rows, {report.copied[table]} new", file=out)
    print(f"copied {report.total_copied} rows from {source} to {redact_target(target)}", file=out)
    return 0
