"""A backfill beside the running bot: years of articles stored, no alert, nothing in a digest."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import httpx
import pytest

from fakes.province import Province
from news.ingest.backfill import Backfiller
from news.ingest.fetch import Fetcher
from news.ingest.fingerprint import fingerprint
from news.ingest.sources import PROFILES
from news.ingest.sources_file import parse_sources
from news.models import ParsedArticle
from news.nlp.analysis import analyse
from storage import open_store
from tests.e2e.conftest import ADMIN_ID

pytestmark = pytest.mark.both_backends

CHAT = 5151


async def say(api, chat: int, text: str, count: int, **kwargs) -> str:
    api.push_text(chat, text, **kwargs)
    return (await api.wait_for_messages(chat, count))[-1].plain_text


async def test_a_backfill_beside_the_bot_sends_no_alert_and_adds_nothing_to_a_digest(
    make_settings, start_bot, bot_api
) -> None:
    settings = make_settings()
    await start_bot(settings)
    assert (await say(bot_api, CHAT, "/subscribe", 1)).startswith("✅ 已订阅")
    assert (await say(bot_api, CHAT, "/keyword 工作", 2)).startswith("✅")
    # Every generated title ends in 工作: each stored article would alert this chat.
    async with Province(articles=40, years=3, sites=("lngov", "trs")) as province:
        sources = parse_sources(province.sources_toml(), "province", PROFILES)
        titles = {a.title for key in province.keys for a in province.articles(key)}
        store = await open_store(settings.db)  # a second connection, as `newsbot backfill` has
        try:
            # The bot's first delivery tick only sets the alert cursor (no alerts for what was
            # there before it): let it run first, as it does long before any real backfill.
            async with asyncio.timeout(30):
                while not await store.db.fetchval("SELECT count(*) FROM alert_cursor"):
                    await asyncio.sleep(0.2)
            async with httpx.AsyncClient(timeout=httpx.Timeout(2.0)) as client:
                fetcher = Fetcher(client, min_host_interval=0.0, attempts=2, base_delay=0.01)
                results = await Backfiller(fetcher, store).run(
                    sources, date(2020, 1, 1), date(2026, 11, 30)
                )
            assert all(r.status == "done" for r in results)
            assert await store.count_articles() == 40
            # One article of today, stored as the crawler would: this one is news.
            fresh = ParsedArticle(
                url="https://www.ln.gov.cn/web/ywdt/today/index.shtml",
                title="郝鹏在沈阳调研营商环境工作",
                published_at=datetime.now(UTC),
                paragraphs=("郝鹏强调，要持续优化营商环境。",),
            )
            await store.add_article(
                fresh,
                url_key=fresh.url,
                fingerprint=fingerprint(fresh.title, fresh.body),
                source_name=None,
                analysis=analyse(fresh.title, fresh.paragraphs),
            )
        finally:
            await store.close()

    # A delivery tick and the chat's digest, now: a second later, as the store keeps times
    # to the second and a window ends before its `until`.
    await asyncio.sleep(1.1)
    reply = await say(bot_api, ADMIN_ID, f"/digest_now {CHAT}", 1, user_id=ADMIN_ID)
    assert reply.endswith("账本状态：sent")
    # The alert goes out on a delivery tick of its own, which a loaded machine may run after
    # the digest: wait for both (and then count them all, so a flood would still show).
    await bot_api.wait_for_messages(CHAT, 4, timeout=15.0)
    await asyncio.sleep(1.0)
    pushed = bot_api.messages_to(CHAT)[2:]
    digests = [m.plain_text for m in pushed if m.plain_text.startswith("📰")]
    alerts = [m.plain_text for m in pushed if m.plain_text.startswith("🔔")]
    assert len(digests) == 1 and len(alerts) == 1, [m.plain_text for m in pushed]
    for message in (digests[0], alerts[0]):
        assert "郝鹏在沈阳调研营商环境工作" in message
        assert message.count("• ") == 1  # the fresh one alone, none of the 40 backfilled
    # The backfilled articles are there for reading at once.
    found = await say(bot_api, CHAT, "/search 工作", len(bot_api.messages_to(CHAT)) + 1)
    assert sum(title in found for title in titles) >= 3, found
