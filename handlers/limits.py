"""Limits per user and per chat: a token bucket over what a user asks, caps on what a chat keeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

# What one user may ask by default: 20 a minute, 10 at once after a quiet spell.
USER_RATE_PER_MINUTE = 20.0
USER_BURST = 10
# Past the limit a user is told once in this many seconds, and otherwise hears nothing.
TOLD_EVERY = 60.0
# What one chat may keep: leaders and words followed, searches remembered for their buttons.
MAX_FOLLOWS = 50
MAX_KEYWORDS = 50
MAX_SAVED_SEARCHES = 200


class TokenBuckets:
    """A token bucket per key: `rate` tokens a second, holding `burst`; full for a new key."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # key -> (tokens, when counted)

    def take(self, key: int) -> bool:
        """Take one token for `key`; False (nothing taken) when its bucket is empty."""
        now = self._clock()
        tokens, then = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > 10_000:
            self._forget_full(now)
        return allowed

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled is the same as no bucket: forget it.
        full_after = self.burst / self.rate
        for key in [k for k, (_, then) in self._buckets.items() if now - then >= full_after]:
            del self._buckets[key]


@dataclass
class UserLimits:
    """The per-user limit of this process: who is over it, and when each was last told."""

    per_minute: float = USER_RATE_PER_MINUTE
    burst: int = USER_BURST
    clock: Callable[[], float] = time.monotonic
    refused: int = 0  # updates dropped since start (for metrics)
    _buckets: TokenBuckets = field(init=False)
    _told: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._buckets = TokenBuckets(self.per_minute / 60.0, self.burst, self.clock)

    @property
    def enabled(self) -> bool:
        """Return whether a limit is set (NEWSBOT_USER_RATE=0 turns it off)."""
        return self.per_minute > 0

    def allow(self, user_id: int) -> bool:
        """Count one request of this user; False when it is over the limit."""
        if not self.enabled or self._buckets.take(user_id):
            return True
        self.refused += 1
        return False

    def should_tell(self, user_id: int) -> bool:
        """Return whether a user over the limit is to be told now (once in TOLD_EVERY s)."""
        now = self.clock()
        last = self._told.get(user_id)
        if last is not None and now - last < TOLD_EVERY:
            return False
        self._told[user_id] = now
        if len(self._told) > 10_000:
            self._told = {k: t for k, t in self._told.items() if now - t < TOLD_EVERY}
        return True
