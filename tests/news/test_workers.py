"""The spawned worker: runs what it is given, stops on close, and exits when its parent dies."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from news.workers import SpawnedWorker
from tests.news.worker_kill import alive, assert_worker_dies_with_parent

ROOT = Path(__file__).resolve().parents[2]

# A parent that starts the worker, prints the worker's pid, then waits to be killed.
KILLED_PARENT = """
import asyncio, os, time
from news.workers import SpawnedWorker

async def main():
    worker = SpawnedWorker()
    print(await worker.run(os.getpid), flush=True)
    time.sleep(600)

asyncio.run(main())
"""


async def test_the_worker_runs_in_another_process_and_stops_on_close() -> None:
    worker = SpawnedWorker()
    try:
        assert await worker.run(sum, (1, 2, 3)) == 6
        pid = await worker.run(os.getpid)
        assert pid != os.getpid()
        assert await worker.run(os.getpid) == pid  # one process, kept
    finally:
        worker.close()
    assert not alive(pid)
    worker.close()  # a second close does nothing


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_parent_killed_with_sigkill_takes_its_worker_with_it() -> None:
    assert_worker_dies_with_parent(KILLED_PARENT, ROOT, within=5)
