"""The once-only delivery ledger: digests and alerts as rows, claimed under a lease, sent once."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from news.models import Delivery, Subscription
from storage import rows
from storage.database import Database
from storage.rows import DELIVERY_COLUMNS, to_db_time

# A row is open when it waits to be sent, or was being sent by a process whose lease ran out
# (it died, or stopped mid-send): such a row is sent again, at most once more.
_OPEN_WHERE = (
    "(status = 'pending' OR (status = 'sending' AND (lease_until IS NULL OR lease_until < ?)))"
)
_INSERT_DIGEST = (
    "INSERT INTO deliveries (chat_id, kind, key, status, payload, thread_id, created_at, "
    "updated_at) VALUES (?, 'digest', ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


class Ledger:
    """Every push the bot owes a chat, from queued to sent, failed or skipped."""

    # The new articles whose folded title holds a followed word, as a FROM clause over
    # `articles a` and `keyword_follows k` (each backend keeps the folded title its own way).
    keyword_titles = (
        "FROM articles a JOIN keyword_follows k ON k.active = 1 "
        "AND instr(lower(coalesce(a.search_title, a.title)), lower(k.keyword)) > 0"
    )

    def __init__(self, db: Database) -> None:
        self.db = db

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
        stamp = to_db_time(rows.now())
        async with self.db.transaction() as tx:
            created = await tx.execute(
                _INSERT_DIGEST,
                (
                    subscription.chat_id,
                    key,
                    status,
                    json.dumps(payload),
                    subscription.thread_id,
                    stamp,
                    stamp,
                ),
            )
            await tx.execute(
                "UPDATE subscriptions SET next_due_at = ? WHERE chat_id = ? AND next_due_at = ?",
                (
                    to_db_time(next_due_at),
                    subscription.chat_id,
                    to_db_time(subscription.next_due_at),
                ),
            )
        return created > 0

    async def add_manual_digest(
        self, chat_id: int, key: str, payload: dict[str, Any], thread_id: int | None
    ) -> bool:
        """Record an admin's /digest_now in the ledger; False if that key exists."""
        stamp = to_db_time(rows.now())
        created = await self.db.execute(
            _INSERT_DIGEST, (chat_id, key, "pending", json.dumps(payload), thread_id, stamp, stamp)
        )
        return created > 0

    async def add_notices(self, chat_ids: Iterable[int], key: str, html: str) -> int:
        """Queue one message (HTML) to each chat, once per key; return how many were new."""
        stamp = to_db_time(rows.now())
        payload = json.dumps({"text": html}, ensure_ascii=False)
        created = 0
        async with self.db.transaction() as tx:
            for chat_id in chat_ids:
                created += await tx.execute(
                    "INSERT INTO deliveries (chat_id, kind, key, status, payload, created_at, "
                    "updated_at) VALUES (?, 'notice', ?, 'pending', ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (chat_id, key, payload, stamp, stamp),
                )
        return created

    async def add_broadcast(self, admin_id: int, html: str) -> tuple[int, int]:
        """Keep an admin's broadcast until confirmed; return its id and how many it reaches."""
        stamp = to_db_time(rows.now())
        broadcast_id = await self.db.fetchval(
            "INSERT INTO broadcasts (admin_id, text, created_at) VALUES (?, ?, ?) RETURNING id",
            (admin_id, html, stamp),
        )
        reach = await self.db.fetchval("SELECT count(*) FROM subscriptions WHERE active = 1")
        return int(broadcast_id), int(reach)

    async def confirm_broadcast(self, broadcast_id: int) -> int | None:
        """Queue a broadcast to every subscribed chat, in one transaction; return how many.

        None when it is unknown or was confirmed already (a second press sends nothing twice).
        """
        stamp = to_db_time(rows.now())
        async with self.db.transaction() as tx:
            found = await tx.fetch(
                "UPDATE broadcasts SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL "
                "RETURNING id",
                (stamp, broadcast_id),
            )
            if not found:
                return None
            payload = json.dumps({"broadcast": broadcast_id})
            count = await tx.execute(
                "INSERT INTO deliveries (chat_id, kind, key, status, payload, thread_id, "
                "created_at, updated_at) SELECT chat_id, 'broadcast', ?, 'pending', ?, "
                "thread_id, ?, ? FROM subscriptions WHERE active = 1 ON CONFLICT DO NOTHING",
                (str(broadcast_id), payload, stamp, stamp),
            )
            await tx.execute(
                "UPDATE broadcasts SET recipients = ? WHERE id = ?", (count, broadcast_id)
            )
        return count

    async def cancel_broadcast(self, broadcast_id: int) -> bool:
        """Forget a broadcast not confirmed yet; False if it was confirmed (or is unknown)."""
        changed = await self.db.execute(
            "DELETE FROM broadcasts WHERE id = ? AND confirmed_at IS NULL", (broadcast_id,)
        )
        return changed > 0

    async def broadcast_text(self, broadcast_id: int) -> str | None:
        """Return a broadcast's HTML, or None."""
        found = await self.db.fetchval("SELECT text FROM broadcasts WHERE id = ?", (broadcast_id,))
        return str(found) if found is not None else None

    async def enqueue_alerts(self, batch: int = 500) -> int:
        """Turn articles stored since the last call into pending alerts for their followers.

        The cursor and the alerts move in one transaction, so a crash repeats nothing and
        loses nothing; where rows can be locked the cursor row is, so two instances never take
        the same batch. The first call only sets the cursor: no alerts for the back catalogue.
        """
        dialect = self.db.dialect
        stamp = to_db_time(rows.now())
        async with self.db.transaction() as tx:
            start = await tx.fetchval(
                f"SELECT last_article_id FROM alert_cursor WHERE id = 1{dialect.for_update}"
            )
            top = int(await tx.fetchval("SELECT coalesce(max(id), 0) FROM articles"))
            if start is None:
                await tx.execute(
                    "INSERT INTO alert_cursor (id, last_article_id) VALUES (1, ?) "
                    "ON CONFLICT (id) DO NOTHING",
                    (top,),
                )
                return 0
            end = min(top, int(start) + batch)
            if end <= start:
                return 0
            by_mention = dialect.json_object("'article_id'", "m.article_id")
            by_article = dialect.json_object("'article_id'", "a.id")
            created = 0
            for sql in (
                # Followed people who spoke in the new articles. The role unindexed: by the
                # (role, date) index SQLite would read every speech inside this write
                # transaction, instead of the new articles' few mentions by primary key.
                "INSERT INTO deliveries (chat_id, kind, key, status, payload, "
                "thread_id, created_at, updated_at) "
                "SELECT DISTINCT f.chat_id, 'alert', CAST(m.article_id AS TEXT), 'pending', "
                f"{by_mention}, f.thread_id, ?, ? "
                "FROM mentions m JOIN follows f ON f.person_id = m.person_id AND f.active = 1 "
                f"WHERE {dialect.unindexed('m.role')} = 'spoke' "
                "AND m.article_id > ? AND m.article_id <= ? ON CONFLICT DO NOTHING",
                # Followed words in the new titles.
                "INSERT INTO deliveries (chat_id, kind, key, status, payload, "
                "thread_id, created_at, updated_at) "
                "SELECT DISTINCT k.chat_id, 'alert', CAST(a.id AS TEXT), 'pending', "
                f"{by_article}, k.thread_id, ?, ? "
                f"{self.keyword_titles} WHERE a.id > ? AND a.id <= ? ON CONFLICT DO NOTHING",
            ):
                created += await tx.execute(sql, (stamp, stamp, start, end))
            await tx.execute("UPDATE alert_cursor SET last_article_id = ? WHERE id = 1", (end,))
        return created

    async def open_deliveries(
        self, limit: int = 1000, now: datetime | None = None
    ) -> list[Delivery]:
        """Return ledger rows still to send: pending ones, and 'sending' ones whose lease ended."""
        found = await self.db.fetch(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE {_OPEN_WHERE} ORDER BY id LIMIT ?",
            (to_db_time(now or rows.now()), limit),
        )
        return [rows.delivery(r) for r in found]

    async def claim_deliveries(
        self, ids: Iterable[int], owner: str, lease_until: datetime, now: datetime | None = None
    ) -> list[Delivery]:
        """Mark open rows 'sending' for this owner until the lease ends; return those it got.

        One UPDATE … RETURNING whose rows are checked open again as they are written (and,
        where rows can be locked, skipped while another instance claims them): a row is
        claimed by one process at a time, so it is never sent by two. Each claim counts one
        attempt.
        """
        wanted = list(ids)
        if not wanted:
            return []
        among, params = self.db.dialect.in_list("id", wanted, "bigint")
        stamp = to_db_time(now or rows.now())
        found = await self.db.fetch(
            "UPDATE deliveries SET status = 'sending', lease_owner = ?, lease_until = ?, "
            "attempts = attempts + 1, updated_at = ? WHERE id IN (SELECT id FROM deliveries "
            f"WHERE {among} AND {_OPEN_WHERE}{self.db.dialect.skip_locked}) "
            f"RETURNING {DELIVERY_COLUMNS}",
            (owner, to_db_time(lease_until), stamp, *params, stamp),
        )
        return sorted((rows.delivery(r) for r in found), key=lambda d: d.id)

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
        among, params = self.db.dialect.in_list("id", wanted, "bigint")
        refund = (
            f", attempts = {self.db.dialect.greatest('attempts - 1', '0')}"
            if refund_attempt
            else ""
        )
        await self.db.execute(
            "UPDATE deliveries SET status = 'pending', lease_owner = '', lease_until = NULL, "
            f"error = ?, updated_at = ?{refund} WHERE {among} AND status = 'sending' "
            "AND lease_owner = ?",
            (error[:300], to_db_time(rows.now()), *params, owner),
        )

    async def mark_deliveries(
        self, ids: Iterable[int], status: str, error: str = "", *, count_attempt: bool = False
    ) -> None:
        """Move ledger rows to a new status (sending, sent, failed, skipped) and commit."""
        wanted = list(ids)
        if not wanted:
            return
        among, params = self.db.dialect.in_list("id", wanted, "bigint")
        attempt = ", attempts = attempts + 1" if count_attempt else ""
        await self.db.execute(
            f"UPDATE deliveries SET status = ?, error = ?, updated_at = ?{attempt} WHERE {among}",
            (status, error[:300], to_db_time(rows.now()), *params),
        )

    async def save_parts(self, delivery_id: int, parts: list[str]) -> None:
        """Keep a digest's composed messages, so a resumed send sends the same parts."""
        await self.db.execute(
            "UPDATE deliveries SET parts = ? WHERE id = ? AND parts IS NULL",
            (json.dumps(parts, ensure_ascii=False), delivery_id),
        )

    async def record_parts_sent(self, delivery_id: int, count: int) -> None:
        """Record that the first `count` parts of a digest have gone out."""
        await self.db.execute(
            "UPDATE deliveries SET parts_sent = ? WHERE id = ? AND parts_sent < ?",
            (count, delivery_id, count),
        )

    async def reclaim_interrupted(self) -> int:
        """End every lease on rows left 'sending' (by a process known to be gone); return how many.

        Only for a store one bot holds alone (the SQLite bot lock): those rows are sent again
        at once instead of after their lease. On a shared database other instances may be
        sending them right now, so `newsbot run` never calls this there.
        """
        return await self.db.execute(
            "UPDATE deliveries SET lease_until = NULL WHERE status = 'sending'"
        )

    async def finish_digest(self, delivery_id: int, chat_id: int, until: datetime | None) -> None:
        """Mark a digest sent and start the chat's next digest where this one ended."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE deliveries SET status = 'sent', updated_at = ? WHERE id = ?",
                (to_db_time(rows.now()), delivery_id),
            )
            if until is not None:
                await tx.execute(
                    "UPDATE subscriptions SET since_at = ?1, not_found = 0 WHERE chat_id = ?2 "
                    "AND (since_at IS NULL OR since_at < ?1)",
                    (to_db_time(until), chat_id),
                )

    async def delivery_status(self, chat_id: int, kind: str, key: str) -> str | None:
        """Return the ledger status of one delivery, or None if there is no such row."""
        status = await self.db.fetchval(
            "SELECT status FROM deliveries WHERE chat_id = ? AND kind = ? AND key = ?",
            (chat_id, kind, key),
        )
        return str(status) if status is not None else None

    async def delivery_counts(self) -> dict[str, int]:
        """Return how many ledger rows are in each status."""
        found = await self.db.fetch("SELECT status, count(*) AS n FROM deliveries GROUP BY status")
        return {r["status"]: int(r["n"]) for r in found}

    # --- chats that left or moved: what Telegram's answers to a send tell ----------------

    async def note_chat_not_found(self, chat_id: int) -> int:
        """Count a "chat not found" answer; return how many in a row."""
        n = await self.db.fetchval(
            "UPDATE subscriptions SET not_found = not_found + 1 WHERE chat_id = ? "
            "RETURNING not_found",
            (chat_id,),
        )
        return int(n) if n is not None else 1

    async def deactivate_chat(self, chat_id: int, reason: str) -> None:
        """Stop every push to a chat (it blocked or removed the bot) and close its open rows."""
        stamp = to_db_time(rows.now())
        async with self.db.transaction() as tx:
            for table in ("subscriptions", "follows", "keyword_follows"):
                await tx.execute(f"UPDATE {table} SET active = 0 WHERE chat_id = ?", (chat_id,))
            await tx.execute(
                "UPDATE deliveries SET status = 'failed', error = ?, updated_at = ? "
                "WHERE chat_id = ? AND status IN ('pending', 'sending')",
                (reason[:300], stamp, chat_id),
            )
            await tx.execute("UPDATE chats SET blocked_at = ? WHERE id = ?", (stamp, chat_id))

    async def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Move a chat's subscriptions, follows and open deliveries to its new (supergroup) id.

        Where the new id already has a subscription or follow, the old chat's wins; where it
        already has a delivery of the same key, that one stays with the old id.
        """
        async with self.db.transaction() as tx:
            await tx.execute(
                "DELETE FROM subscriptions WHERE chat_id = ?2 "
                "AND EXISTS (SELECT 1 FROM subscriptions WHERE chat_id = ?1)",
                (old_id, new_id),
            )
            for table, key in (("follows", "person_id"), ("keyword_follows", "keyword")):
                await tx.execute(
                    f"DELETE FROM {table} WHERE chat_id = ?2 "
                    f"AND {key} IN (SELECT {key} FROM {table} WHERE chat_id = ?1)",
                    (old_id, new_id),
                )
            for table in ("subscriptions", "follows", "keyword_follows"):
                await tx.execute(
                    f"UPDATE {table} SET chat_id = ?2 WHERE chat_id = ?1", (old_id, new_id)
                )
            await tx.execute(
                "UPDATE deliveries SET chat_id = ?2 WHERE chat_id = ?1 "
                "AND status IN ('pending', 'sending') AND NOT EXISTS (SELECT 1 FROM deliveries e "
                "WHERE e.chat_id = ?2 AND e.kind = deliveries.kind AND e.key = deliveries.key)",
                (old_id, new_id),
            )
            await tx.execute(
                "INSERT INTO chats (id, type, language, time_zone, created_at) "
                "SELECT ?2, 'supergroup', language, time_zone, created_at FROM chats "
                "WHERE id = ?1 ON CONFLICT DO NOTHING",
                (old_id, new_id),
            )
