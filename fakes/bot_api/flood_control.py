"""Telegram's flood control: refuse sends past the per-second, per-group and per-chat limits."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from fakes.bot_api.protocol import ApiError


@dataclass(slots=True)
class RateLimits:
    """Configure flood control; set a field to None to disable that limit."""

    global_rate: float | None = 30.0
    group_per_minute: float | None = 20.0
    private_rate: float | None = 1.0
    private_burst: float = 5.0
    methods: frozenset[str] = frozenset({"sendMessage"})


class FloodControl:
    """Answer 429 to sends over the limits, as Telegram does, and remember the ones let through.

    ``global_rate`` is messages per sliding 1 s window across all chats, ``group_per_minute``
    per chat with a negative id per sliding 60 s window, and private chats get a token bucket
    refilled at ``private_rate``/s holding ``private_burst``.
    """

    def __init__(self, limits: RateLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._global_window: deque[float] = deque()
        self._group_windows: dict[int, deque[float]] = {}
        self._private_buckets: dict[int, tuple[float, float]] = {}

    def check(self, method: str, chat_id: int) -> None:
        """Raise a 429 ApiError if this send is over a limit, else count it."""
        limits = self.limits
        if method not in limits.methods:
            return
        now = self._clock()
        waits: list[float] = []
        with self._lock:
            window = self._global_window
            while window and window[0] <= now - 1.0:
                window.popleft()
            if limits.global_rate is not None and len(window) >= limits.global_rate:
                waits.append(window[0] + 1.0 - now)
            group = self._group_windows.setdefault(chat_id, deque()) if chat_id < 0 else None
            if group is not None:
                while group and group[0] <= now - 60.0:
                    group.popleft()
                if limits.group_per_minute is not None and len(group) >= limits.group_per_minute:
                    waits.append(group[0] + 60.0 - now)
            tokens = None
            if chat_id > 0 and limits.private_rate is not None:
                tokens, last = self._private_buckets.get(chat_id, (limits.private_burst, now))
                tokens = min(limits.private_burst, tokens + (now - last) * limits.private_rate)
                if tokens < 1.0:
                    waits.append((1.0 - tokens) / limits.private_rate)
            if waits:
                retry_after = max(1, math.ceil(max(waits) - 1e-9))
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
            window.append(now)
            if group is not None:
                group.append(now)
            if tokens is not None:
                self._private_buckets[chat_id] = (tokens - 1.0, now)

    def reset(self) -> None:
        """Forget all flood-control history."""
        with self._lock:
            self._global_window.clear()
            self._group_windows.clear()
            self._private_buckets.clear()
