"""The store on PostgreSQL: the portable queries, and its GIN search, claims and /latest cache."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from news.models import (
    Headline,
    ParsedArticle,
    PeriodCount,
    StorySketch,
)
from news.nlp.fold import search_form
from storage import rows
from storage.articles import NEWEST_FIRST
from storage.database import Row, Transaction, migrate
from storage.fulltext import NO_MATCH, RELEVANCE_CAP, SEARCH_COUNT_CAP, Search, SearchPage
from storage.people import period_case
from storage.postgres.database import PostgresDatabase, pg
from storage.postgres.schema import ARTICLES_CHANNEL, SCHEMA
from storage.postgres.terms import (
    like_pattern,
    month_key,
    said_keys,
    term_key,
    word_terms,
    write_search_row,
)
from storage.rows import HEADLINE_COLUMNS, to_db_time
from storage.said import SaidRow
from storage.store import Store

logger = logging.getLogger(__name__)

# /latest pages kept between article changes (page sizes times pages turned to).
LATEST_PAGES_KEPT = 64
# A lost listener (the server restarted, say) is opened again after this many seconds,
# doubling up to RELISTEN_MAX_SECONDS while the server stays away; /latest reads every page
# until it is back.
RELISTEN_FIRST_SECONDS = 1.0
RELISTEN_MAX_SECONDS = 60.0
# Search reads the GIN index as bitmaps, never by testing rows: the planner, guessing few
# matches, would walk the date index and detoast every row's terms. A plan steered with
# enable_* = off carries a huge cost, which would start the JIT compiler (far dearer than the
# query); a parallel plan would not stop at the LIMIT of windows_sql.
SEARCH_SETTINGS = (
    "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; SET LOCAL jit = off; "
    "SET LOCAL max_parallel_workers_per_gather = 0"
)


class PostgresStore(Store):
    """The store on a PostgreSQL database, one connection pool per process."""

    db: PostgresDatabase
    # article_urls keeps the order URLs were found in a `seq` column (SQLite has its rowid).
    url_order = "u.seq"

    def __init__(self, db: PostgresDatabase) -> None:
        super().__init__(db)
        # /latest pages as last read, kept while the connection below LISTENs for article
        # changes (a round trip to the server costs more than the whole reply on a busy
        # machine). None: no listener, every page is read.
        self._latest: dict[tuple[int, int], tuple[list[Headline], int]] | None = None
        self._listener: Any = None
        self._relisten: asyncio.Task[None] | None = None
        self._closing = False
        # Counts article changes seen, so that a page read across one is not kept.
        self._articles_seen = 0

    @classmethod
    async def open(cls, url: str) -> PostgresStore:
        """Connect, check the schema version, and apply pending migrations under a lock."""
        store = cls(await PostgresDatabase.open(url))
        try:
            await migrate(store.db, SCHEMA)
            await store._listen()
        except BaseException:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        """Close every connection of the pool, and the listener."""
        self._closing = True
        if self._relisten is not None:
            self._relisten.cancel()
        listener, self._listener, self._latest = self._listener, None, None
        if listener is not None:
            await listener.close()
        await self.db.close()

    # --- /latest, kept until an article changes ------------------------------------------

    async def _listen(self) -> bool:
        """Open the connection that hears of article changes; without it nothing is cached."""
        try:
            listener = await asyncpg.connect(self.db.url)
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

    async def latest_page(self, limit: int = 10, offset: int = 0) -> tuple[list[Headline], int]:
        """Return a page of the newest headlines and the article count, in one round trip.

        Kept until an article change is announced: most /latest need no query.
        """
        cached = self._latest.get((limit, offset)) if self._latest is not None else None
        if cached is not None:
            return list(cached[0]), cached[1]
        seen = self._articles_seen
        found = await self.db.fetch(
            f"SELECT {HEADLINE_COLUMNS}, c.n FROM article_count c "
            f"LEFT JOIN LATERAL (SELECT * {NEWEST_FIRST}) a ON true WHERE c.id = 1",
            (limit, offset),
        )
        total = int(found[0]["n"]) if found else 0
        page = await self._with_outlets([rows.headline(r) for r in found if r["id"] is not None])
        if self._latest is not None and seen == self._articles_seen:
            if len(self._latest) >= LATEST_PAGES_KEPT:
                self._latest.clear()
            self._latest[(limit, offset)] = (page, total)
        return list(page), total

    def _article_added(self) -> None:
        """Forget the /latest pages before the server's notification comes round."""
        self._on_articles_changed()

    async def _index_article(
        self, tx: Transaction, article_id: int, article: ParsedArticle
    ) -> None:
        """Write the article's articles_search row."""
        await write_search_row(
            tx, article_id, to_db_time(article.published_at), article.title, article.body
        )

    async def _unindex_article(self, tx: Transaction, article_id: int) -> None:
        """Delete the article's articles_search row."""
        await tx.execute("DELETE FROM articles_search WHERE id = ?", (article_id,))

    async def _keep_sketch(self, tx: Transaction, article_id: int, sketch: StorySketch) -> None:
        """Store the sketch and its band keys in one statement (one round trip, not two)."""
        await tx.execute(
            "WITH k AS (INSERT INTO story_sketches (article_id, shingles, signature) "
            "VALUES (?1, ?2, ?3)) INSERT INTO story_bands (band, article_id) "
            "SELECT b, ?1 FROM unnest(?4::bigint[]) AS b",
            (article_id, sketch.shingles, sketch.signature, list(sketch.bands)),
        )

    async def _lock_bands(self, tx: Transaction, bands: Sequence[int]) -> None:
        """Lock the band keys for the transaction: copies stored at once meet, one waits."""
        # In key order, so two transactions never wait on each other's locks in a circle.
        await tx.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT k FROM unnest(?::bigint[]) AS k ORDER BY k) AS o",
            (sorted(set(bands)),),
        )

    # --- /said: statements' term keys with the speaker's id -------------------------------

    async def _index_statements(self, tx: Transaction, said: list[SaidRow]) -> None:
        """Set the statements' term keys (and their speaker's id) for the GIN index."""
        await tx.executemany(
            "UPDATE statements SET terms = ? WHERE id = ?",
            [(said_keys(s.person_id, s.text), s.key) for s in said],
        )

    async def _unindex_statements(self, tx: Transaction, said: list[SaidRow]) -> None:
        """Nothing: a deleted row leaves the GIN index with it."""
        del tx, said

    async def _said_keys(
        self, person_id: int, words: list[str], low: int | None, high: int | None, want: int
    ) -> list[int]:
        """Look the speaker's id and the words' terms up in the GIN index at once."""
        keys = [person_id]
        for word in words:
            terms = word_terms(word)
            if terms is None:
                return []
            keys.extend(term_key(t) for t in terms[0])
        where = "terms @> ?::bigint[]"
        params: list[Any] = [keys]
        for bound, value in (("id >= ?", low), ("id < ?", high)):
            if value is not None:
                where += f" AND {bound}"
                params.append(value)
        # Terms of a long word may lie apart: every word is checked in the text.
        for word in words:
            where += " AND strpos(text, ?) > 0"
            params.append(word)
        found = await self.db.fetch(
            f"SELECT id FROM statements WHERE {where} ORDER BY id DESC LIMIT ?", [*params, want]
        )
        return [r["id"] for r in found]

    # --- a person's pages ----------------------------------------------------------------

    _statements_sql = (
        "SELECT m.article_id, m.title, m.statement, m.published_at FROM ("
        "SELECT article_id FROM mentions WHERE person_id = ?1 AND role = 'spoke' "
        "ORDER BY published_at DESC, article_id DESC LIMIT ?2 OFFSET ?3) k "
        "JOIN mentions m ON m.article_id = k.article_id AND m.person_id = ?1 "
        "AND m.role = 'spoke'"
    )
    _appearances_sql = (
        "SELECT k.article_id, string_agg(m.role, ',') AS roles, max(m.title) AS title, "
        "max(m.statement) AS statement, k.published_at FROM (SELECT published_at, article_id "
        "FROM mentions WHERE person_id = ?1 GROUP BY published_at, article_id "
        "ORDER BY published_at DESC, article_id DESC LIMIT ?2 OFFSET ?3) k "
        "JOIN mentions m ON m.article_id = k.article_id AND m.person_id = ?1 "
        "GROUP BY k.published_at, k.article_id"
    )

    async def _cut_day_mentions(self, person_id: int, ranges: list[tuple[str, str]]) -> list[Row]:
        """Return the person's articles in the ranges, one index range a day."""
        # One index range per cut day, as a UNION ALL: joined to a VALUES list, the generic
        # plan of a prepared statement walks all of a leader's mentions.
        arms = " UNION ALL ".join(
            "SELECT article_id, published_at, role FROM mentions "
            "WHERE person_id = ? AND published_at >= ? AND published_at < ?"
            for _ in ranges
        )
        return await self.db.fetch(
            "SELECT min(published_at) AS at, min(role_rank(role)) AS rank "
            f"FROM ({arms}) m GROUP BY article_id",
            [value for low, high in ranges for value in (person_id, low, high)],
        )

    # --- search over the GIN index of terms and months -----------------------------------

    async def _search_page(self, search: Search) -> SearchPage:
        """Search the GIN index of terms and months.

        The newest SEARCH_COUNT_CAP + 1 matches (or more for a page past them) are found
        month by month (newest_matches); by relevance, the newest RELEVANCE_CAP of them are
        ranked by how often the 3+ character words occur per 1000 characters, then newest.
        """
        match = search_match(search.words)
        if match is None:
            return NO_MATCH
        ranks: dict[int, float] = {}
        async with self.db.transaction() as tx:
            con = tx.connection
            want = max(SEARCH_COUNT_CAP + 1, search.offset + search.limit)
            found = await newest_matches(con, match, search.since, search.until, want)
            if search.by_relevance and match.counted:
                sql, params = rank_sql(match, found[:RELEVANCE_CAP], search.limit, search.offset)
                ranked = await con.fetch(sql, *params)
                page = [r["id"] for r in ranked]
                ranks = {r["id"]: float(r["r"]) for r in ranked}
            elif search.by_relevance:
                # Nothing to count (short words only): the ranked ones in date order.
                page = found[:RELEVANCE_CAP][search.offset : search.offset + search.limit]
            else:
                page = found[search.offset : search.offset + search.limit]
        return SearchPage(page, min(len(found), SEARCH_COUNT_CAP + 1), ranks)

    async def search_activity(
        self, words: list[str], bounds: Sequence[datetime]
    ) -> list[PeriodCount]:
        """Count the matches per period in one GIN scan of their terms and months."""
        match = search_match(words)
        if match is None or len(bounds) < 2:
            return []
        low, high = to_db_time(bounds[0]), to_db_time(bounds[-1])
        condition, params = match_sql(match, months_between(high, low))
        period, period_params = period_case("s.published_at", bounds)
        found = await self.db.fetch(
            f"SELECT {period} AS period, count(*) AS n FROM articles_search s "
            f"WHERE {condition} AND s.published_at >= ? AND s.published_at < ? "
            "GROUP BY 1 ORDER BY 1",
            [*period_params, *params, low, high],
        )
        return [PeriodCount(r["period"], "", r["n"]) for r in found]

    async def _speaker_counts(
        self, words: list[str], since: datetime, until: datetime, limit: int, newest: int
    ) -> list[Row]:
        """Count the speakers of the newest matches, found month by month (newest_matches)."""
        match = search_match(words)
        if match is None:
            return []
        async with self.db.transaction() as tx:
            found = await newest_matches(tx.connection, match, since, until, newest)
            return await tx.fetch(
                "SELECT person_id, count(*) AS n FROM mentions "
                "WHERE article_id = ANY(?::bigint[]) AND role = 'spoke' "
                "GROUP BY person_id ORDER BY n DESC, person_id LIMIT ?",
                (found, limit),
            )


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
    return [r["id"] for r in await con.fetch(sql, *params)]


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
