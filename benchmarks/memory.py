"""The bot's own memory: `newsbot run` as a child process under the busy mix, read from /proc.

The other tables of `newsbot bench query` run the bot inside the benchmark process, whose
ru_maxrss then also counts the harness: the fake Bot API holding every message it was sent,
the stores the timings read, the archive's scratch copies. Here the real bot is started the
way a user runs it (`python -m bot run`), on the same database, talking to the fake Bot API
(a thread of this process) over loopback and crawling a fake site that keeps publishing,
while other chats send the busy table's mix and a few of every query the bench times. The
peak (VmHWM) and current (VmRSS) resident memory of the bot process, and of each process it
started (the jieba analysis worker, the chart worker, multiprocessing's resource tracker),
are then read from /proc before the bot is stopped with SIGTERM. Linux only: without /proc
nothing is measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks import query as bench_query
from benchmarks.query import (
    BUSY_CHATS,
    BUSY_FIRST_CHAT,
    FAKE_TOKEN,
    SEED,
    ChatLoad,
    RollingSite,
    _drain,
    bench_queries,
    busy_texts,
    feed_paths,
    inline_queries,
)
from benchmarks.scale import free_port
from fakes.bot_api import FakeBotApi
from storage import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
PROC = Path("/proc")

# How long the load runs before memory is read; `newsbot bench query` measures this long.
MEASURE_SECONDS = 60.0
# The bot's own target (#16): under 300 MB resident at a 1,000,000-article archive.
TARGET_BYTES = 300 * 2**20
# Every query the bench times is sent this many times over the measurement, from chats of
# their own, besides the busy mix: each code path's memory is then in the peak.
QUERY_ROUNDS = 3
QUERY_FIRST_CHAT = BUSY_FIRST_CHAT + BUSY_CHATS + 1_000
QUERY_CHATS = 5
# Charts of the archive's most quoted leader and its most common word (the bench's rows).
CHART_TEXTS = ("/chart 易炼红", "/trend 振兴")
# A start on a busy 2-core machine (imports, migrations check, the first long poll) takes
# seconds; a crawl's first article waits for jieba's dictionary in the worker.
START_TIMEOUT = 60.0
CRAWL_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class ProcessMemory:
    """One process's resident memory, as /proc/PID/status gave it."""

    pid: int
    name: str  # what the process is, told from its command line
    peak_bytes: int  # VmHWM: the most it was ever resident
    rss_bytes: int  # VmRSS: resident when read, at the end of the load


@dataclass(frozen=True, slots=True)
class BotMemory:
    """The bot process's memory and its workers', and what it did meanwhile."""

    main: ProcessMemory
    children: tuple[ProcessMemory, ...]
    seconds: float  # how long the load ran
    pushed: int  # updates pushed to the bot (commands and inline queries)
    replies: int  # what they got back: messages, photos and inline answers
    stored: int  # articles the bot's crawl stored meanwhile

    @property
    def main_peak_bytes(self) -> int:
        """Return the bot process's peak resident memory (VmHWM)."""
        return self.main.peak_bytes

    @property
    def total_peak_bytes(self) -> int:
        """Return the sum of every process's peak: an upper bound of what they held at once."""
        return self.main.peak_bytes + sum(c.peak_bytes for c in self.children)

    def child(self, name: str) -> ProcessMemory | None:
        """Return the first child process of this name, or None."""
        return next((c for c in self.children if c.name == name), None)


# --------------------------------------------------------------------------------------------
# /proc
# --------------------------------------------------------------------------------------------


def proc_available() -> bool:
    """Return whether this system has Linux's /proc, where the memory is read."""
    return (PROC / "self" / "status").is_file()


def read_memory(pid: int) -> tuple[int, int] | None:
    """Return (VmHWM, VmRSS) of a process in bytes, or None if it is gone (or a zombie)."""
    try:
        lines = (PROC / str(pid) / "status").read_text(encoding="ascii").splitlines()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields: dict[str, int] = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0]) * 1024  # the kernel counts kB (KiB)
    if len(fields) < 2:
        return None  # a zombie has no memory lines left
    return fields["VmHWM"], fields["VmRSS"]


