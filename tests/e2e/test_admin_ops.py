"""What admins are told and can do, through the real bot: /stats, source trouble, /broadcast."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from fakes import SITE
from fakes.archive import seed_store
from fakes.news_site import FakeNewsSite, Fault
from storage import open_store
from tests.e2e.conftest import ADMIN_ID

pytestmark = pytest.mark.both_backends

SUBSCRIBERS = range(7001, 7041)


async def subscribe_all(target: str, chats: range) -> None:
    store = await open_store(target)
    try:
        later = datetime.now(UTC) + timedelta(hours=6)
        for chat in chats:
            await store.upsert_chat(chat, "private", "zh", "Asia/Shanghai")
            await store.subscriptions.subscribe(chat, "08:00", "Asia/Shanghai", later, None)
        await store.subscriptions.follow_keyword(chats[0], "振兴", None)
    finally:
        await store.close()


async def test_stats_counts_chats_follows_deliveries_and_the_archive(
    make_settings, start_bot, bot_api
) -> None:
    settings = make_settings()
    await seed_store(settings.db, fetched_at=datetime.now(UTC) - timedelta(hours=1))
    await subscribe_all(settings.db, range(7001, 7004))
    await start_bot(settings)
    bot_api.push_text(7001, "/stats")
    [refused] = await bot_api.wait_for_messages(7001, 1)
    assert refused.plain_text == "此命令仅限管理员使用。"
    bot_api.push_text(ADMIN_ID, "/stats", user_id=ADMIN_ID)
    [stats] = await bot_api.wait_for_messages(ADMIN_ID, 1)
    lines = stats.plain_text.splitlines()
    assert lines[0] == "统计"
    assert "聊天：3（已屏蔽机器人 0）" in lines
    assert "订阅每日摘要：3" in lines
    assert "关注：领导 0 · 关键词 1" in lines
    assert "今日推送：无" in lines
    assert "新闻源：正常 0 · 失败 0" in lines
    assert lines[-1].startswith("存档：") and "篇 · 数据库 " in lines[-1]
    assert lines[-1].split("数据库 ")[1].endswith(("kB", "MB"))


async def test_a_broadcast_is_confirmed_then_sent_once_to_every_subscriber_across_a_restart(
    make_settings, start_bot, bot_api
) -> None:
    settings = make_settings()
    await subscribe_all(settings.db, SUBSCRIBERS)
    bot = await start_bot(settings)
    bot_api.push_text(ADMIN_ID, "/broadcast 明天 9:00 起维护 <一小时>", user_id=ADMIN_ID)
    [preview] = await bot_api.wait_for_messages(ADMIN_ID, 1)
    assert preview.plain_text.splitlines()[0] == "将发给 40 个订阅的聊天："
    assert "明天 9:00 起维护 <一小时>" in preview.plain_text
    assert not bot_api.messages_to(SUBSCRIBERS[0])  # nothing before the confirmation
    [[go, cancel]] = preview.reply_markup["inline_keyboard"]
    assert go["text"] == "✅ 确认发送" and cancel["text"] == "取消"
    bot_api.push_callback(ADMIN_ID, preview.message_id, go["callback_data"], user_id=ADMIN_ID)
    queued = (await bot_api.wait_for_messages(ADMIN_ID, 2))[-1]
    assert queued.plain_text.startswith("已排队发给 40 个聊天")
    # Stopped part-way (the fake Telegram's 30 a second, and a private chat's first message
    # without delay): the rest is sent by the restarted bot.
    for _ in range(200):
        if sum(bool(bot_api.messages_to(c)) for c in SUBSCRIBERS) >= 5:
            break
        await asyncio.sleep(0.02)
    bot.stop.set()
    await asyncio.wait_for(bot.task, timeout=15)
    sent_before = sum(bool(bot_api.messages_to(c)) for c in SUBSCRIBERS)
    assert sent_before > 0
    await start_bot(settings)
    for chat in SUBSCRIBERS:
        await bot_api.wait_for_messages(chat, 1, timeout=20)
    await asyncio.sleep(1.5)
    for chat in SUBSCRIBERS:
        [message] = bot_api.messages_to(chat)
        assert message.plain_text == "明天 9:00 起维护 <一小时>"
    # The buttons are gone: nothing can be confirmed twice from this message.
    assert not bot_api.message(ADMIN_ID, preview.message_id).get("reply_markup")


async def test_a_broadcast_cancelled_or_pressed_by_someone_else_sends_nothing(
    make_settings, start_bot, bot_api
) -> None:
    settings = make_settings()
    await subscribe_all(settings.db, range(7101, 7103))
    await start_bot(settings)
    bot_api.push_text(ADMIN_ID, "/broadcast", user_id=ADMIN_ID)
    [usage] = await bot_api.wait_for_messages(ADMIN_ID, 1)
    assert usage.plain_text.startswith("用法：/broadcast 文字")
    bot_api.push_text(ADMIN_ID, "/broadcast 测试", user_id=ADMIN_ID)
    preview = (await bot_api.wait_for_messages(ADMIN_ID, 2))[-1]
    [[go, cancel]] = preview.reply_markup["inline_keyboard"]
    other = bot_api.push_callback(ADMIN_ID, preview.message_id, go["callback_data"], user_id=9)
    await bot_api.wait_for_calls("answerCallbackQuery", 1)
    assert (
        bot_api.callback_answers[other["callback_query"]["id"]]["text"] == "此命令仅限管理员使用。"
    )
    bot_api.push_callback(ADMIN_ID, preview.message_id, cancel["callback_data"], user_id=ADMIN_ID)
    done = (await bot_api.wait_for_messages(ADMIN_ID, 3))[-1]
    assert done.plain_text == "已取消，没有发送。"
    await asyncio.sleep(1.5)
    assert not bot_api.messages_to(7101) and not bot_api.messages_to(7102)


async def test_a_source_failing_three_runs_is_told_to_the_admins_once_and_its_recovery_once(
    make_settings, start_bot, bot_api
) -> None:
    async with FakeNewsSite(SITE) as news:
        list_path = "/network/nennews/newsguonei/list/indexHome.shtml"
        news.set_fault(list_path, Fault(status=404))
        sources = (
            "[[source]]\n"
            'name = "nen-news-guonei"\n'
            'title = "东北新闻网·国内"\n'
            'profile = "nen"\n'
            f'lists = ["{news.url(list_path)}"]\n'
            "interval_minutes = 0.03\n"
        )
        await start_bot(make_settings(sources))
        [failing] = await bot_api.wait_for_messages(ADMIN_ID, 1, timeout=30)
        assert failing.plain_text.startswith(
            "⚠️ 新闻源 东北新闻网·国内（nen-news-guonei）已连续 3 次"
        )
        assert "404" in failing.plain_text
        await asyncio.sleep(4)  # more failed runs: told once, not once a run
        assert len(bot_api.messages_to(ADMIN_ID)) == 1
        news.clear_faults()
        recovered = (await bot_api.wait_for_messages(ADMIN_ID, 2, timeout=30))[-1]
        assert recovered.plain_text == "✅ 新闻源 东北新闻网·国内（nen-news-guonei）恢复正常。"
        await asyncio.sleep(4)
        assert len(bot_api.messages_to(ADMIN_ID)) == 2
