"""The delivery ledger against the strict fake Bot API: once, in time, and through every failure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import ExtBot

from fakes.archive import seed_store
from fakes.bot_api import FakeBotApi
from handlers.delivery import Deliverer
from news.schedule import next_due
from storage import Store, open_store
from tests.store_sql import execute_sql

pytestmark = pytest.mark.both_backends

TOKEN = "555:delivery-test-token"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 0, 5, tzinfo=UTC)  # 08:05 in Shanghai
DUE = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(TOKEN, private_rate=None, global_rate=None) as fake:
        yield fake


@pytest.fixture
async def store(db_target: str) -> AsyncIterator[Store]:
    await seed_store(
        db_target, fetched_at=DUE - timedelta(hours=2), published_at=DUE - timedelta(hours=2)
    )
    opened = await open_store(db_target)
    yield opened
    await opened.close()


@pytest.fixture
async def deliverer(api: FakeBotApi, store: Store) -> AsyncIterator[Deliverer]:
    bot = ExtBot(TOKEN, base_url=api.base_url)
    async with bot:
        yield Deliverer(bot=bot, store=store, default_tz=SHANGHAI)


async def subscribe(store: Store, chat_id: int, *, due: datetime = DUE, **extra: object) -> None:
    await store.upsert_chat(chat_id, "private", "zh", "Asia/Shanghai")
    await store.subscriptions.subscribe(chat_id, "08:00", "Asia/Shanghai", due, extra.get("thread"))  # type: ignore[arg-type]


async def test_a_due_digest_is_sent_once(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await subscribe(store, 1)
    report = await deliverer.tick(NOW)
    assert (report.scheduled, report.sent) == (1, 1)
    [message] = api.messages_to(1)
    assert message.plain_text.startswith("📰 东北新闻网 每日摘要 · 2026-11-26")
    assert "【时政要闻】" in message.plain_text
    assert "🎤 易炼红" in message.plain_text or "易炼红" in message.plain_text
    assert message.plain_text.count("• ") == 15 and "还有" not in message.plain_text
    # Next tick, next restart: nothing more today.
    again = await deliverer.tick(NOW + timedelta(minutes=1))
    assert again.sent == 0 and len(api.messages_to(1)) == 1
    sub = await store.subscriptions.subscription(1)
    assert sub is not None and sub.next_due_at == DUE + timedelta(days=1)
    assert sub.since_at == DUE


async def test_tomorrow_holds_only_what_is_new(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await subscribe(store, 1)
    await deliverer.tick(NOW)
    report = await deliverer.tick(NOW + timedelta(days=1))
    assert report.scheduled == 1 and report.empty == 1
    assert len(api.messages_to(1)) == 1  # nothing new: no message


async def test_empty_digest_sent_when_the_chat_asks(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await subscribe(store, 1, due=DUE + timedelta(days=1))
    await store.subscriptions.update_subscription(1, send_empty=True)
    await execute_sql(store, "UPDATE subscriptions SET since_at = ?", "2026-11-26T00:00:00Z")
    await deliverer.tick(NOW + timedelta(days=1))
    [message] = api.messages_to(1)
    assert "今天没有新文章" in message.plain_text


async def test_a_crash_mid_send_resends_at_most_once(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await subscribe(store, 1)
    await deliverer.schedule_due(NOW, report=__import__("handlers.delivery").delivery.TickReport())
    [row] = await store.ledger.open_deliveries()
    # The process died after writing 'sending' (the message may or may not have gone out).
    await store.ledger.mark_deliveries([row.id], "sending", count_attempt=True)
    report = await deliverer.tick(NOW)
    assert report.sent == 1 and len(api.messages_to(1)) == 1
    assert (await store.ledger.delivery_counts()) == {"sent": 1}


async def test_past_the_catch_up_window_the_day_is_skipped(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await subscribe(store, 1)
    report = await deliverer.tick(DUE + timedelta(hours=3, minutes=1))
    assert report.skipped == 1 and api.messages_to(1) == []
    sub = await store.subscriptions.subscription(1)
    assert sub is not None and sub.next_due_at == DUE + timedelta(days=1)


async def test_down_for_days_resumes_without_a_backlog(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await subscribe(store, 1)
    later = DUE + timedelta(days=3, minutes=30)
    await execute_sql(
        store,
        "UPDATE articles SET fetched_at = '2026-11-28T20:00:00Z', "
        "published_at = '2026-11-28T19:00:00Z'",
    )
    report = await deliverer.tick(later)
    assert report.skipped == 1 and report.sent == 1  # the old days go; today is in the window
    assert len(api.messages_to(1)) == 1


async def test_blocked_chat_is_deactivated(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await subscribe(store, 1)
    api.block_chat(1)
    report = await deliverer.tick(NOW)
    assert report.failed == 1
    sub = await store.subscriptions.subscription(1)
    assert sub is not None and not sub.active
    chat = await store.get_chat(1)
    assert chat is not None and chat.blocked_at is not None


async def test_migrated_group_moves_to_the_new_id(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await subscribe(store, -77)
    api.migrate_chat(-77, -1000000000077)
    await deliverer.tick(NOW)
    report = await deliverer.tick(NOW + timedelta(seconds=5))
    assert report.sent == 1
    assert len(api.messages_to(-1000000000077)) == 1
    assert await store.subscriptions.subscription(-1000000000077) is not None


async def test_chat_not_found_three_times_deactivates(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await subscribe(store, 9)
    api.set_chat_not_found(9)
    for minute in range(3):
        await deliverer.tick(NOW + timedelta(minutes=minute))
    sub = await store.subscriptions.subscription(9)
    assert sub is not None and not sub.active


async def test_forum_topic_gets_the_digest(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await store.upsert_chat(-100555, "supergroup", "zh", "Asia/Shanghai")
    await store.subscriptions.subscribe(-100555, "08:00", "Asia/Shanghai", DUE, 42)
    await deliverer.tick(NOW)
    [message] = api.messages_to(-100555)
    assert message.message_thread_id == 42


async def test_changing_the_time_after_today_never_sends_twice(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await subscribe(store, 1)
    await deliverer.tick(NOW)
    # The user moves the digest to 20:00 the same day: today's is already in the ledger.
    later = next_due(NOW, "20:00", SHANGHAI)
    await store.subscriptions.update_subscription(1, digest_time="20:00", next_due_at=later)
    await deliverer.tick(later + timedelta(minutes=1))
    assert len(api.messages_to(1)) == 1


async def test_follow_alerts_are_batched_and_sent_once(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await store.upsert_chat(5, "private", "zh", "Asia/Shanghai")
    assert await store.ledger.enqueue_alerts() == 0  # sets the cursor: no alerts for the past
    person = await store.person_by_name("易炼红")
    assert person is not None
    await store.subscriptions.follow(5, person.id, None)
    await store.subscriptions.follow_keyword(5, "城市", None)
    # As if every article were new, and followed since before they were published.
    await execute_sql(
        store, "UPDATE alert_cursor SET last_article_id = 0, moved_at = '2026-11-26T00:00:00Z'"
    )
    for table in ("follows", "keyword_follows"):
        await execute_sql(store, f"UPDATE {table} SET created_at = '2026-11-01T00:00:00Z'")
    report = await deliverer.tick(NOW)
    assert report.alerts >= 2
    [message] = api.messages_to(5)
    assert message.plain_text.startswith("🔔 你关注的新闻")
    await deliverer.tick(NOW + timedelta(minutes=1))
    assert len(api.messages_to(5)) == 1


async def test_ten_subscribers_under_flood_limits(db_target: str) -> None:
    async with FakeBotApi(TOKEN, global_rate=30) as api:
        await seed_store(
            db_target, fetched_at=DUE - timedelta(hours=2), published_at=DUE - timedelta(hours=2)
        )
        store = await open_store(db_target)
        try:
            from telegram.ext import AIORateLimiter

            bot = ExtBot(TOKEN, base_url=api.base_url, rate_limiter=AIORateLimiter(max_retries=3))
            async with bot:
                deliverer = Deliverer(bot=bot, store=store, default_tz=SHANGHAI)
                for chat_id in range(100, 140):
                    await subscribe(store, chat_id)
                report = await deliverer.tick(NOW)
            assert report.sent == 40
            assert all(len(api.messages_to(c)) == 1 for c in range(100, 140))
        finally:
            await store.close()
