"""A fake news site on 127.0.0.1 for tests and demos: files, in-memory pages and injected faults.

Run it by hand with `python -m fakes.news_site --root DIR --port P`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import signal
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from types import TracebackType

from aiohttp import web

from fakes import SITE

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
HUGE_PAGE_BYTES = 20 * 1024 * 1024
_CHUNK = 64 * 1024
_TEXT_TYPES = (
    "application/xhtml+xml",
    "application/xml",
    "application/json",
    "application/rss+xml",
)


@dataclass(frozen=True, slots=True)
class Fault:
    """How one path misbehaves; set fields combine, and `fail_first` limits them to K requests."""

    status: int | None = None  # answer with this status instead of the page
    retry_after: str | None = None  # Retry-After header sent along with `status`
    fail_first: int | None = None  # misbehave on the first K requests only, then serve normally
    delay: float = 0.0  # seconds to wait before answering (for client timeouts)
    reset_mid_body: bool = False  # send headers and half the body, then reset the connection
    truncate: bool = False  # declare a Content-Length larger than what is sent, then close
    huge_body: int = 0  # stream a generated page of this many bytes instead of the real one
    huge_content_length: bool = True  # declare the huge page's Content-Length (else chunked)
    redirect_to: str | None = None  # 302 to this path or URL
    redirect_loop: bool = False  # 302 back to the very same path
    content_type: str | None = None  # Content-Type sent verbatim (a wrong or missing charset)


@dataclass(frozen=True, slots=True)
class _Page:
    content: bytes
    content_type: str
    last_modified: float


class FakeNewsSite:
    """Serve a directory (and in-memory pages) on a random loopback port, with faults on demand."""

    def __init__(self, root: Path, *, port: int = 0, default_charset: str | None = "utf-8") -> None:
        self.root = Path(root)
        self._port = port
        self._default_charset = default_charset
        self._charsets: dict[str, str | None] = {}
        self._pages: dict[str, _Page] = {}
        self._faults: dict[str, Fault] = {}
        self._hits: Counter[str] = Counter()
        self._headers: dict[str, dict[str, str]] = {}
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._base_url: str | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    @property
    def base_url(self) -> str:
        """Return http://127.0.0.1:PORT of the running site."""
        if self._base_url is None:
            raise RuntimeError("FakeNewsSite is not started")
        return self._base_url

    def url(self, path: str) -> str:
        """Return the absolute URL of path on this site."""
        return self.base_url + _norm(path)

    async def start(self) -> None:
        """Start serving on 127.0.0.1."""
        if self._runner is not None:
            raise RuntimeError("FakeNewsSite already started")
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        # handler_cancellation: a handler stuck in a delay ends when its client gives up.
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, HOST, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        self._base_url = f"http://{HOST}:{port}"
        logger.debug("fake news site serving %s on %s", self.root, self._base_url)

    async def stop(self) -> None:
        """Stop serving and close every connection."""
        if self._stopping is not None:
            self._stopping.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._base_url = None

    async def __aenter__(self) -> FakeNewsSite:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def run_in_thread(self) -> str:
        """Serve from a daemon thread with its own event loop; return the base URL once ready."""
        if self._thread is not None:
            raise RuntimeError("FakeNewsSite already runs in a thread")
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def main() -> None:
            asyncio.set_event_loop(loop)
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

        thread = threading.Thread(target=main, name="fake-news-site", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            raise failure[0]
        self._thread, self._thread_loop = thread, loop
        return self.base_url

    def stop_thread(self, timeout: float = 5.0) -> None:
        """Stop a site started with run_in_thread() and wait for its thread."""
        thread, loop = self._thread, self._thread_loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = self._thread_loop = None

    def set_fault(self, path: str, fault: Fault) -> None:
        """Make path misbehave as described by fault (replacing any earlier fault)."""
        self._faults[_norm(path)] = fault

    def clear_faults(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    def set_charset(self, path: str, charset: str | None) -> None:
        """Declare this charset (None: no charset at all) in the Content-Type of a file."""
        self._charsets[_norm(path)] = charset

    def add_page(
        self, path: str, content: bytes, content_type: str = "text/html; charset=utf-8"
    ) -> None:
        """Serve content at path from memory, with this exact Content-Type."""
        self._pages[_norm(path)] = _Page(content, content_type, time.time())

    def hits(self, path: str) -> int:
        """Return how many requests reached path (faulty ones included)."""
        return self._hits[_norm(path)]

    def last_request_headers(self, path: str) -> dict[str, str]:
        """Return the headers of the latest request for path (empty if none)."""
        return dict(self._headers.get(_norm(path), {}))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self._hits[path] += 1
        self._headers[path] = dict(request.headers)
        fault = self._faults.get(path)
        if (
            fault is not None
            and fault.fail_first is not None
            and self._hits[path] > fault.fail_first
        ):
            fault = None
        if fault is None:
            return self._serve(request, self._lookup(path))
        if fault.delay > 0:
            await self._pause(fault.delay)
        if fault.redirect_loop:
            raise web.HTTPFound(location=request.path_qs)
        if fault.redirect_to is not None:
            raise web.HTTPFound(location=fault.redirect_to)
        if fault.status is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return web.Response(
                status=fault.status, text=f"fault {fault.status}\n", headers=headers
            )
        if fault.huge_body:
            return await self._send_huge(request, fault)
        page = self._lookup(path)
        if page is None:
            raise web.HTTPNotFound()
        if fault.content_type is not None:
            page = _Page(page.content, fault.content_type, page.last_modified)
        if fault.reset_mid_body or fault.truncate:
            return await self._send_broken(request, page, reset=fault.reset_mid_body)
        return self._serve(request, page)

    def _lookup(self, path: str) -> _Page | None:
        page = self._pages.get(path)
        if page is not None:
            return page
        root = self.root.resolve()
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root):
            return None
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return None
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        charset = self._charsets.get(path, self._default_charset)
        if charset and (content_type.startswith("text/") or content_type in _TEXT_TYPES):
            content_type = f"{content_type}; charset={charset}"
        return _Page(target.read_bytes(), content_type, target.stat().st_mtime)

    def _serve(self, request: web.Request, page: _Page | None) -> web.StreamResponse:
        if page is None:
            raise web.HTTPNotFound()
        etag = '"' + hashlib.sha1(page.content).hexdigest()[:20] + '"'
        headers = {
            "Content-Type": page.content_type,
            "ETag": etag,
            "Last-Modified": formatdate(page.last_modified, usegmt=True),
        }
        if _not_modified(request, etag, page.last_modified):
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=page.content, headers=headers)

    async def _pause(self, delay: float) -> None:
        assert self._stopping is not None
        # Waiting on the stop event lets stop() end promptly instead of after the delay.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    async def _send_broken(
        self, request: web.Request, page: _Page, *, reset: bool
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": page.content_type})
        sent = page.content[: len(page.content) // 2] if reset else page.content
        response.content_length = len(page.content) if reset else len(page.content) + 4096
        await response.prepare(request)
        await response.write(sent)
        # Give the client time to read the headers and the partial body before the cut.
        await asyncio.sleep(0.05)
        transport = request.transport
        if transport is not None:
            if reset:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    # SO_LINGER 0 turns close into an RST: a genuine "connection reset by peer".
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
            else:
                transport.close()
        return response

    async def _send_huge(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
        if fault.huge_content_length:
            response.content_length = fault.huge_body
        await response.prepare(request)
        filler = ("<p>东北新闻网 测试段落 filler paragraph.</p>\n".encode() * 2000)[:_CHUNK]
        remaining = fault.huge_body
        # Generated chunk by chunk so the fake itself never holds 20 MB either.
        with contextlib.suppress(ConnectionError):
            while remaining > 0:
                chunk = filler[: min(remaining, len(filler))]
                await response.write(chunk)
                remaining -= len(chunk)
            await response.write_eof()
        return response


def _norm(path: str) -> str:
    return path if path.startswith("/") else "/" + path


def _not_modified(request: web.Request, etag: str, last_modified: float) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip() for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags or f"W/{etag}" in tags
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since is not None:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
        return int(last_modified) <= since
    return False


async def _serve_forever(root: Path, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Handled here, not as KeyboardInterrupt: a process started in the background by a
    # non-interactive shell inherits SIGINT ignored, and Python then never raises it.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with FakeNewsSite(root, port=port) as site:
        print(
            f"fake news site: {site.base_url}/ serving {root.resolve()} (Ctrl-C to stop)",
            flush=True,
        )
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Serve a directory as a fake news site until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=SITE)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    asyncio.run(_serve_forever(args.root, args.port))


if __name__ == "__main__":
    main()
