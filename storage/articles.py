"""Sources, list pages and articles: the queries written once for every backend."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from news.models import (
    Article,
    ArticleAnalysis,
    Headline,
    Link,
    ParsedArticle,
    SourceRun,
    SourceStatus,
    StoreOutcome,
    StorySketch,
)
from news.stories import sketch as story_sketch
from storage import rows
from storage.database import Database, Transaction
from storage.rows import ARTICLE_COLUMNS, HEADLINE_COLUMNS, now, to_db_time

# Lists show a story once: its first copy (story_id NULL), read in the partial date index.
NEWEST_FIRST = (
    "FROM articles a WHERE a.story_id IS NULL "
    "ORDER BY a.published_at DESC, a.id DESC LIMIT ? OFFSET ?"
)
LATEST_SQL = f"SELECT {HEADLINE_COLUMNS} {NEWEST_FIRST}"
_ADD_URL = "INSERT INTO article_urls (url_key, url, article_id) VALUES (?, ?, ?)"
# How long before its window a digest still takes an article stored during the window: sites
# post some articles hours after their date, and a date-only page says midnight.
DIGEST_GRACE = timedelta(days=1)
DELETE_MENTIONS = "DELETE FROM mentions WHERE article_id = ?"
# Ids asked for at once: far below every SQLite build's cap on bound parameters.
IDS_AT_ONCE = 500


class StorePart(ABC):
    """What every part of the store stands on: the backend's Database adapter."""

    db: Database

    @property
    def backend(self) -> str:
        """Return "sqlite" or "postgresql"."""
        return self.db.dialect.name


