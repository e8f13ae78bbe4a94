"""The ledger's rows by state for /metrics: read by id range after the first read, always exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.metrics import LedgerTally
from storage import Store

pytestmark = pytest.mark.both_backends


async def test_the_ledger_tally_matches_a_full_count_through_every_change(store: Store) -> None:
    ledger = store.ledger
    tally = LedgerTally()

    async def add(chats: range) -> None:
        for chat in chats:
            await ledger.add_manual_digest(chat, "2026-12-07", {"manual": True}, None)

    async def same() -> dict[str, int]:
        counted = await tally.read(ledger)
        assert counted == await ledger.delivery_counts()
        return counted

    assert await same() == {}
    await add(range(100, 105))
    assert await same() == {"pending": 5}
    rows = await ledger.open_deliveries()
    await ledger.mark_deliveries([r.id for r in rows[:3]], "sent")
    assert await same() == {"pending": 2, "sent": 3}
    await add(range(200, 204))
    await ledger.mark_deliveries([rows[3].id], "failed")
    await same()
    # Claimed ('sending') is open too; then it settles.
    until = datetime.now(UTC) + timedelta(seconds=30)
    assert await ledger.claim_deliveries([rows[4].id], "this:1:abc", until)
    assert (await same())["sending"] == 1
    await ledger.mark_deliveries([rows[4].id], "skipped")
    await same()
    # Everything settles: the mark passes every row (in two reads: it trails the newest id
    # of the read before), and later reads count nothing twice.
    await ledger.mark_deliveries([r.id for r in await ledger.open_deliveries()], "sent")
    for _ in range(3):
        assert await same() == {"sent": 7, "failed": 1, "skipped": 1}
    newest = max(r.id for r in rows)
    assert tally.mark > newest
    # A tally started on a settled ledger counts it once, with the rows added after.
    late = LedgerTally()
    await add(range(300, 302))
    assert await late.read(ledger) == {"sent": 7, "failed": 1, "skipped": 1, "pending": 2}
