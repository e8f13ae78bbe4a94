"""What people said (/said): each speech's folded text, keyed by date, indexed by each backend.

A speech (a 'spoke' mention with a statement) has a row in `statements`: its text in search
form, and a key that sorts by publication time (statement_key), so that a person's speeches,
and the index entries of a word, read newest first straight off an index and a LIMIT stops
the walk. Each backend indexes the text its own way (SQLite: an FTS5 bigram index holding a
token for the speaker; PostgreSQL: a GIN index of term keys holding the speaker's id).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from news.models import ArticleAnalysis, Statement
from news.nlp.fold import search_form
from storage.database import Transaction
from storage.fulltext import LETTER_RUNS
from storage.people import PeopleQueries
from storage.rows import from_db_time, to_db_time

# A key's low bits under the publication second (32 bits, to 2106): the article's low 25 bits
# and the person's low 6. Two speeches of one second collide only when both match too (one
# article, two people 64 ids apart); the writer then takes the next free key, still within
# that second.
KEY_SHIFT = 31
# A person's newest speeches read and checked word by word before the index is asked: a common
# word fills a page from them, where the index would list every match to sort them.
SCAN_WINDOW = 300
# An export lists this many statements at most (the reply says so when there are more).
EXPORT_ROWS = 10_000
# Rows a migration or copy-db reads and indexes at a time.
FILL_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class SaidRow:
    """A speech as the index holds it: its key, speaker and folded text."""

    key: int
    person_id: int
    text: str


def said_form(statement: str) -> str:
    """Return the form statements are stored and matched in: search_form, lower case."""
    return search_form(statement).lower()


def statement_key(published_at: datetime, article_id: int, person_id: int) -> int:
    """Return a speech's key: its UTC second above the article's and the person's low bits."""
    second = max(int(published_at.astimezone(UTC).timestamp()), 0)
    return (second << KEY_SHIFT) | ((article_id & 0x1FFFFFF) << 6) | (person_id & 0x3F)


def key_bound(moment: datetime | None) -> int | None:
    """Return the smallest key of speeches published at or after `moment`."""
    if moment is None:
        return None
    return max(int(moment.astimezone(UTC).timestamp()), 0) << KEY_SHIFT


def usable_words(words: Sequence[str]) -> list[str] | None:
    """Fold the words as statements are stored; None if one has no letter (nothing matches)."""
    folded = [said_form(w) for w in words]
    if not folded or any(not LETTER_RUNS.search(w) for w in folded):
        return None
    return folded


_INSERT_STATEMENT = (
    "INSERT INTO statements (id, article_id, person_id, published_at, text) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id"
)
# The back-fill's insert: a key taken already (two speeches of one second in articles whose ids
# are 33,554,432 apart) leaves that speech out rather than stop a migration.
FILL_STATEMENT = (
    "INSERT INTO statements (id, article_id, person_id, published_at, text) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_SPEECHES_TO_FILL = (
    "SELECT m.article_id, m.person_id, m.published_at, m.statement FROM mentions m "
    "WHERE m.article_id > ? AND m.article_id <= ? AND m.role = 'spoke' AND m.statement <> '' "
    "AND NOT EXISTS (SELECT 1 FROM statements s "
    "WHERE s.article_id = m.article_id AND s.person_id = m.person_id) "
    "ORDER BY m.article_id, m.person_id"
)


