"""Time the real handler coroutines against the archive, with a bot that never leaves the process.

Each command, inline query, feed and chart the benchmark covers is run through its real
handler; the Bot API calls are answered by an OfflineRequest and the feeds are fetched over
loopback. Each row carries the p99 target it is held to.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Bot, Update
from telegram.ext import ApplicationBuilder, CallbackContext

from benchmarks.offline_request import OfflineRequest
from benchmarks.query.synthetic_archive import SEED, open_store
from benchmarks.report import percentile
from bot.web import build_web_app, start_web
from handlers.chart_cache import ChartCache
from handlers.charts import last_months, months_between, person_chart, trend_chart
from handlers.context import CONTEXT_TYPES, Context
from handlers.inline import on_inline_query
from handlers.latest import cmd_latest
from handlers.said import cmd_said
from handlers.search import cmd_search
from handlers.speakers import cmd_speaker, cmd_speakers
from handlers.summary import cmd_summary
from news.chart_worker import ROLE_COLOURS
from news.models import MonthSeries

TARGET_P99_MS = 50.0
# The replies a reader sends most, held to a tighter p99 than the rest.
FAST_TARGET_P99_MS = 5.0
FAST_QUERIES = frozenset({"/latest", "/latest 30", "/summary ID"})
CHART_TARGET_P99_MS = 300.0
CHART_CALLS = 30
CALLS = 200
WARMUP = 20
CHAT_ID = 1001

Handler = Callable[[Update, Context], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Timing:
    """The latencies of one benchmarked query, in milliseconds."""

    label: str
    samples: tuple[float, ...]
    target: float = TARGET_P99_MS

    @property
    def p50(self) -> float:
        """Return the median."""
        return percentile(self.samples, 50)

    @property
    def p99(self) -> float:
        """Return the 99th percentile."""
        return percentile(self.samples, 99)


def bench_queries(summary_ids: Sequence[int]) -> list[tuple[str, list[str]]]:
    """Return the benchmarked commands: a label and the texts to send, used in turn."""
    return [
        ("/latest", ["/latest"]),
        ("/latest 30", ["/latest 30"]),
        ("/search 营商环境 (3+ chars, common)", ["/search 营商环境"]),
        ("/search 沈阳市 (3+ chars, very common)", ["/search 沈阳市"]),
        ("/search 城市品质 (3+ chars, rare)", ["/search 城市品质"]),
        ("/search 一个不存在的词语 (no match)", ["/search 一个不存在的词语"]),
        ("/search 振兴 (2 chars, common)", ["/search 振兴"]),
        ("/search 于静 (2 chars, rare)", ["/search 于静"]),
        ("/search 振兴 2023-01..2023-06", ["/search 振兴 2023-01..2023-06"]),
        ("/search 营商环境 2020..2021", ["/search 营商环境 2020..2021"]),
        ("/search 易炼红 振兴 (two words)", ["/search 易炼红 振兴"]),
        ("/speaker 易炼红", ["/speaker 易炼红"]),
        ("/speaker yilianhong", ["/speaker yilianhong"]),
        ("/speaker 沈阳市委书记", ["/speaker 沈阳市委书记"]),
        ("/speakers", ["/speakers"]),
        # /said of the leader with the most speeches (a tenth of the archive's articles).
        ("/said 易炼红 振兴 (common word)", ["/said 易炼红 振兴"]),
        ("/said 易炼红 城市品质 (rare word)", ["/said 易炼红 城市品质"]),
        ("/said 易炼红 一个不存在的词语 (no match)", ["/said 易炼红 一个不存在的词语"]),
        ("/said 易炼红 营商环境 2020..2021", ["/said 易炼红 营商环境 2020..2021"]),
        ("/summary ID", [f"/summary {i}" for i in summary_ids]),
    ]


HANDLERS: dict[str, Handler] = {
    "latest": cmd_latest,
    "search": cmd_search,
    "speaker": cmd_speaker,
    "speakers": cmd_speakers,
    "said": cmd_said,
    "summary": cmd_summary,
}


def inline_queries() -> list[tuple[str, str, str]]:
    """Return the benchmarked inline queries: a label, the query and the offset."""
    return [
        ("inline @ (empty: latest)", "", ""),
        ("inline @ 易炼红 (his speeches first)", "易炼红", ""),
        ("inline @ 营商环境", "营商环境", ""),
        ("inline @ 振兴, page 3", "振兴", "40"),
        ("inline @ 易炼红 营商环境 (his statements first)", "易炼红 营商环境", ""),
    ]


def feed_paths() -> list[tuple[str, str, bool]]:
    """Return the benchmarked feeds: a label, the path, and whether the GET is conditional."""
    return [
        ("GET /feeds/latest.atom", "/feeds/latest.atom", False),
        ("GET /feeds/latest.atom, If-None-Match (304)", "/feeds/latest.atom", True),
        (
            "GET /feeds/speaker/易炼红.atom",
            "/feeds/speaker/%E6%98%93%E7%82%BC%E7%BA%A2.atom",
            False,
        ),
        (
            "GET /feeds/search.atom?q=营商环境",
            "/feeds/search.atom?q=%E8%90%A5%E5%95%86%E7%8E%AF%E5%A2%83",
            False,
        ),
        (
            "GET /feeds/said/易炼红.atom?q=营商环境",
            "/feeds/said/%E6%98%93%E7%82%BC%E7%BA%A2.atom?q=%E8%90%A5%E5%95%86%E7%8E%AF%E5%A2%83",
            False,
        ),
    ]


def inline_update(bot: Bot, query: str, offset: str, update_id: int) -> Update:
    """Return the Update Telegram would send for a user typing `@bot query` in some chat."""
    user = {"id": CHAT_ID, "is_bot": False, "first_name": "测试用户", "language_code": "zh-hans"}
    data = {
        "update_id": update_id,
        "inline_query": {
            "id": str(update_id),
            "from": user,
            "query": query,
            "offset": offset,
            "chat_type": "supergroup",
        },
    }
    return Update.de_json(data, bot)


def command_update(bot: Bot, text: str, update_id: int) -> Update:
    """Return the Update Telegram would send for a user typing `text` in a private chat."""
    user = {"id": CHAT_ID, "is_bot": False, "first_name": "测试用户", "language_code": "zh-hans"}
    command = text.split()[0]
    data = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": CHAT_ID, "type": "private", "first_name": "测试用户"},
            "from": user,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }
    return Update.de_json(data, bot)


def summary_ids(stored: int, seed: int) -> list[int]:
    """Return up to 50 article ids spread over an archive of `stored` articles, drawn by seed."""
    return random.Random(seed).sample(range(1, stored + 1), min(50, stored))


async def time_handlers(db: Path | str, calls: int = CALLS, warmup: int = WARMUP) -> list[Timing]:
    """Time each benchmarked command's real handler against the database, offline."""
    store = await open_store(db)
    try:
        stored = await store.count_articles()
        # /summary asks for ids spread over the archive, not for one row the cache keeps warm.
        ids = summary_ids(stored, SEED)
        app = (
            ApplicationBuilder()
            .token("1:x")
            .request(OfflineRequest(CHAT_ID))
            .get_updates_request(OfflineRequest(CHAT_ID))
            .context_types(CONTEXT_TYPES)
            .updater(None)
            .build()
        )
        app.bot_data.store = store
        timings: list[Timing] = []
        update_ids = itertools.count(1)
        async with app:
            for label, texts in bench_queries(ids):
                samples: list[float] = []
                for call in range(warmup + calls):
                    text = texts[call % len(texts)]
                    update = command_update(app.bot, text, next(update_ids))
                    context = CallbackContext.from_update(update, app)
                    context.args = text.split()[1:]
                    handler = HANDLERS[text.split()[0].removeprefix("/")]
                    started = time.perf_counter()
                    await handler(update, context)
                    elapsed = (time.perf_counter() - started) * 1000
                    if call >= warmup:
                        samples.append(elapsed)
                target = FAST_TARGET_P99_MS if label in FAST_QUERIES else TARGET_P99_MS
                timings.append(Timing(label, tuple(samples), target))
            for label, query, offset in inline_queries():
                samples = []
                for call in range(warmup + calls):
                    update = inline_update(app.bot, query, offset, next(update_ids))
                    context = CallbackContext.from_update(update, app)
                    started = time.perf_counter()
                    await on_inline_query(update, context)
                    elapsed = (time.perf_counter() - started) * 1000
                    if call >= warmup:
                        samples.append(elapsed)
                timings.append(Timing(label, tuple(samples)))
            timings += await time_feeds(app.bot_data, calls, warmup)
            try:
                timings += await time_charts(app, min(calls, CHART_CALLS), next(update_ids))
            finally:
                app.bot_data.renderer.close()
        return timings
    finally:
        await store.close()


