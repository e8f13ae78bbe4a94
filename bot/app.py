"""Compose the bot: build the Application, open resources at start, close them at stop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder

import handlers
from bot.config import ConfigError, Settings, load_sources
from bot.web import build_web_app, start_web
from bot.webhook import WebhookServer, webhook_route
from handlers.chart_cache import DEFAULT_TTL_SECONDS, ChartCache
from handlers.context import CONTEXT_TYPES, BotData
from handlers.delivery import Deliverer, process_owner
from handlers.jobs import reschedule_ingestion, schedule_delivery, schedule_ingestion
from handlers.limits import UserLimits
from handlers.link import TelegramLink, WatchedRequest
from handlers.metrics import CountingRateLimiter, Metrics
from handlers.pacing import Pacer, SharedBudget
from handlers.regions import source_regions
from news.ingest.crawl import Crawler
from news.ingest.fetch import Fetcher, make_client
from news.models import REGIONS
from storage import is_postgres_url, open_store
from storage.sqlite.lock import hold_bot_lock

logger = logging.getLogger(__name__)

BotApplication = Application[Any, Any, Any, Any, BotData, Any]

# Long polling waits this long on Telegram's side; the HTTP read timeout must exceed it.
POLL_TIMEOUT = 10


def build_application(settings: Settings, link: TelegramLink | None = None) -> BotApplication:
    """Build the Application for these settings: handlers, rate limiter, lifecycle hooks."""
    token = settings.require_token()
    link = link or TelegramLink()
    pacer = Pacer()
    # The counters exist before the Application: its requests and rate limiter count into them.
    metrics = Metrics()
    link.metrics = metrics
    app: BotApplication = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.bot_base_url)
        .base_file_url(f"{settings.api_url}/file/bot")
        .context_types(CONTEXT_TYPES)
        .rate_limiter(CountingRateLimiter(pacer, metrics))
        .request(WatchedRequest(link, connection_pool_size=16, read_timeout=15, write_timeout=15))
        .get_updates_request(WatchedRequest(link, read_timeout=POLL_TIMEOUT + 10))
        .concurrent_updates(True)
        .post_init(functools.partial(post_init, settings=settings))
        .post_shutdown(post_shutdown)
        .build()
    )
    app.bot_data.metrics = metrics
    app.bot_data.link = link
    app.bot_data.polling = not settings.webhook_url
    app.bot_data.tz = settings.tz
    app.bot_data.admins = settings.admins
    app.bot_data.pacer = pacer
    app.bot_data.user_limits = UserLimits(per_minute=settings.user_rate, burst=settings.user_burst)
    app.bot_data.sources = load_sources(settings)
    # No new articles arrive sooner than the shortest crawl interval: charts keep that long.
    intervals = [s.interval_minutes for s in app.bot_data.sources]
    app.bot_data.charts = ChartCache(ttl=60 * min(intervals, default=DEFAULT_TTL_SECONDS / 60))
    handlers.register(app)
    return app


async def post_init(app: BotApplication, *, settings: Settings) -> None:
    """Open the store and the news client, schedule crawls, publish the command menu."""
    app.bot_data.instance = process_owner()
    app.bot_data.store = await open_store(settings.db)
    if app.bot_data.store.backend == "postgresql" and app.bot_data.pacer is not None:
        # Several instances may answer on one database: they book Telegram's rate there.
        pacer = app.bot_data.pacer
        pacer.budget = SharedBudget(app.bot_data.store, counters=pacer.counters)
    if app.bot_data.store.backend == "sqlite":
        # This process holds the bot lock: rows a killed predecessor left 'sending' go out
        # now. On PostgreSQL other instances may be sending them; their leases say when not.
        reclaimed = await app.bot_data.store.ledger.reclaim_interrupted()
        if reclaimed:
            logger.info("%d deliveries interrupted by the last stop are sent again", reclaimed)
    client = make_client(proxy=settings.fetch_proxy)
    app.bot_data.http_client = client
    app.bot_data.crawler = Crawler(
        fetcher=Fetcher(client), store=app.bot_data.store, analyser=app.bot_data.analysis.analyse
    )
    app.bot_data.deliverer = Deliverer(
        bot=app.bot,
        store=app.bot_data.store,
        owner=app.bot_data.instance,
        default_tz=settings.tz,
        catch_up=timedelta(hours=settings.catch_up_hours),
        source_titles={s.name: s.title for s in app.bot_data.sources},
        source_regions=source_regions(app.bot_data.sources),
        regions=REGIONS,
    )
    schedule_ingestion(app)
    schedule_delivery(app)
    if settings.http_listen is not None and not settings.webhook_url:
        # Polling mode: the listener serves /healthz, /metrics and the feeds (webhook mode
        # adds its route to the same application once the bot is started).
        host, port = settings.http_listen
        app.bot_data.web_runner = await start_web(build_web_app(app.bot_data), host, port)
    await app.bot.set_my_commands(handlers.menu_commands("zh"))
    await app.bot.set_my_commands(handlers.menu_commands("en"), language_code="en")
    me = app.bot.bot
    logger.info("newsbot started as @%s", me.username)


async def post_shutdown(app: BotApplication) -> None:
    """Stop sending and serving feeds, hand the sender lease over, close the client and store."""
    if app.bot_data.deliverer is not None:
        app.bot_data.deliverer.stopping = True
        with contextlib.suppress(Exception):  # a store that is gone: the lease just expires
            await app.bot_data.deliverer.release()
    runner, app.bot_data.web_runner = app.bot_data.web_runner, None
    if runner is not None:
        await runner.cleanup()  # before the store closes: a feed request may be reading it
    await asyncio.to_thread(app.bot_data.renderer.close)
    await asyncio.to_thread(app.bot_data.analysis.close)
    client, app.bot_data.http_client = app.bot_data.http_client, None
    if client is not None:
        await client.aclose()
    store = app.bot_data._store
    if store is not None:
        await store.close()
        app.bot_data.store = None


def freeze_startup_heap() -> None:
    """Keep what start-up built out of every later garbage collection (once per process)."""
    # Start-up leaves 300,000+ objects that live as long as the process (PTB, pypinyin's
    # phrases, matplotlib's tables). Each full collection walked them all, 70-90 ms in which no
    # chat was answered; frozen, a full collection walks only what came after. The collect
    # first frees start-up's garbage, which frozen would never be freed.
    if gc.get_freeze_count() > 0:
        return
    gc.collect()
    gc.freeze()


async def run_bot(
    settings: Settings, stop: asyncio.Event, ready: asyncio.Event | None = None
) -> None:
    """Run the bot with long polling until `stop` is set: the `newsbot run` code path.

    One bot per SQLite file: a second one raises StoreInUse before touching anything.
    """
    # PostgreSQL is shared by design: its instances coordinate through leases, not a lock file.
    unlocked = is_postgres_url(settings.db) or settings.db == ":memory:"
    with contextlib.nullcontext() if unlocked else hold_bot_lock(settings.db_path):
        await _run_locked(settings, stop, ready)


async def _run_locked(settings: Settings, stop: asyncio.Event, ready: asyncio.Event | None) -> None:
    link = TelegramLink()
    app = build_application(settings, link)
    async with app:  # initialize() ... shutdown()
        server: WebhookServer | None = None
        try:
            if app.post_init is not None:
                await app.post_init(app)
            if settings.webhook_url:
                server = await _start_webhook(app, settings)
            else:
                assert app.updater is not None
                await app.updater.start_polling(
                    timeout=POLL_TIMEOUT,
                    allowed_updates=Update.ALL_TYPES,
                    error_callback=link.on_poll_error,
                )
            await app.start()
            loop = asyncio.get_running_loop()
            # SIGHUP re-reads the sources file (an operator's edit, no restart).
            loop.add_signal_handler(
                signal.SIGHUP, lambda: loop.create_task(reload_sources(app, settings))
            )
            freeze_startup_heap()
            if ready is not None:
                ready.set()
            await stop.wait()
            logger.info("stopping")
            if app.bot_data.deliverer is not None:
                # In-flight sends finish and are recorded; the rest wait in the ledger.
                app.bot_data.deliverer.stopping = True
            if server is not None:
                # The webhook stays set: the other instances go on taking updates.
                await server.stop()
                server = None
            elif app.updater is not None and app.updater.running:
                await app.updater.stop()
            await app.stop()
        finally:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            if server is not None:
                await server.stop()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)


async def reload_sources(app: BotApplication, settings: Settings) -> bool:
    """Re-read the sources file and reschedule the crawls; a broken file changes nothing."""
    running = len(app.bot_data.sources)
    try:
        sources = await asyncio.to_thread(load_sources, settings)
    except ConfigError as exc:
        logger.error("sources not reloaded (the %d sources keep running): %s", running, exc)
        return False
    added, changed, removed = reschedule_ingestion(app, sources)
    if app.bot_data.deliverer is not None:
        app.bot_data.deliverer.source_titles = {s.name: s.title for s in sources}
    logger.info(
        "sources reloaded: %d sources; added %s; changed %s; removed %s",
        len(sources),
        ", ".join(added) or "none",
        ", ".join(changed) or "none",
        ", ".join(removed) or "none",
    )
    return True


async def _start_webhook(app: BotApplication, settings: Settings) -> WebhookServer:
    """Listen for Telegram's POSTs, then register the webhook (with its secret) with Telegram."""
    assert settings.webhook_url is not None and settings.http_listen is not None
    secret = settings.webhook_secret.reveal()
    host, port = settings.http_listen
    # One listener: the webhook path beside /healthz, /metrics and the feeds.
    web_app = build_web_app(app.bot_data)
    web_app.add_routes([webhook_route(app, settings.webhook_path, secret)])
    server = WebhookServer(web_app, host, port)
    await server.start()
    await app.bot.set_webhook(
        settings.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
    )
    logger.info("webhook set; taking updates on %s:%d%s", host, port, settings.webhook_path)
    return server
