"""Pace sends to Telegram's limits: per chat, and over the whole bot, shared by every instance.

Telegram allows a bot about 30 messages a second in all, about one a second in one private
chat and 20 a minute in one group. PTB's AIORateLimiter paces the first and the last, but not
a private chat, and on a 429 it stops every send of the bot while one chat waits, then gives
up after its retries. Here each chat has a schedule of its own (a flood in one chat delays that
chat only), a 429 pushes back only the chat it came from and is retried until it goes through,
and the overall budget is either this process's (SQLite: one bot per file) or a row in the
shared database that every instance books its sends from (PostgreSQL).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from storage import Store

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]

# Telegram allows about 30 messages a second overall, counted over any one second: spacing
# them evenly at 28 a second leaves room for network jitter before any window sees 30.
OVERALL_RATE = 28.0
# One private chat: about one a second, with a short burst (a reply of three parts at once).
PRIVATE_INTERVAL = 1.05
PRIVATE_BURST = 3
# One group: 20 a minute, counted over any minute; evenly spaced, no burst.
GROUP_INTERVAL = 60 / 19.5
# A 429 is retried (after the wait it names) this many times before the send fails.
MAX_RETRIES = 8
# Only these calls make a message (or change one) in a chat; reading calls (getChatMember)
# and answers to queries (answerCallbackQuery, answerInlineQuery) are not paced. Edits (a
# page turned in place) count against the bot's budget but not a chat's: Telegram's
# one-a-second is about new messages.
PACED_PREFIXES = ("send", "edit", "copy", "forward")
CHAT_PACED_PREFIXES = ("send", "copy", "forward")
# The name of the overall budget's row in the shared database.
BUDGET_NAME = "telegram"


@dataclass
class SendCounters:
    """What the pacer did since start: the numbers an operator graphs (one place to export)."""

    sends: int = 0  # paced calls made (each retry counts again)
    rate_limited: int = 0  # 429 answers from Telegram
    retries: int = 0  # calls made again after a 429
    gave_up: int = 0  # calls that still met a 429 after MAX_RETRIES
    waited_seconds: float = 0.0  # total time sends waited for their slot
    shared_budget_errors: int = 0  # bookings the shared database could not take


class Schedule:
    """A GCRA schedule: when each key may send next, `interval` apart, `burst` at once."""

    def __init__(
        self, interval: float, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.tolerance = interval * (burst - 1)
        self._clock = clock
        self._next: dict[int | str, float] = {}

    def book(self, key: int | str, cost: float = 1.0) -> float:
        """Book the key's next slot; return how many seconds to wait before using it."""
        now = self._clock()
        start = max(self._next.get(key, now), now)
        self._next[key] = start + self.interval * cost
        if len(self._next) > 4096:
            self._forget_idle(now)
        return max(0.0, start - self.tolerance - now)

    def push_back(self, key: int | str, seconds: float) -> None:
        """Keep the key from sending for `seconds` (Telegram said to wait)."""
        now = self._clock()
        self._next[key] = max(self._next.get(key, now), now + seconds + self.tolerance)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, at in self._next.items() if at < now]:
            del self._next[key]


class Budget(Protocol):
    """The bot's overall send budget: waits until one more send may go."""

    async def acquire(self) -> None:
        """Return when the next send may go out (counting it)."""
        ...


