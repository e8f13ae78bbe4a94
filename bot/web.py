"""The bot's one HTTP listener (NEWSBOT_HTTP_LISTEN): /healthz, /metrics, the Atom feeds.

`build_web_app` returns one aiohttp application; in webhook mode the webhook route joins the
same application, so one port serves everything in every mode.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from bot.config import ConfigError
from handlers.context import BotData
from handlers.feeds import feed_routes
from handlers.health import check_health, scrape
from handlers.metrics import CONTENT_TYPE

logger = logging.getLogger(__name__)


# Telegram's updates are small; a feed request has no body.
MAX_REQUEST_BYTES = 1024 * 1024


def build_web_app(bot_data: BotData) -> web.Application:
    """Return the aiohttp application with /healthz, /metrics and the feed routes."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app.add_routes(feed_routes(bot_data))

    async def healthz(request: web.Request) -> web.Response:
        health = await check_health(bot_data)
        # Readable reasons (source names may be Chinese), not \u escapes.
        return web.json_response(
            health.as_json(), status=200 if health.ok else 503, dumps=_readable_json
        )

    async def metrics(request: web.Request) -> web.Response:
        body = await scrape(bot_data)
        # CONTENT_TYPE carries its own charset parameter: set as a raw header.
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    app.add_routes([web.get("/healthz", healthz), web.get("/metrics", metrics)])
    return app


def _readable_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


async def start_web(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve the application on host:port until the returned runner is cleaned up."""
    # access_log=None: the bot logs nothing per request; a reverse proxy can.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:  # the port is taken, the address is not this machine's
        await runner.cleanup()
        raise ConfigError(
            f"NEWSBOT_HTTP_LISTEN: cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    except BaseException:
        await runner.cleanup()
        raise
    addresses = ", ".join(f"{a[0]}:{a[1]}" for a in runner.addresses)
    logger.info("/healthz, /metrics and the feeds served on %s", addresses)
    return runner
