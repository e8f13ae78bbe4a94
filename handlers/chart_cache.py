"""Rendered charts kept for one crawl interval: a repeated /chart or /trend is not redrawn."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

DEFAULT_TTL_SECONDS = 15 * 60
MAX_ENTRIES = 256


@dataclass
class Chart:
    """A chart ready to send: the PNG and its caption, or the sentence saying there is none."""

    caption: str  # HTML; the whole reply when png is None
    png: bytes | None = None
    file_id: str | None = None  # Telegram's id of the photo once sent: resent without upload


class ChartCache:
    """Charts by key, each kept `ttl` seconds (the shortest crawl interval: no new data sooner)."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, Chart]] = OrderedDict()
        self.renders = 0  # how many charts were drawn (tests and the benchmark read it)

    def get(self, key: Hashable) -> Chart | None:
        """Return the chart stored under key if it is still fresh."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: Hashable, chart: Chart) -> None:
        """Store a chart for `ttl` seconds, dropping the least recently used past the cap."""
        self._entries[key] = (self._clock() + self.ttl, chart)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
