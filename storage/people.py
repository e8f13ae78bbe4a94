"""People, their titles and their mentions in articles: the queries written once."""

from __future__ import annotations

from abc import abstractmethod
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from news.models import (
    ACTIVITY_ROLES,
    Appearance,
    ArticleAnalysis,
    PeriodCount,
    Person,
    Statement,
)
from storage import rows
from storage.articles import DELETE_MENTIONS
from storage.database import Row, Transaction
from storage.rows import PERSON_COLUMNS, ROLE_ORDER, to_db_time
from storage.stories import StoryQueries


class PeopleQueries(StoryQueries):
    """Who appears in the articles, with which titles and roles, and what they said."""

    # --- writing -------------------------------------------------------------------------

    async def _write_analysis(
        self, tx: Transaction, article_id: int, published_at: datetime, analysis: ArticleAnalysis
    ) -> None:
        """Write an analysis inside the caller's transaction."""
        dialect = self.db.dialect
        first = dialect.least(
            "coalesce(people.first_seen, excluded.first_seen)", "excluded.first_seen"
        )
        last = dialect.greatest(
            "coalesce(people.last_seen, excluded.last_seen)", "excluded.last_seen"
        )
        title_first = dialect.least("person_titles.first_seen", "excluded.first_seen")
        title_last = dialect.greatest("person_titles.last_seen", "excluded.last_seen")
        when = to_db_time(published_at)
        await tx.execute(
            "UPDATE articles SET summary = ?, keywords = ? WHERE id = ?",
            (analysis.summary, ",".join(analysis.keywords), article_id),
        )
        await tx.execute(DELETE_MENTIONS, (article_id,))
        for person in analysis.people:
            person_id = await tx.fetchval(
                "INSERT INTO people (name, pinyin, latest_title, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET "
                "latest_title = CASE WHEN excluded.last_seen >= coalesce(people.last_seen, '') "
                "  AND excluded.latest_title <> '' THEN excluded.latest_title "
                "  ELSE people.latest_title END, "
                f"first_seen = {first}, last_seen = {last} "
                "RETURNING id",
                (person.name, person.pinyin, last_title(person.titles), when, when),
            )
            for title in single_titles(person.titles):
                await tx.execute(
                    "INSERT INTO person_titles (person_id, title, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(person_id, title) DO UPDATE SET "
                    f"first_seen = {title_first}, last_seen = {title_last}",
                    (person_id, title, when, when),
                )
            title_text = person.titles[0] if person.titles else ""
            for role in person.roles:
                statement = "\n".join(person.statements) if role == "spoke" else ""
                # An upsert, not a delete and insert: the counting triggers see a mention
                # inserted or deleted, never one replaced, so it is counted once.
                await tx.execute(
                    "INSERT INTO mentions "
                    "(article_id, person_id, role, title, statement, published_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (article_id, person_id, role) DO UPDATE SET "
                    "title = excluded.title, statement = excluded.statement, "
                    "published_at = excluded.published_at",
                    (article_id, person_id, role, title_text, statement, when),
                )

    # --- who spoke -----------------------------------------------------------------------

    async def speakers_of(self, article_id: int) -> list[str]:
        """Return the names of the people who spoke in an article, in name order."""
        found = await self.db.lookup(
            "SELECT p.name FROM mentions m JOIN people p ON p.id = m.person_id "
            "WHERE m.article_id = ? AND m.role = 'spoke' "
            f"ORDER BY p.name {self.db.dialect.bytewise}",
            (article_id,),
        )
        return [r["name"] for r in found]

    async def speakers_of_articles(self, article_ids: Iterable[int]) -> dict[int, list[str]]:
        """Return, for each article id, the names of those who spoke in it."""
        wanted = list(dict.fromkeys(article_ids))
        result: dict[int, list[str]] = {i: [] for i in wanted}
        if not wanted:
            return result
        dialect = self.db.dialect
        among, params = dialect.in_list("m.article_id", wanted, "bigint")
        # The role unindexed: by the (role, date) index SQLite would read every speech
        # instead of the articles' few mentions.
        found = await self.db.fetch(
            "SELECT m.article_id, p.name FROM mentions m JOIN people p ON p.id = m.person_id "
            f"WHERE {dialect.unindexed('m.role')} = 'spoke' AND {among} "
            f"ORDER BY p.name {dialect.bytewise}",
            params,
        )
        for row in found:
            result[row["article_id"]].append(row["name"])
        return result

    async def speaker_offices(self, article_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
        """Return, for each article id, who spoke in it with the title written there (or last)."""
        wanted = list(dict.fromkeys(article_ids))
        result: dict[int, list[tuple[str, str]]] = {i: [] for i in wanted}
        if not wanted:
            return result
        dialect = self.db.dialect
        among, params = dialect.in_list("m.article_id", wanted, "bigint")
        found = await self.db.fetch(
            "SELECT m.article_id, p.name, coalesce(nullif(m.title, ''), p.latest_title) AS title "
            "FROM mentions m JOIN people p ON p.id = m.person_id "
            f"WHERE {dialect.unindexed('m.role')} = 'spoke' AND {among}",
            params,
        )
        for row in found:
            result[row["article_id"]].append((row["name"], row["title"]))
        return result

    async def top_speakers(self, since: datetime, limit: int = 10) -> list[tuple[Person, int]]:
        """Return who spoke in the most articles since a time, with the counts."""
        found = await self.db.fetch(
            "SELECT person_id, count(*) AS n FROM mentions "
            "WHERE role = 'spoke' AND published_at >= ? "
            "GROUP BY person_id ORDER BY n DESC, max(published_at) DESC, person_id LIMIT ?",
            (to_db_time(since), limit),
        )
        return await self._with_people(found)

    async def _with_people(self, found: list[Row]) -> list[tuple[Person, int]]:
        """Pair rows of (person_id, n) with their people, in the rows' order."""
        by_id = await self.people_by_ids(r["person_id"] for r in found)
        return [(by_id[r["person_id"]], r["n"]) for r in found if r["person_id"] in by_id]

    # --- people --------------------------------------------------------------------------

    async def person_by_name(self, name: str) -> Person | None:
        """Return the person with exactly this (simplified) name."""
        found = await self._people_where("p.name = ?", [name])
        return found[0] if found else None

    async def people_by_pinyin(self, pinyin: str) -> list[Person]:
        """Return people whose name reads as this toneless pinyin, most recently seen first."""
        return await self._people_where("p.pinyin = ?", [pinyin])

    async def people_by_title(self, title: str, limit: int = 10) -> list[Person]:
        """Return people who held a title containing `title`, most recent holder first."""
        found = await self.db.fetch(
            "SELECT person_id, max(last_seen) AS seen FROM person_titles "
            f"WHERE {self.db.dialect.contains('title', '?')} "
            "GROUP BY person_id ORDER BY seen DESC, person_id LIMIT ?",
            (title, limit),
        )
        by_id = await self.people_by_ids(r["person_id"] for r in found)
        return [by_id[r["person_id"]] for r in found if r["person_id"] in by_id]

    async def all_people_names(self) -> list[tuple[str, str]]:
        """Return every known person's name and pinyin (for suggestions)."""
        found = await self.db.fetch(
            "SELECT name, pinyin FROM people ORDER BY last_seen DESC NULLS LAST, id"
        )
        return [(r["name"], r["pinyin"]) for r in found]

    async def get_person(self, person_id: int) -> Person | None:
        """Return a person by id, or None."""
        return (await self.people_by_ids([person_id])).get(person_id)

    async def people_by_ids(self, person_ids: Iterable[int]) -> dict[int, Person]:
        """Return the people with these ids, keyed by id, in one query."""
        wanted = list(dict.fromkeys(person_ids))
        if not wanted:
            return {}
        where, params = self.db.dialect.in_list("p.id", wanted, "bigint")
        return {p.id: p for p in await self._people_where(where, params)}

    async def _people_where(self, where: str, params: Sequence[Any]) -> list[Person]:
        found = await self.db.fetch(
            f"SELECT {PERSON_COLUMNS}, "
            "coalesce((SELECT c.n FROM person_counts c WHERE c.person_id = p.id AND c.role = ''),"
            " 0) AS article_count "
            f"FROM people p WHERE {where} ORDER BY p.last_seen DESC NULLS LAST, p.id",
            params,
        )
        return [rows.person(r) for r in found]

    async def people_with_title_between(
        self, title: str, since: datetime, until: datetime, limit: int = 20
    ) -> list[tuple[Person, str]]:
        """Return people with a title containing `title` seen in [since, until), and that title.

        The most recently seen holder comes first; each person comes once, with the title
        (of those matching) seen last.
        """
        found = await self.db.fetch(
            "SELECT person_id, title, last_seen FROM person_titles "
            f"WHERE {self.db.dialect.contains('title', '?')} AND first_seen < ? "
            "AND last_seen >= ? ORDER BY last_seen DESC, person_id LIMIT ?",
            (title, to_db_time(until), to_db_time(since), limit * 5),
        )
        by_id = await self.people_by_ids(r["person_id"] for r in found)
        held: dict[int, tuple[Person, str]] = {}
        for row in found:
            if row["person_id"] in by_id and row["person_id"] not in held:
                held[row["person_id"]] = (by_id[row["person_id"]], row["title"])
        return list(held.values())[:limit]

    # --- a person's articles -------------------------------------------------------------

    async def person_role_counts(self, person_id: int) -> dict[str, int]:
        """Return in how many articles a person had each role (spoke, presided, …)."""
        found = await self.db.fetch(
            "SELECT role, n FROM person_counts WHERE person_id = ? AND role <> '' AND n > 0",
            (person_id,),
        )
        counts = {r["role"]: int(r["n"]) for r in found}
        return {role: counts[role] for role in ROLE_ORDER if role in counts}

    async def count_person_statements(self, person_id: int) -> int:
        """Return in how many articles a person spoke."""
        n = await self.db.fetchval(
            "SELECT n FROM person_counts WHERE person_id = ? AND role = 'spoke'", (person_id,)
        )
        return int(n) if n is not None else 0

    async def person_statements(
        self, person_id: int, limit: int = 5, offset: int = 0
    ) -> list[Statement]:
        """Return the articles where a person spoke, newest first, with their statements."""
        found = await self.db.fetch(self._statements_sql, (person_id, limit, offset))
        found.sort(key=lambda r: (r["published_at"], r["article_id"]), reverse=True)
        articles = await self.articles_by_ids(r["article_id"] for r in found)
        return [
            Statement(article=articles[r["article_id"]], title=r["title"], statement=r["statement"])
            for r in found
            if r["article_id"] in articles
        ]

    @property
    @abstractmethod
    def _statements_sql(self) -> str:
        """Return the query for a page of a person's speeches, newest first, in this dialect.

        Parameters ?1 person, ?2 limit, ?3 offset; columns article_id, title, statement,
        published_at. The page is chosen in the (person, role, date) index, which holds the
        speeches newest first: the rows skipped for a later page are index entries only.
        """

    async def person_appearances(
        self, person_id: int, limit: int = 5, offset: int = 0
    ) -> list[Appearance]:
        """Return the articles a person appears in, newest first, with their roles there."""
        found = await self.db.fetch(self._appearances_sql, (person_id, limit, offset))
        found.sort(key=lambda r: (r["published_at"], r["article_id"]), reverse=True)
        articles = await self.articles_by_ids(r["article_id"] for r in found)
        return [
            Appearance(
                article=articles[r["article_id"]],
                roles=tuple(role for role in ROLE_ORDER if role in r["roles"].split(",")),
                title=r["title"],
                statement=r["statement"],
            )
            for r in found
            if r["article_id"] in articles
        ]

    @property
    @abstractmethod
    def _appearances_sql(self) -> str:
        """Return the query for a page of a person's articles, newest first, in this dialect.

        Parameters ?1 person, ?2 limit, ?3 offset; columns article_id, roles (comma-joined),
        title, statement, published_at. One article's mentions share its date, so they are
        neighbours in the (person, date) index: the page's articles are picked from the index
        alone, then only their mentions are read.
        """

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
        # Whole UTC days from person_days (a few rows a day however many articles), the days a
        # local month boundary cuts from the mentions themselves.
        cut, ranges = cut_days(bounds)
        days = await self.db.fetch(
            "SELECT day, rank, n FROM person_days WHERE person_id = ? AND day >= ? AND day < ?",
            (person_id, to_db_time(bounds[0])[:10], to_db_time(bounds[-1])[:10]),
        )
        articles = await self._cut_day_mentions(person_id, ranges) if ranges else []
        return activity_counts(
            bounds,
            cut,
            [(r["day"], r["rank"], r["n"]) for r in days],
            [(r["at"], r["rank"]) for r in articles],
        )

    @abstractmethod
    async def _cut_day_mentions(self, person_id: int, ranges: list[tuple[str, str]]) -> list[Row]:
        """Return each article of the person in the ranges: `at` (its date) and `rank` (0-3)."""


def single_titles(chains: Iterable[str]) -> list[str]:
    """Split title chains (省委常委、沈阳市委书记) into single titles."""
    titles: list[str] = []
    for chain in chains:
        for part in chain.replace(",", "、").replace("，", "、").split("、"):
            part = part.strip()
            if part and part not in titles:
                titles.append(part)
    return titles


def last_title(chains: Iterable[str]) -> str:
    """Return the most specific title written: the whole first chain."""
    for chain in chains:
        if chain.strip():
            return chain.strip()
    return ""


def cut_days(bounds: Sequence[datetime]) -> tuple[set[str], list[tuple[str, str]]]:
    """Return the UTC days a bound cuts (one not at midnight), and their parts within bounds.

    A person's activity is kept per UTC day (person_days); a period of local months takes
    the days that lie wholly inside it from there, and reads the mentions of the cut days.
    """
    times = [to_db_time(b) for b in bounds]
    cut = {t[:10] for t in times if not t.endswith("T00:00:00Z")}
    ranges: list[tuple[str, str]] = []
    for day in sorted(cut):
        start = datetime.fromisoformat(day).replace(tzinfo=UTC)
        low = max(to_db_time(start), times[0])
        high = min(to_db_time(start + timedelta(days=1)), times[-1])
        if low < high:
            ranges.append((low, high))
    return cut, ranges


def activity_counts(
    bounds: Sequence[datetime],
    cut: set[str],
    days: Iterable[Sequence[Any]],
    articles: Iterable[Sequence[Any]],
) -> list[PeriodCount]:
    """Add up whole days (day, rank, n) and cut days' articles (published_at, rank) per period.

    The counts come out by period, then main role (spoke, presided, attended, other).
    """
    times = [to_db_time(b) for b in bounds]
    totals: dict[tuple[int, int], int] = {}
    for day, rank, n in days:
        start = f"{day}T00:00:00Z"
        if day not in cut and times[0] <= start < times[-1]:
            key = (bisect_right(times, start) - 1, int(rank))
            totals[key] = totals.get(key, 0) + int(n)
    for at, rank in articles:
        period = bisect_right(times, at) - 1
        if 0 <= period < len(times) - 1:
            key = (period, int(rank))
            totals[key] = totals.get(key, 0) + 1
    return [PeriodCount(p, ACTIVITY_ROLES[r], n) for (p, r), n in sorted(totals.items()) if n]


def period_case(column: str, bounds: Sequence[datetime]) -> tuple[str, list[Any]]:
    """Return `CASE WHEN column < ? THEN 0 …` numbering the periods between bounds, and params.

    Periods are cut in SQL at the caller's bounds (local months, any time zone, DST included),
    so a chart reads one row per period, not one per article.
    """
    whens = " ".join(f"WHEN {column} < ? THEN {i}" for i in range(len(bounds) - 1))
    return f"CASE {whens} END", [to_db_time(b) for b in bounds[1:]]
