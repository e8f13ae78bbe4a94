"""The store's channels, watches, chat settings and due schedules, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from news.models import DueSchedule, Watch
from storage import Store
from tests.store_sql import fetch_sql

pytestmark = pytest.mark.both_backends

DUE = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


async def test_a_channel_and_who_manages_it(store: Store) -> None:
    assert await store.add_channel(-1001, "@one", 7, "Asia/Shanghai", "en")
    assert not await store.add_channel(-1001, "@one", 7, "Asia/Shanghai", "zh")
    assert await store.add_channel(-1001, "@one", 8, "Asia/Shanghai", "zh")
    await store.add_channel(-1002, "@another", 7, "Asia/Shanghai", "zh")
    assert [c.title for c in await store.channels_of_user(7)] == ["@another", "@one"]
    assert await store.channel_managers(-1001) == [7, 8]
    channel = await store.get_chat(-1001)
    assert channel is not None and (channel.type, channel.language) == ("channel", "en")


async def test_chat_settings_are_checked(store: Store) -> None:
    await store.upsert_chat(5, "private", "zh", "Asia/Shanghai")
    chat = await store.set_chat_settings(
        5, quiet_start="23:00", quiet_end="07:00", silent=True, digest_order="region", city="大连"
    )
    assert chat is not None and chat.silent and chat.city == "大连"
    assert (chat.quiet_start, chat.quiet_end, chat.digest_order) == ("23:00", "07:00", "region")
    with pytest.raises(ValueError):
        await store.set_chat_settings(5, blocked_at="x")


async def test_watches_move_with_a_migrated_chat_and_stop_with_it(store: Store) -> None:
    subscriptions = store.subscriptions
    assert await subscriptions.watch(-5, "region", "大连", None)
    assert not await subscriptions.watch(-5, "region", "大连", None)
    assert await subscriptions.watch(-5, "source", "dl-news", 3)
    assert await subscriptions.count_watches(-5) == 2
    await store.ledger.migrate_chat(-5, -1005)
    assert await subscriptions.watches(-5) == []
    assert await subscriptions.watches(-1005) == [
        Watch(-1005, "source", "dl-news", 3),
        Watch(-1005, "region", "大连", None),
    ]
    await store.ledger.deactivate_chat(-1005, "kicked")
    assert await subscriptions.count_watches(-1005) == 0
    assert await subscriptions.unwatch(-1005, "source", "dl-news")


async def test_due_schedules_group_the_chats_that_share_one(store: Store) -> None:
    for chat in range(1, 6):
        times = "08:00,18:00" if chat < 5 else "08:00"
        await store.subscriptions.subscribe(chat, times, "Asia/Shanghai", DUE, None)
    await store.subscriptions.subscribe(9, "08:00", "Asia/Shanghai", DUE + timedelta(days=1), None)
    schedules = await store.subscriptions.due_schedules(DUE + timedelta(minutes=1))
    assert sorted((s.digest_time, s.chats) for s in schedules) == [("08:00", 1), ("08:00,18:00", 4)]
    two = next(s for s in schedules if s.chats == 4)
    assert two.times == ("08:00", "18:00") and not two.weekdays_only
    queued = await store.ledger.schedule_due_digests(
        two,
        key="2026-11-26 08:00",
        next_due_at=DUE + timedelta(hours=10),
        first_since=DUE - timedelta(hours=14),
        until=DUE,
    )
    assert queued == 4
    again = await store.ledger.schedule_due_digests(
        DueSchedule("08:00,18:00", "Asia/Shanghai", False, DUE, 4),
        key="2026-11-26 08:00",
        next_due_at=DUE + timedelta(hours=10),
        first_since=DUE - timedelta(hours=14),
        until=DUE,
    )
    assert again == 0  # moved on: nothing is due on that schedule any more
    payloads = await fetch_sql(store, "SELECT payload FROM deliveries WHERE chat_id = 1")
    assert payloads == [('{"since": "2026-11-25T10:00:00Z", "until": "2026-11-26T00:00:00Z"}',)]
    sub = await store.subscriptions.subscription(1)
    assert sub is not None and sub.next_due_at == DUE + timedelta(hours=10)
