"""`newsbot bench scale`: three instances on one PostgreSQL behind a balancer, 10,000 digests.

Three runs measured in one go, each with every subscriber due at once and the fake Telegram
enforcing 30 messages/s over the whole bot:
1. one instance on SQLite (long polling), the single-machine layout, as the peer figure;
2. three `newsbot run` instances in webhook mode on one PostgreSQL database, the fake posting
   updates to them in turn (it plays the load balancer), a clean run;
3. the same, with the instance that is sending killed with SIGKILL about half-way.
In the clean run a burst of interactive updates (300 /subscribe from as many chats, 50 a
second) arrives while the digests go out: the instances answer it within the budget they share
with the sender (booked in the database), so the fake's 429 answers stay under 1 %.
The cluster helpers here are also what tests/e2e/test_scale.py runs.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from benchmarks.report import delivery_span, percentile, wait_until
from fakes.archive import seed_store
from fakes.bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parents[1]

TOKEN = "4343:bench-scale-token"
SECRET = "bench-scale-webhook-secret"
PUBLIC_URL = "https://bot.example.org/tg/hook"
FIRST_CHAT = 20_000_000
TELEGRAM_RATE = 30
BURST_UPDATES = 300
BURST_RATE = 50.0
BURST_FIRST_CHAT = 10_000_000
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Figures:
    """What one run delivered and how fast."""

    subscribers: int
    delivered_chats: int
    messages: int
    duplicates: int  # chats that got their digest more than once
    rate_limited: int  # 429 answers
    seconds: float
    rate: float  # messages a second, first to last
    killed_after: int | None = None
    burst: int = 0  # interactive updates pushed during the run
    burst_answered: int = 0
    burst_p99: float = 0.0  # seconds from push to reply

    @property
    def lost(self) -> int:
        """Return how many subscribers got nothing."""
        return self.subscribers - self.delivered_chats


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def create_database(admin_url: str) -> str:
    """Create an empty PostgreSQL database of our own; return its URL."""
    import asyncpg

    name = f"newsbot_scale_{os.getpid()}_{secrets.token_hex(3)}"
    con = await asyncpg.connect(admin_url, timeout=10)
    try:
        await con.execute(f'CREATE DATABASE "{name}"')
    finally:
        await con.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def drop_database(admin_url: str, url: str) -> None:
    """Drop a database made by create_database."""
    import asyncpg

    con = await asyncpg.connect(admin_url, timeout=10)
    try:
        await con.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await con.close()


async def prepare_store(target: str, subscribers: int) -> None:
    """Store the leader texts and `subscribers` chats whose digest is due now (one message)."""
    from storage import open_store

    now = datetime.now(UTC)
    await seed_store(
        target, fetched_at=now - timedelta(hours=1), published_at=now - timedelta(hours=1)
    )
    store = await open_store(target)
    try:
        due = now - timedelta(minutes=1)
        hhmm = due.astimezone(_shanghai()).strftime("%H:%M")
        for index in range(subscribers):
            chat_id = FIRST_CHAT + index
            await store.upsert_chat(chat_id, "private", "zh", "Asia/Shanghai")
            await store.subscriptions.subscribe(chat_id, hhmm, "Asia/Shanghai", due, None)
    finally:
        await store.close()


def _shanghai() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def instance_env(target: str, api_root: str, workdir: Path, **extra: str) -> dict[str, str]:
    """Return the environment of one `newsbot run` on this store and this fake Telegram."""
    sources = workdir / "sources.toml"
    if not sources.exists():
        sources.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        {
            "NEWSBOT_TOKEN": TOKEN,
            "NEWSBOT_API_URL": api_root,
            "NEWSBOT_DB": target,
            "NEWSBOT_SOURCES": str(sources),
            "NEWSBOT_LOG_LEVEL": "WARNING",
            "PTB_TIMEDELTA": "true",
            **extra,
        }
    )
    return env


@dataclass
class Instance:
    """One `newsbot run` child process and where it logs."""

    process: subprocess.Popen[bytes]
    log: Path
    listen: str = ""

    def log_text(self) -> str:
        """Return what it logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_instance(env: dict[str, str], log: Path) -> Instance:
    """Start `python -m bot run` with this environment, logging to a file."""
    handle = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=handle, stderr=handle
    )
    handle.close()
    return Instance(process, log, env.get("NEWSBOT_WEBHOOK_LISTEN", ""))


def stop_instance(instance: Instance, timeout: float = 60) -> int:
    """Stop an instance with SIGTERM (SIGKILL if it hangs); return its exit code."""
    if instance.process.poll() is None:
        instance.process.send_signal(signal.SIGTERM)
        try:
            instance.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            instance.process.kill()
            instance.process.wait(timeout=10)
    return int(instance.process.returncode)


