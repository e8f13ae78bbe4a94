"""The deliverer with several digests a day, weekdays, quiet hours, silence, order and channels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import ExtBot

from fakes.archive import seed_store
from fakes.bot_api import FakeBotApi
from handlers.delivery import Deliverer, TickReport
from storage import Store, open_store
from tests.store_sql import execute_sql, fetch_sql

pytestmark = pytest.mark.both_backends

TOKEN = "556:delivery-channels-token"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # Thursday 08:00 in Shanghai
EVENING = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 18:00
CHANNEL = -1005550001


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(TOKEN, private_rate=None, global_rate=None) as fake:
        yield fake


@pytest.fixture
async def store(db_target: str) -> AsyncIterator[Store]:
    # Published and stored through the night before the morning digest.
    await seed_store(
        db_target,
        fetched_at=MORNING - timedelta(hours=2),
        published_at=MORNING - timedelta(hours=2),
    )
    opened = await open_store(db_target)
    yield opened
    await opened.close()


@pytest.fixture
async def deliverer(api: FakeBotApi, store: Store) -> AsyncIterator[Deliverer]:
    bot = ExtBot(TOKEN, base_url=api.base_url)
    async with bot:
        yield Deliverer(
            bot=bot,
            store=store,
            default_tz=SHANGHAI,
            source_regions={"dalian": "大连", "nen": "辽宁"},
            regions=("辽宁", "沈阳", "大连"),
        )


async def test_two_digests_a_day_each_since_the_one_before(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await store.upsert_chat(1, "private", "zh", "Asia/Shanghai")
    await store.subscriptions.subscribe(1, "08:00,18:00", "Asia/Shanghai", MORNING, None)
    report = await deliverer.tick(MORNING + timedelta(minutes=1))
    assert report.sent == 1
    [morning] = api.messages_to(1)
    assert morning.plain_text.startswith("📰 东北新闻网 每日摘要 · 2026-11-26 08:00")
    sub = await store.subscriptions.subscription(1)
    assert sub is not None and sub.next_due_at == EVENING
    # Nothing new by the evening: no evening digest; the one after is tomorrow morning.
    report = await deliverer.tick(EVENING + timedelta(minutes=1))
    assert report.scheduled == 1 and report.empty == 1 and len(api.messages_to(1)) == 1
    keys = await fetch_sql(store, "SELECT key FROM deliveries WHERE chat_id = 1 ORDER BY id")
    assert keys == [("2026-11-26 08:00",), ("2026-11-26 18:00",)]
    sub = await store.subscriptions.subscription(1)
    assert sub is not None and sub.next_due_at == MORNING + timedelta(days=1)


async def test_weekdays_only_waits_for_monday(deliverer: Deliverer, store: Store) -> None:
    friday = MORNING + timedelta(days=1)
    await store.upsert_chat(1, "private", "zh", "Asia/Shanghai")
    await store.subscriptions.subscribe(1, "08:00", "Asia/Shanghai", friday, None, True)
    await deliverer.tick(friday + timedelta(minutes=1))
    sub = await store.subscriptions.subscription(1)
    assert sub is not None and sub.next_due_at == friday + timedelta(days=3)


async def test_quiet_hours_hold_alerts_and_silence_mutes(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await store.upsert_chat(5, "private", "zh", "Asia/Shanghai")
    await store.set_chat_settings(5, quiet_start="07:00", quiet_end="09:00", silent=True)
    assert await store.ledger.enqueue_alerts() == 0  # sets the cursor
    await store.subscriptions.follow_keyword(5, "大事记", None)
    await execute_sql(
        store, "UPDATE alert_cursor SET last_article_id = 0, moved_at = '2026-11-26T00:00:00Z'"
    )
    await execute_sql(store, "UPDATE keyword_follows SET created_at = '2026-11-01T00:00:00Z'")
    report = await deliverer.tick(MORNING + timedelta(minutes=5))  # 08:05: quiet
    assert report.alerts >= 1 and report.sent == 0 and api.messages_to(5) == []
    report = await deliverer.tick(MORNING + timedelta(hours=1, minutes=1))  # 09:01
    [message] = api.messages_to(5)
    assert message.plain_text.startswith("🔔 你关注的新闻")
    assert message.params.get("disable_notification") is True


async def test_digest_by_region_puts_the_chats_city_first(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await store.upsert_source("dalian", "大连新闻网", "generic")
    await execute_sql(store, "UPDATE articles SET source_name = 'dalian' WHERE id % 2 = 0")
    await store.upsert_chat(1, "private", "zh", "Asia/Shanghai")
    await store.set_chat_settings(1, digest_order="region", city="大连")
    await store.subscriptions.subscribe(1, "08:00", "Asia/Shanghai", MORNING, None)
    await deliverer.tick(MORNING + timedelta(minutes=1))
    text = "\n".join(m.plain_text for m in api.messages_to(1))
    assert text.index("【大连】") < text.index("【辽宁】")


async def test_digest_by_leader_puts_the_highest_office_first(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    await store.upsert_chat(1, "private", "zh", "Asia/Shanghai")
    await store.set_chat_settings(1, digest_order="leader")
    await store.subscriptions.subscribe(1, "08:00", "Asia/Shanghai", MORNING, None)
    await deliverer.tick(MORNING + timedelta(minutes=1))
    text = "\n".join(m.plain_text for m in api.messages_to(1))
    groups = [line for line in text.split("\n") if line.startswith("【")]
    assert len(groups) >= 2 and groups[-1] == "【其他】"


async def test_a_channel_that_removed_the_bot_tells_its_manager_once(
    deliverer: Deliverer, store: Store, api: FakeBotApi
) -> None:
    api.add_channel(CHANNEL, username="lnchan", admins=(7,))
    await store.add_channel(CHANNEL, "@lnchan", 7, "Asia/Shanghai", "zh")
    await store.upsert_chat(7, "private", "zh", "Asia/Shanghai")
    await store.subscriptions.subscribe(CHANNEL, "08:00", "Asia/Shanghai", MORNING, None)
    api.set_chat_member(CHANNEL, api.bot_user["id"], "left")
    report = await deliverer.tick(MORNING + timedelta(minutes=1))
    assert report.failed == 1
    await deliverer.tick(MORNING + timedelta(minutes=2))
    await deliverer.tick(MORNING + timedelta(minutes=3))
    [notice] = api.messages_to(7)
    assert notice.plain_text.startswith("⚠️ 频道 @lnchan 的推送已停止")
    # Stopped again (a second removal update): nobody is told twice.
    assert await store.ledger.deactivate_chat(CHANNEL, "again") == 0


async def test_a_first_digest_due_past_its_minute_still_covers_the_day_before(
    deliverer: Deliverer, store: Store
) -> None:
    await store.upsert_chat(1, "private", "zh", "Asia/Shanghai")
    late = MORNING + timedelta(seconds=17)
    await store.subscriptions.subscribe(1, "08:00", "Asia/Shanghai", late, None)
    await deliverer.queue_due(late + timedelta(minutes=1), TickReport())
    [(payload,)] = await fetch_sql(store, "SELECT payload FROM deliveries WHERE chat_id = 1")
    assert payload.startswith('{"since": "2026-11-25T00:00:00Z"')
