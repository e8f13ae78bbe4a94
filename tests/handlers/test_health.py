"""What /healthz checks, on a real store: each reason alone, and the grace a fresh start gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.context import BotData
from handlers.health import check_health
from handlers.link import TelegramLink
from news.models import SourceConfig
from storage import Store

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SOURCE = SourceConfig(
    name="nen-guonei", title="国内", profile="nen", lists=("http://x/",), interval_minutes=15
)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def bot_data(store: Store, clock: Clock, *, polling: bool = True) -> BotData:
    data = BotData(sources=(SOURCE,), link=TelegramLink(clock=clock), polling=polling)
    data.store = store
    data.started_at = NOW - timedelta(hours=2)
    return data


async def reasons(data: BotData) -> list[str]:
    return (await check_health(data, now=NOW)).reasons


async def test_a_source_is_late_after_three_of_its_intervals(store: Store) -> None:
    clock = Clock()
    data = bot_data(store, clock)
    data.link.reached("getUpdates")
    await store.upsert_source(SOURCE.name, SOURCE.title, SOURCE.profile)
    await store.record_source_success(SOURCE.name, at=NOW - timedelta(minutes=44))
    assert await reasons(data) == []
    await store.record_source_success(SOURCE.name, at=NOW - timedelta(minutes=46))
    assert await reasons(data) == [
        "source nen-guonei: no successful crawl for 46 min "
        "(last 2026-12-07 11:14 UTC; allowed 3 × 15 min)"
    ]
    # A process started 10 minutes ago gives the source three intervals from its start.
    data.started_at = NOW - timedelta(minutes=10)
    assert await reasons(data) == []
    # Never crawled, and started long ago: late, "last never".
    await store.record_source_success(SOURCE.name, at=NOW - timedelta(minutes=5))
    data.started_at = NOW - timedelta(hours=3)
    data.sources = (SOURCE, SourceConfig(name="new", title="新", profile="nen", lists=()))
    [late] = await reasons(data)
    assert late.startswith("source new: no successful crawl for 3 h 0 min (last never;")


async def test_telegram_down_past_the_grace_a_conflict_or_a_silent_poll(store: Store) -> None:
    clock = Clock()
    data = bot_data(store, clock)
    data.sources = ()
    data.link.reached("getUpdates")
    data.link.failed("ConnectError: refused")
    clock.now += 30  # a blip: still healthy
    assert await reasons(data) == []
    clock.now += 45
    assert await reasons(data) == ["telegram: unreachable for 75 s (ConnectError: refused)"]
    data.link.reached("getUpdates")
    data.link.in_conflict = True
    [conflict] = await reasons(data)
    assert conflict.startswith("telegram: getUpdates answered 409 Conflict")
    data.link.in_conflict = False
    clock.now += 200  # no answer to long polling for 200 s: the poller is stuck
    assert await reasons(data) == ["telegram: no answer to polling for 200 s"]
    # In webhook mode the bot may have had nothing to send for hours: not a fault.
    data.polling = False
    assert await reasons(data) == []


async def test_every_reason_is_given_at_once(store: Store) -> None:
    clock = Clock()
    data = bot_data(store, clock)
    data.link.failed("TimedOut")
    clock.now += 61
    health = await check_health(data, now=NOW)
    assert [r.split(":")[0] for r in health.reasons] == ["telegram", "source nen-guonei"]
    assert health.as_json()["reason"] == "; ".join(health.reasons)
    await store.close()
    assert (await check_health(data, now=NOW)).reasons[0].startswith("store: not answering")
