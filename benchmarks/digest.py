"""`newsbot bench digest`: the delivery tick at scale, then digests through a fake Telegram.

First the tick run (benchmarks.digest_tick): 100,000 subscriptions over two digest times,
10,000 follows and 10,000 watches, on SQLite and PostgreSQL: how long a tick takes to find
what is due and queue it. Then two delivery runs of 10,000 digests through a fake Telegram
enforcing 30 messages/s, each against a fresh database of subscribers all due at once and the
real bot (`python -m bot run`) in a child process:
1. a clean run: all delivered, none lost, none duplicated, the sustained rate, the 429 share;
2. the bot killed with SIGKILL halfway, then restarted: none lost, at most one duplicate a chat.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from benchmarks import digest_tick
from benchmarks.report import delivery_span, wait_until
from benchmarks.scale import DEFAULT_ADMIN_URL
from fakes.archive import seed_store
from fakes.bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parents[1]

TOKEN = "4242:bench-digest-token"
FIRST_CHAT = 10_000_000
TELEGRAM_RATE = 30


@dataclass
class RunFigures:
    """What one run delivered and how fast."""

    subscribers: int
    delivered_chats: int
    messages: int
    duplicates: int  # chats that got more than one digest
    max_per_chat: int
    rate_limited: int  # 429 answers
    seconds: float
    rate: float  # messages a second, first to last

    @property
    def lost(self) -> int:
        """Return how many subscribers got nothing."""
        return self.subscribers - self.delivered_chats


def prepare_database(path: Path, subscribers: int) -> None:
    """Create a database with a few fresh articles and `subscribers` chats all due now."""
    now = datetime.now(UTC)
    asyncio.run(
        seed_store(path, fetched_at=now - timedelta(hours=1), published_at=now - timedelta(hours=1))
    )
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    due = (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    db = sqlite3.connect(path)
    with db:
        # Only the five newest articles stay "new", so each digest is one message.
        db.execute(
            "UPDATE articles SET fetched_at = '2020-01-01T00:00:00Z' WHERE id NOT IN "
            "(SELECT id FROM articles ORDER BY id DESC LIMIT 5)"
        )
        db.executemany(
            "INSERT INTO chats (id, type, language, time_zone, created_at) "
            "VALUES (?, 'private', 'zh', 'Asia/Shanghai', ?)",
            [(FIRST_CHAT + i, stamp) for i in range(subscribers)],
        )
        db.executemany(
            "INSERT INTO subscriptions (chat_id, digest_time, time_zone, next_due_at, created_at)"
            " VALUES (?, ?, 'Asia/Shanghai', ?, ?)",
            [
                (FIRST_CHAT + i, _local_hhmm(now - timedelta(minutes=1)), due, stamp)
                for i in range(subscribers)
            ],
        )
    db.close()


def _local_hhmm(moment: datetime) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")


def start_bot(workdir: Path, api_root: str, db: Path) -> subprocess.Popen[bytes]:
    """Start `python -m bot run` against the fake API, logging to a file in workdir."""
    sources = workdir / "sources.toml"
    sources.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        NEWSBOT_TOKEN=TOKEN,
        NEWSBOT_API_URL=api_root,
        NEWSBOT_DB=str(db),
        NEWSBOT_SOURCES=str(sources),
        NEWSBOT_LOG_LEVEL="WARNING",
    )
    log = (workdir / "bot.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=log, stderr=log
    )


def delivered(api: Any) -> list[Any]:
    """Return the digests the fake accepted, in order."""
    return [m for m in api.sent_messages if m.kind == "send"]


def figures(api: Any, subscribers: int) -> RunFigures:
    """Count what reached the fake Telegram."""
    messages = delivered(api)
    per_chat = Counter(m.chat_id for m in messages)
    seconds, rate = delivery_span([m.time for m in messages])
    return RunFigures(
        subscribers=subscribers,
        delivered_chats=len(per_chat),
        messages=len(messages),
        duplicates=sum(1 for n in per_chat.values() if n > 1),
        max_per_chat=max(per_chat.values(), default=0),
        rate_limited=api.rate_limited_count,
        seconds=seconds,
        rate=rate,
    )


def one_run(subscribers: int, kill_at: int | None, out: TextIO) -> RunFigures:
    """Deliver to every subscriber once; with kill_at, SIGKILL the bot after that many."""
    api = FakeBotApi(TOKEN, global_rate=TELEGRAM_RATE)
    root = api.run_in_thread()
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-digest-") as tmp:
        workdir = Path(tmp)
        db = workdir / "bench.db"
        prepare_database(db, subscribers)
        bot = start_bot(workdir, root, db)
        try:
            limit = 60 + subscribers / 20  # generous: 20/s would already be a failure
            if kill_at is not None:
                wait_until(lambda: len(delivered(api)) >= kill_at, limit)
                bot.send_signal(signal.SIGKILL)
                bot.wait(timeout=30)
                print(f"  killed with SIGKILL after {len(delivered(api))} digests", file=out)
                bot = start_bot(workdir, root, db)
            wait_until(lambda: len({m.chat_id for m in delivered(api)}) >= subscribers, limit)
            time.sleep(2)  # anything sent twice would arrive now
        finally:
            bot.send_signal(signal.SIGTERM)
            try:
                bot.wait(timeout=60)
            except subprocess.TimeoutExpired:
                bot.kill()
        result = figures(api, subscribers)
        log = (workdir / "bot.log").read_text(encoding="utf-8", errors="replace")
        if TOKEN in log:
            print("  ! the token appeared in the bot's log", file=out)
    api.stop_thread()
    return result


def run(out: TextIO, subscribers: int = 10_000, admin_url: str | None = DEFAULT_ADMIN_URL) -> int:
    """Run the tick, the clean and the killed run and print their figures; 0 if all met."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    tick_ok = digest_tick.run(out, admin_url)
    print("", file=out)
    print(f"digest delivery: {subscribers} subscribers, fake Telegram at 30 messages/s", file=out)
    clean = one_run(subscribers, None, out)
    killed = one_run(subscribers, subscribers // 2, out)
    print("", file=out)
    print(
        "| run | delivered | lost | duplicated chats | max per chat | 429s | seconds "
        "| messages/s | % of limit |",
        file=out,
    )
    print("|---|---|---|---|---|---|---|---|---|", file=out)
    for name, f in (("clean", clean), ("SIGKILL halfway + restart", killed)):
        share = 100 * f.rate / TELEGRAM_RATE
        print(
            f"| {name} | {f.delivered_chats} | {f.lost} | {f.duplicates} | {f.max_per_chat} "
            f"| {f.rate_limited} ({100 * f.rate_limited / max(f.messages, 1):.2f}%) "
            f"| {f.seconds:.1f} | {f.rate:.1f} | {share:.0f}% |",
            file=out,
        )
    ok = (
        tick_ok
        and clean.lost == 0
        and clean.duplicates == 0
        and clean.rate >= 0.9 * TELEGRAM_RATE
        and clean.rate_limited < 0.01 * clean.messages
        and killed.lost == 0
        and killed.max_per_chat <= 2
    )
    print("", file=out)
    print("targets met" if ok else "TARGETS MISSED", file=out)
    return 0 if ok else 1


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    sys.exit(run(sys.stdout, count))
