"""The PostgreSQL backend of the store contract: typed async methods over one asyncpg pool."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

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
from storage.postgres.delivery import PostgresDeliveryStore
from storage.postgres.schema import (
    ARTICLES_CHANNEL,
    KEY_SEARCH,
    MIGRATIONS,
    REFOLD_SEARCH,
    REGRAM_SEARCH,
    SCHEMA_VERSION,
)
from storage.postgres.sql import pg, rowcount
from storage.search import (
    index_terms,
    like_pattern,
    search_form,
    search_text,
    term_key,
    term_keys,
    word_terms,
)
from storage.target import redact_target

logger = logging.getLogger(__name__)

# Connections per process: the handlers' concurrent reads plus a delivery tick; three
# instances stay far below the server's default max_connections (100).
POOL_MIN = 1
POOL_MAX = 8
# /latest pages kept between article changes (page sizes times pages turned to).
LATEST_PAGES_KEPT = 64
# A lost listener (the server restarted, say) is opened again after this many seconds,
# doubling up to RELISTEN_MAX_SECONDS while the server stays away; /latest reads every page
# until it is back.
RELISTEN_FIRST_SECONDS = 1.0
RELISTEN_MAX_SECONDS = 60.0
# Every instance that starts takes this lock before it looks at schema_migrations, so three
# starting at once migrate once. The number is 'newsbot' in ASCII.
MIGRATION_LOCK = 0x6E657773626F74

# Search reads the GIN index as bitmaps, never by testing rows: the planner, guessing few
# matches, would walk the date index and detoast every row's terms (seconds). A plan steered
# with enable_* = off carries a huge cost, which would start the JIT compiler (half a second)
# for a query that takes milliseconds.
SEARCH_SETTINGS = (
    "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; SET LOCAL jit = off; "
    "SET LOCAL max_parallel_workers_per_gather = 0"
)
# asyncpg prepares every statement, and after five runs PostgreSQL may keep one generic plan
# for all parameters. For a search window that plan, blind to the words, walks the date index
# and detoasts every row's terms (250 ms at 700 articles, where the plan for the words takes
# 0.1 ms): a busy bot's searches then queued for seconds. Planning each run costs ~0.1 ms.
SESSION_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
# What a server gone away, restarting or full of connections raises: the store is out of
# reach for now, not the statement wrong.
_UNREACHABLE = (
    OSError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)


async def _keep_session(con: Any) -> None:
    """Hand a connection back to the pool without asyncpg's reset query.

    That query (RESET ALL, UNLISTEN *, CLOSE ALL, an advisory unlock) is a second round trip
    on every pooled statement, and the caller waits for it before it gets its rows: a /latest
    paid two. This store leaves no session state: settings are SET LOCAL, the migration lock
    is released in a finally, nothing LISTENs or keeps a cursor. asyncpg still rolls back a
    transaction left open before it calls this.
    """


class PostgresStore(Store):
    """The store on a PostgreSQL database, one connection pool per process."""

    backend = "postgresql"

    def __init__(self, pool: Any, url: str) -> None:
        self._pool = pool
        self.path = redact_target(url)  # shown in messages; never the password
        # /latest pages as last read, kept while the connection below LISTENs for article
        # changes (a round trip to the server costs more than the whole reply on a busy
        # machine). None: no listener, every page is read.
        self._latest: dict[tuple[int, int], tuple[list[Headline], int]] | None = None
        self._listener: Any = None
        self._url = url  # to open the listener again; never shown (it may hold a password)
        self._relisten: asyncio.Task[None] | None = None
        self._closing = False
        # Counts article changes seen, so that a page read across one is not kept.
        self._articles_seen = 0

    @classmethod
    async def open(cls, url: str) -> PostgresStore:
        """Connect, check the schema version, and apply pending migrations under a lock."""
        shown = redact_target(url)
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=POOL_MIN,
                max_size=POOL_MAX,
                reset=_keep_session,
                server_settings=SESSION_SETTINGS,
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # asyncpg's messages name host, user and database, never the password.
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(f"NEWSBOT_DB: cannot connect to {shown!r}: {reason}") from None
        store = cls(pool, url)
        try:
            await store._migrate()
            await store._listen()
        except BaseException:
            await store.close()
            raise
        return store

    async def _listen(self) -> bool:
        """Open the connection that hears of article changes; without it nothing is cached."""
        try:
            listener = await asyncpg.connect(self._url)
            await listener.add_listener(ARTICLES_CHANNEL, self._on_articles_changed)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            logger.warning("no /latest cache: cannot LISTEN (%s)", type(exc).__name__)
            return False
        if self._closing:  # closed while connecting
            await listener.close()
            return False
        listener.add_termination_listener(self._on_listener_lost)
        self._listener = listener
        # Pages read before now may predate a change announced while nobody listened.
        self._articles_seen += 1
        self._latest = {}
        return True

    def _on_articles_changed(self, *_notification: Any) -> None:
        """Forget the /latest pages: articles were added, removed or retitled."""
        self._articles_seen += 1
        if self._latest is not None:
            self._latest.clear()

    def _on_listener_lost(self, *_connection: Any) -> None:
        """Stop caching (changes would no longer be heard of) and open the listener again."""
        self._articles_seen += 1
        self._latest = None
        self._listener = None
        if not self._closing and (self._relisten is None or self._relisten.done()):
            self._relisten = asyncio.get_running_loop().create_task(self._listen_again())

    async def _listen_again(self) -> None:
        """Open the listener again, waiting longer after each failure, until it is open."""
        delay = RELISTEN_FIRST_SECONDS
        while not self._closing:
            await asyncio.sleep(delay)
            if self._closing or await self._listen():
                return
            delay = min(delay * 2, RELISTEN_MAX_SECONDS)

    @property
    def delivery(self) -> PostgresDeliveryStore:
        """Return the subscriptions-and-ledger view of this database."""
        return PostgresDeliveryStore(self)

    async def close(self) -> None:
        """Close every connection of the pool, and the listener."""
        self._closing = True
        if self._relisten is not None:
            self._relisten.cancel()
        listener, self._listener, self._latest = self._listener, None, None
        if listener is not None:
            await listener.close()
        await self._pool.close()

    async def _migrate(self) -> None:
        async with self._pool.acquire() as con:
            await con.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                version = await self._read_version(con)
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"NEWSBOT_DB: {self.path!r} is at schema version {version}, newer than "
                        f"this newsbot ({SCHEMA_VERSION}); upgrade newsbot or use another "
                        "database"
                    )
                for number in range(version + 1, SCHEMA_VERSION + 1):
                    async with con.transaction():
                        if number == 1:
                            await con.execute(
                                "CREATE TABLE schema_migrations ("
                                "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
                            )
                        await con.execute(MIGRATIONS[number - 1])
                        if MIGRATIONS[number - 1] is REFOLD_SEARCH:
                            await _refold_search(con)
                        if MIGRATIONS[number - 1] is REGRAM_SEARCH:
                            await _regram_search(con)
                        if MIGRATIONS[number - 1] is KEY_SEARCH:
                            await _key_search(con)
                        await con.execute(
                            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                            number,
                            to_db_time(_now()),
                        )
                    logger.info("database migrated to schema version %d", number)
            finally:
                await con.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

    @staticmethod
    async def _read_version(con: Any) -> int:
        exists = await con.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if not exists:
            return 0
        return int(await con.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    async def schema_version(self) -> int:
        """Return the number of migrations applied to this database."""
        async with self._pool.acquire() as con:
            return await self._read_version(con)

    @asynccontextmanager
    async def _reachable(self) -> AsyncIterator[None]:
        """Turn a lost or refused server connection into StoreUnavailable (one line, no secret)."""
        try:
            yield
        except _UNREACHABLE as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreUnavailable(f"NEWSBOT_DB: {self.path!r}: {reason}") from None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """Run the block on one connection in one transaction: all of it lands, or none.

        A server out of reach raises StoreUnavailable; the transaction did not commit.
        """
        async with self._reachable(), self._pool.acquire() as con, con.transaction():
            yield con

    async def _execute(self, sql: str, *args: Any) -> int:
        """Run one write statement (with `?` placeholders) on its own; return its row count."""
        async with self._reachable():
            return rowcount(await self._pool.execute(pg(sql), *args))

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self._reachable():
            return list(await self._pool.fetch(pg(sql), *args))

    async def _fetchrow(self, sql: str, *args: Any) -> Any:
        async with self._reachable():
            return await self._pool.fetchrow(pg(sql), *args)

    async def _fetchval(self, sql: str, *args: Any) -> Any:
        """Return the first value of a query written with asyncpg's own `$n` placeholders."""
        async with self._reachable():
            return await self._pool.fetchval(sql, *args)

    # --- sources -------------------------------------------------------------------------

    async def upsert_source(self, name: str, title: str, profile: str) -> None:
        """Record a configured source, updating its title and profile."""
        await self._execute(
            "INSERT INTO sources (name, title, profile, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET title = excluded.title, profile = excluded.profile",
            name,
            title,
            profile,
            to_db_time(_now()),
        )

    async def record_source_success(self, name: str, at: datetime | None = None) -> None:
        """Note a run of the source that completed."""
        await self._execute(
            "UPDATE sources SET last_success_at = ?, consecutive_failures = 0 WHERE name = ?",
            to_db_time(at or _now()),
            name,
        )

    async def record_source_error(self, name: str, error: str, at: datetime | None = None) -> None:
        """Note an error of the source (a failed run, or a list page that yielded nothing)."""
        await self._execute(
            "UPDATE sources SET last_error_at = ?, last_error = ?, "
            "consecutive_failures = consecutive_failures + 1, error_count = error_count + 1 "
            "WHERE name = ?",
            to_db_time(at or _now()),
            error[:500],
            name,
        )

    async def source_statuses(self) -> list[SourceStatus]:
        """Return every source's health and article count, by name."""
        rows = await self._fetch(
            "SELECT s.name, s.title, s.profile, s.last_success_at, s.last_error_at, s.last_error, "
            "s.consecutive_failures, s.error_count, "
            "(SELECT count(*) FROM articles a WHERE a.source_name = s.name) "
            'FROM sources s ORDER BY s.name COLLATE "C"'
        )
        return [_source_status(r) for r in rows]

    async def list_validators(self, url: str) -> tuple[str | None, str | None]:
        """Return the ETag and Last-Modified last seen for a list page."""
        row = await self._fetchrow(
            "SELECT etag, last_modified FROM list_validators WHERE url = ?", url
        )
        return (row[0], row[1]) if row else (None, None)

    async def save_list_validators(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> None:
        """Remember a list page's validators for the next conditional GET."""
        await self._execute(
            "INSERT INTO list_validators (url, etag, last_modified) VALUES (?, ?, ?) "
            "ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, "
            "last_modified = excluded.last_modified",
            url,
            etag,
            last_modified,
        )

    # --- articles ------------------------------------------------------------------------

    async def known_url_keys(self, keys: Iterable[str]) -> set[str]:
        """Return which of these normalised URL keys already belong to a stored article."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return set()
        rows = await self._fetch(
            "SELECT url_key FROM article_urls WHERE url_key = ANY(?::text[])", wanted
        )
        return {r[0] for r in rows}

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
        async with self.transaction() as con:
            known = await con.fetchval(
                "SELECT article_id FROM article_urls WHERE url_key = $1", url_key
            )
            if known is not None:
                return StoreOutcome(article_id=known, created=False, reason="url")
            same = await con.fetchval(
                "SELECT id FROM articles WHERE content_hash = $1 ORDER BY id LIMIT 1", fingerprint
            )
            if same is not None:
                # The same story republished at another URL (another channel): one article,
                # both URLs.
                await con.execute(
                    "INSERT INTO article_urls (url_key, url, article_id) VALUES ($1, $2, $3)",
                    url_key,
                    article.url,
                    same,
                )
                return StoreOutcome(article_id=same, created=False, reason="fingerprint")
            related = json.dumps(
                [{"url": link.url, "title": link.title} for link in article.related],
                ensure_ascii=False,
            )
            published = to_db_time(article.published_at)
            article_id = await con.fetchval(
                pg(
                    "INSERT INTO articles (url, title, published_at, source, editor, body, "
                    "fetched_at, content_hash, source_name, subtitle, reporter, channel, related) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
                ),
                article.url,
                article.title,
                published,
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
            )
            await con.execute(
                "INSERT INTO article_urls (url_key, url, article_id) VALUES ($1, $2, $3)",
                url_key,
                article.url,
                article_id,
            )
            await write_search_row(con, article_id, published, article.title, article.body)
            if analysis is not None:
                await self._write_analysis(con, article_id, article.published_at, analysis)
        # This instance's own /latest shows it at once, before the notification comes round.
        self._on_articles_changed()
        return StoreOutcome(article_id=article_id, created=True)

    async def save_analysis(self, article_id: int, analysis: ArticleAnalysis) -> None:
        """Replace an article's summary, keywords and mentions with a fresh analysis."""
        row = await self._fetchrow("SELECT published_at FROM articles WHERE id = ?", article_id)
        if row is None:
            raise KeyError(f"no article {article_id}")
        async with self.transaction() as con:
            await self._write_analysis(con, article_id, from_db_time(row[0]), analysis)

    async def _write_analysis(
        self, con: Any, article_id: int, published_at: datetime, analysis: ArticleAnalysis
    ) -> None:
        """Write an analysis inside the caller's transaction (on its connection)."""
        when = to_db_time(published_at)
        await con.execute(
            "UPDATE articles SET summary = $1, keywords = $2 WHERE id = $3",
            analysis.summary,
            ",".join(analysis.keywords),
            article_id,
        )
        await con.execute("DELETE FROM mentions WHERE article_id = $1", article_id)
        for person in analysis.people:
            person_id = await con.fetchval(
                pg(
                    "INSERT INTO people (name, pinyin, latest_title, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET "
                    "latest_title = CASE WHEN excluded.last_seen >= coalesce(people.last_seen, '')"
                    "  AND excluded.latest_title <> '' THEN excluded.latest_title "
                    "  ELSE people.latest_title END, "
                    "first_seen = least(people.first_seen, excluded.first_seen), "
                    "last_seen = greatest(people.last_seen, excluded.last_seen) "
                    "RETURNING id"
                ),
                person.name,
                person.pinyin,
                _last_title(person.titles),
                when,
                when,
            )
            for title in _single_titles(person.titles):
                await con.execute(
                    "INSERT INTO person_titles (person_id, title, first_seen, last_seen) "
                    "VALUES ($1, $2, $3, $4) ON CONFLICT(person_id, title) DO UPDATE SET "
                    "first_seen = least(person_titles.first_seen, excluded.first_seen), "
                    "last_seen = greatest(person_titles.last_seen, excluded.last_seen)",
                    person_id,
                    title,
                    when,
                    when,
                )
            title_text = person.titles[0] if person.titles else ""
            for role in person.roles:
                statement = "\n".join(person.statements) if role == "spoke" else ""
                await con.execute(
                    "INSERT INTO mentions "
                    "(article_id, person_id, role, title, statement, published_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6) "
                    "ON CONFLICT (article_id, person_id, role) DO UPDATE SET "
                    "title = excluded.title, statement = excluded.statement, "
                    "published_at = excluded.published_at",
                    article_id,
                    person_id,
                    role,
                    title_text,
                    statement,
                    when,
                )

    async def latest_articles(self, limit: int = 10, offset: int = 0) -> list[Article]:
        """Return the newest articles, newest first."""
        rows = await self._fetch(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a "
            "ORDER BY a.published_at DESC, a.id DESC LIMIT ? OFFSET ?",
            limit,
            offset,
        )
        return [_article_from_row(r) for r in rows]

    async def get_article(self, article_id: int) -> Article | None:
        """Return one article by id, or None."""
        row = await self._fetchrow(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.id = ?", article_id
        )
        return _article_from_row(row) if row else None

    async def article_urls(self, article_id: int) -> list[str]:
        """Return every URL the article was found at, the canonical one first."""
        rows = await self._fetch(
            "SELECT u.url FROM article_urls u JOIN articles a ON a.id = u.article_id "
            "WHERE u.article_id = ? ORDER BY (u.url = a.url) DESC, u.seq",
            article_id,
        )
        return [r[0] for r in rows]

    async def article_related(self, article_id: int) -> list[Link]:
        """Return the related links stored with an article."""
        row = await self._fetchrow("SELECT related FROM articles WHERE id = ?", article_id)
        return _related_links(row[0]) if row else []

    async def latest_page(self, limit: int = 10, offset: int = 0) -> tuple[list[Headline], int]:
        """Return a page of the newest headlines and the article count, in one round trip.

        Kept until an article change is announced (migration 7): most /latest need no query.
        """
        cached = self._latest.get((limit, offset)) if self._latest is not None else None
        if cached is not None:
            return list(cached[0]), cached[1]
        seen = self._articles_seen
        rows = await self._fetch(
            f"SELECT {HEADLINE_COLUMNS}, c.n FROM article_count c "
            "LEFT JOIN LATERAL (SELECT * FROM articles a "
            "ORDER BY a.published_at DESC, a.id DESC LIMIT ? OFFSET ?) a ON true WHERE c.id = 1",
            limit,
            offset,
        )
        total = int(rows[0][-1]) if rows else 0
        page = [_headline_from_row(r) for r in rows if r[0] is not None]
        if self._latest is not None and seen == self._articles_seen:
            if len(self._latest) >= LATEST_PAGES_KEPT:
                self._latest.clear()
            self._latest[(limit, offset)] = (page, total)
        return list(page), total

    async def count_articles(self) -> int:
        """Return how many articles are stored."""
        return int(await self._fetchval("SELECT n FROM article_count WHERE id = 1"))

    async def articles_by_ids(self, ids: Iterable[int]) -> dict[int, Article]:
        """Return the articles with these ids, keyed by id."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        rows = await self._fetch(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.id = ANY(?::bigint[])", wanted
        )
        return {r[0]: _article_from_row(r) for r in rows}

    async def article_summary(self, article_id: int) -> tuple[str, tuple[str, ...]]:
        """Return an article's stored summary and keywords."""
        row = await self._fetchrow(
            "SELECT summary, keywords FROM articles WHERE id = ?", article_id
        )
        if row is None:
            return "", ()
        return row[0], tuple(k for k in row[1].split(",") if k)

    async def article_summaries(self, article_ids: Iterable[int]) -> dict[int, str]:
        """Return the stored summaries of these articles, keyed by id, in one query."""
        wanted = list(dict.fromkeys(article_ids))
        if not wanted:
            return {}
        rows = await self._fetch(
            "SELECT id, summary FROM articles WHERE id = ANY(?::bigint[])", wanted
        )
        return {r[0]: r[1] for r in rows}

    # --- people --------------------------------------------------------------------------

    async def speakers_of(self, article_id: int) -> list[str]:
        """Return the names of the people who spoke in an article, in name order."""
        return (await self.speakers_of_articles([article_id]))[article_id]

    async def speakers_of_articles(self, article_ids: Iterable[int]) -> dict[int, list[str]]:
        """Return, for each article id, the names of those who spoke in it."""
        wanted = list(dict.fromkeys(article_ids))
        result: dict[int, list[str]] = {i: [] for i in wanted}
        if not wanted:
            return result
        # COLLATE "C": code-point order, as SQLite sorts, whatever the database's locale.
        rows = await self._fetch(
            "SELECT m.article_id, p.name FROM mentions m JOIN people p ON p.id = m.person_id "
            "WHERE m.article_id = ANY(?::bigint[]) AND m.role = 'spoke' "
            'ORDER BY p.name COLLATE "C"',
            wanted,
        )
        for article_id, name in rows:
            result[article_id].append(name)
        return result

    async def person_by_name(self, name: str) -> Person | None:
        """Return the person with exactly this (simplified) name."""
        rows = await self._people_where("p.name = ?", name)
        return rows[0] if rows else None

    async def people_by_pinyin(self, pinyin: str) -> list[Person]:
        """Return people whose name reads as this toneless pinyin, most recently seen first."""
        return await self._people_where("p.pinyin = ?", pinyin)

    async def people_by_title(self, title: str, limit: int = 10) -> list[Person]:
        """Return people who held a title containing `title`, most recent holder first."""
        rows = await self._fetch(
            "SELECT person_id, max(last_seen) AS seen FROM person_titles "
            "WHERE strpos(title, ?) > 0 GROUP BY person_id ORDER BY seen DESC, person_id LIMIT ?",
            title,
            limit,
        )
        by_id = await self.people_by_ids(r[0] for r in rows)
        return [by_id[r[0]] for r in rows if r[0] in by_id]

    async def all_people_names(self) -> list[tuple[str, str]]:
        """Return every known person's name and pinyin (for suggestions)."""
        # NULLS LAST: SQLite sorts NULL first ascending, so last when descending.
        rows = await self._fetch(
            "SELECT name, pinyin FROM people ORDER BY last_seen DESC NULLS LAST, id"
        )
        return [(r[0], r[1]) for r in rows]

    async def get_person(self, person_id: int) -> Person | None:
        """Return a person by id, or None."""
        return (await self.people_by_ids([person_id])).get(person_id)

    async def people_by_ids(self, person_ids: Iterable[int]) -> dict[int, Person]:
        """Return the people with these ids, keyed by id, in one query."""
        wanted = list(dict.fromkeys(person_ids))
        if not wanted:
            return {}
        found = await self._people_where("p.id = ANY(?::bigint[])", wanted)
        return {p.id: p for p in found}

    async def _people_where(self, where: str, *params: Any) -> list[Person]:
        rows = await self._fetch(
            f"SELECT {PERSON_COLUMNS}, "
            "coalesce((SELECT c.n FROM person_counts c WHERE c.person_id = p.id AND c.role = ''),"
            " 0) "
            f"FROM people p WHERE {where} ORDER BY p.last_seen DESC NULLS LAST, p.id",
            *params,
        )
        return [_person_from_row(r) for r in rows]

    async def person_statements(
        self, person_id: int, limit: int = 5, offset: int = 0
    ) -> list[Statement]:
        """Return the articles where a person spoke, newest first, with their statements."""
        # The page's articles are chosen in the (person, role, date) index, which holds the
        # speeches newest first (ties on the date sorted among themselves): the rows skipped
        # for a later page are index entries, and only the page's rows are read in full.
        rows = await self._fetch(
            "SELECT m.article_id, m.title, m.statement, m.published_at FROM ("
            "SELECT article_id FROM mentions WHERE person_id = ? AND role = 'spoke' "
            "ORDER BY published_at DESC, article_id DESC LIMIT ? OFFSET ?) k "
            "JOIN mentions m ON m.article_id = k.article_id AND m.person_id = ? "
            "AND m.role = 'spoke'",
            person_id,
            limit,
            offset,
            person_id,
        )
        rows.sort(key=lambda r: (r[3], r[0]), reverse=True)
        articles = await self.articles_by_ids(r[0] for r in rows)
        return [
            Statement(article=articles[r[0]], title=r[1], statement=r[2])
            for r in rows
            if r[0] in articles
        ]

    async def count_person_statements(self, person_id: int) -> int:
        """Return in how many articles a person spoke."""
        row = await self._fetchrow(
            "SELECT n FROM person_counts WHERE person_id = ? AND role = 'spoke'", person_id
        )
        return int(row[0]) if row else 0

    async def person_appearances(
        self, person_id: int, limit: int = 5, offset: int = 0
    ) -> list[Appearance]:
        """Return the articles a person appears in, newest first, with their roles there."""
        rows = await self._fetch(
            # mentions_by_person_date hands the (date, article) pairs over in order: the page's
            # articles are picked there, then only their mentions are read.
            "SELECT k.article_id, string_agg(m.role, ','), max(m.title), max(m.statement), "
            "k.published_at FROM (SELECT published_at, article_id FROM mentions "
            "WHERE person_id = ? GROUP BY published_at, article_id "
            "ORDER BY published_at DESC, article_id DESC LIMIT ? OFFSET ?) k "
            "JOIN mentions m ON m.article_id = k.article_id AND m.person_id = ? "
            "GROUP BY k.published_at, k.article_id",
            person_id,
            limit,
            offset,
            person_id,
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
        rows = await self._fetch(
            "SELECT role, n FROM person_counts WHERE person_id = ? AND role <> '' AND n > 0",
            person_id,
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
        rows = await self._fetch(
            "SELECT person_id, title, last_seen FROM person_titles "
            "WHERE strpos(title, ?) > 0 AND first_seen < ? AND last_seen >= ? "
            "ORDER BY last_seen DESC, person_id LIMIT ?",
            title,
            to_db_time(until),
            to_db_time(since),
            limit * 5,
        )
        by_id = await self.people_by_ids(r[0] for r in rows)
        found: list[tuple[Person, str]] = []
        seen: set[int] = set()
        for person_id, held, _ in rows:
            if person_id in by_id and person_id not in seen:
                seen.add(person_id)
                found.append((by_id[person_id], held))
        return found[:limit]

    async def person_activity(
        self, person_id: int, bounds: Sequence[datetime]
    ) -> list[PeriodCount]:
        """Return in how many articles a person appeared in each period, per main role.

        Period i is [bounds[i], bounds[i + 1]). Each article counts once, under the person's
        main role there: spoke, presided, attended, else "other".
        """
        if len(bounds) < 2:
            return []
        # Whole UTC days from person_days, the days a local month boundary cuts from the
        # mentions (see SqliteStore.person_activity).
        cut, ranges = _cut_days(bounds)
        days = await self._fetch(
            "SELECT day, rank, n FROM person_days WHERE person_id = ? AND day >= ? AND day < ?",
            person_id,
            to_db_time(bounds[0])[:10],
            to_db_time(bounds[-1])[:10],
        )
        articles: list[Any] = []
        if ranges:
            # One index range per cut day, as a UNION ALL: joined to a VALUES list, the generic
            # plan asyncpg's prepared statement falls back to walks all of a leader's mentions.
            arms = " UNION ALL ".join(
                "SELECT article_id, published_at, role FROM mentions "
                "WHERE person_id = ? AND published_at >= ? AND published_at < ?"
                for _ in ranges
            )
            articles = await self._fetch(
                "SELECT min(published_at), min(role_rank(role)) "
                f"FROM ({arms}) m GROUP BY article_id",
                *(value for low, high in ranges for value in (person_id, low, high)),
            )
        return _activity_counts(bounds, cut, days, articles)

    async def search_activity(
        self, words: list[str], bounds: Sequence[datetime]
    ) -> list[PeriodCount]:
        """Return how many articles contain every word in each period [bounds[i], bounds[i+1])."""
        match = search_match(words)
        if match is None or len(bounds) < 2:
            return []
        low, high = to_db_time(bounds[0]), to_db_time(bounds[-1])
        condition, params = match_sql(match, months_between(high, low))
        period, period_params = _period_case("s.published_at", bounds)
        rows = await self._fetch(
            f"SELECT {period} AS period, count(*) FROM articles_search s "
            f"WHERE {condition} AND s.published_at >= ? AND s.published_at < ? "
            "GROUP BY 1 ORDER BY 1",
            *period_params,
            *params,
            low,
            high,
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
        every word (all of them when there are fewer), with the counts."""
        match = search_match(words)
        if match is None:
            return []
        async with self._reachable(), self._pool.acquire() as con, con.transaction():
            found = await newest_matches(con, match, since, until, newest)
            rows = await con.fetch(
                "SELECT person_id, count(*) AS n FROM mentions "
                "WHERE article_id = ANY($1::bigint[]) AND role = 'spoke' "
                "GROUP BY person_id ORDER BY n DESC, person_id LIMIT $2",
                found,
                limit,
            )
        by_id = await self.people_by_ids(r[0] for r in rows)
        return [(by_id[r[0]], r[1]) for r in rows if r[0] in by_id]

    async def source_names(self) -> list[str]:
        """Return the names of every recorded source."""
        rows = await self._fetch('SELECT name FROM sources ORDER BY name COLLATE "C"')
        return [r[0] for r in rows]

    async def latest_articles_of_source(self, source_name: str, limit: int = 50) -> list[Article]:
        """Return the newest articles a configured source found, newest first."""
        rows = await self._fetch(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.source_name = ? "
            "ORDER BY a.published_at DESC, a.id DESC LIMIT ?",
            source_name,
            limit,
        )
        return [_article_from_row(r) for r in rows]

    async def top_speakers(self, since: datetime, limit: int = 10) -> list[tuple[Person, int]]:
        """Return who spoke in the most articles since a time, with the counts."""
        rows = await self._fetch(
            "SELECT person_id, count(*) AS n FROM mentions "
            "WHERE role = 'spoke' AND published_at >= ? "
            "GROUP BY person_id ORDER BY n DESC, max(published_at) DESC, person_id LIMIT ?",
            to_db_time(since),
            limit,
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

        The newest SEARCH_COUNT_CAP + 1 matches (or more for a page past them) are found
        month by month (newest_matches);
        hits are newest first, or with `by_relevance` the newest RELEVANCE_CAP of them by how
        often the 3+ character words occur per 1000 characters (lower rank is better), then
        newest.
        """
        match = search_match(words)
        if match is None:
            return [], 0
        ranks: dict[int, float] = {}
        async with self._reachable(), self._pool.acquire() as con, con.transaction():
            want = max(SEARCH_COUNT_CAP + 1, offset + limit)
            found = await newest_matches(con, match, since, until, want)
            if by_relevance and match.counted:
                sql, params = rank_sql(match, found[:RELEVANCE_CAP], limit, offset)
                rows = await con.fetch(sql, *params)
                page = [r[0] for r in rows]
                ranks = {r[0]: float(r[1]) for r in rows}
            elif by_relevance:
                # Nothing to count (short words only): the ranked ones in date order.
                page = found[:RELEVANCE_CAP][offset : offset + limit]
            else:
                page = found[offset : offset + limit]
        articles = await self.articles_by_ids(page)
        hits = [
            SearchHit(article=articles[i], rank=ranks.get(i, 0.0)) for i in page if i in articles
        ]
        return hits, min(len(found), SEARCH_COUNT_CAP + 1)

    async def save_search_query(self, chat_id: int, query: str) -> int:
        """Remember a chat's search so its paging buttons can refer to it by a short id."""
        async with self.transaction() as con:
            # Not worth a wait for the disk: every /search would otherwise wait for its WAL
            # flush (tens of ms while the disk is busy), and a crash just after it loses a
            # search whose buttons then ask for the search again. Still atomic.
            await con.execute("SET LOCAL synchronous_commit = off")
            return int(
                await con.fetchval(
                    "INSERT INTO search_queries (chat_id, query, created_at) "
                    "VALUES ($1, $2, $3) RETURNING id",
                    chat_id,
                    query,
                    to_db_time(_now()),
                )
            )

    async def search_query(self, chat_id: int, query_id: int) -> str | None:
        """Return a remembered search of this chat, or None (unknown, or another chat's)."""
        row = await self._fetchrow(
            "SELECT query FROM search_queries WHERE id = ? AND chat_id = ?", query_id, chat_id
        )
        return row[0] if row else None

    # --- chats ---------------------------------------------------------------------------

    async def upsert_chat(
        self, chat_id: int, chat_type: str, language: str, time_zone: str
    ) -> Chat:
        """Register a chat (or refresh its type and language) and clear any blocked mark."""
        await self._execute(
            "INSERT INTO chats (id, type, language, time_zone, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET type = excluded.type, language = excluded.language, "
            "blocked_at = NULL",
            chat_id,
            chat_type,
            language,
            time_zone,
            to_db_time(_now()),
        )
        chat = await self.get_chat(chat_id)
        assert chat is not None
        return chat

    async def get_chat(self, chat_id: int) -> Chat | None:
        """Return a registered chat, or None."""
        row = await self._fetchrow(
            "SELECT id, type, language, time_zone, created_at, blocked_at FROM chats WHERE id = ?",
            chat_id,
        )
        return _chat_from_row(row) if row else None

    async def set_chat_language(self, chat_id: int, language: str) -> None:
        """Choose the language the bot uses for pushes to a chat."""
        await self._execute("UPDATE chats SET language = ? WHERE id = ?", language, chat_id)

    async def set_chat_time_zone(self, chat_id: int, time_zone: str) -> None:
        """Choose the time zone dates are shown in for a chat."""
        await self._execute("UPDATE chats SET time_zone = ? WHERE id = ?", time_zone, chat_id)


@dataclass(frozen=True)
class SearchMatch:
    """What `articles_search s` must hold to contain every word of a search."""

    terms: tuple[str, ...]  # index terms every match holds: s.terms @> their keys
    likes: tuple[str, ...]  # LIKE patterns of the words the terms do not prove
    counted: tuple[str, ...]  # the 3+ character words the relevance rank counts


def search_match(words: Iterable[str]) -> SearchMatch | None:
    """Return how to find texts holding every word, or None when a word cannot match anything.

    A word of one letter run up to TERM_CHARS long is one index term, which proves it; a
    longer or punctuated 3+ character word needs its pieces and LIKE on the text. A 1-2
    character word is its letter runs (as on SQLite, where "_达" finds 达).
    """
    terms: list[str] = []
    likes: list[str] = []
    counted: list[str] = []
    for word in (search_form(w) for w in words):  # as the index holds them: 振興 finds 振兴
        found = word_terms(word)
        if len(word) < 3 and found is None:
            return None
        if found is not None:
            terms.extend(t for t in found[0] if t not in terms)
        if len(word) >= 3:
            counted.append(word.lower())
            if found is None or not found[1]:
                likes.append(like_pattern(word))
    if not terms and not likes:
        return None
    return SearchMatch(tuple(terms), tuple(likes), tuple(counted))


def match_sql(match: SearchMatch, months: Sequence[str] | None = None) -> tuple[str, list[Any]]:
    """Return a condition on `articles_search s` (`?` params) for the match, in those months.

    The terms and the months are keys of one GIN index, which intersects them from the
    rarest; the LIKE patterns are checked only on the rows both hold.
    """
    conditions: list[str] = []
    params: list[Any] = []
    if match.terms:
        conditions.append("s.terms @> ?::bigint[]")
        params.append([term_key(t) for t in match.terms])
    if months is not None:
        conditions.append("s.terms && ?::bigint[]")
        params.append([month_key(m) for m in months])
    for pattern in match.likes:
        conditions.append("s.text LIKE ?")
        params.append(pattern)
    return " AND ".join(conditions), params


def month_key(published_at: str) -> int:
    """Return the index key of an article's month: months since year 0, below every term's key.

    A term's key has its first letter in the top 16 bits (storage.search.term_key), so it is
    at least 2**48 or negative, and never a month's.
    """
    return int(published_at[:4]) * 12 + int(published_at[5:7]) - 1


def months_between(newest: str, oldest: str) -> list[str]:
    """Return the months 'YYYY-MM' from newest's back to oldest's, both included."""
    year, month = int(newest[:4]), int(newest[5:7])
    last = (int(oldest[:4]), int(oldest[5:7]))
    months = []
    while (year, month) >= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def windows_sql(
    match: SearchMatch, months: Sequence[str], low: str, high: str, want: int
) -> tuple[str, list[Any]]:
    """Return one query for the newest `want` matches in the months and in [low, high).

    One arm per window of 1, 2, 4, … months, newest first, each sorting its own window's
    matches; a serial Append (SEARCH_SETTINGS allows no parallel one) runs the arms in turn
    and stops once the LIMIT is met, so the arms past it never start. One statement instead
    of one per window: on a busy machine each round trip waits for a core.
    """
    arms: list[str] = []
    params: list[Any] = []
    start, size = 0, 1
    while start < len(months):
        condition, arm_params = match_sql(match, months[start : start + size])
        arms.append(
            f"(SELECT s.id FROM articles_search s WHERE {condition} "
            "AND s.published_at >= ? AND s.published_at < ? "
            "ORDER BY s.published_at DESC, s.id DESC LIMIT ?)"
        )
        params.extend([*arm_params, low, high, want])
        start, size = start + size, size * 2
    windows = " UNION ALL ".join(arms)
    return pg(f"SELECT id FROM ({windows}) AS windows LIMIT ?"), [*params, want]


async def newest_matches(
    con: Any, match: SearchMatch, since: datetime | None, until: datetime | None, want: int
) -> list[int]:
    """Return the ids of the newest `want` matches in [since, until), newest first.

    The months are read newest first in windows of 1, 2, 4, … months until `want` are found
    (windows_sql): a common word fills them in its newest month, sorting that month's matches
    only, and a rare one takes a handful of GIN lookups, never a sort or a test of every
    match. Runs inside a transaction, whose rest it gives SEARCH_SETTINGS.
    """
    low = to_db_time(since) if since is not None else ""
    high = to_db_time(until) if until is not None else "~"  # after every 'YYYY-…' time
    # Before the settings, which would keep the planner off the date index's two ends.
    ends = await con.fetchrow(
        "SELECT max(published_at), min(published_at) FROM articles_search "
        "WHERE published_at >= $1 AND published_at < $2",
        low,
        high,
    )
    if ends[0] is None:
        return []
    await con.execute(SEARCH_SETTINGS)
    sql, params = windows_sql(match, months_between(ends[0], ends[1]), low, high, want)
    return [r[0] for r in await con.fetch(sql, *params)]


def rank_sql(
    match: SearchMatch, ids: Sequence[int], limit: int, offset: int
) -> tuple[str, list[Any]]:
    """Return the query for a page of these matches by rank (minus occurrences per 1000 chars)."""
    occurrences = " + ".join(
        f"(length(s.text) - length(replace(s.text, ${n}, ''))) / {len(w)}.0"
        for n, w in enumerate(match.counted, start=4)
    )
    return (
        f"SELECT s.id, -({occurrences}) * 1000.0 / (length(s.text) + 1) AS r "
        "FROM articles_search s WHERE s.id = ANY($1::bigint[]) "
        "ORDER BY r, s.published_at DESC, s.id DESC LIMIT $2 OFFSET $3",
        [list(ids), limit, offset, *match.counted],
    )


async def _refold_search(con: Any) -> None:
    """Index every stored article, and fold every followed word, in search_form."""
    rows = await con.fetch(
        "SELECT a.id, a.published_at, a.title, a.body FROM articles a ORDER BY a.id"
    )
    # The text alone: migration 6 rebuilds every row's terms from it.
    records = [(r[0], r[1], search_text(r[2], r[3])) for r in rows]
    await con.executemany(
        "UPDATE articles_search SET text = $3 WHERE id = $1 AND published_at = $2", records
    )
    words = await con.fetch("SELECT chat_id, keyword FROM keyword_follows")
    for chat_id, keyword in words:
        folded = search_form(keyword)
        if folded != keyword:
            # A chat that followed both forms keeps one.
            await con.execute(
                "INSERT INTO keyword_follows (chat_id, keyword, thread_id, active, created_at) "
                "SELECT chat_id, $3, thread_id, active, created_at FROM keyword_follows "
                "WHERE chat_id = $1 AND keyword = $2 ON CONFLICT DO NOTHING",
                chat_id,
                keyword,
                folded,
            )
            await con.execute(
                "DELETE FROM keyword_follows WHERE chat_id = $1 AND keyword = $2", chat_id, keyword
            )


async def _regram_search(con: Any) -> None:
    """Rewrite every row's grams (index_terms and month) from its text, then index them."""
    await con.execute(
        "CREATE TEMP TABLE regram (id BIGINT PRIMARY KEY, grams TEXT[] NOT NULL) ON COMMIT DROP"
    )
    last = 0
    # A chunk at a time, by id: the archive's texts may not fit in memory.
    while rows := await con.fetch(
        "SELECT id, published_at, text FROM articles_search WHERE id > $1 ORDER BY id LIMIT 5000",
        last,
    ):
        await con.copy_records_to_table(
            # The TEXT[] terms of the time (migration 9 turns them into keys).
            "regram",
            records=[(r[0], [*index_terms(r[2]), "@" + r[1][:7]]) for r in rows],
        )
        last = rows[-1][0]
    await con.execute(
        "UPDATE articles_search s SET grams = r.grams FROM regram r WHERE s.id = r.id"
    )
    # The GIN build sorts every term of every row; more memory than the default 64 MB
    # halves it.
    await con.execute("SET LOCAL maintenance_work_mem = '256MB'")
    await con.execute("CREATE INDEX articles_search_grams ON articles_search USING gin (grams)")
    await con.execute("ANALYZE articles_search")


async def _key_search(con: Any) -> None:
    """Fill every row's terms (its keys) from its text, drop grams, and index the keys."""
    try:
        async with con.transaction():  # a savepoint: a server built without lz4 goes on
            # pglz took 1.6 ms to compress an article's search row (text and ~2,000 keys),
            # most of what loading an archive cost the server; lz4 takes a tenth of that and
            # reads back three times as fast, for a fifth more space.
            await con.execute(
                "ALTER TABLE articles_search ALTER COLUMN text SET COMPRESSION lz4, "
                "ALTER COLUMN terms SET COMPRESSION lz4"
            )
    except asyncpg.FeatureNotSupportedError:
        logger.info("this PostgreSQL has no lz4: search rows are compressed with pglz")
    last = 0
    # A chunk at a time, by id: the archive's texts may not fit in memory.
    while rows := await con.fetch(
        "SELECT id, published_at, text FROM articles_search WHERE id > $1 ORDER BY id LIMIT 5000",
        last,
    ):
        await con.executemany(
            "UPDATE articles_search SET terms = $2 WHERE id = $1",
            [(r[0], search_keys(r[2], r[1]).tolist()) for r in rows],
        )
        last = rows[-1][0]
    await con.execute(
        "ALTER TABLE articles_search DROP COLUMN grams, ALTER COLUMN terms SET NOT NULL"
    )
    await con.execute("SET LOCAL maintenance_work_mem = '256MB'")
    # fastupdate off, as migration 8 set it for grams.
    await con.execute(
        "CREATE INDEX articles_search_terms ON articles_search USING gin (terms) "
        "WITH (fastupdate = off)"
    )
    await con.execute("ANALYZE articles_search")


# The articles_search columns a search_record fills, in its order (`newsbot copy-db` COPYs them).
SEARCH_COLUMNS = ("id", "published_at", "text", "terms")


def search_record(
    article_id: int, published_at: str, title: str, body: str
) -> tuple[int, str, str, list[int]]:
    """Return an article's articles_search row: every index write (and copy-db) builds it here."""
    text = search_text(title, body)
    return (article_id, published_at, text, search_keys(text, published_at).tolist())


def search_keys(text: str, published_at: str) -> Any:
    """Return the keys an article's row holds (its terms' and its month's), a numpy array."""
    import numpy as np

    return np.append(term_keys(text), np.int64(month_key(published_at)))


async def write_search_row(
    con: Any, article_id: int, published_at: str, title: str, body: str
) -> None:
    """Index one article for search (insert or replace)."""
    await con.execute(
        "INSERT INTO articles_search (id, published_at, text, terms) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (id) DO UPDATE SET published_at = excluded.published_at, "
        "text = excluded.text, terms = excluded.terms",
        *search_record(article_id, published_at, title, body),
    )
