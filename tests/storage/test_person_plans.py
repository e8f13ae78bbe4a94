"""/speaker on a leader with many appearances: counts kept on write, pages read in index order.

The plans are checked on a small archive by what the database says it would do, not by a
timing: no query of a /speaker page scans the mentions or sorts all of a person's rows.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from news.models import ArticleAnalysis, ParsedArticle, PersonInArticle
from storage import Store, open_store
from storage.postgres import PostgresStore
from storage.sqlite import SqliteStore
from tests.store_sql import execute_sql, fetch_sql

pytestmark = pytest.mark.both_backends

START = datetime(2024, 1, 1, tzinfo=UTC)
ROLES = ("spoke", "presided", "attended", "met", "mentioned")


def leader(n: int, roles: tuple[str, ...]) -> PersonInArticle:
    """Return 易炼红 in article n with these roles (and his words if he spoke)."""
    said = (f"第{n}次讲话",) if "spoke" in roles else ()
    return PersonInArticle("易炼红", "yilianhong", roles, ("省委书记",), said)


def analysis(n: int) -> ArticleAnalysis:
    """Return article n's people: the leader in most, with roles that vary, and a second one."""
    roles = tuple(r for i, r in enumerate(ROLES) if (n >> i) & 1) or ("mentioned",)
    people = [leader(n, roles)] if n % 7 else []
    people.append(PersonInArticle("李乐成", "lilecheng", ("attended",), ("省长",)))
    return ArticleAnalysis(summary=f"摘要{n}", people=tuple(people))


