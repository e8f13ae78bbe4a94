"""Atom feeds from the running bot (NEWSBOT_FEEDS_LISTEN), read back with feedparser."""

from __future__ import annotations

import calendar
import socket
from datetime import UTC, datetime
from urllib.parse import quote

import feedparser
import httpx
import pytest

import handlers.feeds as feeds_module
from fakes.archive import add_numbered_articles, seed_store
from handlers.render import shorten
from storage import Store, open_store

# On SQLite and, with NEWSBOT_TEST_POSTGRES, on PostgreSQL.
pytestmark = pytest.mark.both_backends

SOURCE = "nen-liaoning-shizheng"
EXTRA = 60  # past the 50-entry cap


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def feeds(make_settings, start_bot):
    port = free_port()
    settings = make_settings(NEWSBOT_FEEDS_LISTEN=f"127.0.0.1:{port}")
    await seed_store(settings.db)
    await add_numbered_articles(
        settings.db,
        EXTRA,
        title="辽宁时政要闻第{n}号",
        body="营商环境持续优化，第{n}项举措落地。",
        source_name=SOURCE,
    )
    bot = await start_bot(settings)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield bot, client


async def read(client: httpx.AsyncClient, path: str, **params: str):
    response = await client.get(path, params=params or None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.version == "atom10" and not parsed.bozo, parsed.get("bozo_exception")
    return response, parsed


def stamp(moment: datetime) -> int:
    return calendar.timegm(moment.astimezone(UTC).timetuple())


async def check_entries(parsed, articles, store: Store) -> None:
    """Each entry matches its article: link, title, times with offset, summary, speakers."""
    assert [e.link for e in parsed.entries] == [a.url for a in articles]
    speakers = await store.speakers_of_articles(a.id for a in articles)
    summaries = await store.article_summaries(a.id for a in articles)
    for entry, article in zip(parsed.entries, articles, strict=True):
        assert entry.title == article.title
        assert entry.published.endswith("+08:00")  # NEWSBOT_TZ's offset, not Z
        assert calendar.timegm(entry.published_parsed) == stamp(article.published_at)
        assert calendar.timegm(entry.updated_parsed) >= stamp(article.published_at)
        assert entry.id.startswith("tag:liaoning.nen.com.cn,")
        assert entry.summary == (summaries[article.id] or shorten(article.body, 200))
        spoke = {t.term for t in entry.tags if t.scheme == "urn:newsbot:speaker"}
        assert spoke == set(speakers[article.id])
        source = {t.term for t in entry.tags if t.scheme == "urn:newsbot:source"}
        assert source == ({article.source} if article.source else set())


async def test_latest_feed_holds_the_50_newest_and_answers_304(feeds) -> None:
    bot, client = feeds
    response, parsed = await read(client, "/feeds/latest.atom")
    store = await open_store(bot.settings.db)
    try:
        latest = await store.latest_articles(limit=50)
        await check_entries(parsed, latest, store)
    finally:
        await store.close()
    assert len(parsed.entries) == 50
    assert parsed.feed.title == "东北新闻网 · 最新新闻"
    # The same feed fetched again: the ids are stable, and a conditional GET gets 304.
    again = feedparser.parse((await client.get("/feeds/latest.atom")).content)
    assert [e.id for e in again.entries] == [e.id for e in parsed.entries]
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    by_tag = await client.get("/feeds/latest.atom", headers={"If-None-Match": etag})
    assert by_tag.status_code == 304 and by_tag.content == b""
    by_date = await client.get("/feeds/latest.atom", headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    other = await client.get("/feeds/latest.atom", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200
    # feedparser's own conditional GET, as an RSS reader does it.
    assert feedparser.parse(response.content, etag=etag).entries


async def test_an_unchanged_feed_is_rendered_once_and_a_new_article_renders_it_anew(
    feeds, monkeypatch
) -> None:
    bot, client = feeds
    renders: list[str] = []
    real_render = feeds_module.render_atom

    def counting_render(feed, tz):
        renders.append(feed.etag)
        return real_render(feed, tz)

    monkeypatch.setattr(feeds_module, "render_atom", counting_render)
    first = await client.get("/feeds/latest.atom")
    second = await client.get("/feeds/latest.atom")
    assert first.status_code == second.status_code == 200
    assert second.content == first.content and len(renders) == 1
    # One article more (the 60 before it are already stored): a new ETag, drawn anew.
    await add_numbered_articles(
        bot.settings.db,
        EXTRA + 1,
        title="辽宁时政要闻第{n}号",
        body="营商环境持续优化，第{n}项举措落地。",
        source_name=SOURCE,
    )
    third, parsed = await read(client, "/feeds/latest.atom")
    assert len(renders) == 2 and third.headers["ETag"] != first.headers["ETag"]
    assert f"辽宁时政要闻第{EXTRA + 1}号" in {e.title for e in parsed.entries}


@pytest.mark.parametrize("name", ["易炼红", "易煉紅", "yilianhong"])
async def test_speaker_feed_lists_where_the_person_spoke(feeds, name) -> None:
    bot, client = feeds
    response, parsed = await read(client, f"/feeds/speaker/{quote(name)}.atom")
    store = await open_store(bot.settings.db)
    try:
        person = await store.person_by_name("易炼红")
        assert person is not None
        spoke = [s.article for s in await store.person_statements(person.id, limit=50)]
        await check_entries(parsed, spoke, store)
    finally:
        await store.close()
    assert spoke
    second = await client.get(
        f"/feeds/speaker/{quote(name)}.atom", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert second.status_code == 304


async def test_source_feed_and_unknown_names_get_404(feeds) -> None:
    bot, client = feeds
    response, parsed = await read(client, f"/feeds/source/{SOURCE}.atom")
    store = await open_store(bot.settings.db)
    try:
        found = await store.latest_articles_of_source(SOURCE, 50)
        await check_entries(parsed, found, store)
    finally:
        await store.close()
    assert len(parsed.entries) == 50
    second = await client.get(
        f"/feeds/source/{SOURCE}.atom",
        headers={"If-Modified-Since": response.headers["Last-Modified"]},
    )
    assert second.status_code == 304
    for path in ("/feeds/source/no-such-source.atom", f"/feeds/speaker/{quote('不存在的人')}.atom"):
        missing = await client.get(path)
        assert missing.status_code == 404
        assert missing.text.count("\n") == 1


async def test_search_feed_and_bad_queries_get_400(feeds) -> None:
    bot, client = feeds
    response, parsed = await read(client, "/feeds/search.atom", q="城市品质")
    store = await open_store(bot.settings.db)
    try:
        hits, total = await store.search_articles(["城市品质"], limit=50)
        await check_entries(parsed, [h.article for h in hits], store)
    finally:
        await store.close()
    assert total > 0 and len(parsed.entries) == total
    second = await client.get(
        "/feeds/search.atom",
        params={"q": "城市品质"},
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert second.status_code == 304
    for q in (None, "", "词" * 101, "振兴 2024-13..2025-01", "一 二 三 四 五 六 七 八 九"):
        bad = await client.get("/feeds/search.atom", params=None if q is None else {"q": q})
        assert bad.status_code == 400, q
    _none, empty = await read(client, "/feeds/search.atom", q="一个不存在的词语")
    assert empty.entries == []


async def test_said_feed_lists_statements_with_the_words(feeds) -> None:
    _bot, client = feeds
    name = quote("易煉紅")
    response, parsed = await read(client, f"/feeds/said/{name}.atom", q="城市品质")
    [entry] = parsed.entries
    assert "奋力拼搏" in entry.title and "城市品质" in entry.summary
    again = await client.get(
        f"/feeds/said/{name}.atom",
        params={"q": "城市品质"},
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304
    _none, empty = await read(client, f"/feeds/said/{name}.atom", q="一个不存在的词语")
    assert empty.entries == []
    assert (await client.get(f"/feeds/said/{name}.atom")).status_code == 400
    unknown = await client.get("/feeds/said/nobody.atom", params={"q": "振兴"})
    assert unknown.status_code == 404
