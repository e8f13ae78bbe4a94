"""Benchmark `newsbot bench query`: handler latency on a large archive, idle and busy.

A file database of generated articles (recombined real sentences from fakes/data) and
leader mentions is built once, in processes of its own, and cached under data/bench/
(synthetic_archive). The real handler coroutines are then timed against it with a bot that
never touches the network (handler_timing): once on an idle machine, and once while the whole
bot (run_bot) runs in this process, crawling a fake news site that keeps publishing and
answering a steady stream of updates from other chats through the fake Bot API (busy_load).
The whole bot is also compared with a bare echo Application (round_trip). The report gives
the database's bytes per article against the UTF-8 size of the text it stores (archive_size),
the build time, the peak memory of the bot alone (`newsbot run` in a process of its own, and
its workers: benchmarks/memory.py) and that of this process. Each row is held to a p99
target, idle and busy; the run (report) exits 1 when one misses it.
"""

from __future__ import annotations

from benchmarks.query.busy_load import (
    BUSY_CHATS,
    BUSY_FIRST_CHAT,
    BUSY_RATE,
    PUBLISH_SECONDS,
    ChatLoad,
    RollingSite,
    _drain,
    busy_texts,
)
from benchmarks.query.handler_timing import bench_queries, feed_paths, inline_queries
from benchmarks.query.report import run
from benchmarks.query.round_trip import FAKE_TOKEN
from benchmarks.query.synthetic_archive import DEFAULT_ARTICLES, DEFAULT_MENTIONS, SEED

# What `newsbot bench query` (bot/__main__.py) calls, and what benchmarks/memory.py imports
# from here.
__all__ = [
    "BUSY_CHATS",
    "BUSY_FIRST_CHAT",
    "BUSY_RATE",
    "DEFAULT_ARTICLES",
    "DEFAULT_MENTIONS",
    "FAKE_TOKEN",
    "PUBLISH_SECONDS",
    "SEED",
    "ChatLoad",
    "RollingSite",
    "_drain",
    "bench_queries",
    "busy_texts",
    "feed_paths",
    "inline_queries",
    "run",
]
