"""The bot's Prometheus metrics: counted where things happen, the store's state read at scrape.

One registry per Application, not prometheus-client's global one: tests and benchmarks run
several bots in one process, and each instance's /metrics must say only what it did. The
registry lives in the handlers layer because that is where updates, sends and crawl reports
meet; news/ reports counts in its return values (CrawlReport) and imports no metrics library,
storage/ is read at scrape time, and bot/ only serves the text.
"""

from __future__ import annotations

import collections
import functools
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from telegram import Update
from telegram.ext import BaseRateLimiter

from handlers.texts import COMMANDS
from news.models import CrawlReport, SourceRun
from storage.ledger import OPEN_STATUSES, Ledger

if TYPE_CHECKING:
    from handlers.delivery import TickReport

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Replies take about a millisecond, searches tens, charts a few hundred; a slow store seconds.
HANDLER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Bot API methods that put a message in a chat: what "sends" counts.
SEND_PREFIXES = ("send", "copyMessage", "forwardMessage")

R = TypeVar("R")


def _version() -> str:
    try:
        return metadata.version("newsbot")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


@dataclass
class LedgerTally:
    """The ledger's rows by state, kept up to date without counting a year of rows each scrape.

    Settled rows (sent, failed, skipped) never change state again. The first read counts them
    all once (the status index); later reads add the settled rows below the oldest open row
    by id range and count the few rows above it afresh, and the open rows exactly. Past the
    first read the mark also stays below the newest id of the read before, so a row whose
    insert had not committed yet (PostgreSQL hands out ids before commit) is not passed over.
    """

    mark: int = -1  # every settled row with an id up to here is in `settled`; -1: no read yet
    settled: collections.Counter[str] = field(default_factory=collections.Counter)
    last_newest: int = 0

    async def read(self, ledger: Ledger) -> dict[str, int]:
        """Return the ledger's rows by state, reading only what changed since the last read."""
        open_counts, oldest, newest = await ledger.open_delivery_counts()
        stable = newest if oldest is None else oldest - 1
        if self.mark < 0:
            everything = await ledger.delivery_counts()
            above = await ledger.settled_delivery_counts(stable, newest)
            settled = collections.Counter(
                {s: n for s, n in everything.items() if s not in OPEN_STATUSES}
            )
            settled.subtract(above)
            self.settled, self.mark = +settled, stable
        elif (stable := min(stable, self.last_newest)) > self.mark:
            self.settled.update(await ledger.settled_delivery_counts(self.mark, stable))
            self.mark = stable
        self.last_newest = newest
        recent = await ledger.settled_delivery_counts(self.mark, newest)
        counts = self.settled + collections.Counter(recent)
        counts.update(open_counts)
        return dict(counts)


