"""The per-user token bucket, the per-chat schedules and the pacer's answers to a 429."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from handlers.limits import TokenBuckets, UserLimits
from handlers.pacing import LocalBudget, Pacer, Schedule


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_lets_a_burst_through_then_one_per_refill() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=20 / 60, burst=10, clock=clock)
    assert [buckets.take(7) for _ in range(11)] == [True] * 10 + [False]
    assert buckets.take(8)  # another user has a bucket of their own
    clock.now += 2.9
    assert not buckets.take(7)  # a refused request takes nothing, refills nothing
    clock.now += 0.2  # 3.1 s: one token
    assert buckets.take(7) and not buckets.take(7)
    clock.now += 3600
    assert sum(buckets.take(7) for _ in range(20)) == 10  # never more than the burst


def test_a_user_over_the_limit_is_told_once_a_minute() -> None:
    clock = Clock()
    limits = UserLimits(per_minute=20, burst=2, clock=clock)
    assert limits.allow(1) and limits.allow(1) and not limits.allow(1)
    assert limits.should_tell(1) and not limits.should_tell(1)
    clock.now += 59
    assert not limits.should_tell(1)
    clock.now += 1
    assert limits.should_tell(1)
    assert limits.refused == 1
    assert all(UserLimits(per_minute=0, clock=clock).allow(1) for _ in range(100))


def test_a_schedule_spaces_sends_after_its_burst_and_a_push_back_delays_that_key() -> None:
    clock = Clock()
    schedule = Schedule(interval=1.0, burst=3, clock=clock)
    assert [schedule.book(5) for _ in range(5)] == [0.0, 0.0, 0.0, 1.0, 2.0]
    assert schedule.book(6) == 0.0
    schedule.push_back(6, 7)
    assert schedule.book(6) == pytest.approx(7.0)
    assert schedule.book(9) == 0.0  # other chats are not held up


class Flaky:
    """A Bot API call refused `refusals` times with a RetryAfter, then answered."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.refusals:
            raise RetryAfter(timedelta(seconds=0))
        return {"ok": True}


async def test_the_pacer_retries_a_429_until_it_goes_through_and_counts_it() -> None:
    pacer = Pacer(LocalBudget(rate=1000), private_interval=0.001, max_retries=5)
    call = Flaky(refusals=3)
    result = await pacer.process_request(call, (), {}, "sendMessage", {"chat_id": 5}, None)
    assert result == {"ok": True} and call.calls == 4
    counters = pacer.counters
    assert (counters.rate_limited, counters.retries, counters.gave_up) == (3, 3, 0)


async def test_the_pacer_gives_up_after_its_retries_and_leaves_unpaced_calls_alone() -> None:
    pacer = Pacer(LocalBudget(rate=1000), private_interval=0.001, max_retries=2)
    with pytest.raises(RetryAfter):
        await pacer.process_request(Flaky(9), (), {}, "sendMessage", {"chat_id": 5}, None)
    assert pacer.counters.gave_up == 1
    # An answer to a button press is no message: it is neither paced nor retried.
    answer = Flaky(1)
    with pytest.raises(RetryAfter):
        await pacer.process_request(answer, (), {}, "answerCallbackQuery", {}, None)
    assert answer.calls == 1


async def test_a_late_event_loop_delays_the_budget_s_sends_but_never_bunches_them() -> None:
    budget = LocalBudget(rate=20)  # 50 ms apart
    went: list[float] = []

    async def send() -> None:
        await budget.acquire()
        went.append(time.monotonic())

    tasks = [asyncio.create_task(send()) for _ in range(12)]
    await asyncio.sleep(0)
    time.sleep(0.5)  # the loop is held up: ten slots' worth of time passes
    await asyncio.gather(*tasks)
    # A schedule would now release the ten missed slots at once; the budget lets at most three
    # go together (the late one and one slot caught up on each side), then 50 ms apart again.
    bunched = [b - a < 0.04 for a, b in itertools.pairwise(went)]
    assert sum(bunched) <= 4, bunched
    assert not any(
        x and y and z for x, y, z in zip(bunched, bunched[1:], bunched[2:], strict=False)
    )