def article(n: int) -> ParsedArticle:
    # Pairs of articles share a date, so that ties on published_at are broken by id.
    return ParsedArticle(
        url=f"https://liaoning.nen.com.cn/network/p/{n:06d}.shtml",
        title=f"会议{n}",
        published_at=START + timedelta(hours=(n // 2) * 5),
        paragraphs=(f"第{n}篇。",),
    )


async def add_articles(store: Store, count: int) -> None:
    """Store articles 0..count-1, each with its analysis, as the crawler does."""
    for n in range(count):
        await store.add_article(
            article(n),
            url_key=f"k{n}",
            fingerprint=f"f{n}",
            source_name=None,
            analysis=analysis(n),
        )


@pytest.fixture
async def archive(db_target: str) -> AsyncIterator[Store]:
    async with await open_store(db_target) as store:
        await add_articles(store, 120)
        yield store


async def counted(store: Store, person_id: int) -> tuple[int, dict[str, int]]:
    """Return a person's articles and role counts counted from the mentions themselves."""
    [(articles,)] = await fetch_sql(
        store, "SELECT count(DISTINCT article_id) FROM mentions WHERE person_id = ?", person_id
    )
    rows = await fetch_sql(
        store, "SELECT role, count(*) FROM mentions WHERE person_id = ? GROUP BY role", person_id
    )
    by_role = {r[0]: int(r[1]) for r in rows}
    return int(articles), {r: by_role[r] for r in ROLES if r in by_role}


async def stored_counts(store: Store, name: str) -> tuple[int, dict[str, int]]:
    person = await store.person_by_name(name)
    assert person is not None
    return person.article_count, await store.person_role_counts(person.id)


async def test_counts_kept_on_write_match_the_mentions(archive: Store) -> None:
    person = await archive.person_by_name("易炼红")
    assert person is not None
    assert await stored_counts(archive, "易炼红") == await counted(archive, person.id)
    assert person.article_count == 120 - len(range(0, 120, 7))
    roles = await archive.person_role_counts(person.id)
    assert await archive.count_person_statements(person.id) == roles["spoke"]
    # Re-analysing an article replaces its mentions: roles gained and lost, the leader gone
    # from one article and new in another, the same role given twice.
    await archive.save_analysis(1, ArticleAnalysis(people=(leader(1, ("presided", "met")),)))
    await archive.save_analysis(2, ArticleAnalysis())
    await archive.save_analysis(7, ArticleAnalysis(people=(leader(7, ("spoke", "spoke")),)))
    twice = (leader(8, ("attended",)), leader(8, ("attended", "spoke")))
    await archive.save_analysis(8, ArticleAnalysis(people=twice))
    person = await archive.person_by_name("易炼红")
    assert person is not None
    assert await stored_counts(archive, "易炼红") == await counted(archive, person.id)
    other = await archive.person_by_name("李乐成")
    assert other is not None
    assert await stored_counts(archive, "李乐成") == await counted(archive, other.id)
    assert other.article_count == 116  # gone from the four re-analysed articles
    # A role nobody has any more is not shown.
    for n in range(1, 121):
        await archive.save_analysis(n, ArticleAnalysis(people=(leader(n, ("met",)),)))
    assert await archive.person_role_counts(person.id) == {"met": 120}
    assert await archive.count_person_statements(person.id) == 0
    assert await archive.person_role_counts(other.id) == {}
    assert (await archive.get_person(other.id)).article_count == 0  # type: ignore[union-attr]


async def test_pages_list_every_appearance_once_newest_first(archive: Store) -> None:
    person = await archive.person_by_name("易炼红")
    assert person is not None
    rows = await fetch_sql(
        archive,
        "SELECT article_id, published_at, role, statement FROM mentions WHERE person_id = ?",
        person.id,
    )
    newest = sorted({(r[1], r[0]) for r in rows}, reverse=True)
    listed: list[int] = []
    for offset in range(0, person.article_count + 5, 5):
        page = await archive.person_appearances(person.id, 5, offset)
        listed += [a.article.id for a in page]
        for item in page:
            mine = [r for r in rows if r[0] == item.article.id]
            assert item.roles == tuple(r for r in ROLES if r in {m[2] for m in mine})
            assert item.statement == max(m[3] for m in mine)
    assert listed == [a for _, a in newest]
    spoke = sorted(((r[1], r[0]) for r in rows if r[2] == "spoke"), reverse=True)
    said: list[int] = []
    for offset in range(0, len(spoke) + 5, 5):
        said += [s.article.id for s in await archive.person_statements(person.id, 5, offset)]
    assert said == [a for _, a in spoke]


def local_days(tz: str, first: datetime, count: int, step_hours: int) -> list[datetime]:
    """Return bounds every step_hours from local midnight of `first` in a time zone."""
    start = first.astimezone(ZoneInfo(tz)).replace(hour=0, minute=0, second=0)
    return [start + timedelta(hours=step_hours * i) for i in range(count)]


# Charts' periods: local days in Shanghai (every bound cuts a UTC day), UTC days (none does),
# Kathmandu's 45-minute offset over two-day periods, and one period of everything.
BOUNDS = [
    local_days("Asia/Shanghai", START, 12, 24),
    local_days("UTC", START + timedelta(days=3), 8, 24),
    local_days("Asia/Kathmandu", START, 7, 48),
    [START - timedelta(days=1), START + timedelta(days=400)],
]


async def activity_of(store: Store, person_id: int, bounds: list[datetime]) -> list[Any]:
    """Return a person's activity per period and main role, counted from the mentions."""
    from news.models import ACTIVITY_ROLES, PeriodCount
    from storage.rows import to_db_time

    rows = await fetch_sql(
        store, "SELECT article_id, role, published_at FROM mentions WHERE person_id = ?", person_id
    )
    rank = {"spoke": 0, "presided": 1, "attended": 2}
    main: dict[int, tuple[str, int]] = {}
    for article_id, role, at in rows:
        was = main.get(article_id, (at, 3))[1]
        main[article_id] = (at, min(was, rank.get(role, 3)))
    times = [to_db_time(b) for b in bounds]
    totals: dict[tuple[int, int], int] = {}
    for at, best in main.values():
        for i in range(len(times) - 1):
            if times[i] <= at < times[i + 1]:
                totals[i, best] = totals.get((i, best), 0) + 1
    return [PeriodCount(p, ACTIVITY_ROLES[r], n) for (p, r), n in sorted(totals.items())]


async def test_activity_by_day_adds_up_like_the_mentions(archive: Store) -> None:
    person = await archive.person_by_name("易炼红")
    other = await archive.person_by_name("李乐成")
    assert person is not None and other is not None
    for bounds in BOUNDS:
        for who in (person.id, other.id):
            assert await archive.person_activity(who, bounds) == await activity_of(
                archive, who, bounds
            )
    assert sum(c.count for c in await archive.person_activity(person.id, BOUNDS[3])) == (
        person.article_count
    )
    # Main roles won and lost: a speech added to an article he attended, his speech taken
    # away from another, the same role twice, an article without him.
    await archive.save_analysis(5, ArticleAnalysis(people=(leader(5, ("attended", "spoke")),)))
    await archive.save_analysis(2, ArticleAnalysis(people=(leader(2, ("met", "mentioned")),)))
    await archive.save_analysis(9, ArticleAnalysis(people=(leader(9, ("presided", "presided")),)))
    await archive.save_analysis(12, ArticleAnalysis())
    for bounds in BOUNDS:
        assert await archive.person_activity(person.id, bounds) == await activity_of(
            archive, person.id, bounds
        )


class Recorded:
    """The SQL a store sends while a block runs (SQLite's `?` or PostgreSQL's `?`), and params."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.queries: list[tuple[str, tuple[Any, ...]]] = []
        original = store.db.fetch

        async def recording(sql: str, params: Any = ()) -> Any:
            self.queries.append((sql, tuple(params)))
            return await original(sql, params)

        monkeypatch.setattr(store.db, "fetch", recording)


async def plan_of(store: Store, sql: str, params: tuple[Any, ...]) -> str:
    """Return what the database would do for a query: SQLite's lines, PostgreSQL's JSON."""
    if isinstance(store, SqliteStore):
        rows = await store.db.fetch("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(r[3]) for r in rows)
    assert isinstance(store, PostgresStore)
    from storage.postgres.database import pg

    async with store.db.transaction() as tx:
        con = tx.connection
        # A tiny table is cheapest to read whole; forbid that, so that the plan shows which
        # index the query can use and whether anything is left to sort. The generic plan is
        # the one asyncpg's prepared statements settle on after five runs.
        await con.execute(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; "
            "SET LOCAL enable_sort = off; SET LOCAL plan_cache_mode = force_generic_plan"
        )
        [(plan,)] = await con.fetch("EXPLAIN (FORMAT JSON) " + pg(sql), *params)
    return json.dumps(json.loads(plan) if isinstance(plan, str) else plan)


def pg_nodes(plan: str) -> list[tuple[dict[str, Any], bool]]:
    """Return every node of a PostgreSQL JSON plan, and whether a Limit is above it."""
    found: list[tuple[dict[str, Any], bool]] = []

    def walk(node: dict[str, Any], limited: bool) -> None:
        found.append((node, limited))
        for child in node.get("Plans", []):
            walk(child, limited or node["Node Type"] == "Limit")

    for top in json.loads(plan):
        walk(top["Plan"], False)
    return found


async def test_a_speaker_page_reads_indexes_and_sorts_nothing_whole(
    archive: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = await archive.person_by_name("易炼红")
    assert person is not None
    if isinstance(archive, PostgresStore):
        await execute_sql(archive, "ANALYZE")  # what autovacuum gives a running database
    recorded = Recorded(archive, monkeypatch)
    await archive.person_by_name("易炼红")
    await archive.people_by_pinyin("yilianhong")
    await archive.people_by_title("省委书记")
    await archive.person_role_counts(person.id)
    await archive.count_person_statements(person.id)
    await archive.person_appearances(person.id, 5, 10)
    await archive.person_statements(person.id, 5, 10)
    await archive.top_speakers(START + timedelta(days=5))
    await archive.person_activity(person.id, BOUNDS[0])
    monkeypatch.undo()
    on_mentions = [(sql, p) for sql, p in recorded.queries if "mentions" in sql]
    assert len(on_mentions) >= 3
    for sql, params in recorded.queries:
        plan = await plan_of(archive, sql, params)
        # A page of one person's rows must not sort them all; /speakers sorts the people of
        # the week by their counts, and a title look-up the (few) titles.
        page = "mentions" in sql and "GROUP BY person_id" not in sql
        if isinstance(archive, SqliteStore):
            assert "SCAN mentions" not in plan and "SCAN m\n" not in plan + "\n", (sql, plan)
            assert "SCAN person_counts" not in plan and "SCAN person_days" not in plan, plan
            if page:
                assert "TEMP B-TREE FOR ORDER BY" not in plan, (sql, plan)
            continue
        for node, limited in pg_nodes(plan):
            relation = node.get("Relation Name")
            assert not (node["Node Type"] == "Seq Scan" and relation == "mentions"), (sql, plan)
            assert not (
                node["Node Type"] == "Seq Scan" and relation in ("person_counts", "person_days")
            ), sql
            # A sort below a LIMIT would sort every row before the page; one above sorts the
            # page, and an incremental sort only rows that share a date.
            assert not (page and limited and node["Node Type"] == "Sort"), (sql, plan)


async def test_the_migration_counts_an_older_archive(db_target: str, tmp_path: Path) -> None:
    async with await open_store(db_target) as store:
        await add_articles(store, 30)
        person = await store.person_by_name("易炼红")
        assert person is not None
        expected = await counted(store, person.id)
        assert expected[0] == 30 - len(range(0, 30, 7))
        activity = await store.person_activity(person.id, BOUNDS[0])
        # Back to the schema before the migration, the mentions kept; then run it again.
        if isinstance(store, SqliteStore):
            from storage.sqlite.database import split_sql as _split_sql
            from storage.sqlite.schema import PERSON_COUNTS

            script = _split_sql(PERSON_COUNTS)
            undo = (
                "DROP TABLE person_counts; DROP TABLE person_days; "
                "DROP TRIGGER mentions_counted; DROP TRIGGER mentions_uncounted; "
                "CREATE INDEX mentions_by_person_article ON mentions (person_id, article_id)"
            )
        else:
            from storage.postgres.schema import PERSON_COUNTS as PG_PERSON_COUNTS

            script = [PG_PERSON_COUNTS]
            undo = (
                "DROP TABLE person_counts; DROP TABLE person_days; "
                "DROP FUNCTION mentions_added CASCADE; DROP FUNCTION mentions_removed CASCADE; "
                "DROP FUNCTION role_rank"
            )
        if isinstance(store, SqliteStore):
            await store.db.db.executescript(undo)
        else:
            await execute_sql(store, undo)
        async with store.db.transaction() as tx:
            for statement in script:
                await tx.run_script(statement)
        assert await stored_counts(store, "易炼红") == expected
        assert await store.person_activity(person.id, BOUNDS[0]) == activity
        await store.save_analysis(3, ArticleAnalysis())
        assert await stored_counts(store, "易炼红") == await counted(store, person.id)
        assert await store.person_activity(person.id, BOUNDS[0]) == await activity_of(
            store, person.id, BOUNDS[0]
        )
