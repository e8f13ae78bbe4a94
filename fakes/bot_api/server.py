"""The fake Bot API server: the method groups put together, served over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
from types import TracebackType
from typing import Self

from aiohttp import web

from fakes.bot_api.bot_settings import BotSettingsMixin
from fakes.bot_api.control import ControlMixin
from fakes.bot_api.documents import DocumentsMixin
from fakes.bot_api.inline import InlineMixin
from fakes.bot_api.protocol import ApiError, JSONDict
from fakes.bot_api.records import RecordedCall
from fakes.bot_api.request_params import read_params, without_file_contents
from fakes.bot_api.updates import UpdatesMixin

# The package's name, not this module's: where the fake logged before it became a package.
logger = logging.getLogger("fakes.bot_api")


# Each base serves one group of Bot API methods and adds them in _bot_api_methods; ControlMixin
# brings ChatsMixin and DocumentsMixin brings PhotosMixin and MessagesMixin, on whose
# look-ups they build.
class FakeBotApi(ControlMixin, InlineMixin, DocumentsMixin, UpdatesMixin, BotSettingsMixin):
    """Serve a strict, recording fake of the Telegram Bot API over HTTP on 127.0.0.1."""

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``; the bot's base url is ``f"{root_url}/bot"``."""
        if self._root_url is None:
            raise RuntimeError("FakeBotApi is not running")
        return self._root_url

    @property
    def base_url(self) -> str:
        """The value for PTB's ``base_url``: ``f"{root_url}/bot"``."""
        return f"{self.root_url}/bot"

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self.root_url.rsplit(":", 1)[1])

    async def start(self) -> None:
        """Start listening (on a free port unless one was given)."""
        if self._runner is not None:
            raise RuntimeError("FakeBotApi already started")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/_fake/{action}", self._handle_control)
        app.router.add_route("GET", "/file/bot{token}/{path:.*}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # access_log=None: aiohttp's access log prints the request path, which holds the token.
        # handler_cancellation: a long poll whose client went away must not linger.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=5.0
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._closing = False
        host, port = runner.addresses[0][:2]
        self._root_url = f"http://{host}:{port}"
        self._port = port  # a restart after stop() listens where the bot looks
        self._pump = asyncio.create_task(self._pump_webhook())
        logger.info("Fake Bot API listening on %s", self._root_url)

    async def stop(self) -> None:
        """Answer pending long polls with no updates, close all connections and stop."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing = True
        self._waiters.notify_all()
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        await runner.cleanup()
        logger.info("Fake Bot API on %s stopped", self._root_url)

    async def __aenter__(self) -> Self:
        """Start the server on the current event loop."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()

    def run_in_thread(self, timeout: float = 10.0) -> str:
        """Serve from a daemon thread with its own event loop; return root_url once listening."""
        if self._thread is not None:
            raise RuntimeError("FakeBotApi already runs in a thread")
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._thread_loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=serve, name="FakeBotApi", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("FakeBotApi did not start in time")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self.root_url

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop a server started with :meth:`run_in_thread` and join its thread."""
        thread, loop = self._thread, self._thread_loop
        if thread is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError("FakeBotApi thread did not stop in time")
        self._thread = None
        self._thread_loop = None

    def __enter__(self) -> Self:
        """Run in a background thread (for synchronous callers and benchmarks)."""
        self.run_in_thread()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the background thread."""
        self.stop_thread()

    # -- HTTP handling ---------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Serve ``/bot{token}/{method}``."""
        received, received_mono = time.time(), time.monotonic()
        match = re.fullmatch(r"/bot([^/]+)/([^/]*)", request.path)
        method = match.group(2) if match else ""
        params: JSONDict = {}
        try:
            if match is None:
                raise ApiError(404, "Not Found")
            if match.group(1) != self.token:
                raise ApiError(401, "Unauthorized")
            entry = self._methods.get(method.lower())
            if entry is None:
                raise ApiError(404, "Not Found")
            method, handler = entry
            params = await read_params(request)
            self._raise_injected_failure(method)
            result = await handler(params)
            params = without_file_contents(params)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.status, exc.payload()
            params = without_file_contents(params)
        except Exception:
            logger.exception("Fake Bot API failed handling %s", method)
            status = 500
            body = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        if status == 429:
            with self._lock:
                self.rate_limited_count += 1
        if match is not None and match.group(1) == self.token:
            # Requests with a wrong token are answered but not recorded: they aren't the bot's.
            self._record(
                RecordedCall(method, params, status, body, request.method, received, received_mono)
            )
        logger.debug("%s %s -> %s", request.method, method or "?", status)
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """Serve a file by getFile's file_path, as Telegram's file server does."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        content = self.file_content(request.match_info["path"])
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="application/octet-stream")

    def _record(self, call: RecordedCall) -> None:
        with self._lock:
            self.calls.append(call)
        self._waiters.notify_all()
