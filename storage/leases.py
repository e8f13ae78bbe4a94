"""Named leases in the database: one holder at a time, for a while (the sender, each crawl)."""

from __future__ import annotations

from datetime import datetime

from storage import rows
from storage.database import Database
from storage.rows import to_db_time


class Leases:
    """Leases held by an owner (host:pid:tag) until a time, shared by every instance."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def take(
        self, name: str, owner: str, until: datetime, now: datetime | None = None
    ) -> bool:
        """Take or renew the named lease until `until`; False while another owner holds it."""
        found = await self.db.fetch(
            "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
            "expires_at = excluded.expires_at "
            "WHERE leases.owner = excluded.owner OR leases.expires_at < ? RETURNING owner",
            (name, owner, to_db_time(until), to_db_time(now or rows.now())),
        )
        return bool(found)

    async def take_over(self, name: str, dead: str, owner: str, until: datetime) -> bool:
        """Take the named lease from an owner known to be dead (its process is gone)."""
        changed = await self.db.execute(
            "UPDATE leases SET owner = ?, expires_at = ? WHERE name = ? AND owner = ?",
            (owner, to_db_time(until), name, dead),
        )
        return changed > 0

    async def release(self, name: str, owner: str) -> None:
        """Give up the named lease if this owner holds it."""
        await self.db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    async def holder(self, name: str, now: datetime | None = None) -> str | None:
        """Return who holds the named lease now (host:pid:tag), or None if nobody does."""
        owner = await self.db.fetchval(
            "SELECT owner FROM leases WHERE name = ? AND expires_at >= ?",
            (name, to_db_time(now or rows.now())),
        )
        return str(owner) if owner is not None else None
