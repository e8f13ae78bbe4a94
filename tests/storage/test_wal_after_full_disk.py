"""After a full disk, the first write that lands again checkpoints and truncates SQLite's log."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import StoreUnavailable, open_store
from storage.sqlite.database import WAL_SIZE_LIMIT


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MB tmpfs of the test's own; skipped where this machine cannot mount one."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill the file system until about `leave` bytes are free; return the filler file."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
    with filler.open("r+b") as handle:
        handle.truncate(max(0, filler.stat().st_size - leave))
    return filler


async def test_the_log_is_cut_back_once_writes_land_again(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    db = small_disk / "bot.db"
    wal = Path(f"{db}-wal")
    store = await open_store(db)
    try:
        filler = fill(small_disk, leave=2_500_000)
        # One transaction of ~4 MB: the log grows until the disk refuses it, and it is rolled
        # back whole.
        with pytest.raises(StoreUnavailable, match="full"):
            async with store.db.transaction() as tx:
                for n in range(40):
                    await tx.execute(
                        "INSERT INTO search_queries (chat_id, query, created_at) "
                        "VALUES (?, ?, '2026-01-01')",
                        (n, str(n) * 100_000),
                    )
        grown = wal.stat().st_size
        assert grown > 1_000_000
        assert await store.search_query(0, 1) is None  # nothing of it landed
        # Still full: a write fails, and the log keeps its size meanwhile.
        with pytest.raises(StoreUnavailable):
            await store.save_search_query(7, "x" * 3_000_000)
        filler.unlink()  # space is back
        query_id = await store.save_search_query(7, "振兴")
        assert await store.search_query(7, query_id) == "振兴"
        assert wal.stat().st_size == 0
        said = [r.getMessage() for r in caplog.records if "write-ahead log" in r.getMessage()]
        assert len(said) == 1 and "writable again" in said[0]
        # Once is enough: the next writes leave the log to SQLite's own checkpoints.
        await store.save_search_query(7, "营商环境")
        assert wal.stat().st_size > 0
        assert sum("write-ahead log" in r.getMessage() for r in caplog.records) == 1
        journal_limit = await store.db.fetchval("PRAGMA journal_size_limit")
        assert journal_limit == WAL_SIZE_LIMIT
    finally:
        await store.close()
