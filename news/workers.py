"""Run work in one spawned worker process that exits when the process that started it is gone."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import TypeVar, TypeVarTuple

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

# How often the worker looks whether the process that started it is still there.
PARENT_CHECK_SECONDS = 0.5


def _exit_with_parent(parent_pid: int) -> None:
    """Start a thread in the worker that ends it as soon as its parent is gone."""

    # The pool's task queue never reports a parent killed outright (SIGKILL, an OOM kill): an
    # orphan would hold the parent's stdout and stderr open, and its memory, for ever. A dead
    # parent's children are handed to another process, so the parent pid changes, however the
    # parent ended. Polled rather than PR_SET_PDEATHSIG (Linux only), which fires when the
    # thread that spawned the worker ends: the pool spawns from the thread that first submits.
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)  # nothing of the worker's needs saving: results go back to the parent

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def spawned_pool() -> ProcessPoolExecutor:
    """Return a pool of one spawned worker process that exits with this process."""
    # Spawned, not forked: the bot has threads (the database's, the job queue's) that a fork
    # would copy mid-flight.
    return ProcessPoolExecutor(
        1,
        mp_context=get_context("spawn"),
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    )


class SpawnedWorker:
    """Run functions in one spawned worker process, started on first use, closed by close()."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """Return fn(*args) computed in the worker process (fn and args must pickle)."""
        if self._pool is None:
            self._pool = spawned_pool()
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        """Stop the worker process (if it was started); work still queued is cancelled."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
