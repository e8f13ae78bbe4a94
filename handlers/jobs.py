"""Scheduled jobs run by PTB's JobQueue: ingestion per source, and the delivery tick."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram.ext import Application, JobQueue

from handlers.context import BotData, Context
from handlers.render import esc, shorten
from handlers.texts import text
from news.models import SourceConfig
from storage import StoreUnavailable

logger = logging.getLogger(__name__)

# A source is told to the admins after this many failed runs in a row (and its recovery once).
FAILED_RUNS_TOLD = 3
# Seconds after start before the first crawl: the bot answers first, then fills the store.
FIRST_CRAWL_DELAY = 2.0


async def job_ingest(context: Context) -> None:
    """Crawl one source (the job's data) into the store."""
    job = context.job
    crawler = context.bot_data.crawler
    if job is None or crawler is None or not isinstance(job.data, SourceConfig):
        return
    source = job.data
    troubles = context.bot_data.store_troubles
    metrics = context.bot_data.metrics
    try:
        if not await _hold_crawl_lease(context, source):
            logger.debug("crawl of %s skipped: another instance crawls it", source.name)
            return
        metrics.record_crawl(await crawler.crawl(source))
    except StoreUnavailable as exc:
        metrics.record_crawl_crash(source.name)
        # A full disk is said once per source, not every run; nothing was half-stored, and
        # the next run stores what this one could not.
        if troubles.get(f"crawl {source.name}") is None:
            logger.error("crawl of %s stored nothing: %s", source.name, exc)
        troubles[f"crawl {source.name}"] = str(exc)
        return
    except Exception:
        # One source's bug must not kill its schedule; the next run tries again.
        metrics.record_crawl_crash(source.name)
        logger.exception("crawl of %s failed", source.name)
        await context.bot_data.store.record_source_error(source.name, "internal error, see log")
        await tell_admins_about_source(context, source)
        return
    if troubles.pop(f"crawl {source.name}", None) is not None:
        logger.info("crawl of %s stores again: the database is writable", source.name)
    await tell_admins_about_source(context, source)


async def tell_admins_about_source(context: Context, source: SourceConfig) -> None:
    """Queue a notice to the admins when a source has failed three runs, and when it recovers.

    Each is claimed in the database, so of several instances one tells, and only once.
    """
    admins = sorted(context.bot_data.admins)
    store = context.bot_data.store
    if not admins:
        return
    if await store.claim_source_failure_notice(source.name, FAILED_RUNS_TOLD):
        status = next((s for s in await store.source_statuses() if s.name == source.name), None)
        error = status.last_error if status else ""
        key, values = "source_failing", {"error": esc(shorten(error, 300))}
        logger.warning(
            "source %s failed %d runs in a row: admins told", source.name, FAILED_RUNS_TOLD
        )
    elif await store.claim_source_recovery_notice(source.name):
        key, values = "source_recovered", {}
        logger.info("source %s works again: admins told", source.name)
    else:
        return
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
    for admin in admins:
        chat = await store.get_chat(admin)
        lang = chat.language if chat else "zh"
        html = text(
            lang,
            key,
            title=esc(source.title or source.name),
            name=esc(source.name),
            runs=FAILED_RUNS_TOLD,
            **values,
        )
        await store.ledger.add_notices([admin], f"{key}:{source.name}:{stamp}", html)
    if context.job_queue is not None:
        # Through the ledger like every push (once, resumed), but now, not at the next tick.
        context.job_queue.run_once(job_deliver, 0.1, name=f"notice:{source.name}")


async def _hold_crawl_lease(context: Context, source: SourceConfig) -> bool:
    """Take this source's crawl lease until just after this instance's next run of it.

    Several instances on one database crawl each source once per interval between them,
    not once each; if the holder dies, another takes the source over a minute after its turn.
    """
    until = datetime.now(UTC) + timedelta(minutes=source.interval_minutes, seconds=60)
    leases = context.bot_data.store.leases
    return await leases.take(f"crawl:{source.name}", context.bot_data.instance, until)


def schedule_ingestion(app: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Schedule one repeating crawl per configured source, at its own interval."""
    for index, source in enumerate(app.bot_data.sources):
        _schedule_crawl(app, source, FIRST_CRAWL_DELAY + index)


def reschedule_ingestion(
    app: Application[Any, Any, Any, Any, BotData, Any], sources: tuple[SourceConfig, ...]
) -> tuple[list[str], list[str], list[str]]:
    """Switch the crawls to a new list of sources; return the names added, changed, removed.

    A source that did not change keeps its job and its timing; a changed one is rescheduled
    (a crawl of it under way finishes first: the job queue runs one at a time).
    """
    queue = _queue(app)
    old = {s.name: s for s in app.bot_data.sources}
    new = {s.name: s for s in sources}
    added = [n for n in new if n not in old]
    changed = [n for n in new if n in old and new[n] != old[n]]
    removed = [n for n in old if n not in new]
    for name in changed + removed:
        for job in queue.get_jobs_by_name(f"ingest:{name}"):
            job.schedule_removal()
    for index, name in enumerate(added + changed):
        _schedule_crawl(app, new[name], FIRST_CRAWL_DELAY + index)
    app.bot_data.sources = sources
    return added, changed, removed


def _schedule_crawl(
    app: Application[Any, Any, Any, Any, BotData, Any], source: SourceConfig, first: float
) -> None:
    _queue(app).run_repeating(
        job_ingest,
        interval=source.interval_minutes * 60,
        first=first,
        name=f"ingest:{source.name}",
        data=source,
        # One crawl of a source at a time; a late run is run once, not piled up.
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": 300},
    )


def _queue(app: Application[Any, Any, Any, Any, BotData, Any]) -> JobQueue[Any]:
    queue: JobQueue[Any] | None = app.job_queue
    if queue is None:
        raise RuntimeError("PTB's JobQueue is missing: install python-telegram-bot[job-queue]")
    return queue


# Digests are due on the minute; a tick every 20 s sends what is due, and lets a standby
# instance take over from a dead sender within the sender lease plus one tick (under 60 s).
DELIVERY_INTERVAL = 20.0
# The first tick right after start: digests missed while the bot was down go out now.
FIRST_DELIVERY_DELAY = 1.0


async def job_deliver(context: Context) -> None:
    """Schedule due digests, queue alerts for new articles, and send the open ledger rows."""
    deliverer = context.bot_data.deliverer
    if deliverer is None:
        return
    troubles = context.bot_data.store_troubles
    try:
        report = await deliverer.tick()
    except StoreUnavailable as exc:
        # One line a tick, no traceback: no ledger row changed state, the next tick retries.
        logger.error("delivery tick stopped: %s", exc)
        troubles["delivery"] = str(exc)
        return
    if troubles.pop("delivery", None) is not None:
        logger.info("delivery resumed: the database is writable again")
    context.bot_data.metrics.record_tick(report)
    if report.sent or report.failed or report.skipped or report.retry:
        logger.info(
            "delivery: scheduled %d, sent %d, empty %d, retry %d, failed %d, skipped %d",
            report.scheduled,
            report.sent,
            report.empty,
            report.retry,
            report.failed,
            report.skipped,
        )


def schedule_delivery(app: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Schedule the once-a-minute delivery tick."""
    queue: JobQueue[Any] | None = app.job_queue
    if queue is None:
        raise RuntimeError("PTB's JobQueue is missing: install python-telegram-bot[job-queue]")
    queue.run_repeating(
        job_deliver,
        interval=DELIVERY_INTERVAL,
        first=FIRST_DELIVERY_DELAY,
        name="deliver",
        # A tick sending 10,000 digests outlasts many intervals: never two at once, no pile-up.
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
    )
