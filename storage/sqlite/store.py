"""The store on SQLite: the portable queries, and what SQLite's planner and FTS5 index need."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from news.models import ParsedArticle, PeriodCount
from news.nlp.fold import search_form, stored_search_form
from storage.database import Row, Transaction, migrate
from storage.fulltext import NO_MATCH, RELEVANCE_CAP, SEARCH_COUNT_CAP, Search, SearchPage
from storage.people import period_case
from storage.rows import to_db_time
from storage.said import SaidRow
from storage.sqlite import search_keys
from storage.sqlite.database import SqliteDatabase
from storage.sqlite.grams import (
    ADD_GRAMS,
    ADD_SAID_GRAMS,
    DELETE_GRAMS,
    DELETE_SAID_GRAMS,
    SET_SEARCH_KEY,
    gram_query,
    index_grams,
    long_word_query,
    said_grams,
    speaker_token,
)
from storage.sqlite.schema import SCHEMA
from storage.store import Store

logger = logging.getLogger(__name__)


class SqliteStore(Store):
    """The store on one SQLite file (or :memory:)."""

    db: SqliteDatabase

    @classmethod
    async def open(cls, path: Path | str) -> SqliteStore:
        """Open (creating if needed) the database, check it, and apply pending migrations."""
        db = await SqliteDatabase.open(path)
        try:
            await migrate(db, SCHEMA)
            db.open_reader()
        except BaseException:
            await db.close()
            raise
        return cls(db)

    # --- the search index, kept in date order --------------------------------------------

    def _search_columns(self, article: ParsedArticle) -> dict[str, Any]:
        """Return the folded title and body, where they differ from the text (else NULL)."""
        return {
            "search_title": stored_search_form(article.title),
            "search_body": stored_search_form(article.body),
        }

    async def _index_article(
        self, tx: Transaction, article_id: int, article: ParsedArticle
    ) -> None:
        """Give the article its search key among its day's and index its folded bigrams."""
        key = await self._place_by_date(tx, article_id, article.published_at)
        await tx.execute(
            ADD_GRAMS,
            (key, index_grams(search_form(article.title + "\n" + article.body))),
        )

    async def _unindex_article(self, tx: Transaction, article_id: int) -> None:
        """Take an article's bigrams out of the index and clear its search key."""
        row = await tx.fetchone(
            "SELECT search_key, title, body FROM articles WHERE id = ? AND search_key IS NOT NULL",
            (article_id,),
        )
        if row is None:
            return
        await tx.execute(
            DELETE_GRAMS,
            (row["search_key"], index_grams(search_form(row["title"] + "\n" + row["body"]))),
        )
        await tx.execute(SET_SEARCH_KEY, (None, article_id))

    async def _place_by_date(self, tx: Transaction, article_id: int, published_at: datetime) -> int:
        """Give a just-inserted article its search key between its neighbours by date.

        An article appended at the end of its day (the usual case) or between two with room
        takes a free slot; when its day has none left, the day's keys are spread again (its
        articles re-indexed, a few hundred at most).
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
            neighbours.append(
                await tx.fetchval(
                    "SELECT search_key FROM articles INDEXED BY articles_by_date "
                    f"WHERE {condition} AND search_key >= ? AND search_key < ? "
                    f"ORDER BY published_at {order}, id {order} LIMIT 1",
                    (start if order == "DESC" else end, at, article_id, low, high),
                )
            )
        key = search_keys.between(day, neighbours[0], neighbours[1])
        if key is None:
            key = await self._respread_day(tx, day, article_id, start, end)
        await tx.execute(SET_SEARCH_KEY, (key, article_id))
        return key

    async def _respread_day(
        self, tx: Transaction, day: int, article_id: int, start: str, end: str
    ) -> int:
        """Spread a full day's keys evenly again; return the key left for `article_id`."""
        found = await tx.fetch(
            "SELECT id, search_key, coalesce(search_title, title) AS title, "
            "coalesce(search_body, body) AS body FROM articles "
            "WHERE published_at >= ? AND published_at < ? "
            "AND (search_key >= 0 OR id = ?) ORDER BY published_at, id",
            (start, end, article_id),
        )
        if len(found) >= search_keys.SLOTS:
            # More articles in one day than it has slots: this one is still found by every
            # search, listed after the others, and outside date ranges (-id is unique).
            logger.warning(
                "more than %d articles on one day: search order kept for the first",
                search_keys.SLOTS - 1,
            )
            return -article_id
        keys = search_keys.spread(day, len(found))
        moved = [(r, k) for r, k in zip(found, keys, strict=True) if r["search_key"] != k]
        for row, _key in moved:
            if row["id"] != article_id:  # its entry is not written yet
                await tx.execute(
                    DELETE_GRAMS,
                    (row["search_key"], index_grams(row["title"] + "\n" + row["body"])),
                )
            # Out of the way first: a new key may be another row's old one.
            await tx.execute(SET_SEARCH_KEY, (-row["id"], row["id"]))
        for row, key in moved:
            await tx.execute(SET_SEARCH_KEY, (key, row["id"]))
            if row["id"] != article_id:
                await tx.execute(
                    ADD_GRAMS,
                    (key, index_grams(row["title"] + "\n" + row["body"])),
                )
        return keys[[r["id"] for r in found].index(article_id)]

    # --- a person's pages: SQLite's planner steered onto the right index ------------------

    # The page's rows are chosen in the (person, role, date) index alone; only the page itself
    # is read from the table.
    _statements_sql = (
        "SELECT m.article_id, m.title, m.statement, m.published_at FROM mentions m "
        "WHERE m.rowid IN (SELECT rowid FROM mentions INDEXED BY mentions_by_person "
        "WHERE person_id = ?1 AND role = 'spoke' "
        "ORDER BY published_at DESC, article_id DESC LIMIT ?2 OFFSET ?3)"
    )
    # CROSS JOIN: the page's (date, article) pairs first, then only their mentions.
    _appearances_sql = (
        "SELECT k.article_id, group_concat(m.role) AS roles, max(m.title) AS title, "
        "max(m.statement) AS statement, k.published_at FROM (SELECT published_at, article_id "
        "FROM mentions INDEXED BY mentions_by_person_date WHERE person_id = ?1 "
        "GROUP BY published_at, article_id ORDER BY published_at DESC, article_id DESC "
        "LIMIT ?2 OFFSET ?3) k CROSS JOIN mentions m "
        "ON m.person_id = ?1 AND m.article_id = k.article_id "
        "GROUP BY k.published_at, k.article_id"
    )

    async def _cut_day_mentions(self, person_id: int, ranges: list[tuple[str, str]]) -> list[Row]:
        """Return the person's articles in the ranges, read by (person, date) index ranges."""
        values = ", ".join("(?, ?)" for _ in ranges)
        # CROSS JOIN: each cut day is a range of the (person, date) index.
        return await self.db.fetch(
            "SELECT min(m.published_at) AS at, min(CASE m.role WHEN 'spoke' THEN 0 "
            "WHEN 'presided' THEN 1 WHEN 'attended' THEN 2 ELSE 3 END) AS rank "
            f"FROM (VALUES {values}) r CROSS JOIN mentions m "
            "INDEXED BY mentions_by_person_date ON m.person_id = ? "
            "AND m.published_at >= r.column1 AND m.published_at < r.column2 "
            "GROUP BY m.article_id",
            [*(t for r in ranges for t in r), person_id],
        )

    # --- /said: statements in the bigram index, with a speaker token ----------------------

    async def _index_statements(self, tx: Transaction, said: list[SaidRow]) -> None:
        """Add the statements' bigrams and speaker tokens to statements_grams."""
        await tx.executemany(
            ADD_SAID_GRAMS, [(s.key, said_grams(s.person_id, s.text)) for s in said]
        )

    async def _unindex_statements(self, tx: Transaction, said: list[SaidRow]) -> None:
        """Remove the statements from the contentless index, which needs their very tokens."""
        await tx.executemany(
            DELETE_SAID_GRAMS, [(s.key, said_grams(s.person_id, s.text)) for s in said]
        )

    async def _said_keys(
        self, person_id: int, words: list[str], low: int | None, high: int | None, want: int
    ) -> list[int]:
        """Read the speaker's token and the words' bigrams in one FTS5 query, newest first."""
        terms = [speaker_token(person_id)]
        for word in words:
            query = gram_query(word) if len(word) < 3 else long_word_query(word)
            if query is None:
                return []
            terms.append(f"({query})")
        where = "statements_grams MATCH ?"
        params: list[Any] = [" AND ".join(terms)]
        for bound, value in (("g.rowid >= ?", low), ("g.rowid < ?", high)):
            if value is not None:
                where += f" AND {bound}"
                params.append(value)
        # Each word checked in the text too: bigrams apart are not the word, and a one-letter
        # word's prefix query also meets speaker tokens. CROSS JOIN: the index first, in key
        # order, so the LIMIT stops the walk.
        for word in words:
            where += " AND instr(s.text, ?) > 0"
            params.append(word)
        found = await self.db.fetch(
            "SELECT g.rowid AS id FROM statements_grams g CROSS JOIN statements s "
            f"ON s.id = g.rowid WHERE {where} ORDER BY g.rowid DESC LIMIT ?",
            [*params, want],
        )
        return [r["id"] for r in found]

    # --- search over the bigram index ----------------------------------------------------

    async def _search_page(self, search: Search) -> SearchPage:
        """Search the bigram index, keyed in date order: every step reads matches newest first
        and stops when it has enough (the count at the cap, the page when it is full)."""
        matcher = _Matcher.of(search.words)
        if matcher is None:
            return NO_MATCH
        span = _key_span(search.since, search.until)
        sql, params = matcher.ids(span)
        total = int(
            await self.db.fetchval(
                f"SELECT count(*) FROM ({sql} LIMIT {SEARCH_COUNT_CAP + 1})", params
            )
        )
        if total == 0:
            return NO_MATCH
        ranks: dict[int, float] = {}
        sql, params = matcher.ids(span, newest_first=True)
        if search.by_relevance:
            found = await self.db.fetch(f"{sql} LIMIT {RELEVANCE_CAP}", params)
            ranks = await self._relevance_page(
                matcher, [r["id"] for r in found], limit=search.limit, offset=search.offset
            )
            page = list(ranks)
        else:
            found = await self.db.fetch(
                f"{sql} LIMIT ? OFFSET ?", [*params, search.limit, search.offset]
            )
            page = [r["id"] for r in found]
        return SearchPage(page, total, ranks)

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
        found = await self.db.fetch(
            f"SELECT a.id, -({occurrences}) * 1000.0 / (length({text}) + 1) AS r "
            f"FROM articles a WHERE a.id IN ({marks}) "
            "ORDER BY r, a.published_at DESC, a.id DESC LIMIT ? OFFSET ?",
            [*matcher.words, *candidates, limit, offset],
        )
        return {r["id"]: float(r["r"]) for r in found}

    async def search_activity(
        self, words: list[str], bounds: Sequence[datetime]
    ) -> list[PeriodCount]:
        """Count the matches per period, their dates read from the key index."""
        matcher = _Matcher.of(words)
        if matcher is None or len(bounds) < 2:
            return []
        # The dates come from the key index: a word of one or two characters is counted
        # without reading an article.
        period, period_params = period_case("published_at", bounds)
        sql, params = matcher.ids(_key_span(bounds[0], bounds[-1]), dates=True)
        found = await self.db.fetch(
            f"SELECT {period} AS period, count(*) AS n FROM ({sql}) "
            "GROUP BY period ORDER BY period",
            [*period_params, *params],
        )
        return [PeriodCount(r["period"], "", r["n"]) for r in found]

    async def _speaker_counts(
        self, words: list[str], since: datetime, until: datetime, limit: int, newest: int
    ) -> list[Row]:
        """Count the speakers of the newest matches, read off the bigram index newest first."""
        matcher = _Matcher.of(words)
        if matcher is None:
            return []
        # Newest first off the index, so the LIMIT stops the walk at the cap; the role
        # unindexed, or the (role, date) index would read every speech of the period.
        sql, params = matcher.ids(_key_span(since, until), newest_first=True)
        return await self.db.fetch(
            "SELECT m.person_id, count(*) AS n FROM mentions m "
            f"WHERE m.article_id IN ({sql} LIMIT ?) "
            "AND +m.role = 'spoke' GROUP BY m.person_id ORDER BY n DESC, m.person_id LIMIT ?",
            [*params, newest, limit],
        )


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
