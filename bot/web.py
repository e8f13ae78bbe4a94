"""The bot's HTTP listener (NEWSBOT_FEEDS_LISTEN): the Atom feeds, and whatever else it serves.

`build_web_app` returns one aiohttp application; the webhook listener can add its own route to
the same application, so in webhook mode one port serves both.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from handlers.context import BotData
from handlers.feeds import feed_routes

logger = logging.getLogger(__name__)


# /healthz answers 503 when the store has not answered within this long.
HEALTH_TIMEOUT = 2.0
# Telegram's updates are small; a feed request has no body.
MAX_REQUEST_BYTES = 1024 * 1024


def build_web_app(bot_data: BotData, *, feeds: bool = True) -> web.Application:
    """Return the aiohttp application with /healthz and (unless told not to) the feed routes."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    if feeds:
        app.add_routes(feed_routes(bot_data))

    async def healthz(request: web.Request) -> web.Response:
        store = bot_data._store
        if store is None:
            return web.json_response({"ok": False, "store": "not open"}, status=503)
        try:
            articles = await asyncio.wait_for(store.count_articles(), HEALTH_TIMEOUT)
        except Exception as exc:  # any failure of the store is "unhealthy", never a 500
            logger.warning("healthz: the store does not answer: %s", exc)
            return web.json_response({"ok": False, "store": "not answering"}, status=503)
        return web.json_response({"ok": True, "store": "answering", "articles": articles})

    app.add_routes([web.get("/healthz", healthz)])
    return app


async def start_web(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve the application on host:port until the returned runner is cleaned up."""
    # access_log=None: the bot logs nothing per request; a reverse proxy can.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    addresses = ", ".join(f"{a[0]}:{a[1]}" for a in runner.addresses)
    logger.info("feeds served on %s", addresses)
    return runner