def descendants(pid: int) -> list[int]:
    """Return every process below `pid` (children first, then theirs), from /proc.

    A children file lists what one thread started, so every thread's is read: a pool may
    spawn its worker from a thread other than the main one.
    """
    found: list[int] = []
    for child in _children(pid):
        found.append(child)
        found.extend(descendants(child))
    return found


def _children(pid: int) -> list[int]:
    tasks = PROC / str(pid) / "task"
    found: dict[int, None] = {}
    try:
        files = [task / "children" for task in tasks.iterdir()]
    except FileNotFoundError:
        return []
    for file in files:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            found.update(dict.fromkeys(int(p) for p in file.read_text().split()))
    return list(found)


def command_line(pid: int) -> list[str]:
    """Return a process's argv, or [] if it is gone."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _maps(pid: int) -> str:
    try:
        return (PROC / str(pid) / "maps").read_text(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def process_name(pid: int) -> str:
    """Name a process the bot started, from its command line.

    Both pools' workers have the same command line (multiprocessing's spawn_main), so the
    chart worker is told apart by what only it loads: matplotlib's compiled modules.
    """
    argv = command_line(pid)
    line = " ".join(argv)
    if "multiprocessing.resource_tracker" in line:
        return "resource tracker"
    if "multiprocessing.spawn" in line:
        return "chart worker" if "/matplotlib/" in _maps(pid) else "analysis worker"
    return line[:60] or f"pid {pid}"


def read_tree(pid: int) -> tuple[ProcessMemory | None, tuple[ProcessMemory, ...]]:
    """Return the memory of a process and of each process below it (those still there)."""
    main = read_memory(pid)
    children: list[ProcessMemory] = []
    for child in descendants(pid):
        memory = read_memory(child)
        if memory is not None:
            children.append(ProcessMemory(child, process_name(child), *memory))
    return (ProcessMemory(pid, "bot", *main) if main else None), tuple(children)


# --------------------------------------------------------------------------------------------
# The bot, its load, the measurement
# --------------------------------------------------------------------------------------------


def bot_env(api_root: str, db: Path | str, sources: Path, feeds_port: int) -> dict[str, str]:
    """Return the environment of `newsbot run` against the fake API, serving feeds on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        {
            "NEWSBOT_TOKEN": FAKE_TOKEN,
            "NEWSBOT_API_URL": api_root,
            "NEWSBOT_DB": str(db),
            "NEWSBOT_SOURCES": str(sources),
            "NEWSBOT_LOG_LEVEL": "WARNING",
            "NEWSBOT_FEEDS_LISTEN": f"127.0.0.1:{feeds_port}",
            # Set empty, not left out: a developer's .env must not switch on webhook mode.
            "NEWSBOT_WEBHOOK_URL": "",
            # Its chats send every query many times over: a measurement, not a flood.
            "NEWSBOT_USER_RATE": "0",
            "PTB_TIMEDELTA": "true",
        }
    )
    return env


def query_texts(summary_ids: Iterable[int]) -> list[str]:
    """Return one of every command the bench times, and the charts."""
    commands = [texts[0] for _label, texts in bench_queries(list(summary_ids)) if texts]
    return [*commands, *CHART_TEXTS]


class QueryLoad:
    """Every query the bench times, QUERY_ROUNDS times over, from chats of its own."""

    def __init__(self, api: FakeBotApi, texts: list[str], feeds_url: str) -> None:
        self.api = api
        self.texts = texts
        self.feeds_url = feeds_url
        self.pushed = 0
        self.inline_ids: set[str] = set()
        self.feeds_fetched = 0

    @property
    def chats(self) -> range:
        """Return the chat ids the queries come from."""
        return range(QUERY_FIRST_CHAT, QUERY_FIRST_CHAT + QUERY_CHATS)

    async def run(self, seconds: float) -> None:
        """Send every command, inline query and feed request in turn, spread over `seconds`."""
        inline = inline_queries()
        feeds = feed_paths()
        steps = QUERY_ROUNDS * (len(self.texts) + len(inline) + len(feeds))
        pause = seconds * 0.8 / max(steps, 1)  # the last ones are answered before the end
        async with httpx.AsyncClient(base_url=self.feeds_url, timeout=30) as client:
            for round_ in range(QUERY_ROUNDS):
                for n, text in enumerate(self.texts):
                    self.api.push_text(self.chats[(round_ + n) % QUERY_CHATS], text)
                    self.pushed += 1
                    await asyncio.sleep(pause)
                for n, (_label, query, offset) in enumerate(inline):
                    update = self.api.push_inline_query(
                        self.chats[n % QUERY_CHATS], query, offset=offset
                    )
                    self.inline_ids.add(update["inline_query"]["id"])
                    self.pushed += 1
                    await asyncio.sleep(pause)
                for _label, path, _conditional in feeds:
                    response = await client.get(path)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path}: HTTP {response.status_code}")
                    self.feeds_fetched += 1
                    await asyncio.sleep(pause)


