"""The SQLite delivery store: subscriptions, follows, and the once-only delivery ledger."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

import aiosqlite

from news.models import Delivery, Person, Subscription
from storage.base import (
    DELIVERY_COLUMNS,
    SUB_COLUMNS,
    DeliveryStore,
    _delivery,
    _now,
    _subscription,
    subscription_values,
    to_db_time,
)
from storage.search import search_form

# A row is open when it waits to be sent, or was being sent by a process whose lease ran out
# (it died, or a restart found it): such a row is sent again, at most once more.
_OPEN_WHERE = (
    "(status = 'pending' OR (status = 'sending' AND (lease_until IS NULL OR lease_until < ?)))"
)


class SqliteDatabase(Protocol):
    """What the delivery store needs of the SqliteStore whose connection it shares.

    Typed here, not imported: storage.store builds the delivery store, so importing it back
    would make the two modules a cycle.
    """

    _db: aiosqlite.Connection

    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

    async def _write(self, sql: str, params: Iterable[Any] = ()) -> tuple[int, int | None]: ...

    async def _write_returning(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]: ...

    async def _fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]: ...

    async def _fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None: ...

    async def people_by_ids(self, person_ids: Iterable[int]) -> dict[int, Person]: ...


class SqliteDeliveryStore(DeliveryStore):
    """Typed access to subscriptions, follows and the delivery ledger, over the Store's database."""

    def __init__(self, store: SqliteDatabase) -> None:
        self.store = store

    @property
    def _db(self) -> aiosqlite.Connection:
        return self.store._db

    # --- subscriptions -------------------------------------------------------------------

    async def subscribe(
        self,
        chat_id: int,
        digest_time: str,
        time_zone: str,
        next_due_at: datetime,
        thread_id: int | None,
    ) -> Subscription:
        """Create or update a chat's daily digest and make it active."""
        now = to_db_time(_now())
        await self.store._write(
            "INSERT INTO subscriptions (chat_id, thread_id, digest_time, time_zone, next_due_at,"
            " active, not_found, created_at) VALUES (?, ?, ?, ?, ?, 1, 0, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET thread_id = excluded.thread_id, "
            "digest_time = excluded.digest_time, time_zone = excluded.time_zone, "
            "next_due_at = excluded.next_due_at, active = 1, not_found = 0",
            (chat_id, thread_id, digest_time, time_zone, to_db_time(next_due_at), now),
        )
        found = await self.subscription(chat_id)
        assert found is not None
        return found

    async def subscription(self, chat_id: int) -> Subscription | None:
        """Return a chat's digest subscription (active or not), or None."""
        rows = await self.store._fetchall(
            f"SELECT {SUB_COLUMNS} FROM subscriptions s LEFT JOIN chats c ON c.id = s.chat_id "
            "WHERE s.chat_id = ?",
            (chat_id,),
        )
        return _subscription(rows[0]) if rows else None

    async def unsubscribe(self, chat_id: int) -> bool:
        """Stop a chat's digest; return whether there was an active one."""
        rowcount, _ = await self.store._write(
            "UPDATE subscriptions SET active = 0 WHERE chat_id = ? AND active = 1", (chat_id,)
        )
        changed = rowcount > 0
        return changed

    async def update_subscription(self, chat_id: int, **fields: Any) -> Subscription | None:
        """Change some settings of a subscription (time, zone, next due, channels, empty)."""
        sets: list[str] = []
        params: list[Any] = []
        for name, value in subscription_values(fields):
            sets.append(f"{name} = ?")
            params.append(value)
        if sets:
            await self.store._write(
                f"UPDATE subscriptions SET {', '.join(sets)} WHERE chat_id = ?", (*params, chat_id)
            )
        return await self.subscription(chat_id)

    async def due_subscriptions(self, now: datetime, limit: int = 1000) -> list[Subscription]:
        """Return active subscriptions whose digest is due, earliest first."""
        rows = await self.store._fetchall(
            f"SELECT {SUB_COLUMNS} FROM subscriptions s LEFT JOIN chats c ON c.id = s.chat_id "
            "WHERE s.active = 1 AND s.next_due_at <= ? ORDER BY s.next_due_at LIMIT ?",
            (to_db_time(now), limit),
        )
        return [_subscription(r) for r in rows]

    async def schedule_digest(
        self,
        subscription: Subscription,
        *,
        key: str,
        next_due_at: datetime,
        payload: dict[str, Any],
        status: str = "pending",
    ) -> bool:
        """Record a due digest in the ledger and move the subscription on, in one transaction.

        Returns False when the ledger already holds this digest (it is never made twice).
        """
        now = to_db_time(_now())
        async with self.store.transaction() as db:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO deliveries (chat_id, kind, key, status, payload, thread_id,"
                " created_at, updated_at) VALUES (?, 'digest', ?, ?, ?, ?, ?, ?)",
                (
                    subscription.chat_id,
                    key,
                    status,
                    json.dumps(payload),
                    subscription.thread_id,
                    now,
                    now,
                ),
            )
            created = cursor.rowcount > 0
            await cursor.close()
            await db.execute(
                "UPDATE subscriptions SET next_due_at = ? WHERE chat_id = ? AND next_due_at = ?",
                (
                    to_db_time(next_due_at),
                    subscription.chat_id,
                    to_db_time(subscription.next_due_at),
                ),
            )
        return created

    async def add_manual_digest(
        self, chat_id: int, key: str, payload: dict[str, Any], thread_id: int | None
    ) -> bool:
        """Record an admin's /digest_now in the ledger; False if that key exists."""
        now = to_db_time(_now())
        rowcount, _ = await self.store._write(
            "INSERT OR IGNORE INTO deliveries (chat_id, kind, key, status, payload, thread_id,"
            " created_at, updated_at) VALUES (?, 'digest', ?, 'pending', ?, ?, ?, ?)",
            (chat_id, key, json.dumps(payload), thread_id, now, now),
        )
        created = rowcount > 0
        return created

    # --- follows -------------------------------------------------------------------------

    async def follow(self, chat_id: int, person_id: int, thread_id: int | None) -> bool:
        """Follow a person in a chat; False if it was already followed."""
        existing = await self.store._fetchone(
            "SELECT active FROM follows WHERE chat_id = ? AND person_id = ?", (chat_id, person_id)
        )
        await self.store._write(
            "INSERT INTO follows (chat_id, person_id, thread_id, active, created_at) "
            "VALUES (?, ?, ?, 1, ?) ON CONFLICT(chat_id, person_id) DO UPDATE SET "
            "active = 1, thread_id = excluded.thread_id",
            (chat_id, person_id, thread_id, to_db_time(_now())),
        )
        return existing is None or not existing[0]

    async def unfollow(self, chat_id: int, person_id: int) -> bool:
        """Stop following a person; False if they were not followed."""
        rowcount, _ = await self.store._write(
            "DELETE FROM follows WHERE chat_id = ? AND person_id = ?", (chat_id, person_id)
        )
        changed = rowcount > 0
        return changed

    async def followed_people(self, chat_id: int) -> list[Person]:
        """Return the people a chat follows, by name."""
        rows = await self.store._fetchall(
            "SELECT person_id FROM follows WHERE chat_id = ? AND active = 1", (chat_id,)
        )
        people = await self.store.people_by_ids(r[0] for r in rows)
        return sorted(people.values(), key=lambda p: p.name)

    async def follow_keyword(self, chat_id: int, keyword: str, thread_id: int | None) -> bool:
        """Follow a word in new titles (in search_form, as titles are matched); True."""
        keyword = search_form(keyword)
        await self.store._write(
            "INSERT INTO keyword_follows (chat_id, keyword, thread_id, active, created_at) "
            "VALUES (?, ?, ?, 1, ?) ON CONFLICT(chat_id, keyword) DO UPDATE SET active = 1",
            (chat_id, keyword, thread_id, to_db_time(_now())),
        )
        return True

    async def unfollow_keyword(self, chat_id: int, keyword: str) -> bool:
        """Stop following a word; False if it was not followed."""
        keyword = search_form(keyword)
        rowcount, _ = await self.store._write(
            "DELETE FROM keyword_follows WHERE chat_id = ? AND keyword = ?", (chat_id, keyword)
        )
        changed = rowcount > 0
        return changed

    async def followed_keywords(self, chat_id: int) -> list[str]:
        """Return the words a chat follows."""
        rows = await self.store._fetchall(
            "SELECT keyword FROM keyword_follows WHERE chat_id = ? AND active = 1 ORDER BY keyword",
            (chat_id,),
        )
        return [r[0] for r in rows]

    async def enqueue_alerts(self, batch: int = 500) -> int:
        """Turn articles stored since the last call into pending alerts for their followers.

        The cursor and the alerts move in one transaction, so a crash repeats nothing and
        loses nothing. The first call only sets the cursor: no alerts for the back catalogue.
        """
        now = to_db_time(_now())
        async with self.store.transaction() as db:
            async with db.execute("SELECT last_article_id FROM alert_cursor WHERE id = 1") as cur:
                row = await cur.fetchone()
            async with db.execute("SELECT coalesce(max(id), 0) FROM articles") as cur:
                top_row = await cur.fetchone()
            top = int(top_row[0]) if top_row else 0
            if row is None:
                await db.execute(
                    "INSERT INTO alert_cursor (id, last_article_id) VALUES (1, ?)", (top,)
                )
                return 0
            start = int(row[0])
            end = min(top, start + batch)
            if end <= start:
                return 0
            created = 0
            for sql in (
                # Followed people who spoke in the new articles.
                "INSERT OR IGNORE INTO deliveries (chat_id, kind, key, status, payload, "
                "thread_id, created_at, updated_at) "
                "SELECT DISTINCT f.chat_id, 'alert', CAST(m.article_id AS TEXT), 'pending', "
                "json_object('article_id', m.article_id), f.thread_id, ?, ? "
                "FROM mentions m JOIN follows f ON f.person_id = m.person_id AND f.active = 1 "
                # `+m.role`: without it SQLite reads every 'spoke' row of mentions_by_date
                # (2 s at 10,000,000 mentions, inside the write transaction) instead of the
                # new articles' few rows by primary key.
                "WHERE +m.role = 'spoke' AND m.article_id > ? AND m.article_id <= ?",
                # Followed words in the new titles.
                "INSERT OR IGNORE INTO deliveries (chat_id, kind, key, status, payload, "
                "thread_id, created_at, updated_at) "
                "SELECT DISTINCT k.chat_id, 'alert', CAST(a.id AS TEXT), 'pending', "
                "json_object('article_id', a.id), k.thread_id, ?, ? "
                "FROM articles a JOIN keyword_follows k ON k.active = 1 "
                "AND instr(lower(coalesce(a.search_title, a.title)), lower(k.keyword)) > 0 "
                "WHERE a.id > ? AND a.id <= ?",
            ):
                cursor = await db.execute(sql, (now, now, start, end))
                created += max(cursor.rowcount, 0)
                await cursor.close()
            await db.execute("UPDATE alert_cursor SET last_article_id = ? WHERE id = 1", (end,))
        return created

    # --- the ledger ----------------------------------------------------------------------

    async def open_deliveries(
        self, limit: int = 1000, now: datetime | None = None
    ) -> list[Delivery]:
        """Return ledger rows still to send: pending ones, and 'sending' ones whose lease ended."""
        rows = await self.store._fetchall(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE {_OPEN_WHERE} ORDER BY id LIMIT ?",
            (to_db_time(now or _now()), limit),
        )
        return [_delivery(r) for r in rows]

    async def claim_deliveries(
        self, ids: Iterable[int], owner: str, lease_until: datetime, now: datetime | None = None
    ) -> list[Delivery]:
        """Mark open rows 'sending' for this owner until the lease ends; return those it got.

        One UPDATE ... RETURNING: whatever else runs on this database, a row is claimed by one
        process at a time, so it is never sent by two. Each claim counts one attempt.
        """
        wanted = list(ids)
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        stamp = to_db_time(now or _now())
        rows = await self.store._write_returning(
            "UPDATE deliveries SET status = 'sending', lease_owner = ?, lease_until = ?, "
            f"attempts = attempts + 1, updated_at = ? WHERE id IN ({marks}) AND {_OPEN_WHERE} "
            f"RETURNING {DELIVERY_COLUMNS}",
            (owner, to_db_time(lease_until), stamp, *wanted, stamp),
        )
        return sorted((_delivery(r) for r in rows), key=lambda d: d.id)

    async def release_deliveries(
        self, ids: Iterable[int], owner: str, error: str = "", *, refund_attempt: bool = False
    ) -> None:
        """Put this owner's claimed rows back to 'pending' (flood control, an outage, a move).

        With refund_attempt the claim's attempt is given back: Telegram being out of reach is
        an outage, not a failure of the message.
        """
        wanted = list(ids)
        if not wanted:
            return
        marks = ",".join("?" * len(wanted))
        refund = ", attempts = max(attempts - 1, 0)" if refund_attempt else ""
        await self.store._write(
            "UPDATE deliveries SET status = 'pending', lease_owner = '', lease_until = NULL, "
            f"error = ?, updated_at = ?{refund} WHERE id IN ({marks}) AND status = 'sending' "
            "AND lease_owner = ?",
            (error[:300], to_db_time(_now()), *wanted, owner),
        )

    async def save_parts(self, delivery_id: int, parts: list[str]) -> None:
        """Keep a digest's composed messages, so a resumed send sends the same parts."""
        await self.store._write(
            "UPDATE deliveries SET parts = ? WHERE id = ? AND parts IS NULL",
            (json.dumps(parts, ensure_ascii=False), delivery_id),
        )

    async def record_parts_sent(self, delivery_id: int, count: int) -> None:
        """Record that the first `count` parts of a digest have gone out."""
        await self.store._write(
            "UPDATE deliveries SET parts_sent = ? WHERE id = ? AND parts_sent < ?",
            (count, delivery_id, count),
        )

    async def reclaim_interrupted(self) -> int:
        """End every lease on rows left 'sending' (by a process known to be gone); return how many.

        Only for a store one bot holds alone (the SQLite bot lock): those rows are sent again at
        once instead of after their lease.
        """
        rowcount, _ = await self.store._write(
            "UPDATE deliveries SET lease_until = NULL WHERE status = 'sending'"
        )
        return rowcount

    async def mark_deliveries(
        self, ids: Iterable[int], status: str, error: str = "", *, count_attempt: bool = False
    ) -> None:
        """Move ledger rows to a new status (sent, failed, skipped, pending) and commit."""
        wanted = list(ids)
        if not wanted:
            return
        marks = ",".join("?" * len(wanted))
        attempt = ", attempts = attempts + 1" if count_attempt else ""
        await self.store._write(
            f"UPDATE deliveries SET status = ?, error = ?, updated_at = ?{attempt} "
            f"WHERE id IN ({marks})",
            (status, error[:300], to_db_time(_now()), *wanted),
        )

    # --- leases --------------------------------------------------------------------------

    async def take_lease(
        self, name: str, owner: str, until: datetime, now: datetime | None = None
    ) -> bool:
        """Take or renew the named lease until `until`; False while another owner holds it."""
        rows = await self.store._write_returning(
            "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
            "expires_at = excluded.expires_at "
            "WHERE leases.owner = excluded.owner OR leases.expires_at < ? RETURNING owner",
            (name, owner, to_db_time(until), to_db_time(now or _now())),
        )
        return bool(rows)

    async def release_lease(self, name: str, owner: str) -> None:
        """Give up the named lease if this owner holds it."""
        await self.store._write("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    async def lease_holder(self, name: str, now: datetime | None = None) -> str | None:
        """Return who holds the named lease now (host:pid:tag), or None if nobody does."""
        row = await self.store._fetchone(
            "SELECT owner FROM leases WHERE name = ? AND expires_at >= ?",
            (name, to_db_time(now or _now())),
        )
        return str(row[0]) if row else None

    async def finish_digest(self, delivery_id: int, chat_id: int, until: datetime | None) -> None:
        """Mark a digest sent and start the chat's next digest where this one ended."""
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE deliveries SET status = 'sent', updated_at = ? WHERE id = ?",
                (to_db_time(_now()), delivery_id),
            )
            if until is not None:
                await db.execute(
                    "UPDATE subscriptions SET since_at = ?, not_found = 0 WHERE chat_id = ? "
                    "AND (since_at IS NULL OR since_at < ?)",
                    (to_db_time(until), chat_id, to_db_time(until)),
                )

    async def deactivate_chat(self, chat_id: int, reason: str) -> None:
        """Stop every push to a chat (it blocked or removed the bot) and close its open rows."""
        async with self.store.transaction() as db:
            await db.execute("UPDATE subscriptions SET active = 0 WHERE chat_id = ?", (chat_id,))
            await db.execute("UPDATE follows SET active = 0 WHERE chat_id = ?", (chat_id,))
            await db.execute("UPDATE keyword_follows SET active = 0 WHERE chat_id = ?", (chat_id,))
            await db.execute(
                "UPDATE deliveries SET status = 'failed', error = ?, updated_at = ? "
                "WHERE chat_id = ? AND status IN ('pending', 'sending')",
                (reason[:300], to_db_time(_now()), chat_id),
            )
            await db.execute(
                "UPDATE chats SET blocked_at = ? WHERE id = ?", (to_db_time(_now()), chat_id)
            )

    async def note_chat_not_found(self, chat_id: int) -> int:
        """Count a "chat not found" answer; return how many in a row."""
        await self.store._write(
            "UPDATE subscriptions SET not_found = not_found + 1 WHERE chat_id = ?", (chat_id,)
        )
        row = await self.store._fetchone(
            "SELECT not_found FROM subscriptions WHERE chat_id = ?", (chat_id,)
        )
        return int(row[0]) if row else 1

    async def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Move a chat's subscriptions, follows and open deliveries to its new (supergroup) id."""
        async with self.store.transaction() as db:
            for table in ("subscriptions", "follows", "keyword_follows"):
                await db.execute(
                    f"UPDATE OR REPLACE {table} SET chat_id = ? WHERE chat_id = ?", (new_id, old_id)
                )
            await db.execute(
                "UPDATE OR IGNORE deliveries SET chat_id = ? WHERE chat_id = ? "
                "AND status IN ('pending', 'sending')",
                (new_id, old_id),
            )
            await db.execute(
                "INSERT OR IGNORE INTO chats (id, type, language, time_zone, created_at) "
                "SELECT ?, 'supergroup', language, time_zone, created_at FROM chats WHERE id = ?",
                (new_id, old_id),
            )

    async def delivery_status(self, chat_id: int, kind: str, key: str) -> str | None:
        """Return the ledger status of one delivery, or None if there is no such row."""
        row = await self.store._fetchone(
            "SELECT status FROM deliveries WHERE chat_id = ? AND kind = ? AND key = ?",
            (chat_id, kind, key),
        )
        return row[0] if row else None

    async def delivery_counts(self) -> dict[str, int]:
        """Return how many ledger rows are in each status."""
        rows = await self.store._fetchall("SELECT status, count(*) FROM deliveries GROUP BY status")
        return {r[0]: r[1] for r in rows}

    async def articles_between(
        self, since: datetime, until: datetime, channels: tuple[str, ...] = (), limit: int = 200
    ) -> list[int]:
        """Return ids of articles fetched in [since, until) (optionally of some sources)."""
        params: list[Any] = [to_db_time(since), to_db_time(until)]
        where = "fetched_at >= ? AND fetched_at < ?"
        if channels:
            where += f" AND source_name IN ({','.join('?' * len(channels))})"
            params.extend(channels)
        rows = await self.store._fetchall(
            f"SELECT id FROM articles WHERE {where} ORDER BY published_at DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [r[0] for r in rows]
