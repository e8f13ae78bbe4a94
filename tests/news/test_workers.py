"""The spawned worker: runs what it is given, stops on close, and exits when its parent dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from news.workers import SpawnedWorker

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
    assert not _alive(pid)
    worker.close()  # a second close does nothing


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_parent_killed_with_sigkill_takes_its_worker_with_it() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", KILLED_PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        worker_pid = int(parent.stdout.readline())
        assert _alive(worker_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker_pid), "the worker outlived its parent"
        parent.stdout.read()  # EOF: nobody holds the pipe any more
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.communicate(timeout=10)


def _alive(pid: int) -> bool:
    """Return whether a process runs under pid (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return not stat.read_text().split(") ")[-1].startswith("Z")
    except FileNotFoundError:
        return False