class Metrics:
    """Every metric one bot instance exports, in a registry of its own."""

    def __init__(self) -> None:
        registry = self.registry = CollectorRegistry(auto_describe=True)
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            registry.register(collector)
        info = Gauge("newsbot_build_info", "The running newsbot", ["version"], registry=registry)
        info.labels(_version()).set(1)
        self.updates = Counter(
            "newsbot_updates",
            "Updates received, by command (or button action, inline query, other)",
            ["command"],
            registry=registry,
        )
        self.handler_seconds = Histogram(
            "newsbot_handler_seconds",
            "Time a handler took to answer, by handler (its callback's name)",
            ["handler"],
            buckets=HANDLER_BUCKETS,
            registry=registry,
        )
        self.handler_errors = Counter(
            "newsbot_handler_errors",
            "Handlers that raised (the user got the apology), by handler",
            ["handler"],
            registry=registry,
        )
        self.source_fetches = Counter(
            "newsbot_source_fetches",
            "Pages asked of a source's site (lists, articles, continuation pages)",
            ["source"],
            registry=registry,
        )
        self.source_errors = Counter(
            "newsbot_source_errors",
            "Errors while crawling a source (pages that failed, lists without links)",
            ["source"],
            registry=registry,
        )
        self.source_new_articles = Counter(
            "newsbot_source_new_articles",
            "Articles a source's crawls stored that were not known before",
            ["source"],
            registry=registry,
        )
        self.source_runs = Counter(
            "newsbot_source_runs",
            "Crawl runs of a source by this instance, by outcome (ok, failed)",
            ["source", "outcome"],
            registry=registry,
        )
        self.source_last_success = Gauge(
            "newsbot_source_last_success_timestamp_seconds",
            "When a source's crawl last succeeded (any instance), Unix time",
            ["source"],
            registry=registry,
        )
        self.source_failures_in_row = Gauge(
            "newsbot_source_consecutive_failures",
            "Failed crawl runs of a source since its last success",
            ["source"],
            registry=registry,
        )
        self.backfill_progress = Gauge(
            "newsbot_backfill_progress_ratio",
            "How far a source's backfill of its archive has come, 0 to 1",
            ["source"],
            registry=registry,
        )
        self.deliveries = Gauge(
            "newsbot_deliveries",
            "Rows of the delivery ledger (digests, alerts) by state, all instances",
            ["state"],
            registry=registry,
        )
        self.delivery_outcomes = Counter(
            "newsbot_delivery_outcomes",
            "Delivery units this instance finished, by outcome (sent, empty, retry, failed, "
            "skipped)",
            ["outcome"],
            registry=registry,
        )
        self.sends = Counter(
            "newsbot_telegram_sends",
            "Messages Telegram accepted from this instance, by Bot API method",
            ["method"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "newsbot_telegram_rate_limited",
            "429 Too Many Requests answers from Telegram, by Bot API method",
            ["method"],
            registry=registry,
        )
        self.retries = Counter(
            "newsbot_telegram_retries",
            "Bot API calls made again after a 429 (the rate limiter's retries), by method",
            ["method"],
            registry=registry,
        )
        self.telegram_failures = Counter(
            "newsbot_telegram_unreachable",
            "Bot API calls that did not reach Telegram (refused, timed out, 5xx)",
            registry=registry,
        )
        self.telegram_up = Gauge(
            "newsbot_telegram_up",
            "1 when the last Bot API call reached Telegram",
            registry=registry,
        )
        self.sender_lease = Gauge(
            "newsbot_sender_lease_holder",
            "1 for the instance (host:pid:tag) holding the sender lease; none while nobody does",
            ["holder"],
            registry=registry,
        )
        self.sender_lease_mine = Gauge(
            "newsbot_sender_lease_held",
            "1 when this instance holds the sender lease",
            registry=registry,
        )
        self.ledger_tally = LedgerTally()
        self.healthy = Gauge(
            "newsbot_healthy",
            "1 when the last health check passed (what /healthz answers 200 for)",
            registry=registry,
        )

    # --- what happens, counted where it happens ----------------------------------------

    def count_update(self, update: object) -> None:
        """Count an update under its command or kind."""
        self.updates.labels(update_kind(update)).inc()

    def record_crawl(self, report: CrawlReport) -> None:
        """Count one crawl run of a source from its report."""
        source = report.source
        self.source_fetches.labels(source).inc(report.fetches)
        self.source_errors.labels(source).inc(len(report.errors))
        self.source_new_articles.labels(source).inc(report.new)
        self.source_runs.labels(source, "failed" if report.run_failed else "ok").inc()

    def record_crawl_crash(self, source: str) -> None:
        """Count a crawl run that ended in an exception (a bug or the store)."""
        self.source_errors.labels(source).inc()
        self.source_runs.labels(source, "failed").inc()

    def record_tick(self, report: TickReport) -> None:
        """Count what one delivery tick finished, by outcome."""
        for outcome in ("sent", "empty", "retry", "failed", "skipped"):
            count = getattr(report, outcome)
            if count:
                self.delivery_outcomes.labels(outcome).inc(count)

    def record_answer(self, method: str, code: int) -> None:
        """Count one Bot API answer: a send, a 429."""
        if code == 429:
            self.rate_limited.labels(method).inc()
        elif code == 200 and method.startswith(SEND_PREFIXES):
            self.sends.labels(method).inc()

    # --- the state the store keeps, read at scrape time --------------------------------

    def set_sources(self, runs: list[SourceRun], configured: set[str]) -> None:
        """Export each configured source's last success and failures in a row."""
        for run in runs:
            if run.name not in configured:
                continue
            if run.last_success_at is not None:
                self.source_last_success.labels(run.name).set(run.last_success_at.timestamp())
            self.source_failures_in_row.labels(run.name).set(run.consecutive_failures)

    def set_deliveries(self, counts: Mapping[str, int]) -> None:
        """Export the ledger's rows by state (states with no rows show 0)."""
        for state in {*DELIVERY_STATES, *counts}:
            self.deliveries.labels(state).set(counts.get(state, 0))

    def set_sender(self, holder: str | None, me: str) -> None:
        """Export who holds the sender lease now."""
        self.sender_lease.clear()
        if holder is not None:
            self.sender_lease.labels(holder).set(1)
        self.sender_lease_mine.set(1 if holder == me else 0)

    def set_backfill(self, progress: Mapping[str, float]) -> None:
        """Export each source's backfill progress (0 to 1)."""
        for source, ratio in progress.items():
            self.backfill_progress.labels(source).set(ratio)

    def render(self) -> bytes:
        """Return the registry in Prometheus's text format."""
        return generate_latest(self.registry)


# The ledger's states (storage/ledger.py): shown even while empty, so a graph starts at zero.
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "skipped")