class ArticleQueries(StorePart):
    """Sources, list validators and the articles themselves."""

    # The column that keeps an article's URLs in the order they were found.
    url_order = "u.rowid"

    # --- sources -------------------------------------------------------------------------

    async def upsert_source(self, name: str, title: str, profile: str) -> None:
        """Record a configured source, updating its title and profile."""
        await self.db.execute(
            "INSERT INTO sources (name, title, profile, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET title = excluded.title, profile = excluded.profile",
            (name, title, profile, to_db_time(now())),
        )

    async def record_source_success(self, name: str, at: datetime | None = None) -> None:
        """Note a run of the source that completed."""
        await self.db.execute(
            "UPDATE sources SET last_success_at = ?, consecutive_failures = 0 WHERE name = ?",
            (to_db_time(at or now()), name),
        )

    async def record_source_error(self, name: str, error: str, at: datetime | None = None) -> None:
        """Note an error of the source (a failed run, or a list page that yielded nothing)."""
        await self.db.execute(
            "UPDATE sources SET last_error_at = ?, last_error = ?, "
            "consecutive_failures = consecutive_failures + 1, error_count = error_count + 1 "
            "WHERE name = ?",
            (to_db_time(at or now()), error[:500], name),
        )

    async def claim_source_failure_notice(self, name: str, runs: int) -> bool:
        """Return True once when the source has failed `runs` runs in a row (until it recovers).

        One UPDATE … RETURNING: of several instances crawling in turn, one tells the admins.
        """
        found = await self.db.fetch(
            "UPDATE sources SET failure_told_at = ? WHERE name = ? "
            "AND consecutive_failures >= ? AND failure_told_at IS NULL RETURNING name",
            (to_db_time(now()), name, runs),
        )
        return bool(found)

    async def claim_source_recovery_notice(self, name: str) -> bool:
        """Return True once when a source whose failure was told has completed a run since."""
        # A completed run, not a clean one: a run that stored articles but met one bad page
        # counts as a failure again (consecutive_failures 1) and is still a recovery.
        found = await self.db.fetch(
            "UPDATE sources SET failure_told_at = NULL WHERE name = ? "
            "AND failure_told_at IS NOT NULL AND last_success_at >= failure_told_at RETURNING name",
            (name,),
        )
        return bool(found)

    async def source_statuses(self) -> list[SourceStatus]:
        """Return every source's health and article count, by name."""
        found = await self.db.fetch(
            "SELECT s.name, s.title, s.profile, s.last_success_at, s.last_error_at, s.last_error, "
            "s.consecutive_failures, s.error_count, "
            "(SELECT count(*) FROM articles a WHERE a.source_name = s.name) AS article_count "
            f"FROM sources s ORDER BY s.name {self.db.dialect.bytewise}"
        )
        return [rows.source_status(r) for r in found]

    async def source_runs(self) -> list[SourceRun]:
        """Return when each source last succeeded and failed (no counts: cheap enough to poll)."""
        found = await self.db.fetch(
            "SELECT name, last_success_at, last_error_at, consecutive_failures FROM sources"
        )
        return [rows.source_run(r) for r in found]

    async def source_names(self) -> list[str]:
        """Return the names of every recorded source."""
        found = await self.db.fetch(
            f"SELECT name FROM sources ORDER BY name {self.db.dialect.bytewise}"
        )
        return [r["name"] for r in found]

    async def list_validators(self, url: str) -> tuple[str | None, str | None]:
        """Return the ETag and Last-Modified last seen for a list page."""
        row = await self.db.fetchone(
            "SELECT etag, last_modified FROM list_validators WHERE url = ?", (url,)
        )
        return (row["etag"], row["last_modified"]) if row else (None, None)

    async def save_list_validators(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> None:
        """Remember a list page's validators for the next conditional GET."""
        await self.db.execute(
            "INSERT INTO list_validators (url, etag, last_modified) VALUES (?, ?, ?) "
            "ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, "
            "last_modified = excluded.last_modified",
            (url, etag, last_modified),
        )

    # --- storing -------------------------------------------------------------------------

    async def known_url_keys(self, keys: Iterable[str]) -> set[str]:
        """Return which of these normalised URL keys already belong to a stored article."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        for start in range(0, len(wanted), IDS_AT_ONCE):
            where, params = self.db.dialect.in_list(
                "url_key", wanted[start : start + IDS_AT_ONCE], "text"
            )
            found.update(
                r["url_key"]
                for r in await self.db.fetch(
                    f"SELECT url_key FROM article_urls WHERE {where}", params
                )
            )
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
        """Store a parsed article once; a copy of a stored story at another URL is its reprint.

        A known URL is a duplicate. An exact copy (the same fingerprint) or a near one (the
        MinHash bands of news.stories) is stored as a reprint: its own row, URL, source,
        headline and time, with story_id naming the story's first copy, outside search,
        people's pages and every list. Only a first copy is indexed and analysed.
        """
        # The crawler's analysis brings the sketch, made in its worker process; else made here.
        sketch = analysis.sketch if analysis and analysis.sketch else story_sketch(article.body)
        async with self.db.transaction() as tx:
            known = await tx.fetchval(
                "SELECT article_id FROM article_urls WHERE url_key = ?", (url_key,)
            )
            if known is not None:
                return StoreOutcome(article_id=known, created=False, reason="url")
            # The copies of a text are few: all of them, the first taken here. ORDER BY id
            # LIMIT 1 lets a planner without statistics walk the primary key instead.
            copies = await tx.fetch(
                "SELECT id, coalesce(story_id, id) AS story FROM articles WHERE content_hash = ?",
                (fingerprint,),
            )
            same = min(copies, key=lambda row: int(row["id"]))["story"] if copies else None
            story = same if same is not None else await self._story_of(tx, sketch)
            values: dict[str, Any] = {
                "url": article.url,
                "title": article.title,
                "published_at": to_db_time(article.published_at),
                "source": article.source,
                "editor": article.editor,
                "body": article.body,
                "fetched_at": to_db_time(fetched_at or now()),
                "content_hash": fingerprint,
                "source_name": source_name,
                "subtitle": article.subtitle,
                "reporter": article.reporter,
                "channel": article.channel,
                "related": rows.related_json(article.related),
                "story_id": story,
                **self._search_columns(article),
            }
            marks = ", ".join("?" * len(values))
            article_id = int(
                await tx.fetchval(
                    f"INSERT INTO articles ({', '.join(values)}) VALUES ({marks}) RETURNING id",
                    list(values.values()),
                )
            )
            await tx.execute(_ADD_URL, (url_key, article.url, article_id))
            await self._keep_sketch(tx, article_id, sketch)
            if story is None:
                await self._index_article(tx, article_id, article)
                if analysis is not None:
                    await self._write_analysis(tx, article_id, article.published_at, analysis)
        self._article_added()
        if story is not None:
            reason = "fingerprint" if same is not None else "similar"
            return StoreOutcome(article_id=article_id, created=True, reason=reason, story_id=story)
        return StoreOutcome(article_id=article_id, created=True)

    @abstractmethod
    async def _story_of(self, tx: Transaction, sketch: StorySketch) -> int | None:
        """Return the first copy of the stored story this sketch is a copy of (storage.stories)."""

    @abstractmethod
    async def _keep_sketch(self, tx: Transaction, article_id: int, sketch: StorySketch) -> None:
        """Store an article's signature and band keys (storage.stories)."""

    @abstractmethod
    async def _with_outlets(self, items: list[Any]) -> list[Any]:
        """Return list items with their stories' other outlets filled in (storage.stories)."""

    def _article_added(self) -> None:
        """Note that this process just stored an article (a backend's page cache forgets)."""

    def _search_columns(self, article: ParsedArticle) -> dict[str, Any]:
        """Return the backend's own columns of a new articles row (none by default)."""
        del article
        return {}

    @abstractmethod
    async def _index_article(
        self, tx: Transaction, article_id: int, article: ParsedArticle
    ) -> None:
        """Index a just-inserted article for search, inside the caller's transaction."""

    @abstractmethod
    async def _write_analysis(
        self, tx: Transaction, article_id: int, published_at: datetime, analysis: ArticleAnalysis
    ) -> None:
        """Write an analysis inside the caller's transaction (storage.people)."""

    async def save_analysis(self, article_id: int, analysis: ArticleAnalysis) -> None:
        """Replace an article's summary, keywords and mentions with a fresh analysis."""
        published = await self.db.fetchval(
            "SELECT published_at FROM articles WHERE id = ?", (article_id,)
        )
        if published is None:
            raise KeyError(f"no article {article_id}")
        async with self.db.transaction() as tx:
            await self._write_analysis(tx, article_id, rows.from_db_time(published), analysis)

    # --- reading -------------------------------------------------------------------------

    async def latest_articles(self, limit: int = 10, offset: int = 0) -> list[Article]:
        """Return the newest articles, newest first."""
        found = await self.db.fetch(f"SELECT {ARTICLE_COLUMNS} {NEWEST_FIRST}", (limit, offset))
        return await self._with_outlets([rows.article(r) for r in found])

    async def latest_page(self, limit: int = 10, offset: int = 0) -> tuple[list[Headline], int]:
        """Return a page of the newest headlines and how many articles there are, in one call."""
        found = await self.db.lookup(LATEST_SQL, (limit, offset))
        total = await self.count_articles()
        return await self._with_outlets([rows.headline(r) for r in found]), total

    async def count_articles(self) -> int:
        """Return how many articles are stored."""
        # One row kept by triggers: count(*) reads a whole index, and /latest asks every time.
        found = await self.db.lookup("SELECT n FROM article_count WHERE id = 1")
        return int(found[0]["n"]) if found else 0

    async def get_article(self, article_id: int) -> Article | None:
        """Return one article by id, or None."""
        found = await self.db.lookup(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.id = ?", (article_id,)
        )
        return rows.article(found[0]) if found else None

    async def article_urls(self, article_id: int) -> list[str]:
        """Return every URL the article was found at, the canonical one first."""
        found = await self.db.fetch(
            "SELECT u.url FROM article_urls u JOIN articles a ON a.id = u.article_id "
            f"WHERE u.article_id = ? ORDER BY (u.url = a.url) DESC, {self.url_order}",
            (article_id,),
        )
        return [r["url"] for r in found]

    async def article_related(self, article_id: int) -> list[Link]:
        """Return the related links stored with an article."""
        related = await self.db.fetchval("SELECT related FROM articles WHERE id = ?", (article_id,))
        return rows.related_links(related) if related is not None else []

    async def articles_by_ids(self, ids: Iterable[int]) -> dict[int, Article]:
        """Return the articles with these ids, keyed by id."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        where, params = self.db.dialect.in_list("a.id", wanted, "bigint")
        found = await self.db.fetch(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE {where}", params
        )
        listed = await self._with_outlets([rows.article(r) for r in found])
        return {a.id: a for a in listed}

    async def article_summary(self, article_id: int) -> tuple[str, tuple[str, ...]]:
        """Return an article's stored summary and keywords."""
        found = await self.db.lookup(
            "SELECT summary, keywords FROM articles WHERE id = ?", (article_id,)
        )
        if not found:
            return "", ()
        return found[0]["summary"], tuple(k for k in found[0]["keywords"].split(",") if k)

    async def article_summaries(self, article_ids: Iterable[int]) -> dict[int, str]:
        """Return the stored summaries of these articles, keyed by id, in one query."""
        wanted = list(dict.fromkeys(article_ids))
        if not wanted:
            return {}
        where, params = self.db.dialect.in_list("id", wanted, "bigint")
        found = await self.db.fetch(f"SELECT id, summary FROM articles WHERE {where}", params)
        return {r["id"]: r["summary"] for r in found}

    async def latest_articles_of_source(self, source_name: str, limit: int = 50) -> list[Article]:
        """Return the newest articles a configured source found, newest first."""
        found = await self.db.fetch(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.source_name = ? "
            "ORDER BY a.published_at DESC, a.id DESC LIMIT ?",
            (source_name, limit),
        )
        return [rows.article(r) for r in found]

    async def articles_between(
        self, since: datetime, until: datetime, channels: Sequence[str] = (), limit: int = 200
    ) -> list[int]:
        """Return ids of the stories a digest of [since, until) holds (optionally of some sources).

        Chosen by publication time, so that a backfill's old articles never reach a digest:
        those published in the window and stored before it ended, and those published up to
        DIGEST_GRACE before it but stored only during it (a site that posts late; the digest
        before could not have held them). Each article lands in one digest at most.
        """
        params: list[Any] = [
            to_db_time(since - DIGEST_GRACE),
            to_db_time(until),
            to_db_time(until),
            to_db_time(since),
            to_db_time(since),
        ]
        where = (
            "a.published_at >= ? AND a.published_at < ? AND a.fetched_at < ? "
            "AND (a.published_at >= ? OR a.fetched_at >= ?)"
        )
        if not channels:
            found = await self.db.fetch(
                f"SELECT a.id FROM articles a WHERE {where} AND a.story_id IS NULL "
                "ORDER BY a.published_at DESC, a.id DESC LIMIT ?",
                (*params, limit),
            )
            return [r["id"] for r in found]
        # Some sources only: a story counts by the first copy one of them printed, which may
        # be a reprint (沈阳网 carrying 北国网's story); the digest shows the story's first copy,
        # whose 也见于 names the chosen outlet.
        names = list(channels)
        among, among_params = self.db.dialect.in_list("a.source_name", names, "text")
        earlier, earlier_params = self.db.dialect.in_list("e.source_name", names, "text")
        found = await self.db.fetch(
            "SELECT coalesce(a.story_id, a.id) AS story FROM articles a "
            f"WHERE {where} AND {among} AND (a.story_id IS NULL OR NOT EXISTS ("
            "SELECT 1 FROM articles e WHERE (e.id = a.story_id OR e.story_id = a.story_id) "
            f"AND e.id < a.id AND {earlier})) ORDER BY a.published_at DESC, a.id DESC LIMIT ?",
            (*params, *among_params, *earlier_params, limit),
        )
        return [r["story"] for r in found]
