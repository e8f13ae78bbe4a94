"""/said's statements on both backends: written with the analysis, folded, found by speaker and
words newest first, paged, limited by date, rewritten on re-analysis, back-filled by migration."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from news.models import ArticleAnalysis, ParsedArticle, PersonInArticle
from storage import Store, open_store
from storage.said import SCAN_WINDOW, statement_key

pytestmark = pytest.mark.both_backends

START = datetime(2019, 1, 1, 2, 0, tzinfo=UTC)


def speech(name: str, *said: str, roles: tuple[str, ...] = ("spoke",)) -> PersonInArticle:
    return PersonInArticle(name=name, pinyin="x", roles=roles, titles=("省长",), statements=said)


async def add(store: Store, n: int, *people: PersonInArticle, days: int | None = None) -> int:
    article = ParsedArticle(
        url=f"https://www.nen.com.cn/a/{n}.shtml",
        title=f"标题{n}",
        published_at=START + timedelta(days=n if days is None else days),
        paragraphs=("正文。",),
        source="辽宁日报",
    )
    outcome = await store.add_article(
        article,
        url_key=f"k{n}",
        fingerprint=f"f{n}",
        source_name=None,
        analysis=ArticleAnalysis(summary="摘要", people=people),
    )
    return outcome.article_id


async def test_statements_found_by_speaker_and_every_word_newest_first(store: Store) -> None:
    await add(store, 1, speech("易炼红", "要优化营商环境。"), speech("李乐成", "营商环境很重要。"))
    await add(store, 2, speech("易炼红", "推动全面振興，優化營商環境。"))
    await add(store, 3, speech("易炼红", "抓好安全生产。"))
    await add(store, 4, speech("易炼红", roles=("attended",)))
    person = await store.person_by_name("易炼红")
    assert person is not None
    found, more = await store.person_said(person.id, ["营商环境"])
    # Traditional statements are found by simplified words, newest first, the text as said.
    assert [s.statement for s in found] == ["推动全面振興，優化營商環境。", "要优化营商环境。"]
    assert not more and found[0].article.title == "标题2" and found[0].title == "省长"
    both, _ = await store.person_said(person.id, ["營商環境", "振兴"])
    assert [s.article.title for s in both] == ["标题2"]
    assert (await store.person_said(person.id, ["营商", "安全"]))[0] == []
    # 振兴 and 兴东 apart are not 振兴东; a one-letter word matches the text, not the index.
    assert (await store.person_said(person.id, ["面振興優"]))[0] == []
    single, _ = await store.person_said(person.id, ["抓"])
    assert [s.article.title for s in single] == ["标题3"]
    assert (await store.person_said(person.id, ["p"]))[0] == []
    assert (await store.person_said(person.id, ["！"]))[0] == []
    # A date range, as keys.
    early, _ = await store.person_said(
        person.id, ["营商环境"], since=START, until=START + timedelta(days=2)
    )
    assert [s.article.title for s in early] == ["标题1"]


async def test_paging_and_the_index_past_the_newest_speeches(store: Store) -> None:
    # More speeches than the window read first: the rare word is older than all of them.
    await add(store, 0, speech("易炼红", "一个罕见词语在这里。"))
    for n in range(1, SCAN_WINDOW + 12):
        await add(store, n, speech("易炼红", f"发展第{n}号。"))
    person = await store.person_by_name("易炼红")
    assert person is not None
    rare, more = await store.person_said(person.id, ["罕见词语"])
    assert [s.article.title for s in rare] == ["标题0"] and not more
    page, more = await store.person_said(person.id, ["发展"], limit=5, offset=5)
    newest = SCAN_WINDOW + 11
    assert [s.article.title for s in page] == [f"标题{newest - i}" for i in range(5, 10)]
    assert more
    every, more = await store.person_said_all(person.id, ["发展"], limit=SCAN_WINDOW + 5)
    assert len(every) == SCAN_WINDOW + 5 and more
    ranged, _ = await store.person_said(
        person.id, ["发展"], until=START + timedelta(days=3), limit=10
    )
    assert [s.article.title for s in ranged] == ["标题2", "标题1"]


async def test_reanalysis_replaces_the_statements(store: Store) -> None:
    article_id = await add(store, 1, speech("易炼红", "营商环境。"))
    person = await store.person_by_name("易炼红")
    assert person is not None
    analysis = ArticleAnalysis(people=(speech("易炼红", "乡村振兴。"),))
    await store.save_analysis(article_id, analysis)
    await store.save_analysis(article_id, analysis)
    assert (await store.person_said(person.id, ["营商环境"]))[0] == []
    again, _ = await store.person_said(person.id, ["乡村振兴"])
    assert [s.statement for s in again] == ["乡村振兴。"]


async def test_two_speeches_of_one_second_keep_apart(store: Store) -> None:
    # Same second, two people whose ids share their low bits would share a key: one is moved.
    await add(store, 1, speech("甲", "同一秒。"), days=1)
    await add(store, 2, speech("乙", "同一秒。"), days=1)
    for name in ("甲", "乙"):
        person = await store.person_by_name(name)
        assert person is not None
        assert len((await store.person_said(person.id, ["同一秒"]))[0]) == 1


def test_keys_sort_by_time() -> None:
    early = statement_key(START, 99_999, 63)
    assert early < statement_key(START + timedelta(seconds=1), 1, 1)


async def test_an_older_sqlite_file_is_back_filled(tmp_path: Path) -> None:
    from storage.sqlite.schema import SCHEMA_VERSION

    path = tmp_path / "old.db"
    async with await open_store(str(path)) as store:
        await add(store, 1, speech("易炼红", "营商环境。"))
    con = sqlite3.connect(path)
    con.executescript(
        "DROP TABLE statements; DROP TABLE statements_grams; "
        f"PRAGMA user_version = {SCHEMA_VERSION - 1};"
    )
    con.close()
    async with await open_store(str(path)) as store:
        person = await store.person_by_name("易炼红")
        assert person is not None
        found, _ = await store.person_said(person.id, ["营商环境"])
        assert [s.statement for s in found] == ["营商环境。"]
