"""What every benchmark shares: percentiles of timings, waiting on a condition, delivery rates."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence


def percentile(samples: Sequence[float], pct: float) -> float:
    """Return the nearest-rank percentile of the samples (0 for none)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll until predicate() holds or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def delivery_span(times: Sequence[float]) -> tuple[float, float]:
    """Return the seconds from the first message to the last, and the messages per second."""
    ordered = sorted(times)
    seconds = ordered[-1] - ordered[0] if len(ordered) > 1 else 0.0
    return seconds, (len(ordered) - 1) / seconds if seconds else 0.0
