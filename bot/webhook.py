"""Webhook mode: the route Telegram POSTs updates to, and the listener of one instance.

The route joins bot.web's application: one listener serves it, /healthz, /metrics and the feeds.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.config import ConfigError
from handlers.context import BotData

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

BotApplication = Application[Any, Any, Any, Any, BotData, Any]


def webhook_route(app: BotApplication, path: str, secret: str) -> web.RouteDef:
    """Return the POST route at `path` that checks the secret, then queues the update."""

    async def take_update(request: web.Request) -> web.Response:
        # The secret is checked before anything else is read; compare_digest: no timing oracle.
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return web.json_response({"ok": False, "error": "missing secret token"}, status=401)
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.json_response({"ok": False, "error": "wrong secret token"}, status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, app.bot)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError, KeyError, ValueError):
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        if update is None:
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        await app.update_queue.put(update)
        return web.json_response({"ok": True})

    return web.post(path, take_update)


class WebhookServer:
    """The listener of one instance, started after the Application and stopped before it."""

    def __init__(self, web_app: web.Application, host: str, port: int) -> None:
        self._web_app = web_app
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on host:port."""
        # access_log=None: an access log line per update is noise at 30 updates a second.
        runner = web.AppRunner(self._web_app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"NEWSBOT_HTTP_LISTEN: cannot listen on {self._host}:{self._port}: "
                f"{exc.strerror or exc}"
            ) from None
        self._runner = runner
        logger.info("webhook listener on %s:%d", self._host, self._port)

    async def stop(self) -> None:
        """Stop taking updates; the ones already queued are still handled."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
