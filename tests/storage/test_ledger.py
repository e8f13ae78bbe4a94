"""The delivery ledger's claims and leases on both backends, with two stores on one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from storage import Store, open_store

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def two(db_target: str) -> AsyncIterator[tuple[Store, Store]]:
    """Open two stores on one database, as two processes (or instances) would."""
    async with await open_store(db_target) as first, await open_store(db_target) as second:
        yield first, second


async def pending_rows(store: Store, count: int) -> list[int]:
    for chat_id in range(1, count + 1):
        await store.ledger.add_manual_digest(chat_id, "manual-1", {"n": chat_id}, None)
    return [d.id for d in await store.ledger.open_deliveries(now=NOW)]


async def test_concurrent_claims_never_share_a_row(two: tuple[Store, Store]) -> None:
    first, second = two
    ids = await pending_rows(first, 40)
    until = NOW + timedelta(minutes=5)
    got = await asyncio.gather(
        *(
            store.ledger.claim_deliveries(ids, owner, until, now=NOW)
            for store, owner in ((first, "a"), (second, "b"), (first, "c"), (second, "d"))
        )
    )
    claimed = [d.id for batch in got for d in batch]
    assert sorted(claimed) == sorted(ids)  # every row claimed, none twice
    assert all(d.status == "sending" and d.attempts == 1 for batch in got for d in batch)
    assert await first.ledger.open_deliveries(now=NOW) == []


async def test_a_lapsed_claim_is_taken_over_and_a_release_refunds(
    two: tuple[Store, Store],
) -> None:
    first, second = two
    ids = await pending_rows(first, 3)
    [row, *_] = await first.ledger.claim_deliveries(ids[:1], "dead", NOW + timedelta(seconds=30))
    later = NOW + timedelta(seconds=31)
    assert await second.ledger.claim_deliveries(ids[:1], "live", later, now=NOW) == []
    [taken] = await second.ledger.claim_deliveries(
        ids[:1], "live", later + timedelta(minutes=1), now=later
    )
    assert (taken.id, taken.attempts) == (row.id, 2)
    await first.ledger.release_deliveries(ids[:1], "dead")  # not its row any more: no-op
    assert await first.ledger.delivery_status(1, "digest", "manual-1") == "sending"
    await second.ledger.release_deliveries(ids[:1], "live", "outage", refund_attempt=True)
    [back] = [d for d in await first.ledger.open_deliveries(now=NOW) if d.id == row.id]
    assert (back.status, back.attempts) == ("pending", 1)


async def test_parts_are_kept_once_and_counted(two: tuple[Store, Store]) -> None:
    first, second = two
    [delivery_id, *_] = await pending_rows(first, 1)
    await first.ledger.save_parts(delivery_id, ["第一部分", "第二部分"])
    await second.ledger.save_parts(delivery_id, ["另一种"])  # the first composition stays
    await second.ledger.record_parts_sent(delivery_id, 1)
    await first.ledger.record_parts_sent(delivery_id, 0)  # never goes back
    [row] = await second.ledger.open_deliveries(now=NOW)
    assert row.parts == '["第一部分", "第二部分"]' and row.parts_sent == 1


async def test_a_lease_has_one_holder_until_it_expires(two: tuple[Store, Store]) -> None:
    first, second = two
    until = NOW + timedelta(seconds=60)
    assert await first.leases.take("sender", "a", until, now=NOW)
    assert not await second.leases.take("sender", "b", until, now=NOW)
    assert await first.leases.take("sender", "a", until + timedelta(seconds=60), now=NOW)
    expired = until + timedelta(seconds=61)
    assert await second.leases.take("sender", "b", expired + timedelta(60), now=expired)
    await first.leases.release("sender", "a")  # not its lease: no-op
    assert not await first.leases.take("sender", "a", until, now=expired)
    await second.leases.release("sender", "b")
    assert await first.leases.take("sender", "a", until, now=expired)
