"""The store's parts for operating the bot: the shared send budget, caps, notices, broadcasts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import open_store

pytestmark = pytest.mark.both_backends


async def test_the_send_budget_books_slots_one_after_another(db_target: str) -> None:
    first, second = await open_store(db_target), await open_store(db_target)
    try:
        # Two instances booking at the same moment get consecutive slots.
        slots = [
            await store.send_budget.book("telegram", 1000.0, 0.1)
            for store in (first, second, first)
        ]
        assert slots == pytest.approx([1000.0, 1000.1, 1000.2])
        # After a quiet spell the next slot is now, not the one after the last booked.
        assert await second.send_budget.book("telegram", 2000.0, 0.1) == pytest.approx(2000.0)
        assert await first.send_budget.book("other", 1000.0, 1.0) == pytest.approx(1000.0)
    finally:
        await first.close()
        await second.close()


async def test_follows_and_words_stop_at_their_cap_and_old_searches_are_forgotten(store) -> None:
    await store.upsert_chat(5, "private", "zh", "Asia/Shanghai")
    subs = store.subscriptions
    assert await subs.follow_keyword(5, "振兴", None, cap=2) is True
    assert await subs.follow_keyword(5, "沈阳", None, cap=2) is True
    assert await subs.follow_keyword(5, "大连", None, cap=2) is None
    assert await subs.follow_keyword(5, "振興", None, cap=2) is True  # already followed (folded)
    assert sorted(await subs.followed_keywords(5)) == sorted(["振兴", "沈阳"])
    ids = [await store.save_search_query(5, f"q{n}", keep=3) for n in range(5)]
    await store.save_search_query(6, "another chat", keep=3)
    assert [await store.search_query(5, i) for i in ids] == [None, None, "q2", "q3", "q4"]


async def test_a_source_failure_is_claimed_once_and_its_recovery_once(store) -> None:
    await store.upsert_source("s", "S", "nen")
    for _ in range(2):
        await store.record_source_error("s", "404")
    assert not await store.claim_source_failure_notice("s", 3)
    await store.record_source_error("s", "404")
    assert await store.claim_source_failure_notice("s", 3)
    await store.record_source_error("s", "404")
    assert not await store.claim_source_failure_notice("s", 3)
    assert not await store.claim_source_recovery_notice("s")
    # A run that completed but met a bad page counts a failure again; it is still a recovery.
    await store.record_source_success("s")
    await store.record_source_error("s", "one article 404")
    assert await store.claim_source_recovery_notice("s")
    assert not await store.claim_source_recovery_notice("s")


async def test_a_broadcast_is_queued_once_for_active_subscribers(store) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    for chat in (1, 2, 3):
        await store.subscriptions.subscribe(chat, "08:00", "UTC", later, None)
    await store.subscriptions.unsubscribe(3)
    broadcast_id, reach = await store.ledger.add_broadcast(42, "hello &amp; bye")
    assert reach == 2
    assert await store.ledger.confirm_broadcast(broadcast_id) == 2
    assert await store.ledger.confirm_broadcast(broadcast_id) is None
    assert not await store.ledger.cancel_broadcast(broadcast_id)
    assert await store.ledger.broadcast_text(broadcast_id) == "hello &amp; bye"
    open_rows = await store.ledger.open_deliveries()
    assert sorted((d.chat_id, d.kind) for d in open_rows) == [(1, "broadcast"), (2, "broadcast")]
    assert await store.ledger.add_notices([42], "k", "<b>x</b>") == 1
    assert await store.ledger.add_notices([42], "k", "<b>x</b>") == 0
    stats = await store.stats.bot_stats(datetime.now(UTC) - timedelta(hours=1), 0)
    assert stats.subscriptions == 2 and stats.deliveries_today == {"pending": 3}
    assert stats.database_bytes > 0
