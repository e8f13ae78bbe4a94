"""Compose the bot: build the Application, open resources at start, close them at stop."""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.request import HTTPXRequest

import handlers
from bot.config import Settings, load_sources
from bot.web import build_web_app, start_web
from handlers.chart_cache import DEFAULT_TTL_SECONDS, ChartCache
from handlers.context import CONTEXT_TYPES, BotData
from handlers.delivery import Deliverer
from handlers.jobs import schedule_delivery, schedule_ingestion
from news.ingest.crawl import Crawler
from news.ingest.fetch import Fetcher, make_client
from storage import Store

logger = logging.getLogger(__name__)

BotApplication = Application[Any, Any, Any, Any, BotData, Any]

# Long polling waits this long on Telegram's side; the HTTP read timeout must exceed it.
POLL_TIMEOUT = 10


# Telegram allows about 30 messages a second overall, counted over any one second.
OVERALL_RATE = 28.0


def rate_limiter() -> AIORateLimiter:
    """Return PTB's limiter set to Telegram's limits, with retries on RetryAfter.

    A leaky bucket holding 30 lets 60 through in one second after a quiet spell; a bucket of
    one, refilled 28 times a second, spaces messages evenly, leaving room for network jitter
    before any one-second window sees 30.
    Groups keep PTB's default of 20 a minute.
    """
    return AIORateLimiter(overall_max_rate=1, overall_time_period=1 / OVERALL_RATE, max_retries=3)


def build_application(settings: Settings) -> BotApplication:
    """Build the Application for these settings: handlers, rate limiter, lifecycle hooks."""
    token = settings.require_token()
    app: BotApplication = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.bot_base_url)
        .base_file_url(f"{settings.api_url}/file/bot")
        .context_types(CONTEXT_TYPES)
        .rate_limiter(rate_limiter())
        .request(HTTPXRequest(connection_pool_size=16, read_timeout=15, write_timeout=15))
        .get_updates_request(HTTPXRequest(read_timeout=POLL_TIMEOUT + 10))
        .concurrent_updates(True)
        .post_init(functools.partial(post_init, settings=settings))
        .post_shutdown(post_shutdown)
        .build()
    )
    app.bot_data.tz = settings.tz
    app.bot_data.admins = settings.admins
    app.bot_data.sources = load_sources(settings)
    # No new articles arrive sooner than the shortest crawl interval: charts keep that long.
    intervals = [s.interval_minutes for s in app.bot_data.sources]
    app.bot_data.charts = ChartCache(ttl=60 * min(intervals, default=DEFAULT_TTL_SECONDS / 60))
    handlers.register(app)
    return app


async def post_init(app: BotApplication, *, settings: Settings) -> None:
    """Open the store and the news client, schedule crawls, publish the command menu."""
    app.bot_data.store = await Store.open(settings.db_path)
    client = make_client(proxy=settings.fetch_proxy)
    app.bot_data.http_client = client
    app.bot_data.crawler = Crawler(fetcher=Fetcher(client), store=app.bot_data.store)
    app.bot_data.deliverer = Deliverer(
        bot=app.bot,
        store=app.bot_data.store,
        default_tz=settings.tz,
        catch_up=timedelta(hours=settings.catch_up_hours),
        source_titles={s.name: s.title for s in app.bot_data.sources},
    )
    schedule_ingestion(app)
    schedule_delivery(app)
    if settings.feeds_listen is not None:
        host, port = settings.feeds_listen
        app.bot_data.web_runner = await start_web(build_web_app(app.bot_data), host, port)
    await app.bot.set_my_commands(handlers.menu_commands("zh"))
    await app.bot.set_my_commands(handlers.menu_commands("en"), language_code="en")
    me = app.bot.bot
    logger.info("newsbot started as @%s", me.username)


async def post_shutdown(app: BotApplication) -> None:
    """Stop sending and serving feeds, close the news client and the store."""
    if app.bot_data.deliverer is not None:
        app.bot_data.deliverer.stopping = True
    runner, app.bot_data.web_runner = app.bot_data.web_runner, None
    if runner is not None:
        await runner.cleanup()  # before the store closes: a feed request may be reading it
    await asyncio.to_thread(app.bot_data.renderer.close)
    client, app.bot_data.http_client = app.bot_data.http_client, None
    if client is not None:
        await client.aclose()
    store = app.bot_data._store
    if store is not None:
        await store.close()
        app.bot_data.store = None


async def run_bot(
    settings: Settings, stop: asyncio.Event, ready: asyncio.Event | None = None
) -> None:
    """Run the bot with long polling until `stop` is set: the `newsbot run` code path."""
    app = build_application(settings)
    async with app:  # initialize() ... shutdown()
        try:
            if app.post_init is not None:
                await app.post_init(app)
            assert app.updater is not None
            await app.updater.start_polling(timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES)
            await app.start()
            if ready is not None:
                ready.set()
            await stop.wait()
            logger.info("stopping")
            if app.bot_data.deliverer is not None:
                # In-flight sends finish and are recorded; the rest wait in the ledger.
                app.bot_data.deliverer.stopping = True
            await app.updater.stop()
            await app.stop()
        finally:
            if app.post_shutdown is not None:
                await app.post_shutdown(app)
