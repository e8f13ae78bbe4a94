"""The SQLite backend of the store contract: typed async methods over aiosqlite."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from news.models import (
    Appearance,
    Article,
    ArticleAnalysis,
    Chat,
    Headline,
    Link,
    ParsedArticle,
    PeriodCount,
    Person,
    SearchHit,
    SourceStatus,
    Statement,
    StoreOutcome,
)
from storage import search_keys
from storage.base import (
    ARTICLE_COLUMNS,
    HEADLINE_COLUMNS,
    PERSON_COLUMNS,
    RELEVANCE_CAP,
    ROLE_ORDER,
    SEARCH_COUNT_CAP,
    TOP_SPEAKERS_CAP,
    Store,
    StoreError,
    StoreUnavailable,
    _activity_counts,
    _article_from_row,
    _chat_from_row,
    _cut_days,
    _headline_from_row,
    _last_title,
    _now,
    _period_case,
    _person_from_row,
    _related_links,
    _single_titles,
    _source_status,
    from_db_time,
    to_db_time,
)
from storage.delivery import SqliteDeliveryStore
from storage.schema import LEAN_SEARCH, MIGRATIONS, REINDEX_FOLDED_SEARCH, SCHEMA_VERSION
from storage.search import (
    gram_query,
    index_grams,
    long_word_query,
    search_form,
    stored_search_form,
)

logger = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
# A write transaction open this long is logged: other processes' writes wait for it.
SLOW_TRANSACTION_SECONDS = 1.0
# New database files get pages of this size: an article's row (about 3.5 KB) and its
# neighbours fill a page to within a tenth, where 4 KB pages left a quarter of each page empty.
# 32 KB pages would save another 23 MB at 100,000 articles, but an empty file then takes 1.4 MB
# and each commit's log pages grow with them (a 6 MB disk no longer held a small bot).
PAGE_SIZE = 16384
CACHE_KIB = 16384
WAL_CHECKPOINT_BYTES = 4 << 20


# What SQLite says when the trouble is the disk or another process, not the statement.
_UNAVAILABLE_CAUSES = (
    "database or disk is full",
    "disk i/o error",
    "readonly database",
    "read-only",
    "database is locked",
    "unable to open database file",
)


def unavailable(path: str, exc: sqlite3.Error) -> StoreUnavailable | None:
    """Return the one-line StoreUnavailable for an SQLite error about the disk, else None."""
    cause = str(exc)
    if not any(known in cause.lower() for known in _UNAVAILABLE_CAUSES):
        return None
    hint = ""
    if "disk i/o" in cause.lower():
        hint = " (is the disk full or the file too large?)"
    elif "locked" in cause.lower():
        # SQLITE_BUSY is a lock held past the busy timeout; SQLITE_BUSY_SNAPSHOT a write from
        # a read transaction that another connection's commit made stale: the same words.
        name: str | None = getattr(exc, "sqlite_errorname", None)
        hint = f" ({name})" if name else ""
    return StoreUnavailable(f"NEWSBOT_DB: {path!r}: {cause}{hint}")


_LATEST_SQL = (
    f"SELECT {HEADLINE_COLUMNS} FROM articles a "
    "ORDER BY a.published_at DESC, a.id DESC LIMIT ? OFFSET ?"
)


def _open_reader(target: str) -> sqlite3.Connection | None:
    """Open the read-only connection for the event loop's own reads (none for :memory:)."""
    if target == ":memory:":
        return None
    reader = sqlite3.connect(
        f"{Path(target).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
    )
    reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return reader


