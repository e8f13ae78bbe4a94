"""The analysis worker process: results as in-process, and no orphan when the bot is killed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from news.nlp.analysis import AnalysisWorker, analyse
from tests.news.worker_kill import assert_worker_dies_with_parent

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
    assert_worker_dies_with_parent(KILLED_PARENT, ROOT, within=10)
