"""The running bot crawls its sources on the JobQueue and answers from what it stored."""

from __future__ import annotations

import asyncio

from fakes import SITE
from fakes.news_site import FakeNewsSite, Fault
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
