"""The analysis worker process: results as in-process, and no orphan when the bot is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from news.nlp.analysis import AnalysisWorker, analyse

ROOT = Path(__file__).resolve().parents[3]

PARAGRAPHS = ("沈阳市委书记易炼红主持会议并讲话。", "他强调，要全面提升城市品质。")

# A bot stand-in: starts the worker, prints its pid once it has answered, then waits to be killed.
KILLED_PARENT = """
import asyncio, time
from news.nlp.analysis import AnalysisWorker

async def main():
    worker = AnalysisWorker()
    await worker.analyse("标题", ["沈阳市委书记易炼红讲话。"])
    [pid] = worker._pool._processes
    print(pid, flush=True)
    time.sleep(600)

asyncio.run(main())
"""


async def test_the_worker_answers_as_analyse_does() -> None:
    worker = AnalysisWorker()
    try:
        assert await worker.analyse("城市品质", PARAGRAPHS) == analyse("城市品质", PARAGRAPHS)
    finally:
        worker.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_bot_takes_its_worker_with_it() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", KILLED_PARENT],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        worker_pid = int(parent.stdout.readline())
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker_pid), "the worker outlived the bot"
        parent.stdout.read()  # EOF: nobody holds the pipe any more
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.communicate(timeout=10)


def _alive(pid: int) -> bool:
    """Whether a process runs under pid (a zombie reaped by init counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))
