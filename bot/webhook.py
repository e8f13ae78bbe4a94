"""Webhook mode: one small aiohttp app per instance serving Telegram's POSTs and /healthz."""

from __future__ import annotations

import asyncio
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
# /healthz answers 503 when the store has not answered within this long.
HEALTH_TIMEOUT = 2.0
MAX_UPDATE_BYTES = 1024 * 1024

BotApplication = Application[Any, Any, Any, Any, BotData, Any]
APPLICATION_KEY = web.AppKey("application", Application)


def build_web_app(app: BotApplication, path: str, secret: str) -> web.Application:
    """Return the aiohttp app: POST `path` takes updates, GET /healthz says if the store answers."""
    web_app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    web_app[APPLICATION_KEY] = app

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

    async def healthz(request: web.Request) -> web.Response:
        store = app.bot_data._store
        if store is None:
            return web.json_response({"ok": False, "store": "not open"}, status=503)
        try:
            articles = await asyncio.wait_for(store.count_articles(), HEALTH_TIMEOUT)
        except Exception as exc:  # any failure of the store is "unhealthy", never a 500
            logger.warning("healthz: the store does not answer: %s", exc)
            return web.json_response({"ok": False, "store": "not answering"}, status=503)
        return web.json_response({"ok": True, "store": "answering", "articles": articles})

    web_app.router.add_post(path, take_update)
    web_app.router.add_get("/healthz", healthz)
    return web_app


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
                f"NEWSBOT_WEBHOOK_LISTEN: cannot listen on {self._host}:{self._port}: "
                f"{exc.strerror or exc}"
            ) from None
        self._runner = runner
        logger.info("webhook listener on %s:%d", self._host, self._port)

    async def stop(self) -> None:
        """Stop taking updates; the ones already queued are still handled."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