@dataclass
class Cluster:
    """Several webhook instances on one PostgreSQL database, the fake Telegram in front."""

    target: str
    api: Any
    workdir: Path
    size: int = 3
    log_level: str = "WARNING"
    instances: list[Instance] = field(default_factory=list)

    def start(self) -> None:
        """Start every instance and point the fake's balancer at them."""
        targets = []
        for number in range(self.size):
            port = free_port()
            env = instance_env(
                self.target,
                self.api.root_url,
                self.workdir,
                NEWSBOT_WEBHOOK_URL=PUBLIC_URL,
                NEWSBOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
                NEWSBOT_WEBHOOK_SECRET=SECRET,
                NEWSBOT_LOG_LEVEL=self.log_level,
            )
            self.instances.append(start_instance(env, self.workdir / f"instance{number}.log"))
            targets.append(f"http://127.0.0.1:{port}/tg/hook")
        self.api.webhook_targets = targets

    def wait_ready(self, timeout: float = 60) -> bool:
        """Wait until every instance answers /healthz."""
        import urllib.request

        deadline = time.monotonic() + timeout
        pending = {i.listen for i in self.instances}
        while pending and time.monotonic() < deadline:
            for listen in list(pending):
                try:
                    with urllib.request.urlopen(f"http://{listen}/healthz", timeout=2) as answer:
                        if answer.status == 200:
                            pending.discard(listen)
                except OSError:
                    pass
            time.sleep(0.2)
        return not pending

    def sender(self) -> Instance | None:
        """Return the instance holding the sender lease now, if any."""
        from handlers.delivery import SENDER_LEASE
        from storage import open_store

        async def holder() -> str | None:
            store = await open_store(self.target)
            try:
                return await store.leases.holder(SENDER_LEASE)
            finally:
                await store.close()

        owner = asyncio.run(holder())
        if owner is None:
            return None
        pid = int(owner.split(":")[1])
        return next((i for i in self.instances if i.process.pid == pid), None)

    def stop(self) -> list[int]:
        """Stop every instance still running; return their exit codes."""
        return [stop_instance(i) for i in self.instances]


def delivered(api: Any) -> list[Any]:
    """Return the messages the fake accepted, in order."""
    return [m for m in api.sent_messages if m.kind == "send" and m.chat_id >= FIRST_CHAT]


def figures(api: Any, subscribers: int, killed_after: int | None = None) -> Figures:
    """Count what reached the fake Telegram."""
    messages = delivered(api)
    per_chat = Counter(m.chat_id for m in messages)
    seconds, rate = delivery_span([m.time for m in messages])
    return Figures(
        subscribers=subscribers,
        delivered_chats=len(per_chat),
        messages=len(messages),
        duplicates=sum(1 for n in per_chat.values() if n > 1),
        rate_limited=api.rate_limited_count,
        seconds=seconds,
        rate=rate,
        killed_after=killed_after,
    )


def push_burst(api: Any) -> list[float]:
    """Push BURST_UPDATES /subscribe from as many chats at BURST_RATE; return when each went."""
    pushed: list[float] = []
    started = time.monotonic()
    for n in range(BURST_UPDATES):
        time.sleep(max(0.0, started + n / BURST_RATE - time.monotonic()))
        pushed.append(time.time())
        api.push_text(BURST_FIRST_CHAT + n, "/subscribe 09:00")
    return pushed


def burst_replies(api: Any, pushed: list[float]) -> list[float]:
    """Return the seconds from each burst update to its reply (answered ones only)."""
    first: dict[int, float] = {}
    for m in api.sent_messages:
        if m.kind == "send" and BURST_FIRST_CHAT <= m.chat_id < BURST_FIRST_CHAT + len(pushed):
            first.setdefault(m.chat_id, m.time)
    return [
        first[BURST_FIRST_CHAT + n] - t
        for n, t in enumerate(pushed)
        if BURST_FIRST_CHAT + n in first
    ]


def all_delivered(api: Any, subscribers: int) -> Callable[[], bool]:
    """Return a predicate: every subscriber got a message."""
    return lambda: len({m.chat_id for m in delivered(api)}) >= subscribers


