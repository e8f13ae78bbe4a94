"""Push digests and alerts through the ledger: written before and after each send, never twice."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from handlers.regions import PROVINCE
from handlers.render import also_in, esc, format_date, link, shorten, split_html
from handlers.replies import NO_PREVIEW
from handlers.texts import text
from news.models import Article, Chat, Delivery, DueSchedule, Subscription
from news.nlp.offices import UNRANKED, office_rank
from news.schedule import digest_key, in_quiet_hours, local_day, next_due_of, previous_due_of
from storage import Store

logger = logging.getLogger(__name__)

CATCH_UP = timedelta(hours=3)
FIRST_DIGEST_WINDOW = timedelta(hours=24)
DIGEST_ITEMS = 15
SUMMARY_LINE_CHARS = 70
# Chats served at once: enough to keep up with the send budget's 28 messages/s, and few
# enough that the bot's replies to commands find free slots between the digests.
SEND_CONCURRENCY = 4
MAX_ATTEMPTS = 5
NOT_FOUND_LIMIT = 3
# What Telegram answers a send to a channel where the bot may no longer post.
CHANNEL_RIGHTS_LOST = ("need administrator rights", "not enough rights", "have no rights")
# How long a claimed row is this process's alone. A unit is claimed right before it is sent,
# so this only has to cover one digest's messages; a process killed mid-send hands its rows
# over to the others (or to its own restart) when it ends.
LEASE = timedelta(seconds=30)
# One instance at a time sends the ledger's rows, holding this lease and renewing it while it
# does (every instance's sends, replies too, book Telegram's rate: handlers.pacing). A sender
# killed mid-delivery is replaced within the lease plus one tick; a clean stop hands the lease
# over at once.
SENDER_LEASE = "sender"
SENDER_LEASE_TIME = timedelta(seconds=30)
SENDER_RENEW_EVERY = timedelta(seconds=10)


def process_owner() -> str:
    """Return a name for this process in the ledger: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class TickReport:
    """What one delivery tick did."""

    scheduled: int = 0
    skipped: int = 0
    alerts: int = 0
    sent: int = 0
    failed: int = 0
    retry: int = 0
    empty: int = 0