def check_sqlite_file(path: Path) -> None:
    """Raise StoreError if the file exists, is not empty, and is not an SQLite database."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_MAGIC))
    if header != SQLITE_MAGIC:
        raise StoreError(f"NEWSBOT_DB: {str(path)!r} is not an SQLite database; not touching it")


class SqliteStore(Store):
    """The store on one SQLite file (or :memory:), one connection shared by every task."""

    backend = "sqlite"

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self._db = db
        self.path = path
        # One connection serves every task; a write must never land inside another task's
        # open transaction (where its ROLLBACK would take it along), so writes take turns.
        self._write_lock = asyncio.Lock()
        # A read-only connection used on the event loop itself for the few reads that take
        # well under a millisecond (a /latest page): handing them to aiosqlite's thread costs
        # more than the query, up to 1.5 ms to wake it after the bot was idle.
        self._reader: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: Path | str) -> SqliteStore:
        """Open (creating if needed) the database, check it, and apply pending migrations."""
        target = str(path)
        if target != ":memory:":
            check_sqlite_file(Path(target))
        try:
            db = await aiosqlite.connect(target, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"NEWSBOT_DB: cannot open {target!r}: {exc}") from None
        store = cls(db, target)
        try:
            await store._configure()
            await store._migrate()
            store._reader = _open_reader(target)
        except BaseException:
            await db.close()
            raise
        return store

    @property
    def delivery(self) -> SqliteDeliveryStore:
        """Return the subscriptions-and-ledger view of this database."""
        return SqliteDeliveryStore(self)

    async def close(self) -> None:
        """Close the connections."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        await self._db.close()

    async def _configure(self) -> None:
        try:
            await self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await self._db.execute("PRAGMA foreign_keys = ON")
            # Takes effect on a new, empty file only; an existing one keeps its page size.
            await self._db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            # A long word is checked in the rows of its candidates: a page cache of 16 MB keeps
            # the recent articles' pages at hand (the default is 2 MB). 64 MB made long-word
            # searches 3 ms faster at 1,000,000 articles and the bot process 90 MB larger.
            await self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            if self.path != ":memory:":
                await self._db.execute("PRAGMA journal_mode = WAL")
                # WAL makes NORMAL durable across application crashes; only power loss can
                # roll back the last transactions.
                await self._db.execute("PRAGMA synchronous = NORMAL")
                # Checkpoint at about 4 MB of log whatever the page size (SQLite counts 1,000
                # pages: 32 MB of 32 KB pages, more than a small disk may have to spare).
                async with self._db.execute("PRAGMA page_size") as cursor:
                    row = await cursor.fetchone()
                pages = max(100, WAL_CHECKPOINT_BYTES // int(row[0] if row else 4096))
                await self._db.execute(f"PRAGMA wal_autocheckpoint = {pages}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"NEWSBOT_DB: {self.path!r} is not a usable database: {exc}") from None

    async def _migrate(self) -> None:
        version = await self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"NEWSBOT_DB: {self.path!r} is at schema version {version}, newer than this "
                f"newsbot ({SCHEMA_VERSION}); upgrade newsbot or use another database file"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            script = MIGRATIONS[number - 1]
            async with self.transaction():
                for statement in _split_sql(script):
                    await self._db.execute(statement)
                if number == 3:
                    await self._fill_grams()
                if script == REINDEX_FOLDED_SEARCH:
                    await self._reindex_folded()
                if script == LEAN_SEARCH:
                    await self._fill_folded_grams()
                await self._db.execute(f"PRAGMA user_version = {number}")
            logger.info("database migrated to schema version %d", number)

    async def _fill_grams(self) -> None:
        """Index the bigrams of articles stored before the search migration."""
        rows = await self._fetchall("SELECT id, title, body FROM articles")
        await self._db.executemany(
            "INSERT INTO articles_grams (rowid, grams) VALUES (?, ?)",
            [(r[0], index_grams(r[1] + "\n" + r[2])) for r in rows],
        )

    async def _fill_folded_grams(self) -> None:
        """Key every stored article by date and index the bigrams of its folded text."""
        # The folded copies are stored where they differ (migration 7): no folding again here.
        rows = await self._fetchall(
            "SELECT id, published_at, coalesce(search_title, title), "
            "coalesce(search_body, body) FROM articles ORDER BY published_at, id"
        )
        keyed = search_keys.keys_in_date_order([(r[0], r[1]) for r in rows])
        await self._db.executemany(
            "UPDATE articles SET search_key = ? WHERE id = ?", [(k, i) for i, k in keyed.items()]
        )
        await self._db.executemany(
            "INSERT INTO articles_grams (rowid, grams) VALUES (?, ?)",
            [(keyed[r[0]], index_grams(r[2] + "\n" + r[3])) for r in rows],
        )

    async def _reindex_folded(self) -> None:
        """Index every stored article, and fold every followed word, in search_form."""
        # Index every article as it stands first: the update trigger below removes each row's
        # old entry, which must be there (removing an absent one corrupts an FTS5 index).
        await self._db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
        rows = await self._fetchall("SELECT id, title, body FROM articles")
        folded = [(stored_search_form(r[1]), stored_search_form(r[2]), r[0]) for r in rows]
        await self._db.executemany(
            "UPDATE articles SET search_title = ?, search_body = ? WHERE id = ?",
            [f for f in folded if f[0] is not None or f[1] is not None],
        )
        await self._db.execute("DELETE FROM articles_grams")
        await self._db.executemany(
            "INSERT INTO articles_grams (rowid, grams) VALUES (?, ?)",
            [(r[0], index_grams(search_form(r[1] + "\n" + r[2]))) for r in rows],
        )
        keywords = await self._fetchall("SELECT chat_id, keyword FROM keyword_follows")
        for chat_id, keyword in keywords:
            folded_word = search_form(keyword)
            if folded_word != keyword:
                # A chat following both 振興 and 振兴 keeps one of them.
                await self._db.execute(
                    "UPDATE OR IGNORE keyword_follows SET keyword = ? "
                    "WHERE chat_id = ? AND keyword = ?",
                    (folded_word, chat_id, keyword),
                )
                await self._db.execute(
                    "DELETE FROM keyword_follows WHERE chat_id = ? AND keyword = ?",
                    (chat_id, keyword),
                )

    async def schema_version(self) -> int:
        """Return the number of migrations applied to this database."""
        try:
            async with self._db.execute("PRAGMA user_version") as cursor:
                row = await cursor.fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"NEWSBOT_DB: {self.path!r} is not a usable database: {exc}") from None
        return int(row[0]) if row else 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block in one IMMEDIATE transaction: all of it lands, or none.

        A full disk, a read-only file or a lock held too long raises StoreUnavailable, after
        the transaction is rolled back.
        """
        async with self._write_lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise unavailable(self.path, exc) or exc from None
            began = time.monotonic()
            try:
                yield self._db
                await self._db.execute("COMMIT")
            except BaseException as exc:
                await self._rollback()
                if isinstance(exc, sqlite3.OperationalError):
                    raise unavailable(self.path, exc) or exc from None
                raise
            finally:
                held = time.monotonic() - began
                if held > SLOW_TRANSACTION_SECONDS:
                    # Every other writer of the file waits this long (the busy timeout is 5 s).
                    logger.warning("a write transaction held %r for %.1f s", self.path, held)

    async def _rollback(self) -> None:
        # After a failed COMMIT SQLite may already have rolled back; then there is nothing to do.
        if self._db.in_transaction:
            await self._db.execute("ROLLBACK")

    async def _write(self, sql: str, params: Iterable[Any] = ()) -> tuple[int, int | None]:
        """Run one write statement on its own; return its rowcount and lastrowid."""
        async with self._write_lock:
            try:
                cursor = await self._db.execute(sql, tuple(params))
            except sqlite3.OperationalError as exc:
                raise unavailable(self.path, exc) or exc from None
            result = (cursor.rowcount, cursor.lastrowid)
            await cursor.close()
            return result

    async def _write_returning(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Run one write statement with a RETURNING clause on its own; return its rows."""
        async with self._write_lock:
            try:
                return list(await self._db.execute_fetchall(sql, tuple(params)))
            except sqlite3.OperationalError as exc:
                raise unavailable(self.path, exc) or exc from None

    async def _fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        # One trip to the connection's thread, not three (execute, fetch, close): waking that
        # thread costs up to a millisecond when the machine was idle, as it is between updates.
        try:
            return list(await self._db.execute_fetchall(sql, tuple(params)))
        except sqlite3.OperationalError as exc:
            raise unavailable(self.path, exc) or exc from None

    async def _fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        """Return the first row of a query that selects at most a few rows (it reads them all)."""
        rows = await self._fetchall(sql, params)
        return next(iter(rows), None)

    async def _lookup(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Return the rows of a read by key (well under a millisecond) on the event loop.

        A /summary makes three such reads: each hop to aiosqlite's thread let the other
        chats' work run first, and a busy bot's /summary took 18 ms at p99 for 1 ms of work.
        """
        if self._reader is None:
            return await self._fetchall(sql, params)
        try:
            return self._reader.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError as exc:
            raise unavailable(self.path, exc) or exc from None

    # --- sources -------------------------------------------------------------------------

    async def upsert_source(self, name: str, title: str, profile: str) -> None:
        """Record a configured source, updating its title and profile."""
        await self._write(
            "INSERT INTO sources (name, title, profile, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET title = excluded.title, profile = excluded.profile",
            (name, title, profile, to_db_time(_now())),
        )

    async def record_source_success(self, name: str, at: datetime | None = None) -> None:
        """Note a run of the source that completed."""
        await self._write(
            "UPDATE sources SET last_success_at = ?, consecutive_failures = 0 WHERE name = ?",
            (to_db_time(at or _now()), name),
        )

    async def record_source_error(self, name: str, error: str, at: datetime | None = None) -> None:
        """Note an error of the source (a failed run, or a list page that yielded nothing)."""
        await self._write(
            "UPDATE sources SET last_error_at = ?, last_error = ?, "
            "consecutive_failures = consecutive_failures + 1, error_count = error_count + 1 "
            "WHERE name = ?",
            (to_db_time(at or _now()), error[:500], name),
        )

    async def source_statuses(self) -> list[SourceStatus]:
        """Return every source's health and article count, by name."""
        rows = await self._fetchall(
            "SELECT s.name, s.title, s.profile, s.last_success_at, s.last_error_at, s.last_error, "
            "s.consecutive_failures, s.error_count, "
            "(SELECT count(*) FROM articles a WHERE a.source_name = s.name) "
            "FROM sources s ORDER BY s.name"
        )
        return [_source_status(r) for r in rows]

    async def list_validators(self, url: str) -> tuple[str | None, str | None]:
        """Return the ETag and Last-Modified last seen for a list page."""
        row = await self._fetchone(
            "SELECT etag, last_modified FROM list_validators WHERE url = ?", (url,)
        )
        return (row[0], row[1]) if row else (None, None)

    async def save_list_validators(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> None:
        """Remember a list page's validators for the next conditional GET."""
        await self._write(
            "INSERT INTO list_validators (url, etag, last_modified) VALUES (?, ?, ?) "
            "ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, "
            "last_modified = excluded.last_modified",
            (url, etag, last_modified),
        )

    # --- articles ------------------------------------------------------------------------

    async def known_url_keys(self, keys: Iterable[str]) -> set[str]:
        """Return which of these normalised URL keys already belong to a stored article."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        # SQLite caps bound parameters; 500 at a time stays far below every build's limit.
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self._fetchall(
                f"SELECT url_key FROM article_urls WHERE url_key IN ({marks})", chunk
            )
            found.update(r[0] for r in rows)
        return found

    async def add_article(
        self,
        article: ParsedArticle,
        *,
        url_key: str,
        fingerprint: str,
        source_name: str | None,
        fetched_at: datetime | None = None,
        analysis: ArticleAnalysis | None = None,
    ) -> StoreOutcome:
        """Store a parsed article once: a known URL or fingerprint links to the existing row."""
        async with self.transaction() as db:
            async with db.execute(
                "SELECT article_id FROM article_urls WHERE url_key = ?", (url_key,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None:
                return StoreOutcome(article_id=row[0], created=False, reason="url")
            async with db.execute(
                "SELECT id FROM articles WHERE content_hash = ? ORDER BY id LIMIT 1", (fingerprint,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None:
                # The same story republished at another URL (another channel): one article,
                # both URLs.
                await db.execute(
                    "INSERT INTO article_urls (url_key, url, article_id) VALUES (?, ?, ?)",
                    (url_key, article.url, row[0]),
                )
                return StoreOutcome(article_id=row[0], created=False, reason="fingerprint")
            related = json.dumps(
                [{"url": link.url, "title": link.title} for link in article.related],
                ensure_ascii=False,
            )
            cursor = await db.execute(
                "INSERT INTO articles (url, title, published_at, source, editor, body, fetched_at,"
                " content_hash, source_name, subtitle, reporter, channel, related, search_title,"
                " search_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    article.url,
                    article.title,
                    to_db_time(article.published_at),
                    article.source,
                    article.editor,
                    article.body,
                    to_db_time(fetched_at or _now()),
                    fingerprint,
                    source_name,
                    article.subtitle,
                    article.reporter,
                    article.channel,
                    related,
                    stored_search_form(article.title),
                    stored_search_form(article.body),
                ),
            )
            article_id = cursor.lastrowid
            await cursor.close()
            assert article_id is not None
            await db.execute(
                "INSERT INTO article_urls (url_key, url, article_id) VALUES (?, ?, ?)",
                (url_key, article.url, article_id),
            )
            key = await self._place_by_date(db, article_id, article.published_at)
            await db.execute(
                "INSERT INTO articles_grams (rowid, grams) VALUES (?, ?)",
                (key, index_grams(search_form(article.title + "\n" + article.body))),
            )
            if analysis is not None:
                await self._write_analysis(article_id, article.published_at, analysis)
            return StoreOutcome(article_id=article_id, created=True)

    async def _place_by_date(
        self, db: aiosqlite.Connection, article_id: int, published_at: datetime
    ) -> int:
        """Give a just-inserted article its search key between its neighbours by date.

        Inside the caller's transaction. An article appended at the end of its day (the usual
        case) or between two with room takes a free slot; when its day has none left, the
        day's keys are spread again (its few hundred articles re-indexed at most).
        """
        day = search_keys.day_of(published_at)
        at = to_db_time(published_at)
        start = to_db_time(datetime.fromtimestamp(day * 86400, UTC))
        end = to_db_time(datetime.fromtimestamp((day + 1) * 86400, UTC))
        low, high = day << search_keys.SLOT_BITS, (day + 1) << search_keys.SLOT_BITS
        neighbours = []
        for condition, order in (
            ("published_at >= ? AND (published_at, id) < (?, ?)", "DESC"),
            ("published_at < ? AND (published_at, id) > (?, ?)", "ASC"),
        ):
            async with db.execute(
                "SELECT search_key FROM articles INDEXED BY articles_by_date "
                f"WHERE {condition} AND search_key >= ? AND search_key < ? "
                f"ORDER BY published_at {order}, id {order} LIMIT 1",
                (start if order == "DESC" else end, at, article_id, low, high),
            ) as cursor:
                row = await cursor.fetchone()
            neighbours.append(row[0] if row else None)
        key = search_keys.between(day, neighbours[0], neighbours[1])
        if key is None:
            key = await self._respread_day(db, day, article_id, start, end)
        await db.execute("UPDATE articles SET search_key = ? WHERE id = ?", (key, article_id))
        return key

    async def _respread_day(
        self, db: aiosqlite.Connection, day: int, article_id: int, start: str, end: str
    ) -> int:
        """Spread a full day's keys evenly again; return the key left for `article_id`."""
        async with db.execute(
            "SELECT id, search_key, coalesce(search_title, title), coalesce(search_body, body) "
            "FROM articles WHERE published_at >= ? AND published_at < ? "
            "AND (search_key >= 0 OR id = ?) ORDER BY published_at, id",
            (start, end, article_id),
        ) as cursor:
            rows = list(await cursor.fetchall())
        if len(rows) >= search_keys.SLOTS:
            # More articles in one day than it has slots: this one is still found by every
            # search, listed after the others, and outside date ranges (-id is unique).
            logger.warning(
                "more than %d articles on one day: search order kept for the first",
                search_keys.SLOTS - 1,
            )
            return -article_id
        keys = search_keys.spread(day, len(rows))
        moved = [(r, k) for r, k in zip(rows, keys, strict=True) if r[1] != k]
        for row, _key in moved:
            if row[0] != article_id:  # its entry is not written yet
                await db.execute(
                    "INSERT INTO articles_grams (articles_grams, rowid, grams) "
                    "VALUES ('delete', ?, ?)",
                    (row[1], index_grams(row[2] + "\n" + row[3])),
                )
            # Out of the way first: a new key may be another row's old one.
            await db.execute("UPDATE articles SET search_key = ? WHERE id = ?", (-row[0], row[0]))
        for row, key in moved:
            await db.execute("UPDATE articles SET search_key = ? WHERE id = ?", (key, row[0]))
            if row[0] != article_id:
                await db.execute(
                    "INSERT INTO articles_grams (rowid, grams) VALUES (?, ?)",
                    (key, index_grams(row[2] + "\n" + row[3])),
                )
        return keys[[r[0] for r in rows].index(article_id)]

    async def save_analysis(self, article_id: int, analysis: ArticleAnalysis) -> None:
        """Replace an article's summary, keywords and mentions with a fresh analysis."""
        row = await self._fetchone("SELECT published_at FROM articles WHERE id = ?", (article_id,))
        if row is None:
            raise KeyError(f"no article {article_id}")
        async with self.transaction():
            await self._write_analysis(article_id, from_db_time(row[0]), analysis)

    async def _write_analysis(
        self, article_id: int, published_at: datetime, analysis: ArticleAnalysis
    ) -> None:
        """Write an analysis inside the caller's transaction."""
        db = self._db
        when = to_db_time(published_at)
        await db.execute(
            "UPDATE articles SET summary = ?, keywords = ? WHERE id = ?",
            (analysis.summary, ",".join(analysis.keywords), article_id),
        )
        await db.execute("DELETE FROM mentions WHERE article_id = ?", (article_id,))
        for person in analysis.people:
            latest_title = _last_title(person.titles)
            async with db.execute(
                "INSERT INTO people (name, pinyin, latest_title, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET "
                "latest_title = CASE WHEN excluded.last_seen >= coalesce(people.last_seen, '') "
                "  AND excluded.latest_title != '' THEN excluded.latest_title "
                "  ELSE people.latest_title END, "
                "first_seen = min(coalesce(people.first_seen, excluded.first_seen), "
                "  excluded.first_seen), "
                "last_seen = max(coalesce(people.last_seen, excluded.last_seen), "
                "  excluded.last_seen) "
                "RETURNING id",
                (person.name, person.pinyin, latest_title, when, when),
            ) as cursor:
                person_row = await cursor.fetchone()
            assert person_row is not None
            person_id = person_row[0]
            for title in _single_titles(person.titles):
                await db.execute(
                    "INSERT INTO person_titles (person_id, title, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(person_id, title) DO UPDATE SET "
                    "first_seen = min(first_seen, excluded.first_seen), "
                    "last_seen = max(last_seen, excluded.last_seen)",
                    (person_id, title, when, when),
                )
            title_text = person.titles[0] if person.titles else ""
            for role in person.roles:
                statement = "\n".join(person.statements) if role == "spoke" else ""
                # An upsert, not INSERT OR REPLACE: the row REPLACE deletes would pass the
                # delete trigger by, and person_counts would count that mention twice.
                await db.execute(
                    "INSERT INTO mentions "
                    "(article_id, person_id, role, title, statement, published_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (article_id, person_id, role) DO UPDATE SET "
                    "title = excluded.title, statement = excluded.statement, "
                    "published_at = excluded.published_at",
                    (article_id, person_id, role, title_text, statement, when),
                )

    async def latest_articles(self, limit: int = 10, offset: int = 0) -> list[Article]:
        """Return the newest articles, newest first."""
        rows = await self._fetchall(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a "
            "ORDER BY a.published_at DESC, a.id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [_article_from_row(r) for r in rows]

    async def latest_page(self, limit: int = 10, offset: int = 0) -> tuple[list[Headline], int]:
        """Return a page of the newest headlines and how many articles there are, in one call."""
        if self._reader is None:
            rows = await self._fetchall(_LATEST_SQL, (limit, offset))
            return [_headline_from_row(r) for r in rows], await self.count_articles()
        try:
            return self._latest_page_now(self._reader, limit, offset)
        except sqlite3.OperationalError as exc:
            raise unavailable(self.path, exc) or exc from None

    def _latest_page_now(
        self, reader: sqlite3.Connection, limit: int, offset: int
    ) -> tuple[list[Headline], int]:
        total = self._count_now(reader)
        rows = reader.execute(_LATEST_SQL, (limit, offset)).fetchall()
        return [_headline_from_row(r) for r in rows], total

    async def get_article(self, article_id: int) -> Article | None:
        """Return one article by id, or None."""
        rows = await self._lookup(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.id = ?", (article_id,)
        )
        return _article_from_row(rows[0]) if rows else None

    async def article_urls(self, article_id: int) -> list[str]:
        """Return every URL the article was found at, the canonical one first."""
        rows = await self._fetchall(
            "SELECT u.url FROM article_urls u JOIN articles a ON a.id = u.article_id "
            "WHERE u.article_id = ? ORDER BY (u.url = a.url) DESC, u.rowid",
            (article_id,),
        )
        return [r[0] for r in rows]

    async def article_related(self, article_id: int) -> list[Link]:
        """Return the related links stored with an article."""
        row = await self._fetchone("SELECT related FROM articles WHERE id = ?", (article_id,))
        if row is None:
            return []
        return _related_links(row[0])

    async def count_articles(self) -> int:
        """Return how many articles are stored."""
        if self._reader is None:
            row = await self._fetchone("SELECT n FROM article_count WHERE id = 1")
            return int(row[0]) if row else 0
        try:
            return self._count_now(self._reader)
        except sqlite3.OperationalError as exc:
            raise unavailable(self.path, exc) or exc from None

    def _count_now(self, reader: sqlite3.Connection) -> int:
        # One row kept by triggers (migration 10): count(*) read a whole index on the event
        # loop, 5 ms at 1,000,000 articles, after every commit of any table.
        row = reader.execute("SELECT n FROM article_count WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    async def articles_by_ids(self, ids: Iterable[int]) -> dict[int, Article]:
        """Return the articles with these ids, keyed by id."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = await self._fetchall(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.id IN ({marks})", wanted
        )
        return {r[0]: _article_from_row(r) for r in rows}

    async def article_summary(self, article_id: int) -> tuple[str, tuple[str, ...]]:
        """Return an article's stored summary and keywords."""
        rows = await self._lookup(
            "SELECT summary, keywords FROM articles WHERE id = ?", (article_id,)
        )
        if not rows:
            return "", ()
        return rows[0][0], tuple(k for k in rows[0][1].split(",") if k)

    async def article_summaries(self, article_ids: Iterable[int]) -> dict[int, str]:
        """Return the stored summaries of these articles, keyed by id, in one query."""
        wanted = list(dict.fromkeys(article_ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = await self._fetchall(
            f"SELECT id, summary FROM articles WHERE id IN ({marks})", wanted
        )
        return {r[0]: r[1] for r in rows}

    # --- people --------------------------------------------------------------------------

    async def speakers_of(self, article_id: int) -> list[str]:
        """Return the names of the people who spoke in an article, in name order."""
        rows = await self._lookup(
            "SELECT p.name FROM mentions m JOIN people p ON p.id = m.person_id "
            "WHERE m.article_id = ? AND m.role = 'spoke' ORDER BY p.name",
            (article_id,),
        )
        return [r[0] for r in rows]

    async def speakers_of_articles(self, article_ids: Iterable[int]) -> dict[int, list[str]]:
        """Return, for each article id, the names of those who spoke in it."""
        wanted = list(dict.fromkeys(article_ids))
        result: dict[int, list[str]] = {i: [] for i in wanted}
        if not wanted:
            return result
        marks = ",".join("?" * len(wanted))
        # `+m.role`: with `m.role = 'spoke'` SQLite read every speech through the (role, date)
        # index (150 ms at 100,000 articles) instead of the articles' mentions (0.2 ms).
        rows = await self._fetchall(
            "SELECT m.article_id, p.name FROM mentions m JOIN people p ON p.id = m.person_id "
            f"WHERE +m.role = 'spoke' AND m.article_id IN ({marks}) ORDER BY p.name",
            wanted,
        )
        for article_id, name in rows:
            result[article_id].append(name)
        return result

    async def person_by_name(self, name: str) -> Person | None:
        """Return the person with exactly this (simplified) name."""
        rows = await self._people_where("p.name = ?", (name,))
        return rows[0] if rows else None

    async def people_by_pinyin(self, pinyin: str) -> list[Person]:
        """Return people whose name reads as this toneless pinyin, most recently seen first."""
        return await self._people_where("p.pinyin = ?", (pinyin,))

    async def people_by_title(self, title: str, limit: int = 10) -> list[Person]:
        """Return people who held a title containing `title`, most recent holder first."""
        rows = await self._fetchall(
            "SELECT person_id, max(last_seen) AS seen FROM person_titles "
            "WHERE instr(title, ?) > 0 GROUP BY person_id ORDER BY seen DESC, person_id LIMIT ?",
            (title, limit),
        )
        by_id = await self.people_by_ids(r[0] for r in rows)
        return [by_id[r[0]] for r in rows if r[0] in by_id]

    async def all_people_names(self) -> list[tuple[str, str]]:
        """Return every known person's name and pinyin (for suggestions)."""
        rows = await self._fetchall("SELECT name, pinyin FROM people ORDER BY last_seen DESC, id")
        return [(r[0], r[1]) for r in rows]

    async def get_person(self, person_id: int) -> Person | None:
        """Return a person by id, or None."""
        return (await self.people_by_ids([person_id])).get(person_id)

    async def people_by_ids(self, person_ids: Iterable[int]) -> dict[int, Person]:
        """Return the people with these ids, keyed by id, in one query."""
        wanted = list(dict.fromkeys(person_ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        found = await self._people_where(f"p.id IN ({marks})", tuple(wanted))
        return {p.id: p for p in found}

    async def _people_where(self, where: str, params: tuple[Any, ...]) -> list[Person]:
        rows = await self._fetchall(
            f"SELECT {PERSON_COLUMNS}, "
            "coalesce((SELECT c.n FROM person_counts c WHERE c.person_id = p.id AND c.role = ''),"
            " 0) "
            f"FROM people p WHERE {where} ORDER BY p.last_seen DESC, p.id",
            params,
        )
        return [_person_from_row(r) for r in rows]

    async def person_statements(
        self, person_id: int, limit: int = 5, offset: int = 0
    ) -> list[Statement]:
        """Return the articles where a person spoke, newest first, with their statements."""
        # The page's rows are chosen in the (person, role, date) index alone, which holds the
        # speeches newest first (ties on the date sorted among themselves): the rows skipped
        # for a later page are never read from the table, and the appearances of someone who
        # seldom speaks are not walked. Only the page itself is read and put in order.
        rows = await self._fetchall(
            "SELECT m.article_id, m.title, m.statement, m.published_at FROM mentions m "
            "WHERE m.rowid IN (SELECT rowid FROM mentions INDEXED BY mentions_by_person "
            "WHERE person_id = ? AND role = 'spoke' "
            "ORDER BY published_at DESC, article_id DESC LIMIT ? OFFSET ?)",
            (person_id, limit, offset),
        )
        rows.sort(key=lambda r: (r[3], r[0]), reverse=True)
        articles = await self.articles_by_ids(r[0] for r in rows)
        return [
            Statement(article=articles[r[0]], title=r[1], statement=r[2])
            for r in rows
            if r[0] in articles
        ]

    async def person_appearances(
        self, person_id: int, limit: int = 5, offset: int = 0
    ) -> list[Appearance]:
        """Return the articles a person appears in, newest first, with their roles there."""
        rows = await self._fetchall(
            # One article's rows share its date, so they are neighbours in the date index:
            # grouping by (date, article) there picks the page's articles from the index alone
            # (a later page skips entries, not table rows) and stops when the page is full.
            # CROSS JOIN: then only the page's mentions are read, by (person, article).
            "SELECT k.article_id, group_concat(m.role), max(m.title), max(m.statement), "
            "k.published_at FROM (SELECT published_at, article_id "
            "FROM mentions INDEXED BY mentions_by_person_date WHERE person_id = ?1 "
            "GROUP BY published_at, article_id ORDER BY published_at DESC, article_id DESC "
            "LIMIT ?2 OFFSET ?3) k CROSS JOIN mentions m "
            "ON m.person_id = ?1 AND m.article_id = k.article_id "
            "GROUP BY k.published_at, k.article_id",
            (person_id, limit, offset),
        )
        rows.sort(key=lambda r: (r[4], r[0]), reverse=True)
        articles = await self.articles_by_ids(r[0] for r in rows)
        return [
            Appearance(
                article=articles[r[0]],
                roles=tuple(role for role in ROLE_ORDER if role in r[1].split(",")),
                title=r[2],
                statement=r[3],
            )
            for r in rows
            if r[0] in articles
        ]

    async def person_role_counts(self, person_id: int) -> dict[str, int]:
        """Return in how many articles a person had each role (spoke, presided, …)."""
        rows = await self._fetchall(
            "SELECT role, n FROM person_counts WHERE person_id = ? AND role <> '' AND n > 0",
            (person_id,),
        )
        counts = {r[0]: int(r[1]) for r in rows}
        return {role: counts[role] for role in ROLE_ORDER if role in counts}

    async def people_with_title_between(
        self, title: str, since: datetime, until: datetime, limit: int = 20
    ) -> list[tuple[Person, str]]:
        """Return people with a title containing `title` seen in [since, until), and that title.

        The most recently seen holder comes first; each person comes once, with the title
        (of those matching) seen last.
        """
        rows = await self._fetchall(
            "SELECT person_id, title, last_seen FROM person_titles "
            "WHERE instr(title, ?) > 0 AND first_seen < ? AND last_seen >= ? "
            "ORDER BY last_seen DESC LIMIT ?",
            (title, to_db_time(until), to_db_time(since), limit * 5),
        )
        by_id = await self.people_by_ids(r[0] for r in rows)
        found: list[tuple[Person, str]] = []
        seen: set[int] = set()
        for person_id, held, _ in rows:
            if person_id in by_id and person_id not in seen:
                seen.add(person_id)
                found.append((by_id[person_id], held))
        return found[:limit]

    async def count_person_statements(self, person_id: int) -> int:
        """Return in how many articles a person spoke."""
        row = await self._fetchone(
            "SELECT n FROM person_counts WHERE person_id = ? AND role = 'spoke'", (person_id,)
        )
        return int(row[0]) if row else 0

    async def top_speakers(self, since: datetime, limit: int = 10) -> list[tuple[Person, int]]:
        """Return who spoke in the most articles since a time, with the counts."""
        rows = await self._fetchall(
            "SELECT person_id, count(*) AS n FROM mentions "
            "WHERE role = 'spoke' AND published_at >= ? "
            "GROUP BY person_id ORDER BY n DESC, max(published_at) DESC, person_id LIMIT ?",
            (to_db_time(since), limit),
        )
        by_id = await self.people_by_ids(r[0] for r in rows)
        return [(by_id[r[0]], r[1]) for r in rows if r[0] in by_id]

    # --- search --------------------------------------------------------------------------

    async def search_articles(
        self,
        words: list[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        by_relevance: bool = False,
        limit: int = 5,
        offset: int = 0,
    ) -> tuple[list[SearchHit], int]:
        """Return articles whose title or body contain every word, and how many match in all.

        Hits are newest first, or with `by_relevance` best first among the newest
        RELEVANCE_CAP matches (a hit's rank is its score then, lower is better; 0.0 otherwise).
        The index is keyed in date order, so every step reads matches newest first and stops
        when it has enough: the count at the cap, the page when it is full.
        """
        matcher = _Matcher.of(words)
        if matcher is None:
            return [], 0
        span = _key_span(since, until)
        # Counting every match of a very common word costs more than the page itself; past
        # SEARCH_COUNT_CAP the reply says "1000+".
        sql, params = matcher.ids(span)
        row = await self._fetchone(
            f"SELECT count(*) FROM ({sql} LIMIT {SEARCH_COUNT_CAP + 1})", params
        )
        total = int(row[0]) if row else 0
        if total == 0:
            return [], 0
        ranks: dict[int, float] = {}
        if by_relevance:
            sql, params = matcher.ids(span, newest_first=True)
            rows = await self._fetchall(f"{sql} LIMIT {RELEVANCE_CAP}", params)
            ranks = await self._relevance_page(
                matcher, [r[0] for r in rows], limit=limit, offset=offset
            )
            page = list(ranks)
        else:
            sql, params = matcher.ids(span, newest_first=True)
            rows = await self._fetchall(f"{sql} LIMIT ? OFFSET ?", [*params, limit, offset])
            page = [r[0] for r in rows]
        articles = await self.articles_by_ids(page)
        hits = [
            SearchHit(article=articles[i], rank=ranks.get(i, 0.0)) for i in page if i in articles
        ]
        return hits, total

    async def _relevance_page(
        self, matcher: _Matcher, candidates: list[int], *, limit: int, offset: int
    ) -> dict[int, float]:
        """Return one page of the candidates, best first, with their scores (lower is better).

        The score is minus how often the words occur per 1,000 characters of the article's
        folded text; ties go to the newest.
        """
        if not candidates:
            return {}
        text = (
            "lower(coalesce(a.search_title, a.title) || char(10) || "
            "coalesce(a.search_body, a.body))"
        )
        occurrences = " + ".join(
            f"(length({text}) - length(replace({text}, ?, ''))) / {len(w)}.0" for w in matcher.words
        )
        marks = ", ".join("?" * len(candidates))
        rows = await self._fetchall(
            f"SELECT a.id, -({occurrences}) * 1000.0 / (length({text}) + 1) AS r "
            f"FROM articles a WHERE a.id IN ({marks}) "
            "ORDER BY r, a.published_at DESC, a.id DESC LIMIT ? OFFSET ?",
            [*matcher.words, *candidates, limit, offset],
        )
        return {r[0]: float(r[1]) for r in rows}

    async def save_search_query(self, chat_id: int, query: str) -> int:
        """Remember a chat's search so its paging buttons can refer to it by a short id."""
        _count, query_id = await self._write(
            "INSERT INTO search_queries (chat_id, query, created_at) VALUES (?, ?, ?)",
            (chat_id, query, to_db_time(_now())),
        )
        assert query_id is not None
        return query_id

    async def search_query(self, chat_id: int, query_id: int) -> str | None:
        """Return a remembered search of this chat, or None (unknown, or another chat's)."""
        row = await self._fetchone(
            "SELECT query FROM search_queries WHERE id = ? AND chat_id = ?", (query_id, chat_id)
        )
        return row[0] if row else None

    # --- charts and feeds --------------------------------------------------------------

    async def person_activity(
        self, person_id: int, bounds: Sequence[datetime]
    ) -> list[PeriodCount]:
        """Return in how many articles a person appeared in each period, per main role.

        Period i is [bounds[i], bounds[i + 1]). Each article counts once, under the person's
        main role there: spoke, presided, attended, else "other"; the counts add up to the
        person's articles from bounds[0] to bounds[-1].
        """
        if len(bounds) < 2:
            return []
        # Whole UTC days from person_days (24 months: at most 2,920 rows, however many
        # articles), the few days a local month boundary cuts from the mentions themselves:
        # reading every mention of a leader's 24 months took 200 ms at 100,000 articles.
        cut, ranges = _cut_days(bounds)
        days = await self._fetchall(
            "SELECT day, rank, n FROM person_days WHERE person_id = ? AND day >= ? AND day < ?",
            (person_id, to_db_time(bounds[0])[:10], to_db_time(bounds[-1])[:10]),
        )
        articles: list[sqlite3.Row] = []
        if ranges:
            values = ", ".join("(?, ?)" for _ in ranges)
            # CROSS JOIN: each cut day is a range of the (person, date) index.
            articles = await self._fetchall(
                "SELECT min(m.published_at), min(CASE m.role WHEN 'spoke' THEN 0 "
                "WHEN 'presided' THEN 1 WHEN 'attended' THEN 2 ELSE 3 END) "
                f"FROM (VALUES {values}) r CROSS JOIN mentions m "
                "INDEXED BY mentions_by_person_date ON m.person_id = ? "
                "AND m.published_at >= r.column1 AND m.published_at < r.column2 "
                "GROUP BY m.article_id",
                [*(t for r in ranges for t in r), person_id],
            )
        return _activity_counts(bounds, cut, days, articles)

    async def search_activity(
        self, words: list[str], bounds: Sequence[datetime]
    ) -> list[PeriodCount]:
        """Return how many articles contain every word in each period [bounds[i], bounds[i+1]).

        Uncapped, unlike search_articles' count: every match of the periods is counted.
        """
        matcher = _Matcher.of(words)
        if matcher is None or len(bounds) < 2:
            return []
        # The dates come from the key index: a word of one or two characters is counted
        # without reading an article.
        period, period_params = _period_case("published_at", bounds)
        sql, params = matcher.ids(_key_span(bounds[0], bounds[-1]), dates=True)
        rows = await self._fetchall(
            f"SELECT {period} AS period, count(*) FROM ({sql}) GROUP BY period ORDER BY period",
            [*period_params, *params],
        )
        return [PeriodCount(r[0], "", r[1]) for r in rows]

    async def search_top_speakers(
        self,
        words: list[str],
        since: datetime,
        until: datetime,
        limit: int = 3,
        newest: int = TOP_SPEAKERS_CAP,
    ) -> list[tuple[Person, int]]:
        """Return who spoke most in the `newest` latest articles of [since, until) containing
        every word (all of them when there are fewer), with the counts.

        Ties go to the lower person id: the mentions' primary key alone answers the query.
        """
        matcher = _Matcher.of(words)
        if matcher is None:
            return []
        # Newest first off the index, so the LIMIT stops the walk at the cap.
        sql, params = matcher.ids(_key_span(since, until), newest_first=True)
        # `+m.role`: the (role, date) index would read every speech of the period (300 ms).
        rows = await self._fetchall(
            "SELECT m.person_id, count(*) AS n FROM mentions m "
            f"WHERE m.article_id IN ({sql} LIMIT ?) "
            "AND +m.role = 'spoke' GROUP BY m.person_id ORDER BY n DESC, m.person_id LIMIT ?",
            [*params, newest, limit],
        )
        by_id = await self.people_by_ids(r[0] for r in rows)
        return [(by_id[r[0]], r[1]) for r in rows if r[0] in by_id]

    async def source_names(self) -> list[str]:
        """Return the names of every recorded source."""
        rows = await self._fetchall("SELECT name FROM sources ORDER BY name")
        return [r[0] for r in rows]

    async def latest_articles_of_source(self, source_name: str, limit: int = 50) -> list[Article]:
        """Return the newest articles a configured source found, newest first."""
        rows = await self._fetchall(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.source_name = ? "
            "ORDER BY a.published_at DESC, a.id DESC LIMIT ?",
            (source_name, limit),
        )
        return [_article_from_row(r) for r in rows]

    # --- chats ---------------------------------------------------------------------------

    async def upsert_chat(
        self, chat_id: int, chat_type: str, language: str, time_zone: str
    ) -> Chat:
        """Register a chat (or refresh its type and language) and clear any blocked mark."""
        now = to_db_time(_now())
        await self._write(
            "INSERT INTO chats (id, type, language, time_zone, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET type = excluded.type, language = excluded.language, "
            "blocked_at = NULL",
            (chat_id, chat_type, language, time_zone, now),
        )
        chat = await self.get_chat(chat_id)
        assert chat is not None
        return chat

    async def get_chat(self, chat_id: int) -> Chat | None:
        """Return a registered chat, or None."""
        row = await self._fetchone(
            "SELECT id, type, language, time_zone, created_at, blocked_at FROM chats WHERE id = ?",
            (chat_id,),
        )
        if row is None:
            return None
        return _chat_from_row(row)

    async def set_chat_language(self, chat_id: int, language: str) -> None:
        """Choose the language the bot uses for pushes to a chat."""
        await self._write("UPDATE chats SET language = ? WHERE id = ?", (language, chat_id))

    async def set_chat_time_zone(self, chat_id: int, time_zone: str) -> None:
        """Choose the time zone dates are shown in for a chat."""
        await self._write("UPDATE chats SET time_zone = ? WHERE id = ?", (time_zone, chat_id))


@dataclass(frozen=True, slots=True)
class _Span:
    """A search's date bounds: as search keys (whole UTC days) and as exact published_at."""

    low: int | None = None
    high: int | None = None
    since: str | None = None
    until: str | None = None


def _key_span(since: datetime | None, until: datetime | None) -> _Span:
    """Return the span of articles published in [since, until).

    Keys go by UTC day, so the key bounds hold some of the days at either end; the exact
    bounds are applied to published_at as well (read from the key index, no article row).
    """
    return _Span(
        search_keys.day_floor(since) if since is not None else None,
        search_keys.day_ceiling(until) if until is not None else None,
        to_db_time(since) if since is not None else None,
        to_db_time(until) if until is not None else None,
    )


@dataclass(frozen=True, slots=True)
class _Matcher:
    """The SQL for the ids of articles that contain every word of a search.

    Every word is looked up in the bigram index (all of its bigrams; a one-character word by
    prefix). That settles a word of one or two characters; a longer one whose bigrams are all
    there is then checked in the article's folded text, which the bigrams alone cannot prove
    (振兴 and 兴东 in two places are not 振兴东).
    """

    words: tuple[str, ...]  # folded, lower-cased (ASCII), as the text is compared
    grams_query: str
    checked: tuple[str, ...]  # the words of 3+ characters

    @classmethod
    def of(cls, words: Sequence[str]) -> _Matcher | None:
        """Return the matcher for these words, or None if no article can contain them all."""
        folded = [search_form(w) for w in words]  # as the index holds them: 振興 finds 振兴
        terms: list[str] = []
        for word in folded:
            query = gram_query(word) if len(word) < 3 else long_word_query(word)
            if query is None:
                return None  # a word with no letters or digits cannot match anything
            terms.append(f"({query})")
        if not terms:
            return None
        checked = tuple(_ascii_lower(w) for w in folded if len(w) >= 3)
        return cls(tuple(_ascii_lower(w) for w in folded), " AND ".join(terms), checked)

    def ids(
        self, span: _Span = _Span(), *, newest_first: bool = False, dates: bool = False
    ) -> tuple[str, list[Any]]:
        """Return SQL for the ids of matching articles published in the span, and params.

        With `newest_first` they come in date order, newest first, read in that order from
        the index (no sort): a LIMIT stops the reading. With `dates` each row also has the
        article's published_at.
        """
        where = "articles_grams MATCH ?"
        params: list[Any] = [self.grams_query]
        for bound, value in (
            ("g.rowid >= ?", span.low),
            ("g.rowid < ?", span.high),
            ("v.published_at >= ?", span.since),
            ("v.published_at < ?", span.until),
        ):
            if value is not None:
                where += f" AND {bound}"
                params.append(value)
        for word in self.checked:
            where += " AND " + _contains("v", word)
            params.extend((word, word))
        column = "v.id, v.published_at" if dates else "v.id"
        order = " ORDER BY g.rowid DESC" if newest_first else ""
        # CROSS JOIN: the index first, then each match's key looked up (the key index holds
        # the id and date; the row is read only to check a long word), so that a LIMIT stops
        # the walk early instead of after every candidate is listed.
        return (
            f"SELECT {column} FROM articles_grams g CROSS JOIN articles v "
            f"INDEXED BY articles_by_search_key ON v.search_key = g.rowid WHERE {where}{order}",
            params,
        )


def _contains(alias: str, word: str) -> str:
    """Return SQL for: the row's folded title or body contains word (params: word, word).

    Case matters only for a word with ASCII letters; for any other the text is searched as
    it is, without lower() copying every body it reads.
    """
    fold = "lower" if word != word.upper() else ""
    return (
        f"(instr({fold}(coalesce({alias}.search_title, {alias}.title)), ?) "
        f"OR instr({fold}(coalesce({alias}.search_body, {alias}.body)), ?))"
    )


def _ascii_lower(word: str) -> str:
    """Lower-case ASCII letters only, as SQLite's lower() does to the text compared."""
    return word.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _split_sql(script: str) -> list[str]:
    """Split a migration script into complete statements (triggers hold ';' inside)."""
    statements: list[str] = []
    buffer = ""
    for part in script.split(";"):
        buffer += part + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip(" \n;"):
        raise ValueError(f"incomplete SQL statement in migration: {buffer.strip()[:80]!r}")
    return statements
