"""The store on both backends (a real SQLite file, a real PostgreSQL database): migrations,
refusal of foreign or newer databases, articles, chats, sources."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from news.models import Link, ParsedArticle
from storage import Store, StoreError, open_store
from storage.database import Migration, Schema
from storage.sqlite import SqliteStore
from storage.sqlite.database import unavailable
from storage.sqlite.schema import SCHEMA_VERSION
from tests.store_sql import INTEGRITY_ERRORS, execute_sql, fetch_sql

pytestmark = pytest.mark.both_backends


def parsed(n: int, *, url: str | None = None, day: int = 1) -> ParsedArticle:
    return ParsedArticle(
        url=url or f"https://liaoning.nen.com.cn/network/x/2024/10/{day:02d}/{n:018d}.shtml",
        title=f"标题{n}",
        published_at=datetime(2024, 10, day, 1, 0, tzinfo=UTC) + timedelta(minutes=n),
        paragraphs=(f"第一段{n}。", "第二段。"),
        source="辽宁日报",
        editor="宋军",
        related=(Link("https://news.nen.com.cn/a.shtml", "相关"),),
    )


async def add(store: Store, article: ParsedArticle, fingerprint: str | None = None) -> int:
    outcome = await store.add_article(
        article,
        url_key=article.url.split("://", 1)[1],
        fingerprint=fingerprint or f"fp-{article.title}",
        source_name=None,
    )
    return outcome.article_id


async def test_migrates_a_new_file_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    async with await SqliteStore.open(path) as store:
        assert await store.schema_version() == SCHEMA_VERSION
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    assert {"sources", "articles", "chats", "article_urls"} <= tables


async def test_reopening_applies_nothing_twice(db_target: str) -> None:
    async with await open_store(db_target) as store:
        version = await store.schema_version()
        assert version > 0
        await add(store, parsed(1))
    async with await open_store(db_target) as store:
        assert await store.count_articles() == 1
        assert await store.schema_version() == version


async def test_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my precious notes", encoding="utf-8")
    with pytest.raises(StoreError, match="not an SQLite database"):
        await SqliteStore.open(path)
    assert path.read_text(encoding="utf-8") == "my precious notes"


async def test_sqlite_refuses_a_newer_schema_and_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE future (x)")
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer"):
        await SqliteStore.open(path)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5
    con.close()


async def test_a_failed_sqlite_migration_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.sqlite.store as store_module

    broken = with_migration(store_module.SCHEMA, "CREATE TABLE half (x); THIS IS NOT SQL")
    monkeypatch.setattr(store_module, "SCHEMA", broken)
    path = tmp_path / "n.db"
    with pytest.raises(sqlite3.OperationalError):
        await SqliteStore.open(path)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == broken.version - 1
    assert con.execute("SELECT count(*) FROM sqlite_master WHERE name='half'").fetchone()[0] == 0
    con.close()


async def test_latest_articles_newest_first_and_round_trip(store: Store) -> None:
    for n in range(5):
        await add(store, parsed(n, day=n + 1))
    latest = await store.latest_articles(3)
    assert [a.title for a in latest] == ["标题4", "标题3", "标题2"]
    first = latest[0]
    assert first.published_at.tzinfo is not None
    assert first.published_at == datetime(2024, 10, 5, 1, 4, tzinfo=UTC)
    assert first.body == "第一段4。\n第二段。"
    assert first.source == "辽宁日报"
    assert await store.get_article(first.id) == first
    assert await store.get_article(99999) is None
    assert await store.article_related(first.id) == [
        Link("https://news.nen.com.cn/a.shtml", "相关")
    ]


async def test_a_latest_page_comes_with_the_count_even_after_another_writer(
    store: Store, db_target: str
) -> None:
    assert await store.latest_page(2) == ([], 0)
    for n in range(3):
        await add(store, parsed(n, day=n + 1))
    page, total = await store.latest_page(2)
    assert [a.title for a in page] == ["标题2", "标题1"] and total == 3
    page, total = await store.latest_page(2, offset=2)
    assert [a.title for a in page] == ["标题0"] and total == 3
    assert await store.latest_page(2, offset=4) == ([], 3)
    # Another process (an `newsbot ingest` beside the bot) stores one: the count follows.
    async with await open_store(db_target) as other:
        await add(other, parsed(7, day=9))
    page, total = await store.latest_page(1)
    assert [a.title for a in page] == ["标题7"] and total == 4
    assert total == await store.count_articles()


async def test_same_url_and_same_story_are_one_article(store: Store) -> None:
    first = parsed(1)
    again = await store.add_article(first, url_key="k1", fingerprint="fp", source_name=None)
    assert again.created
    dup_url = await store.add_article(first, url_key="k1", fingerprint="other", source_name=None)
    assert (dup_url.created, dup_url.reason) == (False, "url")
    moved = parsed(1, url="https://news.nen.com.cn/network/y/2024/10/01/1.shtml")
    dup_story = await store.add_article(moved, url_key="k2", fingerprint="fp", source_name=None)
    # An exact copy at another URL is a reprint of the story: its own row, counted once.
    assert (dup_story.created, dup_story.reason) == (True, "fingerprint")
    assert dup_story.story_id == again.article_id
    assert await store.count_articles() == 1
    outlets = await store.story_outlets([dup_story.article_id])
    assert [o.url for o in outlets[dup_story.article_id]] == [first.url, moved.url]
    assert await store.known_url_keys(["k1", "k2", "k3"]) == {"k1", "k2"}


async def test_a_failing_insert_leaves_no_half_article(store: Store) -> None:
    await store.add_article(parsed(1), url_key="k1", fingerprint="a", source_name=None)
    # Same canonical URL under a new key: the articles insert succeeds at first glance,
    # but url is UNIQUE, so the transaction must roll back entirely.
    with pytest.raises(INTEGRITY_ERRORS):
        await store.add_article(parsed(1), url_key="k-new", fingerprint="b", source_name=None)
    assert await store.count_articles() == 1
    assert await store.known_url_keys(["k-new"]) == set()


async def test_chats_register_and_block(store: Store) -> None:
    chat = await store.upsert_chat(42, "private", "en", "Asia/Shanghai")
    assert (chat.id, chat.type, chat.language, chat.blocked_at) == (42, "private", "en", None)
    await store.ledger.deactivate_chat(42, "bot was blocked by the user")
    blocked = await store.get_chat(42)
    assert blocked is not None and blocked.blocked_at is not None
    again = await store.upsert_chat(42, "private", "zh", "Asia/Shanghai")
    assert again.blocked_at is None and again.language == "zh"
    assert again.created_at == chat.created_at


async def test_source_health(store: Store) -> None:
    await store.upsert_source("nen-liaoning", "东北新闻网·辽宁", "nen")
    await store.record_source_error("nen-liaoning", "list page yielded no links")
    await store.record_source_error("nen-liaoning", "timeout")
    [status] = await store.source_statuses()
    assert status.consecutive_failures == 2 and status.last_error == "timeout"
    await store.record_source_success("nen-liaoning")
    [status] = await store.source_statuses()
    assert status.consecutive_failures == 0 and status.error_count == 2
    assert status.last_success_at is not None


@pytest.mark.postgres_only
async def test_postgres_refuses_a_newer_schema_and_leaves_it_alone(db_target: str) -> None:
    from storage.postgres.schema import SCHEMA_VERSION as PG_VERSION

    async with await open_store(db_target) as store:
        await execute_sql(
            store, "INSERT INTO schema_migrations VALUES (?, 'later')", PG_VERSION + 5
        )
        await execute_sql(store, "CREATE TABLE future (x INTEGER)")
    with pytest.raises(StoreError, match="newer") as info:
        await open_store(db_target)
    assert "\n" not in str(info.value)
    import asyncpg

    con = await asyncpg.connect(db_target)
    try:
        assert await con.fetchval("SELECT max(version) FROM schema_migrations") == PG_VERSION + 5
        assert await con.fetchval("SELECT to_regclass('future') IS NOT NULL")
    finally:
        await con.close()


@pytest.mark.postgres_only
async def test_a_failed_postgres_migration_leaves_no_trace(
    db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncpg

    import storage.postgres.store as pg_module

    async with await open_store(db_target) as store:
        version = await store.schema_version()
    broken = with_migration(pg_module.SCHEMA, "CREATE TABLE half (x INTEGER); THIS IS NOT SQL")
    monkeypatch.setattr(pg_module, "SCHEMA", broken)
    with pytest.raises(asyncpg.PostgresSyntaxError):
        await open_store(db_target)
    monkeypatch.undo()
    async with await open_store(db_target) as store:
        assert await store.schema_version() == version
        assert await fetch_sql(store, "SELECT to_regclass('half') IS NULL") == [(True,)]


@pytest.mark.postgres_only
async def test_three_instances_starting_at_once_migrate_once(db_target: str) -> None:
    import asyncio

    stores = await asyncio.gather(*(open_store(db_target) for _ in range(3)))
    try:
        versions = {await s.schema_version() for s in stores}
        rows = await fetch_sql(stores[0], "SELECT version FROM schema_migrations ORDER BY version")
        assert [r[0] for r in rows] == list(range(1, max(versions) + 1))
        assert len(versions) == 1
    finally:
        for opened in stores:
            await opened.close()


def test_no_url_is_taken_for_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    monkeypatch.chdir(tmp_path)
    for target in ("postgres:/x", "mysql://u:pw@h/db", "postgresql://u:pw@/nohost", "sqlite:x.db"):
        with pytest.raises(StoreError) as info:
            asyncio.run(open_store(target))
        assert str(info.value).startswith("NEWSBOT_DB")
        assert "pw" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


async def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    with pytest.raises(StoreError) as info:
        await open_store("postgresql://newsbot:hunter2@127.0.0.1:9/newsbot")
    message = str(info.value)
    assert message.startswith("NEWSBOT_DB: cannot connect to")
    assert "hunter2" not in message and "\n" not in message


async def test_search_migration_reindexes_an_older_database_in_simplified_form(
    tmp_path: Path,
) -> None:
    from storage.sqlite.database import split_sql as _split_sql
    from storage.sqlite.schema import MIGRATIONS, REINDEX_FOLDED_SEARCH

    path = tmp_path / "old.db"
    before = [m.sql for m in MIGRATIONS].index(REINDEX_FOLDED_SEARCH)
    con = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:before]:
        for statement in _split_sql(migration.sql):
            con.execute(statement)
    con.execute(
        "INSERT INTO articles (id, url, title, published_at, body, fetched_at, content_hash) "
        "VALUES (1, 'u', '瀋陽市政協舉行市情通報會', '2018-07-27T08:00:00Z', "
        "'保持瀋陽振興發展的良好態勢。', '2018-07-27T08:00:00Z', 'h')"
    )
    con.execute("INSERT INTO articles_grams (rowid, grams) VALUES (1, 'old')")
    con.execute(
        "INSERT INTO keyword_follows (chat_id, keyword, created_at) VALUES (7, '振興', 'x')"
    )
    con.execute(f"PRAGMA user_version = {before}")
    con.close()
    async with await SqliteStore.open(path) as store:
        assert await store.schema_version() == SCHEMA_VERSION
        for words in (["振兴发展"], ["振興發展"], ["振兴"], ["沈阳市政协"], ["沈"]):
            hits, total = await store.search_articles(words)
            assert total == 1, words
        assert await store.subscriptions.followed_keywords(7) == ["振兴"]
        await store.db.db.execute(
            "INSERT INTO articles_grams (articles_grams) VALUES ('integrity-check')"
        )
        # An article stored after the migration is indexed the same way.
        traditional = ParsedArticle(
            url="http://big5.cri.cn/a.shtml",
            title="全面振興新突破",
            published_at=datetime(2024, 1, 1, tzinfo=UTC),
            paragraphs=("推動東北全面振興。",),
        )
        await add(store, traditional)
        hits, total = await store.search_articles(["全面振兴"])
        assert total == 1 and hits[0].article.title == "全面振興新突破"


async def test_a_gazetteer_alias_in_a_later_article_is_the_same_person(tmp_path: Path) -> None:
    from news.nlp.analysis import analyse

    async with await SqliteStore.open(tmp_path / "p.db") as store:
        for n, body in enumerate(("沈阳市市长姜有为讲话。", "瀋陽市市長姜有爲主持會議。")):
            article = parsed(n, day=n + 1)
            await store.add_article(
                article,
                url_key=f"k{n}",
                fingerprint=f"f{n}",
                source_name=None,
                analysis=analyse(article.title, (body,)),
            )
        names = [name for name, _ in await store.all_people_names()]
        assert names.count("姜有为") == 1 and len(names) == 1
        person = await store.person_by_name("姜有为")
        assert person is not None and person.article_count == 2
        assert await store.person_role_counts(person.id) == {"spoke": 1, "presided": 1}
        appearances = await store.person_appearances(person.id)
        assert [a.roles for a in appearances] == [("presided",), ("spoke",)]  # newest first


async def test_traditional_follows_and_keywords_fire_on_simplified_articles(
    tmp_path: Path,
) -> None:
    from news.nlp.analysis import analyse
    from news.nlp.people import normalize_name

    async with await SqliteStore.open(tmp_path / "f.db") as store:
        await store.subscriptions.follow_keyword(9, "黨組", None)
        first = parsed(1, day=1)
        await store.add_article(
            first,
            url_key="k1",
            fingerprint="f1",
            source_name=None,
            analysis=analyse(first.title, ("省委常委、市委书记张雷主持会议并讲话。",)),
        )
        person = await store.person_by_name(normalize_name("張雷"))  # what /follow 張雷 looks up
        assert person is not None and person.name == "张雷"
        await store.subscriptions.follow(8, person.id, None)
        assert await store.ledger.enqueue_alerts() == 0  # the first call only sets the cursor
        later = ParsedArticle(
            url="https://liaoning.nen.com.cn/network/x/2024/10/02/2.shtml",
            title="市政府党组召开扩大会议",
            published_at=datetime.now(UTC),  # news: published after the follows began
            paragraphs=("省委常委、市委书记张雷讲话。",),
        )
        await store.add_article(
            later,
            url_key="k2",
            fingerprint="f2",
            source_name=None,
            analysis=analyse(later.title, later.paragraphs),
        )
        assert await store.ledger.enqueue_alerts() == 2  # chat 8 for 张雷, chat 9 for 党组
        assert await store.subscriptions.followed_keywords(9) == ["党组"]


@pytest.mark.postgres_only
async def test_a_server_that_drops_the_connection_is_unavailable_not_a_crash(
    db_target: str,
) -> None:
    import asyncio

    import asyncpg

    from storage import StoreUnavailable
    from storage.postgres import PostgresStore

    async with await open_store(db_target) as store:
        assert isinstance(store, PostgresStore)
        await add(store, parsed(1))
        # A slow statement stands for any query in flight when the server goes away.
        in_flight = asyncio.create_task(store.db.fetch("SELECT pg_sleep(10)"))
        await asyncio.sleep(0.5)
        admin = await asyncpg.connect(db_target)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        with pytest.raises(StoreUnavailable) as info:
            await in_flight
        assert str(info.value).startswith("NEWSBOT_DB") and "\n" not in str(info.value)
        assert await store.count_articles() == 1  # the pool reconnects on the next call


async def test_lean_search_migration_keeps_every_result_of_an_older_database(
    tmp_path: Path,
) -> None:
    from storage.sqlite.database import split_sql as _split_sql
    from storage.sqlite.schema import LEAN_SEARCH, MIGRATIONS

    # Build a file as the previous version left it (trigram and stored-bigram tables), with
    # the articles stored through that version's own store code path: the search triggers.
    path = tmp_path / "v7.db"
    before = [m.sql for m in MIGRATIONS].index(LEAN_SEARCH)
    con = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:before]:
        for statement in _split_sql(migration.sql):
            con.execute(statement)
    texts = [
        (
            "瀋陽市政協舉行市情通報會",
            "保持瀋陽振興發展的良好態勢。",
            "沈阳市政协举行市情通报会",
            "保持沈阳振兴发展的良好态势。",
        ),
        ("营商环境大会召开", "持续优化营商环境，振兴东北。", None, None),
        ("振兴与东北", "兴东北，振兴东北老工业基地。Ⅱ期 NEN 新闻", None, None),
    ]
    for n, (title, body, search_title, search_body) in enumerate(texts, start=1):
        con.execute(
            "INSERT INTO articles (id, url, title, published_at, body, fetched_at, content_hash, "
            "search_title, search_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                n,
                f"u{n}",
                title,
                f"2018-07-2{n}T08:00:00Z",
                body,
                "2018-07-29T08:00:00Z",
                f"h{n}",
                search_title,
                search_body,
            ),
        )
    con.execute(f"PRAGMA user_version = {before}")
    con.close()
    async with await SqliteStore.open(path) as store:
        assert await store.schema_version() == SCHEMA_VERSION
        tables = {r[0] for r in await store.db.fetch("SELECT name FROM sqlite_master")}
        assert "articles_fts" not in tables and "articles_grams_content" not in tables
        expected = {
            ("振兴发展",): [1],
            ("振興發展",): [1],
            ("沈阳市政协",): [1],
            ("营商环境",): [2],
            ("振兴东北",): [3, 2],
            ("振兴东",): [3, 2],
            ("兴东北",): [3, 2],
            ("振兴", "东北"): [3, 2],
            ("nen",): [3],
            ("NEN 新闻",): [3],
            ("NEN新闻",): [],
            ("老工业基地",): [3],
            ("良好态势",): [1],
            ("态势良好",): [],
        }
        for words, ids in expected.items():
            hits, total = await store.search_articles(list(words), limit=10)
            assert [h.article.id for h in hits] == ids, words
            assert total == len(ids), words
        await store.db.db.execute(
            "INSERT INTO articles_grams (articles_grams) VALUES ('integrity-check')"
        )


async def test_the_article_count_follows_inserts_and_deletes_and_an_older_file(
    db_target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await open_store(db_target) as store:
        for n in range(1, 4):
            await add(store, parsed(n))
        await add(store, parsed(1))  # a duplicate stores nothing
        assert await store.count_articles() == 3
        assert (await store.latest_page(2))[1] == 3
        await execute_sql(store, "DELETE FROM article_urls WHERE article_id = 3")
        await execute_sql(store, "DELETE FROM articles WHERE id = 3")
        assert await store.count_articles() == 2
    if not db_target.startswith("postgresql"):
        # A file made before migration 10 counts what it already holds on opening.
        import storage.sqlite.store as store_module

        older = tmp_path / "older.db"
        older_schema = store_module.SCHEMA
        monkeypatch.setattr(
            store_module,
            "SCHEMA",
            Schema(
                older_schema.migrations[:9],
                {n: step for n, step in older_schema.steps.items() if n <= 9},
            ),
        )
        async with await SqliteStore.open(older) as store:
            for n in range(1, 6):  # rows as that version wrote them (today's insert has stories)
                await execute_sql(
                    store,
                    "INSERT INTO articles (url, title, published_at, body, fetched_at, "
                    f"content_hash) VALUES ('https://x/{n}', 't{n}', '2024-01-0{n}T00:00:00Z', "
                    f"'b', '2024-01-01T00:00:00Z', 'h{n}')",
                )
        monkeypatch.undo()
        async with await SqliteStore.open(older) as store:
            assert await store.schema_version() == SCHEMA_VERSION
            assert await store.count_articles() == 5
            await add(store, parsed(6))
            assert (await store.latest_page(10))[1] == 6


@pytest.mark.parametrize("stale_snapshot", [False, True])
def test_a_locked_database_is_named_by_which_lock(tmp_path: Path, stale_snapshot: bool) -> None:
    # "database is locked" is both a lock held past the busy timeout and a write from a read
    # transaction another connection made stale; the one line says which it was.
    path = tmp_path / "locked.db"
    first = sqlite3.connect(path, isolation_level=None, timeout=0)
    second = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        first.execute("PRAGMA journal_mode = WAL")
        first.execute("CREATE TABLE t (x)")
        if stale_snapshot:
            second.execute("BEGIN")
            second.execute("SELECT * FROM t").fetchall()
            first.execute("INSERT INTO t VALUES (1)")
        else:
            first.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as caught:
            second.execute("INSERT INTO t VALUES (2)")
    finally:
        first.close()
        second.close()
    error = unavailable(str(path), caught.value)
    assert error is not None
    name = "SQLITE_BUSY_SNAPSHOT" if stale_snapshot else "SQLITE_BUSY"
    assert str(error) == f"NEWSBOT_DB: {str(path)!r}: database is locked ({name})"


async def test_a_long_write_transaction_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = await SqliteStore.open(tmp_path / "slow.db")
    try:
        async with store.db.transaction():
            pass
        assert "write transaction held" not in caplog.text
        monkeypatch.setattr("storage.sqlite.database.SLOW_TRANSACTION_SECONDS", 0.0)
        async with store.db.transaction():
            pass
    finally:
        await store.close()
    assert f"a write transaction held {str(tmp_path / 'slow.db')!r} for 0.0 s" in caplog.text


def with_migration(schema: Schema, sql: str) -> Schema:
    """Return the schema with one more migration after its last."""
    return Schema((*schema.migrations, Migration(schema.version + 1, sql)), schema.steps)