@dataclass
class Deliverer:
    """Turns due subscriptions and new articles into ledger rows, then sends the open rows."""

    bot: Bot
    store: Store
    default_tz: ZoneInfo
    catch_up: timedelta = CATCH_UP
    source_titles: dict[str, str] = field(default_factory=dict)
    # Each source's region (辽宁 or a city), for watches of a region and digests by region;
    # `regions` lists the places in the order a digest by region shows them.
    source_regions: dict[str, str] = field(default_factory=dict)
    regions: tuple[str, ...] = ()
    stopping: bool = False
    owner: str = field(default_factory=process_owner)
    lease: timedelta = LEASE
    # Set when Telegram cannot be reached: the rest of this tick waits for the next one.
    _outage: bool = False
    # When this process last took or renewed the sender lease; None while it does not hold it.
    _sender_since: datetime | None = None
    # Two ticks at once (the minute job and an admin's /digest_now) would both read the same
    # open rows and send them twice: ticks take turns.
    _tick_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def tick(self, now: datetime | None = None) -> TickReport:
        """Schedule what is due, queue alerts for new articles, and send everything open."""
        async with self._tick_lock:
            return await self._tick(now or datetime.now(UTC))

    async def _tick(self, now: datetime) -> TickReport:
        report = TickReport()
        self._outage = False
        await self.queue_due(now, report)
        if await self._renew_sender_lease(force=True):
            await self.send_open(report, now)
        return report

    async def queue_due(self, now: datetime, report: TickReport) -> None:
        """Write every due digest and every new article's alerts into the ledger (no sends)."""
        await self.schedule_due(now, report)
        by_region: dict[str, list[str]] = defaultdict(list)
        for source, region in self.source_regions.items():
            by_region[region].append(source)
        while True:
            queued = await self.store.ledger.enqueue_alerts(regions=by_region)
            report.alerts += queued
            if queued == 0:
                break

    async def _renew_sender_lease(self, *, force: bool = False) -> bool:
        """Take or renew the sender lease (at most every few seconds); False if another holds it."""
        clock = datetime.now(UTC)
        if not force and self._sender_since and clock - self._sender_since < SENDER_RENEW_EVERY:
            return True
        held = await self.store.leases.take(SENDER_LEASE, self.owner, clock + SENDER_LEASE_TIME)
        if held and self._sender_since is None:
            logger.info("this instance (%s) sends the deliveries now", self.owner)
        self._sender_since = clock if held else None
        return held

    async def release(self) -> None:
        """Give up the sender lease (a clean stop), so another instance sends at once."""
        if self._sender_since is not None:
            self._sender_since = None
            await self.store.leases.release(SENDER_LEASE, self.owner)

    async def schedule_due(self, now: datetime, report: TickReport) -> None:
        """Write a ledger row for every due digest (or a skip, past the catch-up window)."""
        # One pass a schedule (times, zone, weekdays, due instant): the chats sharing it are
        # queued by one statement. A schedule queued moves on, so the loop ends.
        while True:
            schedules = await self.store.subscriptions.due_schedules(now)
            if not schedules:
                return
            for schedule in schedules:
                await self._queue_schedule(schedule, now, report)

    async def _queue_schedule(
        self, schedule: DueSchedule, now: datetime, report: TickReport
    ) -> None:
        """Queue the digests of one due schedule: its key, window and next time worked out once."""
        tz = _zone(schedule.time_zone, self.default_tz)
        times = schedule.times
        due_at = schedule.next_due_at
        latest = previous_due_of(now, times, tz, schedule.weekdays_only)
        if due_at < latest:
            # Down past the next digest time: the digests between are gone; the latest may
            # still be within the catch-up window.
            logger.warning(
                "digests of %d chats from %s until %s skipped: the bot was down",
                schedule.chats,
                local_day(due_at, tz),
                local_day(latest, tz),
            )
            report.skipped += schedule.chats
            due_at = latest
        key = digest_key(due_at, times, tz)
        late = now - due_at
        status = "skipped" if late > self.catch_up else "pending"
        # A chat's first digest covers what came since the digest time before this one's
        # (due_at may lie past its own time: the subscription was moved, or came late).
        own_time = previous_due_of(due_at, times, tz, schedule.weekdays_only)
        first_since = previous_due_of(
            own_time - timedelta(seconds=1), times, tz, schedule.weekdays_only
        )
        queued = await self.store.ledger.schedule_due_digests(
            schedule,
            key=key,
            next_due_at=next_due_of(due_at, times, tz, schedule.weekdays_only),
            first_since=first_since,
            until=due_at,
            status=status,
        )
        if status == "skipped":
            report.skipped += queued
            logger.warning(
                "digests of %d chats at %s skipped: %s late, past the %s catch-up window",
                schedule.chats,
                key,
                late,
                self.catch_up,
            )
        else:
            report.scheduled += queued

    async def send_open(self, report: TickReport, now: datetime | None = None) -> None:
        """Send every pending (or interrupted) ledger row, chats in parallel, each chat in order."""
        ledger = self.store.ledger
        rows = await ledger.open_deliveries(limit=100_000, now=datetime.now(UTC))
        by_chat: dict[int, list[Delivery]] = defaultdict(list)
        for row in rows:
            by_chat[row.chat_id].append(row)
        semaphore = asyncio.Semaphore(SEND_CONCURRENCY)

        async def serve(chat_rows: list[Delivery]) -> None:
            async with semaphore:
                if self.stopping or self._outage:
                    return
                await self._serve_chat(chat_rows, report, now or datetime.now(UTC))

        await asyncio.gather(*(serve(chat_rows) for chat_rows in by_chat.values()))

    async def _serve_chat(self, rows: list[Delivery], report: TickReport, now: datetime) -> None:
        chat = await self.store.get_chat(rows[0].chat_id)
        units: list[list[Delivery]] = [[r] for r in rows if r.kind != "alert"]
        alerts = [r for r in rows if r.kind == "alert"]
        if alerts and chat is not None and self._quiet(chat, now):
            alerts = []  # held in the ledger: one message when the quiet hours end
        if alerts:
            units.append(alerts)  # several new articles at once: one batched message
        for unit in units:
            if self.stopping or self._outage or not await self._renew_sender_lease():
                return
            if not await self._send_unit(unit, report, now, chat):
                return  # the chat is gone or throttled: its other rows wait

    def _quiet(self, chat: Chat, now: datetime) -> bool:
        """Return whether a chat's quiet hours (in its own zone) hold alerts now."""
        tz = _zone(chat.time_zone, self.default_tz)
        return in_quiet_hours(now, chat.quiet_start, chat.quiet_end, tz)

    async def _send_unit(
        self, unit: list[Delivery], report: TickReport, now: datetime, chat: Chat | None = None
    ) -> bool:
        """Send one digest or one batch of alerts; return whether to go on with this chat.

        `now` is the tick's time (what is due and what is too late); leases run on the clock.
        """
        ledger = self.store.ledger
        # Claimed in the database, not in memory: a row another process holds is left to it.
        lease_until = datetime.now(UTC) + self.lease
        unit = await ledger.claim_deliveries([d.id for d in unit], self.owner, lease_until)
        if not unit:
            return True
        first = unit[0]
        ids = [d.id for d in unit]
        if first.attempts > MAX_ATTEMPTS:
            await ledger.mark_deliveries(ids, "failed", "too many attempts")
            report.failed += len(unit)
            return True
        due = _digest_due(first)
        if due is not None and now - due > self.catch_up:
            # Telegram was out of reach (or the bot down) past the catch-up window.
            await ledger.mark_deliveries(ids, "skipped", "past the catch-up window")
            logger.warning(
                "digest for chat %s on %s skipped: %s late, past the %s catch-up window",
                first.chat_id,
                first.key,
                now - due,
                self.catch_up,
            )
            report.skipped += 1
            return True
        try:
            messages, until = await self._messages_of(unit, chat)
        except Exception as exc:  # a rendering bug must not block the rest of the ledger
            logger.exception("could not compose delivery %s", ids)
            await ledger.mark_deliveries(ids, "failed", f"compose: {exc}")
            report.failed += len(unit)
            return True
        if not messages:
            await self._finish(unit, until)
            report.empty += 1
            return True
        if first.kind == "digest" and first.parts is None and len(messages) > 1:
            await ledger.save_parts(first.id, messages)
        # The claim is written before the send: a crash from here on leaves 'sending', which
        # is sent again when its lease ends (at most one duplicate); never left unsent.
        try:
            for index in range(first.parts_sent, len(messages)):
                await self.bot.send_message(
                    first.chat_id,
                    messages[index],
                    parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                    message_thread_id=first.thread_id,
                    disable_notification=bool(chat and chat.silent),
                )
                if len(messages) > 1:
                    await ledger.record_parts_sent(first.id, index + 1)
        except Forbidden as exc:
            logger.info("chat %s blocked or removed the bot: %s", first.chat_id, exc)
            await ledger.deactivate_chat(first.chat_id, str(exc))
            report.failed += len(unit)
            return False
        except BadRequest as exc:  # before NetworkError: PTB makes it a subclass
            if chat is not None and chat.type == "channel" and _rights_lost(exc):
                # Demoted: the bot may not post there any more. Like a removal, the
                # channel's pushes stop and whoever set them up is told.
                logger.info("channel %s took the bot's right to post: %s", first.chat_id, exc)
                await ledger.deactivate_chat(first.chat_id, str(exc))
                report.failed += len(unit)
                return False
            return await self._bad_request(unit, exc, report)
        except ChatMigrated as exc:
            logger.info("chat %s moved to %s", first.chat_id, exc.new_chat_id)
            await ledger.release_deliveries(ids, self.owner, refund_attempt=True)
            await ledger.migrate_chat(first.chat_id, exc.new_chat_id)
            report.retry += len(unit)
            return False
        except RetryAfter as exc:
            await ledger.release_deliveries(
                ids, self.owner, f"flood control: {exc}", refund_attempt=True
            )
            report.retry += len(unit)
            return False
        except (TimedOut, NetworkError) as exc:
            # Telegram out of reach (connection refused, timeout, 5xx): an outage, not this
            # message's failure. The rest of the tick waits; the next tick tries again.
            self._outage = True
            await ledger.release_deliveries(ids, self.owner, f"network: {exc}", refund_attempt=True)
            report.retry += len(unit)
            return False
        await self._finish(unit, until)
        report.sent += len(unit)
        return True

    async def _bad_request(self, unit: list[Delivery], exc: BadRequest, report: TickReport) -> bool:
        ledger = self.store.ledger
        ids = [d.id for d in unit]
        chat_id = unit[0].chat_id
        if "chat not found" in str(exc).lower():
            count = await ledger.note_chat_not_found(chat_id)
            if count >= NOT_FOUND_LIMIT:
                await ledger.deactivate_chat(chat_id, f"chat not found {count} times")
                report.failed += len(unit)
            else:
                await ledger.release_deliveries(ids, self.owner, str(exc))
                report.retry += len(unit)
            return False
        logger.error("Telegram refused delivery %s to chat %s: %s", ids, chat_id, exc)
        await ledger.mark_deliveries(ids, "failed", str(exc))
        report.failed += len(unit)
        return True

    async def _finish(self, unit: list[Delivery], until: datetime | None) -> None:
        ledger = self.store.ledger
        first = unit[0]
        if first.kind == "digest":
            await ledger.finish_digest(first.id, first.chat_id, until)
        else:
            await ledger.mark_deliveries([d.id for d in unit], "sent")

    async def _messages_of(
        self, unit: list[Delivery], chat: Chat | None = None
    ) -> tuple[list[str], datetime | None]:
        """Return a unit's messages (a digest's parts as first composed) and its window's end."""
        first = unit[0]
        if first.kind == "digest" and first.parts is not None:
            payload: dict[str, Any] = json.loads(first.payload)
            until = None if payload.get("manual") else datetime.fromisoformat(payload["until"])
            return list(json.loads(first.parts)), until
        return await self._compose(unit, chat)

    async def _compose(
        self, unit: list[Delivery], chat: Chat | None = None
    ) -> tuple[list[str], datetime | None]:
        """Return the messages for a ledger unit, and where a digest's window ends."""
        first = unit[0]
        if first.kind in ("admin_notice", "broadcast"):
            return await self._compose_message(first), None
        chat = chat or await self.store.get_chat(first.chat_id)
        lang = chat.language if chat else "zh"
        tz = _zone(chat.time_zone if chat else "", self.default_tz)
        if first.kind == "notice":
            return [_notice(first, lang)], None
        if first.kind == "digest":
            sub = await self.store.subscriptions.subscription(first.chat_id)
            return await self._compose_digest(first, sub, chat, lang, tz)
        ids = [int(json.loads(d.payload)["article_id"]) for d in unit]
        articles = await self.store.articles_by_ids(ids)
        ordered = [articles[i] for i in ids if i in articles]
        return await self.render_alert(ordered, lang, tz), None

    async def _compose_message(self, row: Delivery) -> list[str]:
        """Return an admins' notice (its HTML is in the row) or a broadcast (in its own table)."""
        payload: dict[str, Any] = json.loads(row.payload)
        if "text" in payload:
            return [str(payload["text"])]
        html = await self.store.ledger.broadcast_text(int(payload["broadcast"]))
        return [html] if html else []

    async def _compose_digest(
        self, row: Delivery, sub: Subscription | None, chat: Chat | None, lang: str, tz: ZoneInfo
    ) -> tuple[list[str], datetime | None]:
        payload: dict[str, Any] = json.loads(row.payload)
        since = datetime.fromisoformat(payload["since"])
        until = datetime.fromisoformat(payload["until"])
        channels = sub.channels if sub else ()
        ids = await self.store.articles_between(since, until, channels, limit=1000)
        advance = None if payload.get("manual") else until
        if not ids and not (sub and sub.send_empty):
            return [], advance
        articles = await self.store.articles_by_ids(ids[:DIGEST_ITEMS])
        shown = [articles[i] for i in ids[:DIGEST_ITEMS] if i in articles]
        several = sub is not None and len(sub.times) > 1
        day = until.astimezone(tz).strftime("%Y-%m-%d %H:%M" if several else "%Y-%m-%d")
        order = chat.digest_order if chat else "channel"
        city = chat.city if chat else ""
        more = len(ids) - len(shown)
        return await self.render_digest(shown, more, day, lang, tz, order, city), advance

    async def render_digest(
        self,
        articles: list[Article],
        more: int,
        day: str,
        lang: str,
        tz: ZoneInfo,
        order: str = "channel",
        city: str = "",
    ) -> list[str]:
        """Render a digest grouped by channel, region or leader, split at item boundaries."""
        header = text(lang, "digest_title", day=esc(day))
        if not articles:
            return split_html([header, esc(text(lang, "digest_empty"))])
        speakers = await self.store.speakers_of_articles(a.id for a in articles)
        summaries = await self.store.article_summaries(a.id for a in articles)
        if order == "region":
            groups = self._by_region(articles, city)
        elif order == "leader":
            groups = await self._by_leader(articles, text(lang, "digest_no_leader"))
        else:
            groups = defaultdict(list)
            for article in articles:
                groups[self._channel_of(article)].append(article)
        blocks = [header]
        for channel, items in groups.items():
            for index, article in enumerate(items):
                block = _digest_item(
                    article, summaries.get(article.id, ""), speakers.get(article.id, []), tz, lang
                )
                if index == 0:
                    block = f"\n<b>【{esc(channel)}】</b>\n" + block
                blocks.append(block)
        if more > 0:
            blocks.append("\n" + esc(text(lang, "digest_more", n=more)))
        return split_html(blocks)

    async def render_alert(self, articles: list[Article], lang: str, tz: ZoneInfo) -> list[str]:
        """Render one push for newly stored articles a chat follows."""
        if not articles:
            return []
        speakers = await self.store.speakers_of_articles(a.id for a in articles)
        summaries = await self.store.article_summaries(a.id for a in articles)
        blocks = [text(lang, "alert_title", n=len(articles))]
        for article in articles:
            blocks.append(
                _digest_item(
                    article, summaries.get(article.id, ""), speakers.get(article.id, []), tz, lang
                )
            )
        return split_html(blocks)

    def _by_region(self, articles: list[Article], city: str) -> dict[str, list[Article]]:
        """Group articles by their source's region: the chat's city, the province, the rest."""
        rank = {region: i for i, region in enumerate(self.regions)}
        groups: dict[str, list[Article]] = defaultdict(list)
        for article in articles:
            groups[self.source_regions.get(article.source_name, PROVINCE)].append(article)

        def place(region: str) -> tuple[int, int]:
            first = 0 if region == city else 1 if region == PROVINCE else 2
            return first, rank.get(region, len(rank))

        return {region: groups[region] for region in sorted(groups, key=place)}

    async def _by_leader(self, articles: list[Article], nobody: str) -> dict[str, list[Article]]:
        """Group articles under the highest-ranked person who spoke in each, highest first."""
        offices = await self.store.speaker_offices(a.id for a in articles)
        top: dict[int, tuple[int, str]] = {}
        for article in articles:
            ranked = sorted((office_rank(title), name) for name, title in offices[article.id])
            top[article.id] = ranked[0] if ranked else (UNRANKED + 1, "")
        ordered = sorted(articles, key=lambda a: top[a.id])
        groups: dict[str, list[Article]] = defaultdict(list)
        for article in ordered:
            groups[top[article.id][1] or nobody].append(article)
        return groups

    def _channel_of(self, article: Article) -> str:
        if article.channel:
            return article.channel.split(">")[-1].strip()
        return self.source_titles.get(article.source_name, article.source_name or "新闻")


