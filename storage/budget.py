"""The send budget every instance books its Telegram sends from: one row, one slot at a time."""

from __future__ import annotations

from storage.database import Database


class SendBudget:
    """Slots of a shared rate, booked in the database (a GCRA: the next free slot per name)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def book(self, name: str, now: float, interval: float) -> float:
        """Book the next free slot of `name`, `interval` seconds long; return when it starts.

        Times are wall-clock seconds (time.time()) of the instances: one UPDATE … RETURNING,
        so two instances booking at once get slots one after the other.
        """
        greatest = self.db.dialect.greatest("send_budget.next_at", "?2")
        slot_end = await self.db.fetchval(
            "INSERT INTO send_budget (name, next_at) VALUES (?1, ?4) ON CONFLICT (name) "
            f"DO UPDATE SET next_at = {greatest} + ?3 RETURNING next_at",
            (name, now, interval, now + interval),
            durable=False,
        )
        return float(slot_end) - interval
