"""The bot's own memory: `newsbot run` as a child process, its workers found and read in /proc."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import memory as bench_memory
from benchmarks.query import busy_load, synthetic_archive

pytestmark = pytest.mark.skipif(not bench_memory.proc_available(), reason="needs Linux's /proc")

MB = 2**20


async def test_the_bot_alone_is_measured_with_each_of_its_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A few seconds of load, not a minute: crawl (and publish) often enough that the
    # analysis worker is started within them.
    monkeypatch.setattr(busy_load, "CRAWL_SECONDS", 3.0)
    monkeypatch.setattr(busy_load, "PUBLISH_SECONDS", 0.5)
    built = synthetic_archive.ensure_db(tmp_path, 300, 2_000)
    work = tmp_path / "work.db"
    shutil.copyfile(built.path, work)

    memory = await bench_memory.measure_bot(work, tmp_path, seconds=4.0)

    assert memory is not None
    # The bot answered the load and crawled meanwhile.
    assert memory.pushed >= 0.5 * busy_load.BUSY_RATE * 4.0
    assert memory.replies >= memory.pushed * 0.9
    assert memory.stored >= 1
    # The bot's process: the bot, not this one, and a plausible size for a Python bot.
    assert memory.main.pid != os.getpid()
    assert 30 * MB < memory.main_peak_bytes < 2_048 * MB
    assert memory.main.rss_bytes <= memory.main.peak_bytes
    # Its workers, each named: the crawl's jieba worker and the chart worker (/chart, /trend).
    analysis = memory.child("analysis worker")
    chart = memory.child("chart worker")
    assert analysis is not None, memory.children
    assert chart is not None, memory.children
    assert len({c.pid for c in memory.children}) == len(memory.children)
    assert memory.main.pid not in {c.pid for c in memory.children}
    # jieba's dictionary and the speaker models are in the worker, not the bot.
    assert analysis.peak_bytes > 100 * MB
    assert memory.total_peak_bytes > memory.main_peak_bytes + analysis.peak_bytes
    # The bot was stopped, and took its workers with it (the resource tracker a moment later).
    deadline = time.monotonic() + 10
    while any(bench_memory.read_memory(p.pid) for p in (memory.main, *memory.children)):
        assert time.monotonic() < deadline, "a process of the bot outlived it"
        await asyncio.sleep(0.1)

    lines = "\n".join(bench_memory.report_lines(memory, 123 * MB))
    assert f"| the bot process | {memory.main_peak_bytes / MB:,.0f} |" in lines
    assert "| analysis worker |" in lines and "| chart worker |" in lines
    assert "whole benchmark process" in lines and "123 MB (ru_maxrss)" in lines


def test_without_proc_nothing_is_measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_memory, "PROC", tmp_path / "no-proc")
    assert asyncio.run(bench_memory.measure_bot(tmp_path / "x.db", tmp_path)) is None
    lines = bench_memory.report_lines(None, 50 * MB)
    assert lines[0] == "memory of the bot process alone: not measured (no /proc)"
    assert "50 MB (ru_maxrss)" in lines[-1]


def test_a_process_tree_is_read_from_proc() -> None:
    # This test process and a child of its own: found below it, named by its command line.
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # Read only once it runs Python: just after the fork /proc shows no command line yet.
        assert child.stdout is not None and child.stdout.readline() == "up\n"
        main, children = bench_memory.read_tree(os.getpid())
        assert main is not None and main.peak_bytes >= main.rss_bytes > 0
        found = [c for c in children if c.pid == child.pid]
        assert found and found[0].name.startswith(sys.executable)
        assert found[0].peak_bytes > 0
    finally:
        child.kill()
        child.communicate()
