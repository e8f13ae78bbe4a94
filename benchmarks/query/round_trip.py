"""Time /latest from update to reply through the fake Bot API: the whole bot, then an echo bot.

The whole bot (run_bot, as `newsbot run` starts it) and a bare echo Application each answer
the same sequence of updates over loopback, so the ratio of their latencies is what the bot
adds to what any PTB bot costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from benchmarks.query.handler_timing import CHAT_ID, WARMUP
from benchmarks.report import percentile
from bot.app import POLL_TIMEOUT, run_bot
from bot.config import Settings, load_settings
from fakes.bot_api import FakeBotApi

FAKE_TOKEN = "123456789:AAE2eBENCHtokenNotSecret_0123456789ab"
# Enough round trips that the p99 is a rank among several slow ones, not the one or two that
# met the bot's periodic delivery tick.
ROUND_TRIPS = 1000
# The bot's rate limiter spaces its messages to stay under Telegram's 30 a second; round trips
# are paced well below that, so that the figures show latency, not deliberate queueing.
ROUND_TRIP_INTERVAL = 0.075


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """Update-in to reply-out latencies of the bot and of an echo bot, in milliseconds."""

    bot: tuple[float, ...]
    echo: tuple[float, ...]

    @property
    def ratio_p50(self) -> float:
        """Return the bot's median over the echo bot's."""
        return percentile(self.bot, 50) / max(percentile(self.echo, 50), 1e-9)

    @property
    def ratio_p99(self) -> float:
        """Return the bot's p99 over the echo bot's."""
        return percentile(self.bot, 99) / max(percentile(self.echo, 99), 1e-9)


def bench_settings(
    api: FakeBotApi, db: Path | str, sources: Path, *, user_rate: str = "0"
) -> Settings:
    """Return the bot's settings for a run against the fake Bot API.

    The per-user limit is off unless asked for: the query benchmarks time one scripted chat
    sending hundreds of commands, a measurement, not a flood.
    """
    return load_settings(
        {
            "NEWSBOT_TOKEN": FAKE_TOKEN,
            "NEWSBOT_API_URL": api.root_url,
            "NEWSBOT_DB": str(db),
            "NEWSBOT_SOURCES": str(sources),
            "NEWSBOT_LOG_LEVEL": "WARNING",
            "NEWSBOT_USER_RATE": user_rate,
        },
        dotenv=None,
    )


# How long the bot may take to stop once asked (it finishes the crawl under way first).
STOP_SECONDS = 180


@contextlib.asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[None]:
    """Run the whole bot (run_bot, as `newsbot run` does) in this event loop meanwhile."""
    stop = asyncio.Event()
    ready = asyncio.Event()
    task = asyncio.create_task(run_bot(settings, stop, ready))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if not ready.is_set():
        waiter.cancel()
        if task.done():
            task.result()  # raises what stopped the start
        task.cancel()
        raise RuntimeError("the bot did not start within 30 s")
    try:
        yield
    finally:
        stop.set()
        # A crawl under way (each new article's analysis) finishes before the bot stops: slow on
        # a machine shared with other jobs.
        try:
            await asyncio.wait_for(task, timeout=STOP_SECONDS)
        except TimeoutError:
            raise RuntimeError(f"the bot did not stop within {STOP_SECONDS} s") from None


def start_fake_api() -> FakeBotApi:
    """Serve a fake Bot API with no rate limits on loopback, in a thread of its own."""
    api = FakeBotApi(FAKE_TOKEN, global_rate=None, group_per_minute=None, private_rate=None)
    api.run_in_thread()
    return api


async def round_trip(
    db: Path | str, scratch: Path, count: int = ROUND_TRIPS, warmup: int = WARMUP
) -> RoundTrip:
    """Send /latest `count` times to the real bot, then to an echo bot, through the fake API."""
    api = start_fake_api()
    try:
        sources = scratch / "sources.toml"
        sources.write_text("", encoding="utf-8")
        async with running_bot(bench_settings(api, db, sources)):
            bot_times = await _push_and_wait(api, CHAT_ID, "/latest", count, warmup)

        echo = (
            ApplicationBuilder()
            .token(FAKE_TOKEN)
            .base_url(f"{api.root_url}/bot")
            .request(HTTPXRequest(connection_pool_size=16, read_timeout=15, write_timeout=15))
            .get_updates_request(HTTPXRequest(read_timeout=POLL_TIMEOUT + 10))
            .build()
        )
        echo.add_handler(MessageHandler(filters.ALL, _echo))
        async with echo:
            assert echo.updater is not None
            await echo.updater.start_polling(timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES)
            await echo.start()
            try:
                echo_times = await _push_and_wait(api, CHAT_ID + 1, "/latest", count, warmup)
            finally:
                await echo.updater.stop()
                await echo.stop()
        return RoundTrip(tuple(bot_times), tuple(echo_times))
    finally:
        api.stop_thread()


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say the text back: the least a bot can do with an update."""
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text, do_quote=False)


async def _push_and_wait(
    api: FakeBotApi, chat_id: int, text: str, count: int, warmup: int
) -> list[float]:
    """Push `text` `count` times (after a warm-up), each after the last reply; return latencies.

    A latency runs from the push (the update is there for the long poll to take) to the
    arrival of the bot's sendMessage at the fake: the fake's own checking of the reply's HTML
    (longer for /latest than for an echo) is left out.
    """
    latencies: list[float] = []
    for turn in range(warmup + count):
        before = len(api.calls_to("sendMessage"))
        pushed = time.time()
        api.push_text(chat_id, text)
        # Waiting for the recorded call, not the message: the fake records the message first.
        calls = await api.wait_for_calls("sendMessage", before + 1, timeout=15)
        reply = calls[before]
        if reply.status != 200 or str(reply.params.get("chat_id")) != str(chat_id):
            raise RuntimeError(f"unexpected reply to {text!r}: {reply.status} {reply.response}")
        # Both clocks are time.time(); the fake stamps each call when its request arrives.
        arrived = reply.time
        if turn >= warmup:
            latencies.append((arrived - pushed) * 1000)
        await asyncio.sleep(max(0.0, ROUND_TRIP_INTERVAL - (time.time() - pushed)))
    return latencies
