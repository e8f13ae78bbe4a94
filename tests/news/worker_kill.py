"""Kill a parent process with SIGKILL and check that its spawned worker goes with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def assert_worker_dies_with_parent(script: str, cwd: Path, within: float) -> None:
    """Run `script` (it prints its worker's pid), SIGKILL it, and wait for the worker to end."""
    parent = subprocess.Popen(
        [sys.executable, "-c", script], cwd=cwd, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        worker_pid = int(parent.stdout.readline())
        assert alive(worker_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + within
        while alive(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker_pid), "the worker outlived its parent"
        parent.stdout.read()  # EOF: nobody holds the pipe any more
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.communicate(timeout=10)


def alive(pid: int) -> bool:
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
