"""What /healthz and /metrics answer: the store, Telegram and the crawl, checked and exported."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.context import BotData
from handlers.delivery import SENDER_LEASE
from news.models import SourceRun
from storage import Store

logger = logging.getLogger(__name__)

# The store must answer within this long, or the check fails (a locked or unreachable database).
STORE_TIMEOUT = 2.0
# Telegram out of reach for longer than this is unhealthy (a blip of a few retries is not).
TELEGRAM_DOWN_GRACE = 60.0
# Long polling gets an answer at least every poll (10 s); none for this long is a stuck poller.
POLL_SILENCE = 120.0
# A source is late when its last success is older than this many of its intervals.
LATE_INTERVALS = 3


@dataclass
class Health:
    """The outcome of one health check: ok, or the reasons it is not."""

    reasons: list[str] = field(default_factory=list)
    sources: int = 0

    @property
    def ok(self) -> bool:
        """Return whether nothing is wrong."""
        return not self.reasons

    def as_json(self) -> dict[str, Any]:
        """Return the check as /healthz's JSON body."""
        if self.ok:
            return {"ok": True, "store": "answering", "sources": self.sources}
        return {"ok": False, "reason": "; ".join(self.reasons), "reasons": self.reasons}


async def check_health(bot_data: BotData, now: datetime | None = None) -> Health:
    """Check the store answers, Telegram answered lately, and no source is three intervals late."""
    now = now or datetime.now(UTC)
    health = Health()
    runs = await _source_runs(bot_data, health)
    _check_telegram(bot_data, health)
    if runs is not None:
        _check_sources(bot_data, runs, now, health)
    bot_data.metrics.healthy.set(1 if health.ok else 0)
    return health


async def _source_runs(bot_data: BotData, health: Health) -> list[SourceRun] | None:
    store = bot_data._store
    if store is None:
        health.reasons.append("store: not open")
        return None
    try:
        return await asyncio.wait_for(store.source_runs(), STORE_TIMEOUT)
    except TimeoutError:
        health.reasons.append(f"store: no answer within {STORE_TIMEOUT:g} s")
    except Exception as exc:  # any failure of the store is "unhealthy", never a 500
        logger.warning("healthz: the store does not answer: %s", exc)
        health.reasons.append(f"store: not answering ({type(exc).__name__})")
    return None


def _check_telegram(bot_data: BotData, health: Health) -> None:
    link = bot_data.link
    down = link.down_for()
    if down > TELEGRAM_DOWN_GRACE:
        health.reasons.append(f"telegram: unreachable for {down:.0f} s ({link.cause})")
        return
    if link.in_conflict:
        health.reasons.append(
            "telegram: getUpdates answered 409 Conflict (another process polls with this "
            "token, or a webhook is set)"
        )
        return
    age = link.answer_age()
    if bot_data.polling and age is not None and age > POLL_SILENCE:
        health.reasons.append(f"telegram: no answer to polling for {age:.0f} s")


def _check_sources(bot_data: BotData, runs: list[SourceRun], now: datetime, health: Health) -> None:
    by_name = {run.name: run for run in runs}
    health.sources = len(bot_data.sources)
    for source in bot_data.sources:
        run = by_name.get(source.name)
        last = run.last_success_at if run is not None else None
        # A source is given three intervals from start before it counts as late: a bot that
        # was stopped for a day is not unhealthy in the minute it takes to crawl again.
        since = max(last, bot_data.started_at) if last is not None else bot_data.started_at
        allowed = timedelta(minutes=LATE_INTERVALS * source.interval_minutes)
        if now - since <= allowed:
            continue
        when = last.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if last else "never"
        health.reasons.append(
            f"source {source.name}: no successful crawl for {_duration(now - since)} "
            f"(last {when}; allowed {LATE_INTERVALS} × {source.interval_minutes:g} min)"
        )


def _duration(span: timedelta) -> str:
    """Return a span as an operator reads it: seconds, minutes or hours."""
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


async def backfill_progress(store: Store) -> Mapping[str, float]:
    """Return how far each source's backfill has come (0 to 1), by days of its range covered."""
    return {cursor.source: cursor.share() for cursor in await store.backfill_progress()}


async def scrape(bot_data: BotData) -> bytes:
    """Read what the store knows into the gauges, then return every metric as text."""
    metrics = bot_data.metrics
    store = bot_data._store
    if store is not None:
        # A store that does not answer leaves the last values; /healthz says why.
        try:
            async with asyncio.timeout(STORE_TIMEOUT):
                runs = await store.source_runs()
                metrics.set_sources(runs, {s.name for s in bot_data.sources})
                metrics.set_deliveries(await metrics.ledger_tally.read(store.ledger))
                metrics.set_sender(await store.leases.holder(SENDER_LEASE), bot_data.instance)
                metrics.set_backfill(await backfill_progress(store))
        except Exception as exc:
            logger.warning("metrics: the store does not answer: %s", exc)
    metrics.telegram_up.set(0 if bot_data.link.down_since is not None else 1)
    await check_health(bot_data)
    return metrics.render()
