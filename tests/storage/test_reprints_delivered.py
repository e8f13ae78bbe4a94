"""A story many outlets carry: a watching chat is told once; a digest of some sources holds it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from news.ingest.fingerprint import fingerprint
from news.models import ParsedArticle
from news.nlp.analysis import analyse
from storage import Store, open_store

pytestmark = pytest.mark.both_backends

STORY = (
    "沈阳市今年持续推进老旧小区改造工程，计划完成改造小区二百余个，惠及居民八万余户。",
    "市住房和城乡建设局有关负责人介绍，改造坚持先民生后提升的原则，优先解决群众反映强烈的问题。",
)
REGIONS = {"辽宁": ["lnd", "syd", "nen"]}


@pytest.fixture
async def store(db_target: str) -> AsyncIterator[Store]:
    opened = await open_store(db_target)
    for name, title in (("lnd", "北国网"), ("syd", "沈阳网"), ("nen", "东北新闻网")):
        await opened.upsert_source(name, title, "generic")
    yield opened
    await opened.close()


async def add(store: Store, url: str, source: str, title: str) -> int:
    """Store the story as one outlet printed it; return the row's id."""
    article = ParsedArticle(
        url=url,
        title=title,
        published_at=datetime.now(UTC) + timedelta(minutes=1),
        paragraphs=STORY,
    )
    outcome = await store.add_article(
        article,
        url_key=url,
        fingerprint=fingerprint("老旧小区改造", "\n".join(STORY)),  # the same text: one story
        source_name=source,
        analysis=analyse(article.title, article.paragraphs),
    )
    return outcome.article_id


async def alerts(store: Store, chat_id: int) -> list[int]:
    """Return the articles the chat's pending alerts show."""
    rows = await store.ledger.open_deliveries()
    return sorted(
        json.loads(r.payload)["article_id"]
        for r in rows
        if r.chat_id == chat_id and r.kind == "alert"
    )


async def test_a_story_two_watched_outlets_carry_alerts_once(store: Store) -> None:
    await store.subscriptions.watch(7, "source", "lnd", None)
    await store.subscriptions.watch(7, "source", "syd", None)
    await store.subscriptions.watch(8, "source", "syd", None)
    await store.subscriptions.watch(9, "region", "辽宁", None)
    assert await store.ledger.enqueue_alerts(regions=REGIONS) == 0  # sets the cursor
    first = await add(store, "https://news.lnd.com.cn/a.html", "lnd", "沈阳老旧小区改造")
    reprint = await add(store, "https://www.syd.com.cn/b.html", "syd", "老旧小区改造惠及八万户")
    later = await add(store, "https://liaoning.nen.com.cn/c.html", "nen", "沈阳老旧小区改造提速")
    await store.ledger.enqueue_alerts(regions=REGIONS)
    # Both outlets watched, and the region: one alert each. Only the reprint's outlet
    # watched: that chat is told, by the reprint.
    assert len(await alerts(store, 7)) == 1
    assert len(await alerts(store, 9)) == 1
    assert await alerts(store, 8) == [reprint]
    # A copy stored after the chat was told (another batch) tells it nothing new.
    assert later not in (first, reprint)
    await store.subscriptions.watch(7, "source", "nen", None)
    again = await add(store, "https://liaoning.nen.com.cn/d.html", "nen", "老旧小区改造又一篇")
    await store.ledger.enqueue_alerts(regions=REGIONS)
    assert len(await alerts(store, 7)) == 1, again


async def test_a_digest_of_chosen_sources_holds_a_story_one_of_them_reprinted(
    store: Store,
) -> None:
    first = await add(store, "https://news.lnd.com.cn/a.html", "lnd", "沈阳老旧小区改造")
    await add(store, "https://www.syd.com.cn/b.html", "syd", "老旧小区改造惠及八万户")
    await add(store, "https://www.syd.com.cn/c.html", "syd", "老旧小区改造（转载）")
    since = datetime.now(UTC) - timedelta(hours=2)
    until = datetime.now(UTC) + timedelta(minutes=5)
    # Only 沈阳网 chosen: the story is in, as its first copy (which lists 沈阳网 as 也见于).
    assert await store.articles_between(since, until, ["syd"]) == [first]
    assert await store.articles_between(since, until, ["lnd", "syd"]) == [first]
    assert await store.articles_between(since, until) == [first]
    assert await store.articles_between(since, until, ["nen"]) == []
