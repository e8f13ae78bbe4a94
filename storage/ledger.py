"""The once-only delivery ledger: digests and alerts as rows, claimed under a lease, sent once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from news.models import Delivery, DueSchedule, KeywordRule, Subscription
from news.nlp.fold import search_form
from storage import rows
from storage.database import Database, Transaction
from storage.rows import DELIVERY_COLUMNS, to_db_time

# How long before the alert cursor last moved an article may have been published and still
# alert: sites post some articles hours after their date, and a date-only page says midnight.
ALERT_GRACE = timedelta(days=1)
# A row is open when it waits to be sent, or was being sent by a process whose lease ran out
# (it died, or stopped mid-send): such a row is sent again, at most once more.
_OPEN_WHERE = (
    "(status = 'pending' OR (status = 'sending' AND (lease_until IS NULL OR lease_until < ?)))"
)
_INSERT_DIGEST = (
    "INSERT INTO deliveries (chat_id, kind, key, status, payload, thread_id, created_at, "
    "updated_at) VALUES (?, 'digest', ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
# The states a row leaves again; a row in any other (sent, failed, skipped) is settled for good.
OPEN_STATUSES = ("pending", "sending")
OPEN_STATES = "('pending', 'sending')"
_INSERT_ROWS = (
    "INSERT INTO deliveries (chat_id, kind, key, status, payload, thread_id, created_at, "
    "updated_at) VALUES {values} ON CONFLICT DO NOTHING"
)
# Rows a multi-row INSERT carries: 8 parameters each, well under either backend's limit.
INSERT_CHUNK = 500
# The alert statement every watch and follow shares, from the articles in the cursor's range.
_ALERT_COLUMNS = (
    "INSERT INTO deliveries (chat_id, kind, key, status, payload, "
    "thread_id, created_at, updated_at) "
)

# Watches of a source (target a.source_name) or of a region (target its name, sources among).
# Keyed by the story (its first copy's id, which is what follows and keywords key by): a chat
# watching two outlets, or a region, is told of a story once, by one of the copies it watches.
_WATCH_ALERTS = (
    _ALERT_COLUMNS + "SELECT DISTINCT w.chat_id, 'alert', "
    "CAST(coalesce(a.story_id, a.id) AS TEXT), 'pending', {payload}, w.thread_id, ?, ? "
    "FROM articles a JOIN watches w ON w.kind = {kind} "
    "AND w.target = {target} AND w.active = 1 WHERE a.id > ? AND a.id <= ? "
    "AND a.published_at >= w.created_at AND a.published_at >= ? AND {among} "
    "ON CONFLICT DO NOTHING"
)


class Ledger:
    """Every push the bot owes a chat, from queued to sent, failed or skipped."""

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
        """Record one chat's due digest and move its subscription on, in one transaction.

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

    async def schedule_due_digests(
        self,
        schedule: DueSchedule,
        *,
        key: str,
        next_due_at: datetime,
        first_since: datetime,
        until: datetime,
        status: str = "pending",
    ) -> int:
        """Queue the digest of every subscription due on one schedule, and move them on.

        One INSERT … SELECT and one UPDATE in one transaction, however many chats share the
        schedule. Each digest's window starts where the chat's last one ended (first_since
        for a chat that had none). Returns how many digests were new to the ledger.
        """
        stamp = to_db_time(rows.now())
        where = (
            "active = 1 AND digest_time = ? AND time_zone = ? AND weekdays_only = ? "
            "AND next_due_at = ?"
        )
        match = (
            schedule.digest_time,
            schedule.time_zone,
            int(schedule.weekdays_only),
            to_db_time(schedule.next_due_at),
        )
        async with self.db.transaction() as tx:
            created = await tx.execute(
                "INSERT INTO deliveries (chat_id, kind, key, status, payload, thread_id, "
                "created_at, updated_at) SELECT chat_id, 'digest', ?, ?, "
                """'{"since": "' || coalesce(since_at, ?) || '", "until": "' || ? || '"}', """
                f"thread_id, ?, ? FROM subscriptions WHERE {where} ON CONFLICT DO NOTHING",
                (key, status, to_db_time(first_since), to_db_time(until), stamp, stamp, *match),
            )
            await tx.execute(
                f"UPDATE subscriptions SET next_due_at = ? WHERE {where}",
                (to_db_time(next_due_at), *match),
            )
        return created

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
                    "updated_at) VALUES (?, 'admin_notice', ?, 'pending', ?, ?, ?) "
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

    async def enqueue_alerts(
        self, batch: int = 500, regions: Mapping[str, Sequence[str]] | None = None
    ) -> int:
        """Turn articles stored since the last call into pending alerts for their followers.

        Followers are chats following a leader who spoke, a keyword rule the article meets,
        or watching its source or its region (`regions`: each region's source names). The
        cursor and the alerts move in one transaction, so a crash repeats nothing and loses
        nothing; where rows can be locked the cursor row is, so two instances never take the
        same batch. The first call only sets the cursor: no alerts for the back catalogue.
        History is silent: an article alerts only if it was published after the chat began to
        follow (or watch), and no more than ALERT_GRACE before the cursor last moved (a
        backfill stores years-old articles; a site that posts an article a few hours late
        still alerts).
        """
        dialect = self.db.dialect
        clock = rows.now()
        stamp = to_db_time(clock)
        async with self.db.transaction() as tx:
            cursor = await tx.fetchone(
                "SELECT last_article_id, moved_at FROM alert_cursor "
                f"WHERE id = 1{dialect.for_update}"
            )
            top = int(await tx.fetchval("SELECT coalesce(max(id), 0) FROM articles"))
            if cursor is None:
                await tx.execute(
                    "INSERT INTO alert_cursor (id, last_article_id, moved_at) VALUES (1, ?, ?) "
                    "ON CONFLICT (id) DO NOTHING",
                    (top, stamp),
                )
                return 0
            start = int(cursor["last_article_id"])
            end = min(top, start + batch)
            if end <= start:
                return 0
            moved = rows.opt_time(cursor["moved_at"]) or clock
            fresh = to_db_time(moved - ALERT_GRACE)
            by_mention = dialect.json_object("'article_id'", "m.article_id")
            by_article = dialect.json_object("'article_id'", "a.id")
            created = 0
            for sql in (
                # Followed people who spoke in the new articles. The role unindexed: by the
                # (role, date) index SQLite would read every speech inside this write
                # transaction, instead of the new articles' few mentions by primary key.
                _ALERT_COLUMNS + "SELECT DISTINCT f.chat_id, 'alert', CAST(m.article_id AS TEXT), "
                f"'pending', {by_mention}, f.thread_id, ?1, ?1 "
                "FROM mentions m JOIN follows f ON f.person_id = m.person_id AND f.active = 1 "
                f"WHERE {dialect.unindexed('m.role')} = 'spoke' "
                "AND m.article_id > ?2 AND m.article_id <= ?3 "
                "AND m.published_at >= f.created_at AND m.published_at >= ?4 "
                "ON CONFLICT DO NOTHING",
            ):
                created += await tx.execute(sql, (stamp, start, end, fresh))
            # Watched sources.
            created += await tx.execute(
                _WATCH_ALERTS.format(
                    payload=by_article, kind="'source'", target="a.source_name", among="TRUE"
                ),
                (stamp, stamp, start, end, fresh),
            )
            created += await self._region_alerts(tx, regions or {}, stamp, start, end, fresh)
            created += await self._keyword_alerts(tx, stamp, start, end, fresh)
            await tx.execute(
                "UPDATE alert_cursor SET last_article_id = ?, moved_at = ? WHERE id = 1",
                (end, stamp),
            )
        return created

    async def _region_alerts(
        self,
        tx: Transaction,
        regions: Mapping[str, Sequence[str]],
        stamp: str,
        start: int,
        end: int,
        fresh: str,
    ) -> int:
        """Queue alerts for chats watching the region of a new article's source."""
        watched = await tx.fetch(
            "SELECT DISTINCT target FROM watches WHERE kind = 'region' AND active = 1"
        )
        by_article = self.db.dialect.json_object("'article_id'", "a.id")
        created = 0
        for row in watched:
            sources = list(regions.get(row["target"], ()))
            if not sources:
                continue
            among, params = self.db.dialect.in_list("a.source_name", sources, "text")
            # The region as a parameter, bound before the range (the statement's order).
            sql = _WATCH_ALERTS.format(payload=by_article, kind="'region'", target="?", among=among)
            created += await tx.execute(
                sql, (stamp, stamp, row["target"], start, end, fresh, *params)
            )
        return created

    async def _keyword_alerts(
        self, tx: Transaction, stamp: str, start: int, end: int, fresh: str
    ) -> int:
        """Queue alerts for keyword rules the new articles meet (matched here, not in SQL).

        A rule is several words that must all appear and words that leave an article out,
        in the title or (a chat's setting) the body too: one pass over the batch's folded
        text serves every rule, which no single SQL expression does on both backends.
        """
        follows = await tx.fetch(
            "SELECT k.chat_id, k.keyword, k.thread_id, k.created_at, "
            "coalesce(c.keyword_body, 0) AS in_body "
            "FROM keyword_follows k LEFT JOIN chats c ON c.id = k.chat_id WHERE k.active = 1"
        )
        if not follows:
            return 0
        # History is silent, as for the other alerts (times compare as their UTC text).
        articles = [
            (
                r["id"],
                r["published_at"],
                search_form(r["title"]).lower(),
                search_form(r["body"]).lower(),
            )
            for r in await tx.fetch(
                "SELECT id, published_at, title, body FROM articles "
                "WHERE id > ? AND id <= ? AND published_at >= ? AND story_id IS NULL",
                (start, end, fresh),
            )
        ]
        rules = {text: KeywordRule.stored(text) for text in {r["keyword"] for r in follows}}
        records: list[tuple[Any, ...]] = []
        for article_id, published, title, body in articles:
            payload = json.dumps({"article_id": article_id})
            seen: set[int] = set()
            for follow in follows:
                chat_id = int(follow["chat_id"])
                if chat_id in seen or published < follow["created_at"]:
                    continue
                if rules[follow["keyword"]].matches(title, body, in_body=bool(follow["in_body"])):
                    seen.add(chat_id)
                    records.append(
                        (
                            chat_id,
                            "alert",
                            str(article_id),
                            "pending",
                            payload,
                            follow["thread_id"],
                            stamp,
                            stamp,
                        )
                    )
        return await insert_deliveries(tx, records)

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

    async def open_delivery_counts(self) -> tuple[dict[str, int], int | None, int]:
        """Return the open rows (pending, sending) by state, the oldest one's id, the newest id."""
        found = await self.db.fetch(
            "SELECT status, count(*) AS n, min(id) AS oldest FROM deliveries "
            f"WHERE status IN {OPEN_STATES} GROUP BY status"
        )
        newest = await self.db.fetchval("SELECT max(id) FROM deliveries")
        oldest = min((int(r["oldest"]) for r in found), default=None)
        return {r["status"]: int(r["n"]) for r in found}, oldest, int(newest or 0)

    async def settled_delivery_counts(self, after_id: int, upto_id: int) -> dict[str, int]:
        """Return the settled rows (sent, failed, skipped) with ids in (after_id, upto_id] by state.

        A range of the primary key: a caller that keeps the counts below a mark reads only the
        rows after it, not a year of digests at every scrape.
        """
        found = await self.db.fetch(
            "SELECT status, count(*) AS n FROM deliveries WHERE id > ? AND id <= ? "
            f"AND status NOT IN {OPEN_STATES} GROUP BY status",
            (after_id, upto_id),
        )
        return {r["status"]: int(r["n"]) for r in found}

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

    async def deactivate_chat(self, chat_id: int, reason: str) -> int:
        """Stop every push to a chat (it blocked or removed the bot) and close its open rows.

        For a channel, the users who set it up are told once, through the ledger: a notice
        each, written in the same transaction. Returns how many notices were queued.
        """
        stamp = to_db_time(rows.now())
        async with self.db.transaction() as tx:
            for table in PUSH_TABLES:
                await tx.execute(f"UPDATE {table} SET active = 0 WHERE chat_id = ?", (chat_id,))
            await tx.execute(
                "UPDATE deliveries SET status = 'failed', error = ?, updated_at = ? "
                "WHERE chat_id = ? AND status IN ('pending', 'sending')",
                (reason[:300], stamp, chat_id),
            )
            # Only the first stop of a chat still served tells anyone: "told once".
            stopped = await tx.fetch(
                "UPDATE chats SET blocked_at = ? WHERE id = ? AND blocked_at IS NULL "
                "RETURNING type, title",
                (stamp, chat_id),
            )
            if not stopped or stopped[0]["type"] != "channel":
                return 0
            managers = await tx.fetch(
                "SELECT user_id FROM channel_managers WHERE channel_id = ?", (chat_id,)
            )
            payload = json.dumps(
                {"channel": chat_id, "title": stopped[0]["title"], "reason": reason[:200]},
                ensure_ascii=False,
            )
            key = f"channel-stopped:{chat_id}:{stamp}"
            return await insert_deliveries(
                tx,
                [
                    (m["user_id"], "notice", key, "pending", payload, None, stamp, stamp)
                    for m in managers
                ],
            )

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
            for table, key in (
                ("follows", "person_id"),
                ("keyword_follows", "keyword"),
                ("watches", "kind || ':' || target"),
            ):
                await tx.execute(
                    f"DELETE FROM {table} WHERE chat_id = ?2 "
                    f"AND {key} IN (SELECT {key} FROM {table} WHERE chat_id = ?1)",
                    (old_id, new_id),
                )
            for table in PUSH_TABLES:
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


# Every table of pushes to a chat: stopped together, moved together.
PUSH_TABLES = ("subscriptions", "follows", "keyword_follows", "watches")


async def insert_deliveries(tx: Transaction, records: Sequence[Sequence[Any]]) -> int:
    """Insert ledger rows (chat_id, kind, key, status, payload, thread_id, created, updated).

    Many rows to a statement: a tick that queues 50,000 digests makes 100 round trips, not
    50,000. A row the ledger already holds (same chat, kind and key) is left as it is.
    """
    created = 0
    for start in range(0, len(records), INSERT_CHUNK):
        chunk = records[start : start + INSERT_CHUNK]
        values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
        created += await tx.execute(
            _INSERT_ROWS.format(values=values), [v for record in chunk for v in record]
        )
    return created
