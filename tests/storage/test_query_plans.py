"""SQLite search plans read the index in date order and stop, never every match: checked by
EXPLAIN QUERY PLAN.

A small archive with small caps sends each search down the paths a large archive takes; every
statement the store runs for it is captured (with its parameters) and its plan read. Timings
would say nothing on a few hundred rows; the plan says what grows with the archive.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage.sqlite.store as store_module
from news.models import ParsedArticle
from storage.sqlite import SqliteStore

START = datetime(2020, 1, 1, tzinfo=UTC)
WORDS = ("振兴", "营商环境", "易炼红", "城市品质")


@pytest.fixture
async def archive(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    rng = random.Random(11)
    async with await SqliteStore.open(tmp_path / "plans.db") as store:
        for n in range(400):
            picked = [
                w
                for w, share in zip(WORDS, (0.6, 0.3, 0.2, 0.05), strict=True)
                if rng.random() < share
            ]
            await store.add_article(
                ParsedArticle(
                    url=f"https://liaoning.nen.com.cn/network/p/{n:018d}.shtml",
                    title=f"标题{n}",
                    published_at=START + timedelta(hours=rng.randrange(800) * 12),
                    paragraphs=("。".join([f"第{n}篇", *picked, "辽宁沈阳"]) + "。",),
                ),
                url_key=f"k{n}",
                fingerprint=f"f{n}",
                source_name=None,
            )
        yield store


async def _plans_of(store: SqliteStore, run: object) -> list[tuple[str, list[str]]]:
    """Run the coroutine `run` and return each SELECT it sent with the lines of its plan."""
    statements: list[str] = []
    await store.db.db.set_trace_callback(statements.append)
    try:
        await run  # type: ignore[misc]
    finally:
        await store.db.db.set_trace_callback(None)
    plans = []
    for sql in statements:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        rows = await store.db.fetch(f"EXPLAIN QUERY PLAN {sql}")
        plans.append((sql, [str(r[3]) for r in rows]))
    return plans


SEARCHES = [
    ("two words", ["易炼红", "振兴"], None, None),
    ("three words", ["易炼红", "振兴", "营商环境"], None, None),
    ("word and date range", ["振兴"], START + timedelta(days=60), START + timedelta(days=200)),
    ("long word from a date", ["营商环境"], START + timedelta(days=30), None),
    ("rare word", ["城市品质"], None, None),
]


@pytest.mark.parametrize(("label", "words", "since", "until"), SEARCHES)
@pytest.mark.parametrize("by_relevance", [False, True])
async def test_searches_read_the_index_in_date_order_and_stop(
    archive: SqliteStore,
    monkeypatch: pytest.MonkeyPatch,
    label: str,
    words: list[str],
    since: datetime | None,
    until: datetime | None,
    by_relevance: bool,
) -> None:
    monkeypatch.setattr(store_module, "SEARCH_COUNT_CAP", 10)
    monkeypatch.setattr(store_module, "RELEVANCE_CAP", 20)
    plans = await _plans_of(
        archive,
        archive.search_articles(
            words, since=since, until=until, by_relevance=by_relevance, limit=5, offset=5
        ),
    )
    searched = [(sql, plan) for sql, plan in plans if "articles_grams" in sql]
    assert len(searched) == 2, label  # the capped count, then the page (or the ranked ones)
    for sql, plan in plans:
        lines = " | ".join(plan)
        # No table or index is read whole: articles are looked up by id or by search key.
        for line in plan:
            if line.startswith("SCAN") and "(subquery" not in line:
                assert "VIRTUAL TABLE" in line, (label, sql, line)
            if line.startswith("SEARCH"):
                assert (
                    "INTEGER PRIMARY KEY" in line or "articles_by_search_key (search_key=?" in line
                ), (label, sql, line)
        if "articles_grams" not in sql:
            continue
        # Every word in one index query: the index intersects their postings itself.
        assert sql.count("MATCH") == 1 and all(w[:2] in sql for w in words), (label, sql)
        [scan] = [line for line in plan if "VIRTUAL TABLE INDEX" in line]
        constraints = scan.rsplit(":", 1)[1]  # FTS5's plan: M = match, > and < = key bounds
        assert constraints.startswith("M"), (label, scan)
        assert (">" in constraints) == (since is not None), (label, scan)
        assert ("<" in constraints) == (until is not None), (label, scan)
        # Read newest first in index order, never sorted, and stopped by a LIMIT.
        assert "TEMP B-TREE" not in lines, (label, sql, lines)
        assert "LIMIT" in sql, (label, sql)


async def test_a_crowded_day_keeps_date_order_when_its_slots_are_spread_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.sqlite import search_keys

    # Sixteen slots a day: articles stored in random order soon leave no room between two
    # neighbours, and the day is spread again; the order must stay exact throughout.
    monkeypatch.setattr(search_keys, "SLOTS", 16)
    rng = random.Random(5)
    day = datetime(2024, 5, 6, tzinfo=UTC)
    times = [day + timedelta(minutes=rng.randrange(24 * 60)) for _ in range(15)]
    times += [day - timedelta(hours=3), day + timedelta(days=1, hours=2)]
    rng.shuffle(times)
    async with await SqliteStore.open(tmp_path / "crowded.db") as store:
        for n, at in enumerate(times):
            await store.add_article(
                ParsedArticle(
                    url=f"https://liaoning.nen.com.cn/network/c/{n:018d}.shtml",
                    title=f"振兴新闻{n}",
                    published_at=at,
                    paragraphs=("辽宁振兴。",),
                ),
                url_key=f"c{n}",
                fingerprint=f"c{n}",
                source_name=None,
            )
            everything = await store.latest_articles(limit=100)
            hits, total = await store.search_articles(["振兴"], limit=100)
            assert [h.article.id for h in hits] == [a.id for a in everything]
            assert total == n + 1
            dated, _ = await store.search_articles(
                ["振兴新闻"], since=day, until=day + timedelta(days=1), limit=100
            )
            assert [h.article.id for h in dated] == [
                a.id for a in everything if day <= a.published_at < day + timedelta(days=1)
            ]
        # A sixteenth article that day is more than its slots hold: found, listed last.
        await store.add_article(
            ParsedArticle(
                url="https://liaoning.nen.com.cn/network/c/extra.shtml",
                title="振兴新闻额外",
                published_at=day + timedelta(hours=12),
                paragraphs=("辽宁振兴。",),
            ),
            url_key="extra",
            fingerprint="extra",
            source_name=None,
        )
        hits, total = await store.search_articles(["振兴"], limit=100)
        assert total == len(times) + 1 and hits[-1].article.title == "振兴新闻额外"


async def test_trend_speakers_read_the_newest_matches_and_stop(archive: SqliteStore) -> None:
    since, until = START + timedelta(days=30), START + timedelta(days=300)
    plans = await _plans_of(archive, archive.search_top_speakers(["振兴"], since, until, newest=10))
    [(sql, plan)] = [(sql, plan) for sql, plan in plans if "articles_grams" in sql]
    lines = " | ".join(plan)
    # The window's matches newest first off the index, stopped at the cap; then each one's
    # mentions by the primary key. Only the counted speakers are sorted.
    [scan] = [line for line in plan if "VIRTUAL TABLE INDEX" in line]
    assert scan.rsplit(":", 1)[1].startswith("M"), scan
    assert "ORDER BY g.rowid DESC LIMIT 10)" in sql, sql
    assert plan[0].startswith(
        "SEARCH m USING COVERING INDEX sqlite_autoindex_mentions_1 (article_id=?)"
    )
    assert any("articles_by_search_key (search_key=?" in line for line in plan), lines
    # The only sorts are of the counted speakers (one GROUP BY, one ORDER BY): the matches
    # come in index order.
    assert [line for line in plan if "TEMP B-TREE" in line] == [
        "USE TEMP B-TREE FOR GROUP BY",
        "USE TEMP B-TREE FOR ORDER BY",
    ], lines


async def test_alerts_read_only_the_new_articles_mentions(archive: SqliteStore) -> None:
    # A delivery tick queues alerts inside a write transaction: reading every 'spoke' mention
    # by role held the database for 2 s at 10,000,000 mentions, every 20 s.
    ledger = archive.ledger
    await ledger.enqueue_alerts()  # the first call sets the cursor
    await archive.add_article(
        ParsedArticle(
            url="https://liaoning.nen.com.cn/network/p/new.shtml",
            title="新文章",
            published_at=START + timedelta(days=900),
            paragraphs=("易炼红讲话。",),
        ),
        url_key="new",
        fingerprint="new",
        source_name=None,
    )
    statements: list[str] = []
    await archive.db.db.set_trace_callback(statements.append)
    try:
        await ledger.enqueue_alerts()
    finally:
        await archive.db.db.set_trace_callback(None)
    from_mentions = [s for s in statements if "FROM mentions" in s]
    assert len(from_mentions) == 1
    rows = await archive.db.fetch(f"EXPLAIN QUERY PLAN {from_mentions[0]}")
    plan = [str(r[3]) for r in rows]
    assert any(
        "SEARCH m USING" in line and "(article_id>? AND article_id<?)" in line for line in plan
    ), plan
    assert not any("mentions_by_date" in line for line in plan), plan