def _digest_item(
    article: Article, summary: str, speakers: list[str], tz: ZoneInfo, lang: str = "zh"
) -> str:
    """Render one item of a digest or alert: linked title, date, id, summary, speakers, outlets."""
    lines = [
        "• "
        + link(article.url, shorten(article.title, 80))
        + f" <i>{esc(format_date(article.published_at, tz, with_year=False))}</i>"
        + f" <code>#{article.id}</code>"
    ]
    if summary:
        lines.append("  " + esc(shorten(summary, SUMMARY_LINE_CHARS)))
    if speakers:
        lines.append("  🎤 " + esc("、".join(speakers)))
    if article.also:
        lines.append("  " + esc(also_in(article.also, lang)))
    return "\n".join(lines)


def _notice(row: Delivery, lang: str) -> str:
    """Render a notice to a channel's manager: the channel stopped getting pushes."""
    payload: dict[str, Any] = json.loads(row.payload)
    channel = payload.get("title") or str(payload.get("channel", ""))
    return esc(text(lang, "channel_stopped", channel=channel))


def _rights_lost(exc: BadRequest) -> bool:
    """Return whether Telegram refused a send because the bot may not post in the chat."""
    message = str(exc).lower()
    return any(words in message for words in CHANNEL_RIGHTS_LOST)


def _digest_due(row: Delivery) -> datetime | None:
    """Return when a scheduled digest was due; None for alerts and an admin's /digest_now."""
    if row.kind != "digest":
        return None
    payload: dict[str, Any] = json.loads(row.payload)
    if payload.get("manual") or "until" not in payload:
        return None
    return datetime.fromisoformat(payload["until"])


def _zone(name: str, default: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else default
    except (ValueError, KeyError, OSError):
        return default
