"""The bot's HTTP listener (NEWSBOT_FEEDS_LISTEN): the Atom feeds, and whatever else it serves.

`build_web_app` returns one aiohttp application; the webhook listener can add its own route to
the same application, so in webhook mode one port serves both.
"""

from __future__ import annotations

import logging

from aiohttp import web

from handlers.context import BotData
from handlers.feeds import feed_routes

logger = logging.getLogger(__name__)


def build_web_app(bot_data: BotData) -> web.Application:
    """Return the aiohttp application with the feed routes and /healthz."""
    app = web.Application()
    app.add_routes(feed_routes(bot_data))
    app.add_routes([web.get("/healthz", _healthz)])
    return app


async def _healthz(request: web.Request) -> web.Response:
    """Answer that the listener is up."""
    return web.Response(text="ok\n")


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