def replies_to(api: FakeBotApi, chats: Iterable[int], inline_ids: set[str]) -> int:
    """Return how many replies (messages, photos, inline answers) these chats and queries got.

    Replies, not updates: the bot quotes no message, and a long /latest 30 may take two.
    """
    wanted = {str(c) for c in chats}
    replies = sum(
        1
        for method in ("sendMessage", "sendPhoto")
        for call in api.calls_to(method)
        if call.status == 200 and str(call.params.get("chat_id")) in wanted
    )
    inline = sum(
        1
        for call in api.calls_to("answerInlineQuery")
        if call.status == 200 and str(call.params.get("inline_query_id")) in inline_ids
    )
    return replies + inline


def start_bot(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `python -m bot run` (what `newsbot run` runs) with this environment."""
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=handle, stderr=handle
        )


def stop_bot(process: subprocess.Popen[bytes]) -> int:
    """Stop the bot as a service manager does, with SIGTERM (SIGKILL if it hangs)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return int(process.returncode)


def _log_tail(log: Path, lines: int = 20) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


async def _wait_for(
    condition: Callable[[], Any],
    process: subprocess.Popen[bytes],
    log: Path,
    timeout: float,
    what: str,
) -> None:
    """Wait until `condition()` (sync or async) holds; raise if the bot exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if process.poll() is not None:
            raise RuntimeError(
                f"the bot exited ({process.returncode}) before {what}:\n{_log_tail(log)}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} within {timeout:.0f} s:\n{_log_tail(log)}")
        await asyncio.sleep(0.2)


async def measure_bot(
    db: Path | str, scratch: Path, seconds: float | None = None
) -> BotMemory | None:
    """Run `newsbot run` on `db` under the busy mix for `seconds`; return its memory.

    None where there is no /proc to read it from.
    """
    if not proc_available():
        return None
    seconds = MEASURE_SECONDS if seconds is None else seconds
    api = FakeBotApi(FAKE_TOKEN, global_rate=None, group_per_minute=None, private_rate=None)
    # Inline queries reach only a bot that has inline mode on (getMe says so).
    api.enable_inline_mode()
    api.run_in_thread()
    site = RollingSite()
    try:
        site.start()
        sources = scratch / "memory-sources.toml"
        sources.write_text(site.sources_toml(), encoding="utf-8")
        counter = await open_store(db)
        try:
            return await _measure(api, site, counter, db, sources, scratch, seconds)
        finally:
            await counter.close()
    finally:
        site.stop()
        api.stop_thread()


async def _measure(
    api: FakeBotApi,
    site: RollingSite,
    counter: Store,
    db: Path | str,
    sources: Path,
    scratch: Path,
    seconds: float,
) -> BotMemory:
    """Start the bot, load it, read its processes' memory, stop it."""
    archived = await counter.count_articles()
    summary_ids = random.Random(SEED + 2).sample(range(1, archived + 1), min(50, archived))
    feeds_port = free_port()
    log = scratch / "memory-bot.log"
    process = start_bot(bot_env(api.root_url, db, sources, feeds_port), log)
    try:
        # Start-up is over when polling begins with its deleteWebhook (the fake records a
        # getUpdates only once it returns, up to POLL_TIMEOUT later).
        await _wait_for(
            lambda: api.calls_to("deleteWebhook"), process, log, START_TIMEOUT, "polling"
        )
        load = ChatLoad(api, busy_texts(summary_ids))
        queries = QueryLoad(api, query_texts(summary_ids[:3]), f"http://127.0.0.1:{feeds_port}")
        started = time.monotonic()
        tasks = [
            asyncio.create_task(site.keep_publishing()),
            asyncio.create_task(load.run()),
        ]
        query_task = asyncio.create_task(queries.run(seconds))
        try:
            await asyncio.sleep(seconds)
            await query_task  # normally done by now (it spreads over 80% of the time)
            if process.poll() is not None:
                raise RuntimeError(
                    f"the bot exited ({process.returncode}) under load:\n{_log_tail(log)}"
                )

            # The analysis worker exists once the crawl stored an article: wait for one.
            async def crawled() -> bool:
                return bool(await counter.count_articles() > archived)

            await _wait_for(crawled, process, log, CRAWL_TIMEOUT, "article crawled")
        finally:
            for task in [*tasks, query_task]:
                task.cancel()
            await asyncio.gather(*tasks, query_task, return_exceptions=True)
        elapsed = time.monotonic() - started
        # What was pushed is answered before memory is read: the replies are in the peak.
        await _drain(api)
        main, children = read_tree(process.pid)
        if main is None:
            raise RuntimeError(f"the bot exited ({process.poll()}) before its memory was read")
        stored = await counter.count_articles() - archived
    finally:
        # In a thread: the wait may be long, and the loop still serves the store it reads.
        code = await asyncio.to_thread(stop_bot, process)
    if code != 0:
        raise RuntimeError(f"`newsbot run` exited {code} on SIGTERM:\n{_log_tail(log)}")
    return BotMemory(
        main=main,
        children=children,
        seconds=elapsed,
        pushed=len(load.pushed) + queries.pushed,
        replies=replies_to(api, [*load.chats, *queries.chats], queries.inline_ids),
        stored=stored,
    )


def memory_phase(db: Path | str, scratch: Path) -> list[str]:
    """Measure the bot alone on `db`; return the report's memory paragraph (query.run's phase)."""
    memory = asyncio.run(measure_bot(db, scratch))
    # Linux counts ru_maxrss in KiB.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return report_lines(memory, peak)


def report_lines(memory: BotMemory | None, harness_peak_bytes: int) -> list[str]:
    """Return the report's memory paragraph: the bot, each of its processes, this process."""
    harness = (
        "peak memory of this whole benchmark process (the harness with its fake Bot API, and "
        f"the tables' in-process bot runs): {harness_peak_bytes / 2**20:,.0f} MB (ru_maxrss)"
    )
    if memory is None:
        return ["memory of the bot process alone: not measured (no /proc)", "", harness]
    met = "met" if memory.main_peak_bytes < TARGET_BYTES else "MISSED"
    rows = [("the bot process", memory.main), *((c.name, c) for c in memory.children)]
    lines = [
        "memory of the bot alone: `newsbot run` as a child process on this database for "
        f"{memory.seconds:.0f} s, crawling a fake site (a new article every "
        f"{bench_query.PUBLISH_SECONDS:g} s) and answering the busy mix "
        f"({bench_query.BUSY_RATE:g} updates a second) and every query the tables below time, "
        f"{QUERY_ROUNDS} times each: {memory.pushed:,} updates, {memory.replies:,} replies, "
        f"{memory.stored:,} articles stored. Read from /proc before SIGTERM:",
        "",
        "| process | peak MB (VmHWM) | at the end MB (VmRSS) |",
        "|---|---:|---:|",
        *(
            f"| {name} | {m.peak_bytes / 2**20:,.0f} | {m.rss_bytes / 2**20:,.0f} |"
            for name, m in rows
        ),
        f"| all of them (sums; shared pages count twice) | "
        f"{memory.total_peak_bytes / 2**20:,.0f} | "
        f"{sum(m.rss_bytes for _, m in rows) / 2**20:,.0f} |",
        "",
        f"target: the bot process under {TARGET_BYTES / 2**20:.0f} MB: {met}",
        "",
        harness,
    ]
    return lines