def cluster_run(admin_url: str, subscribers: int, kill_half: bool, out: TextIO) -> Figures:
    """Deliver to every subscriber through three instances; optionally kill the sender."""
    target = asyncio.run(create_database(admin_url))
    api = FakeBotApi(TOKEN, global_rate=TELEGRAM_RATE)
    api.run_in_thread()
    killed_after: int | None = None
    pushed: list[float] = []
    try:
        asyncio.run(prepare_store(target, subscribers))
        with tempfile.TemporaryDirectory(prefix="newsbot-bench-scale-") as tmp:
            cluster = Cluster(target, api, Path(tmp))
            cluster.start()
            try:
                if not cluster.wait_ready():
                    print("  ! an instance did not start", file=out)
                limit = 90 + subscribers / 15
                if kill_half:
                    wait_until(lambda: len(delivered(api)) >= subscribers // 2, limit)
                    victim = cluster.sender()
                    if victim is not None:
                        victim.process.send_signal(signal.SIGKILL)
                        victim.process.wait(timeout=30)
                        killed_after = len(delivered(api))
                        print(f"  sender killed with SIGKILL after {killed_after}", file=out)
                else:
                    # Interactive updates while the digests go out: one budget for both.
                    wait_until(lambda: len(delivered(api)) >= subscribers // 5, limit)
                    pushed = push_burst(api)
                wait_until(all_delivered(api, subscribers), limit)
                if pushed:
                    wait_until(lambda: len(burst_replies(api, pushed)) >= len(pushed), 60)
                time.sleep(3)  # anything sent twice would arrive now
            finally:
                cluster.stop()
        result = figures(api, subscribers, killed_after)
        if pushed:
            answered = burst_replies(api, pushed)
            result.burst, result.burst_answered = len(pushed), len(answered)
            result.burst_p99 = percentile(answered, 99)
        return result
    finally:
        api.stop_thread()
        asyncio.run(drop_database(admin_url, target))


def sqlite_run(subscribers: int, out: TextIO) -> Figures:
    """Deliver to every subscriber from one instance on SQLite (long polling): the peer figure."""
    api = FakeBotApi(TOKEN, global_rate=TELEGRAM_RATE)
    root = api.run_in_thread()
    try:
        with tempfile.TemporaryDirectory(prefix="newsbot-bench-scale-") as tmp:
            workdir = Path(tmp)
            target = str(workdir / "bench.db")
            asyncio.run(prepare_store(target, subscribers))
            instance = start_instance(instance_env(target, root, workdir), workdir / "bot.log")
            try:
                wait_until(all_delivered(api, subscribers), 90 + subscribers / 15)
                time.sleep(3)
            finally:
                stop_instance(instance)
        return figures(api, subscribers)
    finally:
        api.stop_thread()


def run(out: TextIO, subscribers: int = 10_000, admin_url: str = DEFAULT_ADMIN_URL) -> int:
    """Run the three layouts and print their table; 0 if every target is met."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    print(
        f"scale: {subscribers} subscribers due at once, fake Telegram at {TELEGRAM_RATE}/s",
        file=out,
    )
    single = sqlite_run(subscribers, out)
    clean = cluster_run(admin_url, subscribers, False, out)
    killed = cluster_run(admin_url, subscribers, True, out)
    print("", file=out)
    print(
        "| layout | delivered | lost | chats sent twice | 429 answers | seconds | messages/s "
        "| share of the limit |",
        file=out,
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|", file=out)
    rows = (
        ("1 instance, SQLite, polling", single),
        ("3 instances, PostgreSQL, webhooks: clean", clean),
        ("3 instances, PostgreSQL: sender SIGKILLed half-way", killed),
    )
    for name, f in rows:
        print(
            f"| {name} | {f.delivered_chats:,} | {f.lost} | {f.duplicates} "
            f"| {f.rate_limited} ({100 * f.rate_limited / max(f.messages, 1):.2f}%) "
            f"| {f.seconds:.1f} | {f.rate:.1f} | {100 * f.rate / TELEGRAM_RATE:.0f}% |",
            file=out,
        )
    ok = (
        clean.lost == 0
        and clean.duplicates == 0
        and clean.rate >= 0.9 * TELEGRAM_RATE
        and killed.lost == 0
        and killed.duplicates <= 4  # the sends in flight at the kill (4 chats at once)
        and clean.burst_answered == clean.burst
        and clean.rate_limited < 0.01 * (clean.messages + clean.burst_answered)
    )
    print("", file=out)
    # Every message the fake accepted or refused while the burst and the digests went out.
    print(
        f"burst in the clean run: {clean.burst} /subscribe at {BURST_RATE:.0f}/s, "
        f"{clean.burst_answered} answered, p99 {clean.burst_p99:.1f} s from push to reply; "
        f"429 answers {clean.rate_limited} of {clean.messages + clean.burst_answered} messages "
        f"({100 * clean.rate_limited / max(clean.messages + clean.burst_answered, 1):.2f}%)",
        file=out,
    )
    print("", file=out)
    print("targets met" if ok else "TARGETS MISSED", file=out)
    return 0 if ok else 1
