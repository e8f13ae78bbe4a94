"""`newsbot bench metrics`: what one /metrics scrape asks of the store with a year in the ledger."""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from handlers.delivery import SENDER_LEASE
from handlers.metrics import LedgerTally
from storage import Store, open_store
from storage.rows import to_db_time

# 10,000 subscribers for a year: one digest row each a day.
DEFAULT_ROWS = 3_650_000
CHATS = 10_000
# The newest day's rows: some still pending, as a tick leaves them (the rest settled).
OPEN_WINDOW = CHATS
SCRAPES = 20
# Rows a transaction: under the second after which SQLite's adapter warns of a long write.
INSERT_BATCH = 10_000


def _state(i: int, rows: int) -> str:
    """Return row i's state: 1 % failed, 1 % skipped, a few of the newest pending, else sent."""
    if i % 100 == 0:
        return "failed"
    if i % 100 == 1:
        return "skipped"
    if i >= rows - OPEN_WINDOW and i % 100 == 2:
        return "pending"
    return "sent"


async def fill_ledger(store: Store, rows: int, out: TextIO) -> None:
    """Write `rows` digest rows (10,000 chats, a day each) in batches, unless already there."""
    have = sum((await store.ledger.delivery_counts()).values())
    if have >= rows:
        return
    started = time.perf_counter()
    stamp = to_db_time(datetime.now(UTC))
    columns = ("chat_id", "kind", "key", "status", "created_at", "updated_at")
    for first in range(have, rows, INSERT_BATCH):
        batch = [
            (i % CHATS, "digest", f"d{i // CHATS}", _state(i, rows), stamp, stamp)
            for i in range(first, min(first + INSERT_BATCH, rows))
        ]
        # The adapter's bulk load (COPY on PostgreSQL): no SQL of the benchmark's own.
        async with store.db.transaction() as tx:
            await tx.copy("deliveries", columns, batch)
    print(f"ledger filled: {rows:,} rows in {time.perf_counter() - started:.0f} s", file=out)


async def scrape_reads(store: Store, tally: LedgerTally) -> float:
    """Run the store reads of one scrape (handlers.health.scrape); return milliseconds."""
    started = time.perf_counter()
    await store.source_runs()
    await tally.read(store.ledger)
    await store.leases.holder(SENDER_LEASE)
    return (time.perf_counter() - started) * 1000


async def measure(target: str, rows: int, out: TextIO) -> None:
    """Fill the ledger at `target`, then time a full count and a run of scrapes."""
    store = await open_store(target)
    try:
        await fill_ledger(store, rows, out)
        started = time.perf_counter()
        counts = await store.ledger.delivery_counts()
        full = (time.perf_counter() - started) * 1000
        tally = LedgerTally()
        times = [await scrape_reads(store, tally) for _ in range(SCRAPES)]
        assert await tally.read(store.ledger) == counts, "the tally must equal a full count"
        later = sorted(times[1:])
        print(
            "| backend | ledger rows | full count by state ms | first scrape ms "
            f"| later scrapes p50 ms | later max ms ({SCRAPES - 1}) |",
            file=out,
        )
        print("|---|---:|---:|---:|---:|---:|", file=out)
        print(
            f"| {store.backend} | {rows:,} | {full:.0f} | {times[0]:.0f} | "
            f"{statistics.median(later):.1f} | {later[-1]:.1f} |",
            file=out,
        )
    finally:
        await store.close()


async def _postgres(admin_url: str, rows: int, out: TextIO) -> None:
    from benchmarks.scale import create_database, drop_database

    url = await create_database(admin_url)
    try:
        await measure(url, rows, out)
    finally:
        await drop_database(admin_url, url)


def run(out: TextIO, rows: int = DEFAULT_ROWS, db: str | None = None) -> int:
    """Print the scrape's store time on SQLite (a temporary file) or a new PostgreSQL database."""
    if db:
        asyncio.run(_postgres(db, rows, out))
        return 0
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-metrics-") as folder:
        path = Path(folder) / f"ledger-{secrets.token_hex(3)}.db"
        asyncio.run(measure(str(path), rows, out))
    return 0
