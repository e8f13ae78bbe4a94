"""The running bot crawls its sources on the JobQueue and answers from what it stored."""

from __future__ import annotations

import asyncio

from fakes import SITE
from fakes.news_site import FakeNewsSite, Fault
from fakes.province import Province
from news.ingest.dated import paper_today
from storage import open_store
from tests.e2e.conftest import ADMIN_ID


async def test_scheduled_crawl_fills_latest_and_status(make_settings, start_bot, bot_api) -> None:
    async with FakeNewsSite(SITE) as site:
        site.set_fault("/szyw_new/index.shtml", Fault(status=500))
        template = (SITE / "sources.toml.in").read_text(encoding="utf-8")
        settings = make_settings(template.replace("{base}", site.base_url))
        await start_bot(settings)
        # The first crawl starts two seconds after start; replies never wait for it.
        bot_api.push_text(1, "/help")
        await bot_api.wait_for_messages(1, 1, timeout=2)
        for _ in range(150):
            bot_api.push_text(ADMIN_ID, "/status", user_id=ADMIN_ID)
            replies = await bot_api.wait_for_messages(ADMIN_ID, _ + 1, timeout=5)
            shown = replies[-1].plain_text
            if all(part in shown for part in ("📰 15", "📰 11", "HTTP 500")):
                break
            await asyncio.sleep(0.2)
        status = replies[-1].plain_text
        assert "📰 15" in status and "📰 11" in status
        assert "HTTP 500" in status  # the broken archive list is shown to the admin
        bot_api.push_text(2, "/latest 3")
        [latest] = await bot_api.wait_for_messages(2, 1)
        assert "王新伟" in latest.plain_text


async def test_running_bot_crawls_the_loopback_province(make_settings, start_bot, bot_api) -> None:
    """`newsbot run` reads seven CMS families with the catalogue's own source tables."""
    async with Province(
        articles=140, per_page=10, end=paper_today(), holidays=frozenset()
    ) as province:
        settings = make_settings(province.sources_toml(interval_minutes=60, max_pages=2))
        await start_bot(settings)
        # Two list pages each (Enorth's second is its page-count script), and the e-paper's
        # issues of today and yesterday.
        expected = 5 * 20 + 10 + 4
        store = await open_store(settings.db)
        try:
            for _ in range(300):
                if await store.count_articles() >= expected:
                    break
                await asyncio.sleep(0.1)
            assert await store.count_articles() == expected
        finally:
            await store.close()
        bot_api.push_text(ADMIN_ID, "/status", user_id=ADMIN_ID)
        [status] = await bot_api.wait_for_messages(ADMIN_ID, 1)
        for title in ("辽宁日报·电子版", "沈阳市人民政府·政务要闻", "大连新闻网（大连日报）"):
            assert title in status.plain_text
        bot_api.push_text(2, "/latest 30")
        [latest] = await bot_api.wait_for_messages(2, 1)
        newest = {province.article(key, 0).title for key in province.keys}
        assert any(title in latest.plain_text for title in newest)
