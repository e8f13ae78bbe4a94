"""What an admin's /stats counts: chats, subscriptions, follows, deliveries, sources, size."""

from __future__ import annotations

from datetime import datetime

from news.models import BotStats
from storage.database import Database
from storage.rows import to_db_time


class Stats:
    """Counts over the whole store, for operators (none of it on a hot path)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def bot_stats(self, day_start: datetime, articles: int) -> BotStats:
        """Return the store's counts; deliveries are those created since `day_start`."""
        chats = await self.db.fetchone(
            "SELECT count(*) AS n, count(blocked_at) AS blocked FROM chats"
        )
        counts = await self.db.fetchone(
            "SELECT (SELECT count(*) FROM subscriptions WHERE active = 1) AS subscriptions, "
            "(SELECT count(*) FROM follows WHERE active = 1) AS people, "
            "(SELECT count(*) FROM keyword_follows WHERE active = 1) AS words, "
            "(SELECT count(*) FROM sources WHERE consecutive_failures = 0) AS ok, "
            "(SELECT count(*) FROM sources WHERE consecutive_failures > 0) AS failing"
        )
        assert chats is not None and counts is not None
        today = await self.db.fetch(
            "SELECT status, count(*) AS n FROM deliveries WHERE created_at >= ? GROUP BY status",
            (to_db_time(day_start),),
        )
        size = await self.db.fetchval(self.db.dialect.database_bytes)
        return BotStats(
            chats=int(chats["n"]),
            blocked_chats=int(chats["blocked"]),
            subscriptions=int(counts["subscriptions"]),
            followed_people=int(counts["people"]),
            followed_words=int(counts["words"]),
            deliveries_today={r["status"]: int(r["n"]) for r in today},
            sources_ok=int(counts["ok"]),
            sources_failing=int(counts["failing"]),
            articles=articles,
            database_bytes=int(size or 0),
        )