async def time_feeds(bot_data: Any, calls: int, warmup: int) -> list[Timing]:
    """Time feed requests through the real feed listener on loopback, with a real HTTP client."""
    import httpx

    runner = await start_web(build_web_app(bot_data), "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    timings: list[Timing] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=30) as client:
            for label, path, conditional in feed_paths():
                first = await client.get(path)
                if first.status_code != 200:
                    raise RuntimeError(f"{path}: HTTP {first.status_code}")
                headers = {"If-None-Match": first.headers["ETag"]} if conditional else {}
                samples: list[float] = []
                for call in range(warmup + calls):
                    started = time.perf_counter()
                    response = await client.get(path, headers=headers)
                    elapsed = (time.perf_counter() - started) * 1000
                    if conditional and response.status_code == 200:
                        # The busy table's crawl stored an article: the feed changed, so it
                        # was sent again; the next calls ask with its new ETag.
                        headers = {"If-None-Match": response.headers["ETag"]}
                    elif response.status_code != (304 if conditional else 200):
                        raise RuntimeError(f"{path}: HTTP {response.status_code}")
                    if call >= warmup:
                        samples.append(elapsed)
                timings.append(Timing(label, tuple(samples)))
    finally:
        await runner.cleanup()
    return timings


async def time_charts(app: Any, calls: int, update_id: int) -> list[Timing]:
    """Time drawing each chart afresh (queries, then the PNG in the worker), and /latest meanwhile.

    The cache is emptied before every call, so each one queries and renders.
    """
    bot_data = app.bot_data
    window = last_months(datetime.now(UTC), bot_data.tz)
    # The leader who spoke most in the window: one with the most to draw.
    top = await bot_data.store.top_speakers(window[0], limit=1)
    if not top:
        raise RuntimeError("nobody spoke in the last 24 months of the archive")
    person = top[0][0]
    update = command_update(app.bot, f"/chart {person.name}", update_id)
    context = CallbackContext.from_update(update, app)

    async def draw_person() -> None:
        await person_chart(context, person, "zh")

    async def draw_trend() -> None:
        await trend_chart(context, ("振兴",), *window, "zh")

    timings: list[Timing] = []
    for label, draw in (
        ("chart: /chart NAME (24 months by role, the busiest speaker)", draw_person),
        ("chart: /trend 振兴 (24 months, top speakers)", draw_trend),
    ):
        samples: list[float] = []
        for call in range(2 + calls):
            bot_data.charts = ChartCache()
            started = time.perf_counter()
            await draw()
            elapsed = (time.perf_counter() - started) * 1000
            if bot_data.charts.renders != 1:
                raise RuntimeError(f"{label}: drew nothing (no data in the last 24 months?)")
            if call >= 2:
                samples.append(elapsed)
        timings.append(Timing(label, tuple(samples), CHART_TARGET_P99_MS))
    # The PNG alone (the worker process's share of the above), for 24 months of four roles.
    months = months_between(*window, bot_data.tz)
    data = MonthSeries(
        tuple(months),
        {
            role: [(i * 7 + n) % 40 for i in range(len(months))]
            for n, role in enumerate(ROLE_COLOURS)
        },
    )
    samples = []
    for call in range(2 + calls):
        started = time.perf_counter()
        await bot_data.renderer.render(
            data, title=f"{person.name}：每月出现的文章数", labels={r: r for r in ROLE_COLOURS},
            colours=ROLE_COLOURS, y_label="文章数",
        )  # fmt: skip
        if call >= 2:
            samples.append((time.perf_counter() - started) * 1000)
    timings.append(
        Timing("chart: the PNG alone (worker process)", tuple(samples), CHART_TARGET_P99_MS)
    )
    # Other chats meanwhile: /latest while trend charts are drawn back to back.
    stop = asyncio.Event()

    async def keep_drawing() -> None:
        while not stop.is_set():
            bot_data.charts = ChartCache()
            await draw_trend()

    drawer = asyncio.create_task(keep_drawing())
    samples = []
    try:
        await asyncio.sleep(0.05)
        for call in range(calls * 3):
            latest = command_update(app.bot, "/latest", update_id + 1 + call)
            latest_context = CallbackContext.from_update(latest, app)
            latest_context.args = []
            started = time.perf_counter()
            await cmd_latest(latest, latest_context)
            samples.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await drawer
    timings.append(Timing("/latest while charts are drawn", tuple(samples)))
    return timings