class LocalBudget:
    """The overall budget of one process: one send every 1/rate s, on a schedule.

    Waiters take turns on the schedule. Slots missed by a late event loop are caught up by one
    at most (three sends then go together), never released in a bunch, which Telegram would
    count in one second; small delays on waking cost no throughput.
    """

    def __init__(
        self, rate: float = OVERALL_RATE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = 1 / rate
        self._clock = clock
        self._next = 0.0
        self._turn = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for this process's next slot."""
        async with self._turn:
            now = self._clock()
            # Slots missed while nobody sent (or the loop was late) are not sent in a burst.
            self._next = max(self._next, now - self.interval)
            wait = self._next - now
            if wait > 0:
                await asyncio.sleep(wait)
            self._next += self.interval


class SharedBudget:
    """The overall budget booked in the shared database: every instance sends within it.

    A send books the next free slot of one row (one UPDATE … RETURNING, atomic on either
    backend), so three instances together send at the rate one would alone, whichever of
    them has the most to send; this process's own spacing then keeps a late event loop from
    releasing its sends in a bunch. If the database cannot take the booking, the send paces
    itself on this process's spacing alone, said once in the log.
    """

    def __init__(
        self,
        store: Store,
        rate: float = OVERALL_RATE,
        counters: SendCounters | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.interval = 1 / rate
        self.counters = counters or SendCounters()
        self._clock = clock  # wall clock: every instance books on the same time line
        self._local = LocalBudget(rate)
        self._failing = False

    async def acquire(self) -> None:
        """Book one slot in the shared row and wait for it, then for this process's spacing."""
        now = self._clock()
        try:
            slot = await self.store.send_budget.book(BUDGET_NAME, now, self.interval)
        except Exception as exc:  # the store down or full: pacing must not stop the sends
            self.counters.shared_budget_errors += 1
            if not self._failing:
                self._failing = True
                logger.warning("shared send budget unavailable, pacing alone: %s", exc)
        else:
            if self._failing:
                self._failing = False
                logger.info("shared send budget available again")
            wait = slot - now
            if wait > 0:
                self.counters.waited_seconds += wait
                await asyncio.sleep(wait)
        await self._local.acquire()


class Pacer(BaseRateLimiter[int]):
    """PTB's rate limiter here: per-chat schedules, a shared overall budget, patient 429s."""

    def __init__(
        self,
        budget: Budget | None = None,
        *,
        private_interval: float = PRIVATE_INTERVAL,
        private_burst: int = PRIVATE_BURST,
        group_interval: float = GROUP_INTERVAL,
        max_retries: int = MAX_RETRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget: Budget = budget or LocalBudget(clock=clock)
        self.counters = SendCounters()
        self.max_retries = max_retries
        self._private = Schedule(private_interval, private_burst, clock)
        self._groups = Schedule(group_interval, 1, clock)

    async def initialize(self) -> None:
        """Nothing to open: the shared budget uses the store, opened by post_init."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def _chat_schedule(self, chat_id: int | str) -> Schedule:
        # Negative ids and @usernames are groups and channels; positive ids are private chats.
        if isinstance(chat_id, str) or chat_id < 0:
            return self._groups
        return self._private

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Wait for the chat's slot and the bot's, then call; after a 429, wait and call again."""
        chat_id = _chat_key(data.get("chat_id"))
        if chat_id is None or not endpoint.startswith(PACED_PREFIXES):
            return await callback(*args, **kwargs)
        schedule = self._chat_schedule(chat_id)
        per_chat = endpoint.startswith(CHAT_PACED_PREFIXES)
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            if per_chat:
                await self._wait(schedule.book(chat_id))
            await self.budget.acquire()
            self.counters.sends += 1
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.counters.rate_limited += 1
                wait = exc.retry_after
                seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
                schedule.push_back(chat_id, seconds)
                if attempt == retries:
                    self.counters.gave_up += 1
                    logger.warning(
                        "%s to chat %s refused %d times by flood control; given up",
                        endpoint,
                        chat_id,
                        attempt + 1,
                    )
                    raise
                self.counters.retries += 1
                logger.info("flood control: %s to chat %s waits %.0f s", endpoint, chat_id, seconds)
        raise AssertionError("unreachable")  # the last attempt returned or raised

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.counters.waited_seconds += seconds
            await asyncio.sleep(seconds)


def _chat_key(chat_id: object) -> int | str | None:
    """Return the chat a call is for as an int (a numeric string too), an @name, or None."""
    if chat_id is None:
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        return int(text)
    except ValueError:
        return text