def update_kind(update: object) -> str:
    """Name an update for the updates counter: its command, button action or kind."""
    if not isinstance(update, Update):
        return "other"
    if update.inline_query is not None:
        return "inline_query"
    if update.chosen_inline_result is not None:
        return "inline_chosen"
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        action = data.split(":", 1)[0]
        return f"button:{action}" if action.isidentifier() and len(action) <= 16 else "button"
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/"):
        word = message.text[1:].split(maxsplit=1)[0] if len(message.text) > 1 else ""
        command = word.split("@", 1)[0].lower()
        return command if command in KNOWN_COMMANDS else "unknown_command"
    if message is not None:
        return "message"
    return "other"


# Only the bot's own commands get a label of their own: a typo'd command must not add one.
KNOWN_COMMANDS = frozenset(c.name for c in COMMANDS)


def timed(
    callback: Callable[[Any, Any], Coroutine[Any, Any, R]],
) -> Callable[[Any, Any], Coroutine[Any, Any, R]]:
    """Wrap a handler callback so its time (and whether it raised) is recorded by its name."""
    name = getattr(callback, "__name__", "handler")

    @functools.wraps(callback)
    async def run(update: Any, context: Any) -> R:
        metrics: Metrics = context.bot_data.metrics
        start = time.perf_counter()
        try:
            return await callback(update, context)
        except Exception:
            metrics.handler_errors.labels(name).inc()
            raise
        finally:
            metrics.handler_seconds.labels(name).observe(time.perf_counter() - start)

    return run


class CountingRateLimiter(BaseRateLimiter[int]):
    """Another rate limiter with the calls it makes again after a 429 counted as retries."""

    def __init__(self, inner: BaseRateLimiter[Any], metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics

    async def initialize(self) -> None:
        """Initialise the wrapped limiter."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Shut the wrapped limiter down."""
        await self.inner.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Pass the call to the wrapped limiter, counting each call after the first."""
        calls = 0

        async def counted(*a: Any, **k: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls > 1:
                self.metrics.retries.labels(endpoint).inc()
            return await callback(*a, **k)

        return await self.inner.process_request(
            counted, args, kwargs, endpoint, data, rate_limit_args
        )
