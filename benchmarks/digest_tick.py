"""`newsbot bench digest`'s tick run: finding and queueing what is due at scale, both backends.

100,000 subscriptions over two digest times (half at 08:00, half at 18:00 in Shanghai), 10,000
follows of leaders, 10,000 watches of sources and regions and 1,000 keyword rules, with new
articles (by those leaders, of those sources) stored since the last tick. Timed: one delivery
tick's work before it sends (Deliverer.queue_due: the due digests written into the ledger and
the new articles' alerts queued), at each digest time. Target: under 1 s.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from telegram.ext import ExtBot

from benchmarks.scale import create_database, drop_database
from fakes.archive import analysed_articles, seed_store
from handlers.delivery import Deliverer, TickReport
from news.ingest.fingerprint import fingerprint
from news.stories import sketch as story_sketch
from storage import Store, open_store

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUBSCRIPTIONS = 100_000
FOLLOWS = 10_000
WATCHES = 10_000
KEYWORD_RULES = 1_000
FIRST_CHAT = 20_000_000
TARGET_SECONDS = 1.0
# Ten sources over three regions: watches take either a source or a region.
SOURCES = {f"src-{i}": ("辽宁", "沈阳", "大连")[i % 3] for i in range(10)}
WORDS = ("振兴", "营商环境", "沈阳", "大连", "会议", "发展", "项目", "经济", "改革", "招聘")
# The first digest time of the run: 08:00 in Shanghai, yesterday (so both times are past).
MORNING = (
    (datetime.now(UTC) - timedelta(days=1))
    .astimezone(SHANGHAI)
    .replace(hour=8, minute=0, second=0, microsecond=0)
)


@dataclass
class TickFigures:
    """What one timed tick queued and how long it took."""

    backend: str
    label: str
    seconds: float
    digests: int
    alerts: int


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def prepare(target: str) -> None:
    """Fill a store with the subscriptions, follows, watches and rules of the run."""
    await seed_store(target, published_at=MORNING - timedelta(hours=3))
    store = await open_store(target)
    rng = random.Random(26)
    try:
        for name in SOURCES:
            await store.upsert_source(name, name, "generic")
        people = [r["id"] for r in await store.db.fetch("SELECT id FROM people")]
        stamp = _stamp(MORNING - timedelta(days=2))
        evening = MORNING.replace(hour=18)
        chats = range(FIRST_CHAT, FIRST_CHAT + SUBSCRIPTIONS)
        async with store.db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO chats (id, type, language, time_zone, created_at) "
                "VALUES (?, 'private', 'zh', 'Asia/Shanghai', ?)",
                [(c, stamp) for c in chats],
            )
            await tx.executemany(
                "INSERT INTO subscriptions (chat_id, digest_time, time_zone, next_due_at, "
                "created_at) VALUES (?, ?, 'Asia/Shanghai', ?, ?)",
                [
                    (c, "08:00", _stamp(MORNING), stamp)
                    if c % 2 == 0
                    else (c, "18:00", _stamp(evening), stamp)
                    for c in chats
                ],
            )
            await tx.executemany(
                "INSERT INTO follows (chat_id, person_id, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [(FIRST_CHAT + i, rng.choice(people), stamp) for i in range(FOLLOWS)],
            )
            regions = sorted(set(SOURCES.values()))
            await tx.executemany(
                "INSERT INTO watches (chat_id, kind, target, created_at) VALUES (?, ?, ?, ?)",
                [
                    (FIRST_CHAT + FOLLOWS + i, "region", regions[i % len(regions)], stamp)
                    if i % 4 == 0
                    else (FIRST_CHAT + FOLLOWS + i, "source", f"src-{i % 10}", stamp)
                    for i in range(WATCHES)
                ],
            )
            await tx.executemany(
                "INSERT INTO keyword_follows (chat_id, keyword, created_at) VALUES (?, ?, ?)",
                [(FIRST_CHAT + 2 * FOLLOWS + i, _rule(rng), stamp) for i in range(KEYWORD_RULES)],
            )
        await store.ledger.enqueue_alerts()  # the cursor: what follows is new
        # As a running database would have them (autovacuum's ANALYZE; SQLite's optimize).
        await store.db.execute("ANALYZE")
    finally:
        await store.close()


def _rule(rng: random.Random) -> str:
    words = rng.sample(WORDS, 3)
    return f"{words[0]} -{words[1]}" if rng.random() < 0.3 else words[2]


async def add_new_articles(store: Store, at: datetime, batch: int) -> None:
    """Store the leader texts again as new articles of the watched sources, published `at`."""
    rng = random.Random(batch)
    for n, (name, article, analysis) in enumerate(analysed_articles()):
        fresh = dataclasses.replace(article, url=f"{article.url}?tick={batch}-{n}", published_at=at)
        # A story of its own each tick (the same text again would be a reprint, and alert
        # only whom the first copy did not): a sketch of other text, the same people.
        other = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(400))
        await store.add_article(
            fresh,
            url_key=fresh.url,
            fingerprint=fingerprint(f"{fresh.title}{name}{batch}", fresh.body),
            source_name=f"src-{n % 10}",
            fetched_at=at,
            analysis=dataclasses.replace(analysis, sketch=story_sketch(other)),
        )


async def timed_ticks(target: str, backend: str) -> list[TickFigures]:
    """Time the tick at each digest time, with new articles stored before each."""
    store = await open_store(target)
    figures: list[TickFigures] = []
    try:
        # Never initialised nor called: the timed part sends nothing.
        bot = ExtBot("1:bench-never-called")
        deliverer = Deliverer(
            bot=bot, store=store, default_tz=SHANGHAI, source_regions=dict(SOURCES)
        )
        for due in (MORNING, MORNING.replace(hour=18)):
            # Published an hour ago by the clock: alerts honour the cursor's clock.
            await add_new_articles(store, datetime.now(UTC) - timedelta(hours=1), due.hour)
            report = TickReport()
            started = time.perf_counter()
            await deliverer.queue_due(due + timedelta(minutes=1), report)
            seconds = time.perf_counter() - started
            figures.append(
                TickFigures(
                    backend, due.strftime("%H:%M"), seconds, report.scheduled, report.alerts
                )
            )
    finally:
        await store.close()
    return figures


async def run_backends(admin_url: str | None) -> list[TickFigures]:
    """Run the tick on SQLite, and on PostgreSQL when an admin URL is given."""
    figures: list[TickFigures] = []
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-tick-") as tmp:
        path = str(Path(tmp) / "tick.db")
        await prepare(path)
        figures += await timed_ticks(path, "SQLite")
    if admin_url:
        url = await create_database(admin_url)
        try:
            await prepare(url)
            figures += await timed_ticks(url, "PostgreSQL")
        finally:
            await drop_database(admin_url, url)
    return figures


def run(out: TextIO, admin_url: str | None) -> bool:
    """Print the tick table; return whether every tick met the target."""
    print(
        f"delivery tick: {SUBSCRIPTIONS:,} subscriptions over two digest times, "
        f"{FOLLOWS:,} follows, {WATCHES:,} watches, {KEYWORD_RULES:,} keyword rules",
        file=out,
    )
    figures = asyncio.run(run_backends(admin_url))
    print("", file=out)
    print("| backend | digest time | digests queued | alerts queued | seconds |", file=out)
    print("|---|---|---:|---:|---:|", file=out)
    for f in figures:
        print(
            f"| {f.backend} | {f.label} | {f.digests:,} | {f.alerts:,} | {f.seconds:.2f} |",
            file=out,
        )
    return all(f.seconds < TARGET_SECONDS for f in figures)
