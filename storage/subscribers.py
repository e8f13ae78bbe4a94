"""Who gets pushes: digest subscriptions, followed people and words, and chats that left."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from news.models import DueSchedule, Person, Subscription, Watch
from news.nlp.fold import search_form
from storage import rows
from storage.database import Database, Transaction
from storage.people import PeopleQueries
from storage.rows import SUBSCRIPTION_COLUMNS, now, to_db_time

SUBSCRIPTION_SETTINGS: dict[str, type] = {
    "digest_time": str,
    "time_zone": str,
    "next_due_at": datetime,
    "send_empty": bool,
    "channels": tuple,
    "weekdays_only": bool,
}
_UNFOLLOW_WORD = "DELETE FROM keyword_follows WHERE chat_id = ? AND keyword = ?"
_COUNT_FOLLOWS = "SELECT count(*) FROM follows WHERE chat_id = ? AND active = 1"
_COUNT_WORDS = "SELECT count(*) FROM keyword_follows WHERE chat_id = ? AND active = 1"
_SUBSCRIPTIONS = (
    f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s LEFT JOIN chats c ON c.id = s.chat_id"
)


def subscription_values(fields: dict[str, Any]) -> list[tuple[str, Any]]:
    """Check update_subscription's settings and turn them into (column, database value)."""
    values: list[tuple[str, Any]] = []
    for name, value in fields.items():
        if name not in SUBSCRIPTION_SETTINGS:
            raise ValueError(f"not a subscription setting: {name}")
        if isinstance(value, datetime):
            value = to_db_time(value)
        elif isinstance(value, bool):
            value = int(value)
        elif isinstance(value, tuple):
            value = ",".join(value)
        values.append((name, value))
    return values


