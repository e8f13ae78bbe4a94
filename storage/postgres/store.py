"""The PostgreSQL backend of the store contract: typed async methods over one asyncpg pool."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from news.models import (
    ACTIVITY_ROLES,
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
    ROLE_ORDER,
    Store,
    StoreError,
    StoreUnavailable,
    _article_from_row,
    _chat_from_row,
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
from storage.postgres.schema import ARTICLES_CHANNEL, MIGRATIONS, REFOLD_SEARCH, SCHEMA_VERSION
from storage.postgres.sql import pg, rowcount
from storage.search import gram_terms, like_pattern, search_form, search_text, short_word_terms
from storage.target import redact_target

logger = logging.getLogger(__name__)

# Connections per process: the handlers' concurrent reads plus a delivery tick; three
# instances stay far below the server's default max_connections (100).
POOL_MIN = 1
POOL_MAX = 8
# /latest pages kept between article changes (page sizes times pages turned to).
LATEST_PAGES_KEPT = 64
SEARCH_COUNT_CAP = 1000
# Every instance that starts takes this lock before it looks at schema_migrations, so three
# starting at once migrate once. The number is 'newsbot' in ASCII.
MIGRATION_LOCK = 0x6E657773626F74

# A plan steered with enable_* = off carries a huge cost, which would start the JIT compiler
# (half a second) for a query that takes milliseconds.
_NO_JIT = "SET LOCAL jit = off;"
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
        # Counts article changes seen, so that a page read across one is not kept.
        self._articles_seen = 0

    @classmethod
    async def open(cls, url: str) -> PostgresStore:
        """Connect, check the schema version, and apply pending migrations under a lock."""
        shown = redact_target(url)
        try:
            pool = await asyncpg.create_pool(
                url, min_size=POOL_MIN, max_size=POOL_MAX, reset=_keep_session
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # asyncpg's messages name host, user and database, never the password.
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(f"NEWSBOT_DB: cannot connect to {shown!r}: {reason}") from None
        store = cls(pool, url)
        try:
            await store._migrate()
            await store._listen(url)
        except BaseException:
            await store.close()
            raise
        return store

    async def _listen(self, url: str) -> None:
        """Open the connection that hears of article changes; without it nothing is cached."""
        try:
            listener = await asyncpg.connect(url)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            logger.warning("no /latest cache: cannot LISTEN (%s)", type(exc).__name__)
            return
        await listener.add_listener(ARTICLES_CHANNEL, self._on_articles_changed)
        listener.add_termination_listener(self._on_listener_lost)
        self._listener = listener
        self._latest = {}

    def _on_articles_changed(self, *_notification: Any) -> None:
        """Forget the /latest pages: articles were added, removed or retitled."""
        self._articles_seen += 1
        if self._latest is not None:
            self._latest.clear()

    def _on_listener_lost(self, *_connection: Any) -> None:
        """Stop caching: changes would no longer be heard of."""
        self._articles_seen += 1
        self._latest = None
        self._listener = None

    @property
    def delivery(self) -> PostgresDeliveryStore:
        """Return the subscriptions-and-ledger view of this database."""
        return PostgresDeliveryStore(self)

    async def close(self) -> None:
        """Close every connection of the pool, and the listener."""
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

        Kept until an article change is announced (migration 5): most /latest need no query.
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
            # DISTINCT over the (person_id, article_id) index streams; count(DISTINCT …)
            # would sort a leader's 20,000 mentions first.
            "(SELECT count(*) FROM (SELECT DISTINCT m.article_id FROM mentions m "
            "WHERE m.person_id = p.id) d) "
            f"FROM people p WHERE {where} ORDER BY p.last_seen DESC NULLS LAST, p.id",
            *params,
        )
        return [_person_from_row(r) for r in rows]

    async def person_statements(
        self, person_id: int, limit: int = 5, offset: int = 0
    ) -> list[Statement]:
        """Return the articles where a person spoke, newest first, with their statements."""
        rows = await self._fetch(
            "SELECT m.article_id, m.title, m.statement FROM mentions m "
            "WHERE m.person_id = ? AND m.role = 'spoke' "
            "ORDER BY m.published_at DESC, m.article_id DESC LIMIT ? OFFSET ?",
            person_id,
            limit,
            offset,
        )
        articles = await self.articles_by_ids(r[0] for r in rows)
        return [
            Statement(article=articles[r[0]], title=r[1], statement=r[2])
            for r in rows
            if r[0] in articles
        ]

    async def count_person_statements(self, person_id: int) -> int:
        """Return in how many articles a person spoke."""
        row = await self._fetchrow(
            "SELECT count(*) FROM mentions WHERE person_id = ? AND role = 'spoke'", person_id
        )
        return int(row[0]) if row else 0

    async def person_appearances(
        self, person_id: int, limit: int = 5, offset: int = 0
    ) -> list[Appearance]:
        """Return the articles a person appears in, newest first, with their roles there."""
        rows = await self._fetch(
            # mentions_by_person_date hands the rows over in (date, article) order.
            "SELECT article_id, string_agg(role, ','), max(title), max(statement) "
            "FROM mentions WHERE person_id = ? "
            "GROUP BY published_at, article_id ORDER BY published_at DESC, article_id DESC "
            "LIMIT ? OFFSET ?",
            person_id,
            limit,
            offset,
        )
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
            "SELECT role, count(*) FROM mentions WHERE person_id = ? GROUP BY role", person_id
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
        period, period_params = _period_case("at", bounds)
        rows = await self._fetch(
            f"SELECT {period} AS period, role_rank, count(*) FROM ("
            "SELECT min(published_at) AS at, min(CASE role "
            "WHEN 'spoke' THEN 0 WHEN 'presided' THEN 1 WHEN 'attended' THEN 2 ELSE 3 END) "
            "AS role_rank FROM mentions "
            "WHERE person_id = ? AND published_at >= ? AND published_at < ? GROUP BY article_id"
            ") per_article GROUP BY 1, 2 ORDER BY 1, 2",
            *period_params,
            person_id,
            to_db_time(bounds[0]),
            to_db_time(bounds[-1]),
        )
        return [PeriodCount(r[0], ACTIVITY_ROLES[r[1]], r[2]) for r in rows]

    async def search_activity(
        self, words: list[str], bounds: Sequence[datetime]
    ) -> list[PeriodCount]:
        """Return how many articles contain every word in each period [bounds[i], bounds[i+1])."""
        match = _match_condition(words)
        if match is None or len(bounds) < 2:
            return []
        condition, params = match
        period, period_params = _period_case("s.published_at", bounds)
        rows = await self._fetch(
            f"SELECT {period} AS period, count(*) FROM articles_search s "
            f"WHERE {condition} AND s.published_at >= ? AND s.published_at < ? "
            "GROUP BY 1 ORDER BY 1",
            *period_params,
            *params,
            to_db_time(bounds[0]),
            to_db_time(bounds[-1]),
        )
        return [PeriodCount(r[0], "", r[1]) for r in rows]

    async def search_top_speakers(
        self, words: list[str], since: datetime, until: datetime, limit: int = 3
    ) -> list[tuple[Person, int]]:
        """Return who spoke in the most articles of [since, until) containing every word."""
        match = _match_condition(words)
        if match is None:
            return []
        condition, params = match
        rows = await self._fetch(
            "SELECT m.person_id, count(*) AS n FROM mentions m WHERE m.article_id IN "
            f"(SELECT s.id FROM articles_search s WHERE {condition} "
            "AND s.published_at >= ? AND s.published_at < ?) "
            "AND m.role = 'spoke' GROUP BY m.person_id ORDER BY n DESC, m.person_id LIMIT ?",
            *params,
            to_db_time(since),
            to_db_time(until),
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

        Words of 3+ characters are LIKE patterns served by the trigram index, shorter ones
        are terms of the bigram array; hits are newest first, or with `by_relevance` by how
        often the long words occur per character of text (lower rank is better), then newest.
        """
        words = [search_form(w) for w in words]  # as the index holds them: 振興 finds 振兴
        long_words = [w for w in words if len(w) >= 3]
        short_terms: list[str] = []
        for word in (w for w in words if len(w) < 3):
            terms = short_word_terms(word)
            if terms is None:
                return [], 0  # a short word with no letters or digits cannot match anything
            short_terms.extend(t for t in terms if t not in short_terms)
        if not long_words and not short_terms:
            return [], 0
        where: list[str] = []
        params: list[Any] = []
        for word in long_words:
            params.append(like_pattern(word))
            where.append(f"s.text LIKE ${len(params)}")
        if short_terms:
            params.append(short_terms)
            where.append(f"s.grams @> ${len(params)}::text[]")
        if since is not None:
            params.append(to_db_time(since))
            where.append(f"s.published_at >= ${len(params)}")
        if until is not None:
            params.append(to_db_time(until))
            where.append(f"s.published_at < ${len(params)}")
        condition = " AND ".join(where)
        # Counting every match of a very common word costs more than the page itself; past
        # SEARCH_COUNT_CAP the reply says "1000+".
        cap = SEARCH_COUNT_CAP + 1
        total = int(
            await self._fetchval(
                f"SELECT count(*) FROM (SELECT 1 FROM articles_search s WHERE {condition} "
                f"LIMIT {cap}) m",
                *params,
            )
        )
        if total == 0:
            return [], 0
        page_params = [*params, limit, offset]
        bounds = f"LIMIT ${len(params) + 1} OFFSET ${len(params) + 2}"
        ranks: dict[int, float] = {}
        if by_relevance and long_words:
            occurrences = " + ".join(
                f"(length(s.text) - length(replace(s.text, ${n}, ''))) / {len(w)}.0"
                for n, w in enumerate(long_words, start=len(page_params) + 1)
            )
            rows = await self._fetch(
                f"SELECT s.id, -({occurrences}) * 1000.0 / (length(s.text) + 1) AS r "
                f"FROM articles_search s WHERE {condition} "
                f"ORDER BY r, s.published_at DESC, s.id DESC {bounds}",
                *page_params,
                *(w.lower() for w in long_words),
            )
            page = [r[0] for r in rows]
            ranks = {r[0]: float(r[1]) for r in rows}
        else:
            page_sql = (
                f"SELECT s.id FROM articles_search s WHERE {condition} "
                f"ORDER BY s.published_at DESC, s.id DESC {bounds}"
            )
            if total < cap:
                # Few matches: the search index finds them all and sorting them by date is
                # cheap; left alone, the planner may walk the date index instead and test
                # every article (200 ms for a two-character name in 200 of 100,000).
                async with self.transaction() as con:
                    await con.execute(f"{_NO_JIT} SET LOCAL enable_indexscan = off")
                    rows = await con.fetch(page_sql, *page_params)
            else:
                # Many matches: walk the date index from the newest article, testing each,
                # until the page is full; a common word fills it among the first rows. The
                # planner cannot know (it guesses a handful of matches for any LIKE and would
                # test and sort every match: 1.5 s for a word in 75,000 articles), so it is told.
                async with self.transaction() as con:
                    await con.execute(
                        f"{_NO_JIT} SET LOCAL enable_bitmapscan = off; "
                        "SET LOCAL enable_seqscan = off"
                    )
                    rows = await con.fetch(page_sql, *page_params)
            page = [r[0] for r in rows]
        articles = await self.articles_by_ids(page)
        hits = [
            SearchHit(article=articles[i], rank=ranks.get(i, 0.0)) for i in page if i in articles
        ]
        return hits, total

    async def save_search_query(self, chat_id: int, query: str) -> int:
        """Remember a chat's search so its paging buttons can refer to it by a short id."""
        return int(
            await self._fetchval(
                "INSERT INTO search_queries (chat_id, query, created_at) VALUES ($1, $2, $3) "
                "RETURNING id",
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


def _match_condition(words: list[str]) -> tuple[str, list[Any]] | None:
    """Return a condition on `articles_search s` matching every word (`?` params), or None.

    The same as search_articles: 3+ character words through the trigram index, shorter ones
    through the bigram array; None when a word cannot match anything.
    """
    words = [search_form(w) for w in words]
    conditions: list[str] = []
    params: list[Any] = []
    short_terms: list[str] = []
    for word in words:
        if len(word) >= 3:
            conditions.append("s.text LIKE ?")
            params.append(like_pattern(word))
            continue
        terms = short_word_terms(word)
        if terms is None:
            return None
        short_terms.extend(t for t in terms if t not in short_terms)
    if short_terms:
        conditions.append("s.grams @> ?::text[]")
        params.append(short_terms)
    if not conditions:
        return None
    return " AND ".join(conditions), params


async def _refold_search(con: Any) -> None:
    """Index every stored article, and fold every followed word, in search_form."""
    rows = await con.fetch(
        "SELECT a.id, a.published_at, a.title, a.body FROM articles a ORDER BY a.id"
    )
    records = [search_record(r[0], r[1], r[2], r[3]) for r in rows]
    await con.executemany(
        "UPDATE articles_search SET text = $3, grams = $4 WHERE id = $1 AND published_at = $2",
        records,
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


# The articles_search columns a search_record fills, in its order (`newsbot copy-db` COPYs them).
SEARCH_COLUMNS = ("id", "published_at", "text", "grams")


def search_record(
    article_id: int, published_at: str, title: str, body: str
) -> tuple[int, str, str, list[str]]:
    """Return an article's articles_search row: every index write (and copy-db) builds it here."""
    text = search_text(title, body)
    return (article_id, published_at, text, gram_terms(text))


async def write_search_row(
    con: Any, article_id: int, published_at: str, title: str, body: str
) -> None:
    """Index one article for search (insert or replace)."""
    await con.execute(
        "INSERT INTO articles_search (id, published_at, text, grams) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (id) DO UPDATE SET published_at = excluded.published_at, "
        "text = excluded.text, grams = excluded.grams",
        *search_record(article_id, published_at, title, body),
    )