class StatementQueries(PeopleQueries):
    """Speeches by who said them and the words they hold, newest first."""

    async def _write_analysis(
        self, tx: Transaction, article_id: int, published_at: datetime, analysis: ArticleAnalysis
    ) -> None:
        """Write the analysis, then the article's speeches as `statements` rows, indexed."""
        await super()._write_analysis(tx, article_id, published_at, analysis)
        old = await tx.fetch(
            "SELECT id, person_id, text FROM statements WHERE article_id = ?", (article_id,)
        )
        if old:
            await self._unindex_statements(
                tx, [SaidRow(r["id"], r["person_id"], r["text"]) for r in old]
            )
            await tx.execute("DELETE FROM statements WHERE article_id = ?", (article_id,))
        spoke = await tx.fetch(
            "SELECT person_id, statement FROM mentions "
            "WHERE article_id = ? AND role = 'spoke' AND statement <> ''",
            (article_id,),
        )
        written = []
        for row in spoke:
            text = said_form(row["statement"])
            key = statement_key(published_at, article_id, row["person_id"])
            when = to_db_time(published_at)
            while (
                await tx.fetchval(
                    _INSERT_STATEMENT, (key, article_id, row["person_id"], when, text)
                )
                is None
            ):
                key += 1  # another speech of that second has this key: the next one
            written.append(SaidRow(key, row["person_id"], text))
        if written:
            await self._index_statements(tx, written)

    @abstractmethod
    async def _index_statements(self, tx: Transaction, said: list[SaidRow]) -> None:
        """Add just-written statements to the backend's index."""

    @abstractmethod
    async def _unindex_statements(self, tx: Transaction, said: list[SaidRow]) -> None:
        """Remove statements about to be deleted from the backend's index."""

    @abstractmethod
    async def _said_keys(
        self, person_id: int, words: list[str], low: int | None, high: int | None, want: int
    ) -> list[int]:
        """Return the keys of the person's `want` newest statements in [low, high) holding
        every (folded) word, newest first, through the backend's index."""

    async def person_said(
        self,
        person_id: int,
        words: Sequence[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 5,
        offset: int = 0,
    ) -> tuple[list[Statement], bool]:
        """Return a page of a person's statements holding every word, newest first, and
        whether more follow. Words match in search form (traditional finds simplified)."""
        folded = usable_words(words)
        if folded is None:
            return [], False
        keys = await self._matching_keys(
            person_id, folded, key_bound(since), key_bound(until), offset + limit + 1
        )
        page = keys[offset : offset + limit]
        return await self.statements_by_keys(page), len(keys) > offset + limit

    async def person_said_all(
        self,
        person_id: int,
        words: Sequence[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = EXPORT_ROWS,
    ) -> tuple[list[Statement], bool]:
        """Return up to `limit` of the matching statements (an export), and whether there
        were more."""
        return await self.person_said(
            person_id, words, since=since, until=until, limit=limit, offset=0
        )

    async def _matching_keys(
        self, person_id: int, words: list[str], low: int | None, high: int | None, want: int
    ) -> list[int]:
        """Return the keys of the `want` newest matches: the newest speeches first, else the
        index."""
        where = "person_id = ?"
        params: list[object] = [person_id]
        for bound, value in (("id >= ?", low), ("id < ?", high)):
            if value is not None:
                where += f" AND {bound}"
                params.append(value)
        checks = " AND ".join(self.db.dialect.contains("s.text", "?") for _ in words)
        found = await self.db.fetch(
            f"SELECT s.id FROM (SELECT id, text FROM statements WHERE {where} "
            f"ORDER BY id DESC LIMIT ?) s WHERE {checks} ORDER BY s.id DESC",
            [*params, SCAN_WINDOW, *words],
        )
        if len(found) >= want:
            return [r["id"] for r in found[:want]]
        if len(found) < SCAN_WINDOW:
            # Fewer matches than the window read: were there fewer speeches than it holds?
            scanned = await self.db.fetchval(
                f"SELECT count(*) FROM (SELECT 1 FROM statements WHERE {where} LIMIT ?) w",
                [*params, SCAN_WINDOW],
            )
            if int(scanned) < SCAN_WINDOW:
                return [r["id"] for r in found]
        return await self._said_keys(person_id, words, low, high, want)

    async def statements_by_keys(self, keys: Sequence[int]) -> list[Statement]:
        """Return the statements with these keys, in the keys' order, with their articles."""
        if not keys:
            return []
        among, params = self.db.dialect.in_list("s.id", list(keys), "bigint")
        found = await self.db.fetch(
            "SELECT s.id, s.article_id, m.title, m.statement FROM statements s "
            "JOIN mentions m ON m.article_id = s.article_id AND m.person_id = s.person_id "
            f"AND m.role = 'spoke' WHERE {among}",
            params,
        )
        by_key = {r["id"]: r for r in found}
        articles = await self.articles_by_ids(r["article_id"] for r in found)
        return [
            Statement(
                article=articles[by_key[k]["article_id"]],
                title=by_key[k]["title"],
                statement=by_key[k]["statement"],
            )
            for k in keys
            if k in by_key and by_key[k]["article_id"] in articles
        ]


async def speeches_to_fill(tx: Transaction, after: int, upto: int) -> list[tuple[Any, ...]]:
    """Return the (key, article, person, published_at, text) rows of speeches in articles
    (after, upto] that have no statements row yet: a migration's and copy-db's back-fill."""
    found = await tx.fetch(_SPEECHES_TO_FILL, (after, upto))
    rows: list[tuple[Any, ...]] = []
    used: set[int] = set()
    for r in found:
        key = statement_key(from_db_time(r["published_at"]), r["article_id"], r["person_id"])
        while key in used:
            key += 1
        used.add(key)
        text = said_form(r["statement"])
        rows.append((key, r["article_id"], r["person_id"], r["published_at"], text))
    return rows


async def article_id_chunks(tx: Transaction) -> list[tuple[int, int]]:
    """Return (after, upto] ranges of article ids covering every article, FILL_CHUNK at once."""
    top = await tx.fetchval("SELECT max(id) FROM articles")
    if top is None:
        return []
    return [(start, start + FILL_CHUNK) for start in range(0, int(top), FILL_CHUNK)]