class Subscriptions:
    """Digest subscriptions, follows of people and of words, per chat."""

    def __init__(self, db: Database, people: PeopleQueries) -> None:
        self.db = db
        self.people = people

    # --- digests -------------------------------------------------------------------------

    async def subscribe(
        self,
        chat_id: int,
        digest_time: str,
        time_zone: str,
        next_due_at: datetime,
        thread_id: int | None,
        weekdays_only: bool = False,
    ) -> Subscription:
        """Create or update a chat's digests ("08:00" or "08:00,18:00") and make them active."""
        await self.db.execute(
            "INSERT INTO subscriptions (chat_id, thread_id, digest_time, time_zone, next_due_at,"
            " active, not_found, created_at, weekdays_only) VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET thread_id = excluded.thread_id, "
            "digest_time = excluded.digest_time, time_zone = excluded.time_zone, "
            "next_due_at = excluded.next_due_at, active = 1, not_found = 0, "
            "weekdays_only = excluded.weekdays_only",
            (
                chat_id,
                thread_id,
                digest_time,
                time_zone,
                to_db_time(next_due_at),
                to_db_time(now()),
                int(weekdays_only),
            ),
        )
        found = await self.subscription(chat_id)
        assert found is not None
        return found

    async def subscription(self, chat_id: int) -> Subscription | None:
        """Return a chat's digest subscription (active or not), or None."""
        row = await self.db.fetchone(f"{_SUBSCRIPTIONS} WHERE s.chat_id = ?", (chat_id,))
        return rows.subscription(row) if row is not None else None

    async def unsubscribe(self, chat_id: int) -> bool:
        """Stop a chat's digest; return whether there was an active one."""
        changed = await self.db.execute(
            "UPDATE subscriptions SET active = 0 WHERE chat_id = ? AND active = 1", (chat_id,)
        )
        return changed > 0

    async def update_subscription(self, chat_id: int, **fields: Any) -> Subscription | None:
        """Change some settings of a subscription (time, zone, next due, channels, empty)."""
        values = subscription_values(fields)
        if values:
            sets = ", ".join(f"{name} = ?" for name, _ in values)
            await self.db.execute(
                f"UPDATE subscriptions SET {sets} WHERE chat_id = ?",
                (*(v for _, v in values), chat_id),
            )
        return await self.subscription(chat_id)

    async def due_subscriptions(self, now: datetime, limit: int = 1000) -> list[Subscription]:
        """Return active subscriptions whose digest is due, earliest first."""
        found = await self.db.fetch(
            f"{_SUBSCRIPTIONS} WHERE s.active = 1 AND s.next_due_at <= ? "
            "ORDER BY s.next_due_at LIMIT ?",
            (to_db_time(now), limit),
        )
        return [rows.subscription(r) for r in found]

    async def due_schedules(self, now: datetime, limit: int = 1000) -> list[DueSchedule]:
        """Return the schedules of the active subscriptions due now, each with how many share it.

        A tick queues each schedule's digests in one statement: 50,000 chats due at 08:00 in
        one zone are one schedule, not 50,000 rows read into the process.
        """
        found = await self.db.fetch(
            "SELECT digest_time, time_zone, weekdays_only, next_due_at, count(*) AS chats "
            "FROM subscriptions WHERE active = 1 AND next_due_at <= ? "
            "GROUP BY digest_time, time_zone, weekdays_only, next_due_at "
            "ORDER BY next_due_at LIMIT ?",
            (to_db_time(now), limit),
        )
        return [rows.build(DueSchedule, r) for r in found]

    # --- follows -------------------------------------------------------------------------

    async def follow(
        self, chat_id: int, person_id: int, thread_id: int | None, *, cap: int | None = None
    ) -> bool | None:
        """Follow a person in a chat; False if it was already followed, None (nothing changed)
        when the chat already follows `cap` people."""
        active = await self.db.fetchval(
            "SELECT active FROM follows WHERE chat_id = ? AND person_id = ?", (chat_id, person_id)
        )
        if not active and cap is not None and await self._count(_COUNT_FOLLOWS, chat_id) >= cap:
            return None
        await self.db.execute(
            "INSERT INTO follows (chat_id, person_id, thread_id, active, created_at) "
            "VALUES (?, ?, ?, 1, ?) ON CONFLICT(chat_id, person_id) DO UPDATE SET "
            "active = 1, thread_id = excluded.thread_id",
            (chat_id, person_id, thread_id, to_db_time(now())),
        )
        return not active

    async def _count(self, sql: str, chat_id: int) -> int:
        return int(await self.db.fetchval(sql, (chat_id,)))

    async def unfollow(self, chat_id: int, person_id: int) -> bool:
        """Stop following a person; False if they were not followed."""
        changed = await self.db.execute(
            "DELETE FROM follows WHERE chat_id = ? AND person_id = ?", (chat_id, person_id)
        )
        return changed > 0

    async def followed_people(self, chat_id: int) -> list[Person]:
        """Return the people a chat follows, by name."""
        found = await self.db.fetch(
            "SELECT person_id FROM follows WHERE chat_id = ? AND active = 1", (chat_id,)
        )
        people = await self.people.people_by_ids(r["person_id"] for r in found)
        return sorted(people.values(), key=lambda p: p.name)

    async def follow_keyword(
        self, chat_id: int, keyword: str, thread_id: int | None, *, cap: int | None = None
    ) -> bool | None:
        """Follow a keyword rule ("营商环境 沈阳 -招聘", as news.nlp.keyword_rules writes it); True,
        or None (nothing changed) when the chat already follows `cap` other rules."""
        word = search_form(keyword)
        if cap is not None:
            active = await self.db.fetchval(
                "SELECT active FROM keyword_follows WHERE chat_id = ? AND keyword = ?",
                (chat_id, word),
            )
            if not active and await self._count(_COUNT_WORDS, chat_id) >= cap:
                return None
        await self.db.execute(
            "INSERT INTO keyword_follows (chat_id, keyword, thread_id, active, created_at) "
            "VALUES (?, ?, ?, 1, ?) ON CONFLICT(chat_id, keyword) DO UPDATE SET active = 1",
            (chat_id, word, thread_id, to_db_time(now())),
        )
        return True

    async def unfollow_keyword(self, chat_id: int, keyword: str) -> bool:
        """Stop following a word; False if it was not followed."""
        changed = await self.db.execute(_UNFOLLOW_WORD, (chat_id, search_form(keyword)))
        return changed > 0

    # --- watches: every new article of a source or a region ------------------------------

    async def watch(self, chat_id: int, kind: str, target: str, thread_id: int | None) -> bool:
        """Watch a source or a region in a chat; False if it was already watched."""
        active = await self.db.fetchval(
            "SELECT active FROM watches WHERE chat_id = ? AND kind = ? AND target = ?",
            (chat_id, kind, target),
        )
        await self.db.execute(
            "INSERT INTO watches (chat_id, kind, target, thread_id, active, created_at) "
            "VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT(chat_id, kind, target) DO UPDATE SET "
            "active = 1, thread_id = excluded.thread_id",
            (chat_id, kind, target, thread_id, to_db_time(now())),
        )
        return not active

    async def unwatch(self, chat_id: int, kind: str, target: str) -> bool:
        """Stop watching a source or a region; False if it was not watched."""
        changed = await self.db.execute(
            "DELETE FROM watches WHERE chat_id = ? AND kind = ? AND target = ?",
            (chat_id, kind, target),
        )
        return changed > 0

    async def count_watches(self, chat_id: int) -> int:
        """Return how many sources and regions a chat watches (for the per-chat cap)."""
        total = await self.db.fetchval(
            "SELECT count(*) FROM watches WHERE chat_id = ? AND active = 1", (chat_id,)
        )
        return int(total or 0)

    async def watches(self, chat_id: int) -> list[Watch]:
        """Return a chat's active watches, regions first, then sources, by name."""
        found = await self.db.fetch(
            "SELECT chat_id, kind, target, thread_id FROM watches WHERE chat_id = ? "
            f"AND active = 1 ORDER BY kind DESC, target {self.db.dialect.bytewise}",
            (chat_id,),
        )
        return [rows.build(Watch, r) for r in found]

    async def followed_keywords(self, chat_id: int) -> list[str]:
        """Return the words a chat follows."""
        found = await self.db.fetch(
            "SELECT keyword FROM keyword_follows WHERE chat_id = ? AND active = 1 "
            f"ORDER BY keyword {self.db.dialect.bytewise}",
            (chat_id,),
        )
        return [r["keyword"] for r in found]


async def fold_followed_words(tx: Transaction) -> None:
    """Turn every followed word into search_form (a migration step on either backend)."""
    for row in await tx.fetch("SELECT chat_id, keyword FROM keyword_follows"):
        folded = search_form(row["keyword"])
        if folded != row["keyword"]:
            # A chat that followed both forms (振興 and 振兴) keeps one.
            await tx.execute(
                "INSERT INTO keyword_follows (chat_id, keyword, thread_id, active, created_at) "
                "SELECT chat_id, ?, thread_id, active, created_at FROM keyword_follows "
                "WHERE chat_id = ? AND keyword = ? ON CONFLICT DO NOTHING",
                (folded, row["chat_id"], row["keyword"]),
            )
            await tx.execute(_UNFOLLOW_WORD, (row["chat_id"], row["keyword"]))
