"""Limits through the real bot: a flooding user, replies paced per chat, caps per chat."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from fakes.archive import seed_store

FLOODER = 6100
OTHERS = (6201, 6202, 6203)


@pytest.fixture
async def bot(make_settings, start_bot):
    settings = make_settings(NEWSBOT_USER_RATE="20", NEWSBOT_USER_BURST="10")
    await seed_store(settings.db, fetched_at=datetime.now(UTC) - timedelta(hours=1))
    return await start_bot(settings)


async def test_a_flood_gets_one_polite_line_and_other_chats_are_answered(
    bot, bot_api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # 60 /search in 3 seconds from one user; three other chats ask meanwhile.
    for n in range(60):
        bot_api.push_text(FLOODER, "/search 振兴")
        if n % 20 == 10:
            for chat in OTHERS:
                bot_api.push_text(chat, "/latest 3")
        await asyncio.sleep(0.05)
    for chat in OTHERS:
        answers = await bot_api.wait_for_messages(chat, 3, timeout=20)
        assert all("最新新闻" in m.plain_text for m in answers)
    # The burst (10, and the one token refilled in the 3 s) is answered, every reply
    # delivered (paced to about one a second), and one polite line; nothing else.
    await bot_api.wait_for_messages(FLOODER, 11, timeout=30)
    await asyncio.sleep(3)
    texts = [m.plain_text for m in bot_api.messages_to(FLOODER)]
    results = [t for t in texts if t.startswith("搜索“振兴”")]
    polite = [t for t in texts if "你发得太快了" in t]
    assert 10 <= len(results) <= 11 and len(polite) == 1, texts
    assert len(texts) == len(results) + 1
    assert "每分钟最多 20 个" in polite[0]
    assert not any("出了点问题" in t for t in texts)
    assert bot_api.rate_limited_count == 0  # paced per chat: Telegram never had to refuse
    assert not [r for r in caplog.records if r.exc_info], "no tracebacks"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_past_the_limit_buttons_are_answered_quietly_and_the_bucket_refills(
    make_settings, start_bot, bot_api
) -> None:
    # 60 a minute with a burst of 2: one token a second.
    settings = make_settings(NEWSBOT_USER_RATE="60", NEWSBOT_USER_BURST="2")
    await seed_store(settings.db, fetched_at=datetime.now(UTC) - timedelta(hours=1))
    await start_bot(settings)
    bot_api.push_text(FLOODER, "/latest 1")
    [latest] = await bot_api.wait_for_messages(FLOODER, 1)
    bot_api.push_text(FLOODER, "/latest 1")
    await bot_api.wait_for_messages(FLOODER, 2)
    # The bucket is empty: a button press is answered (it stops spinning), with the line once.
    next_page = latest.reply_markup["inline_keyboard"][-1][-1]["callback_data"]
    first = bot_api.push_callback(FLOODER, latest.message_id, next_page)
    second = bot_api.push_callback(FLOODER, latest.message_id, next_page)
    await bot_api.wait_for_calls("answerCallbackQuery", 2)
    answers = bot_api.callback_answers
    said = [answers[q["callback_query"]["id"]].get("text") for q in (first, second)]
    assert said[0] and "太快" in said[0] and not said[1]
    assert len(bot_api.edits_to(FLOODER)) == 0
    await asyncio.sleep(1.1)  # a token back
    bot_api.push_text(FLOODER, "/latest 1")
    await bot_api.wait_for_messages(FLOODER, 3)


async def test_caps_on_follows_and_keywords_say_the_cap(bot, bot_api, monkeypatch) -> None:
    # (Seven commands a second apart: within the limit of the `bot` fixture.)
    monkeypatch.setattr("handlers.subscriptions.MAX_KEYWORDS", 2)
    monkeypatch.setattr("handlers.subscriptions.MAX_FOLLOWS", 1)
    chat = 6300
    replies = []
    for n, command in enumerate(
        [
            "/keyword 振兴",
            "/keyword 营商环境",
            "/keyword 沈阳",
            "/keyword 振兴",
            "/follow 易炼红",
            "/follow 许昆林",
            "/follow 易炼红",
        ]
    ):
        bot_api.push_text(chat, command)
        replies.append((await bot_api.wait_for_messages(chat, n + 1, timeout=10))[-1].plain_text)
        await asyncio.sleep(1.0)  # within the limit
    assert replies[2] == (
        "一个聊天最多关注 2 个关键词。请先用 /unkeyword 取消一些（/following 查看）。"
    )
    assert replies[3].startswith("✅")  # one already followed is not refused
    assert replies[4].startswith("✅ 已关注")
    assert replies[5].startswith("一个聊天最多关注 1 位领导")
    assert replies[6].startswith("已经在关注")


async def test_admins_are_not_limited(make_settings, start_bot, bot_api) -> None:
    from tests.e2e.conftest import ADMIN_ID

    await start_bot(make_settings(NEWSBOT_USER_RATE="60", NEWSBOT_USER_BURST="1"))
    for _ in range(4):
        bot_api.push_text(ADMIN_ID, "/status", user_id=ADMIN_ID)
    replies = await bot_api.wait_for_messages(ADMIN_ID, 4, timeout=15)
    assert all(r.plain_text == "还没有配置任何新闻源。" for r in replies)
