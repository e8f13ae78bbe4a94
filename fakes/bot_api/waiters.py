"""Wake coroutines that wait for the fake's state to change, whichever event loop they run on."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable


class Waiters:
    """Let coroutines wait for state changes, possibly on other event loops and threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` holds (re-checked on every notify) or the timeout ends."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout
        while True:
            future: asyncio.Future[None] = loop.create_future()
            item = (loop, future)
            # Register before checking so a notify between the check and the await isn't lost.
            with self._lock:
                self._items.add(item)
            try:
                if predicate():
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(future, remaining)
            finally:
                with self._lock:
                    self._items.discard(item)

    def notify_all(self) -> None:
        """Wake every waiter; safe to call from any thread."""
        with self._lock:
            items = list(self._items)
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, future in items:
            if loop is current:
                _resolve(future)
            elif not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
