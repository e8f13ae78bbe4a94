"""Digests and follows through the real bot: commands, buttons, groups, topics, admins."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest

from fakes.archive import seed_store
from news.ingest.sources_file import catalogue_text
from storage import open_store
from tests.e2e.conftest import ADMIN_ID

pytestmark = pytest.mark.both_backends

CHAT = 3003
GROUP = -1001234


@pytest.fixture
async def bot(make_settings, start_bot):
    settings = make_settings()
    # Stored an hour ago: inside the next digest's 24-hour window.
    await seed_store(
        settings.db,
        fetched_at=datetime.now(UTC) - timedelta(hours=1),
        published_at=datetime.now(UTC) - timedelta(hours=1),
    )
    return await start_bot(settings)


def buttons(message) -> list[dict]:
    markup = message.reply_markup or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def say(api, chat: int, text: str, count: int, **kwargs) -> str:
    api.push_text(chat, text, **kwargs)
    return (await api.wait_for_messages(chat, count))[-1].plain_text


async def test_subscribe_default_and_custom(bot, bot_api) -> None:
    assert (await say(bot_api, CHAT, "/subscribe", 1)).startswith(
        "✅ 已订阅：每天 08:00（Asia/Shanghai）"
    )
    reply = await say(bot_api, CHAT, "/subscribe 07:30 Europe/Berlin", 2)
    assert reply.startswith("✅ 已订阅：每天 07:30（Europe/Berlin）")
    store = await open_store(bot.settings.db)
    try:
        sub = await store.subscriptions.subscription(CHAT)
    finally:
        await store.close()
    assert sub is not None and (sub.digest_time, sub.time_zone) == ("07:30", "Europe/Berlin")


@pytest.mark.parametrize("args", ["25:00", "8am", "08:00 Mars/Base", "08:00 UTC extra", "Asia"])
async def test_subscribe_usage(bot, bot_api, args) -> None:
    assert (await say(bot_api, CHAT, f"/subscribe {args}", 1)).startswith("用法：/subscribe")


async def test_unsubscribe(bot, bot_api) -> None:
    assert (await say(bot_api, CHAT, "/unsubscribe", 1)).startswith("这个聊天还没有订阅")
    await say(bot_api, CHAT, "/subscribe", 2)
    assert await say(bot_api, CHAT, "/unsubscribe", 3) == "已取消每日摘要。"


async def test_settings_buttons_change_time_zone_language_and_empty(bot, bot_api) -> None:
    await say(bot_api, CHAT, "/subscribe 08:00", 1)
    bot_api.push_text(CHAT, "/settings")
    card = (await bot_api.wait_for_messages(CHAT, 2))[-1]
    assert "摘要时间：08:00（Asia/Shanghai）" in card.plain_text
    press = {b["text"]: b["callback_data"] for b in buttons(card)}
    # Time buttons are check boxes: 21:00 joins 08:00, then 08:00 leaves.
    bot_api.push_callback(CHAT, card.message_id, press["21:00"])
    [edit] = await bot_api.wait_for_messages(CHAT, 1, kind="edit")
    assert "摘要时间：08:00、21:00" in edit.plain_text
    press = {b["text"]: b["callback_data"] for b in buttons(edit)}
    bot_api.push_callback(CHAT, card.message_id, press["✅08:00"])
    edits = await bot_api.wait_for_messages(CHAT, 2, kind="edit")
    assert "摘要时间：21:00（" in edits[-1].plain_text
    press = {b["text"]: b["callback_data"] for b in buttons(edits[-1])}
    bot_api.push_callback(CHAT, card.message_id, press["UTC"])
    edits = await bot_api.wait_for_messages(CHAT, 3, kind="edit")
    assert "（UTC）" in edits[-1].plain_text
    press = {b["text"]: b["callback_data"] for b in buttons(edits[-1])}
    bot_api.push_callback(CHAT, card.message_id, press["📭 ▫️"])
    edits = await bot_api.wait_for_messages(CHAT, 4, kind="edit")
    assert "无新文章时：也发送" in edits[-1].plain_text
    press = {b["text"]: b["callback_data"] for b in buttons(edits[-1])}
    bot_api.push_callback(CHAT, card.message_id, press["English"])
    edits = await bot_api.wait_for_messages(CHAT, 5, kind="edit")
    assert "Language: English" in edits[-1].plain_text
    bot_api.push_callback(CHAT, card.message_id, "set:z:99", check_button=False)
    bot_api.push_callback(CHAT, card.message_id, "set:t:9999", check_button=False)
    await bot_api.wait_for_calls("answerCallbackQuery", 7)


async def test_group_members_who_are_not_admins_cannot_subscribe(bot, bot_api) -> None:
    bot_api.add_chat(GROUP, type="supergroup", title="辽宁新闻群")
    bot_api.set_chat_member(GROUP, 77, "member")
    bot_api.set_chat_member(GROUP, 78, "administrator")
    reply = await say(bot_api, GROUP, "/subscribe", 1, user_id=77)
    assert reply == "在群组中，只有群管理员可以修改订阅。"
    reply = await say(bot_api, GROUP, "/subscribe 09:00", 2, user_id=78)
    assert reply.startswith("✅ 已订阅：每天 09:00")


async def test_subscription_from_a_forum_topic_remembers_the_topic(bot, bot_api) -> None:
    bot_api.add_chat(GROUP, type="supergroup", title="论坛", is_forum=True)
    bot_api.push_text(GROUP, "/subscribe", message_thread_id=7)
    [reply] = await bot_api.wait_for_messages(GROUP, 1)
    assert reply.message_thread_id == 7
    store = await open_store(bot.settings.db)
    try:
        sub = await store.subscriptions.subscription(GROUP)
    finally:
        await store.close()
    assert sub is not None and sub.thread_id == 7


async def test_follow_unfollow_keyword_following(bot, bot_api) -> None:
    assert await say(bot_api, CHAT, "/following", 1) == (
        "还没有关注任何领导或关键词。试试 /follow 易炼红 或 /keyword 振兴。"
    )
    assert (await say(bot_api, CHAT, "/follow 易炼红", 2)).startswith("✅ 已关注 易炼红")
    assert (await say(bot_api, CHAT, "/follow yilianhong", 3)).startswith("已经在关注 易炼红")
    assert (await say(bot_api, CHAT, "/keyword 营商环境", 4)).startswith(
        "✅ 新文章标题出现“营商环境”"
    )
    listing = await say(bot_api, CHAT, "/following", 5)
    assert "领导：易炼红" in listing and "关键词：营商环境" in listing
    assert (await say(bot_api, CHAT, "/unfollow 易炼红", 6)) == "已取消关注 易炼红。"
    assert (await say(bot_api, CHAT, "/unkeyword 营商环境", 7)) == "已取消关注“营商环境”。"
    assert (await say(bot_api, CHAT, "/follow 易练红", 8)).startswith("没有找到“易练红”")
    assert (await say(bot_api, CHAT, "/follow", 9)).startswith("用法：/follow")
    assert (await say(bot_api, CHAT, "/keyword " + "长" * 21, 10)).startswith("每个词最多 20 个字")


async def test_digest_now_for_admins(bot, bot_api) -> None:
    reply = await say(bot_api, CHAT, "/digest_now", 1)
    assert reply == "此命令仅限管理员使用。"
    await say(bot_api, ADMIN_ID, "/subscribe", 1, user_id=ADMIN_ID)
    # The articles were stored "now", within the last 24 hours: a real digest goes out.
    bot_api.push_text(ADMIN_ID, "/digest_now", user_id=ADMIN_ID)
    replies = await bot_api.wait_for_messages(ADMIN_ID, 3)
    texts = [r.plain_text for r in replies]
    assert any(t.startswith("📰 东北新闻网 每日摘要") for t in texts)
    assert f"已为聊天 {ADMIN_ID} 生成摘要，账本状态：sent" in texts
    assert (await say(bot_api, ADMIN_ID, "/digest_now abc", 4, user_id=ADMIN_ID)).startswith("用法")


async def test_digest_now_on_an_empty_window_says_nothing_was_made(
    make_settings, start_bot, bot_api
) -> None:
    # The archive's articles are two days old: the last 24 hours hold none.
    settings = make_settings()
    old = datetime.now(UTC) - timedelta(days=2)
    await seed_store(settings.db, fetched_at=old, published_at=old)
    await start_bot(settings)
    await say(bot_api, ADMIN_ID, "/subscribe", 1, user_id=ADMIN_ID)
    reply = await say(bot_api, ADMIN_ID, "/digest_now", 2, user_id=ADMIN_ID)
    assert re.fullmatch(
        rf"聊天 {ADMIN_ID} 自 \d{{4}}-\d\d-\d\d \d\d:\d\d 以来没有新文章：未生成摘要。", reply
    ), reply
    await asyncio.sleep(0.5)
    assert not any("每日摘要" in m.plain_text for m in bot_api.messages_to(ADMIN_ID))


@pytest.fixture
async def bot_with_catalogue(make_settings, start_bot):
    """The bot with the shipped catalogue's 26 sources, their hosts pointed at a closed port."""
    sources = re.sub(r"https?://[^/\"]+", "http://127.0.0.1:9", catalogue_text())
    settings = make_settings(sources)
    return await start_bot(settings)


async def _press(api, card, label: str, edits: int):
    press = {b["text"]: b["callback_data"] for b in buttons(card)}
    assert all(len(data.encode()) <= 64 for data in press.values())
    api.push_callback(CHAT, card.message_id, press[label])
    return (await api.wait_for_messages(CHAT, edits, kind="edit"))[-1]


async def _subscription(bot):
    store = await open_store(bot.settings.db)
    try:
        return await store.subscriptions.subscription(CHAT)
    finally:
        await store.close()


async def test_settings_choose_sources_by_region(bot_with_catalogue, bot_api) -> None:
    bot = bot_with_catalogue
    await say(bot_api, CHAT, "/subscribe 08:00", 1)
    bot_api.push_text(CHAT, "/settings")
    card = (await bot_api.wait_for_messages(CHAT, 2))[-1]
    assert "栏目：全部" in card.plain_text
    picker = await _press(bot_api, card, "📍 按地区选择来源", 1)
    assert "按地区选择来源" in picker.plain_text
    labels = [b["text"] for b in buttons(picker)]
    for region in ("辽宁", "沈阳", "大连", "鞍山", "抚顺", "本溪", "丹东", "锦州", "营口",
                   "阜新", "辽阳", "盘锦", "铁岭", "朝阳", "葫芦岛"):  # fmt: skip
        assert any(label.startswith("✅" + region + " ") for label in labels), region
    dalian = await _press(bot_api, picker, "✅大连 2/2", 2)
    assert "大连的来源" in dalian.plain_text
    assert [b["text"] for b in buttons(dalian)] == [
        "✅ 🏛 大连市人民政府·政务动态",
        "✅ 📰 大连新闻网（大连日报）",
        "全不选",
        "◀ 返回",
    ]
    none = await _press(bot_api, dalian, "全不选", 3)
    assert [b["text"] for b in buttons(none)][:3] == [
        "▫️ 🏛 大连市人民政府·政务动态",
        "▫️ 📰 大连新闻网（大连日报）",
        "全选",
    ]
    sub = await _subscription(bot)
    assert len(sub.channels) == 24 and "dlxww" not in sub.channels
    one = await _press(bot_api, none, "▫️ 📰 大连新闻网（大连日报）", 4)
    assert "✅ 📰 大连新闻网（大连日报）" in [b["text"] for b in buttons(one)]
    sub = await _subscription(bot)
    assert "dlxww" in sub.channels and "dalian-gov" not in sub.channels
    back = await _press(bot_api, one, "◀ 返回", 5)
    assert "◐大连 1/2" in [b["text"] for b in buttons(back)]
    every = await _press(bot_api, back, "全部来源", 6)
    assert "✅全部来源" in [b["text"] for b in buttons(every)]
    assert (await _subscription(bot)).channels == ()
    home = await _press(bot_api, every, "◀ 返回", 7)
    assert "摘要时间：08:00" in home.plain_text
    # Forged or stale presses get a short notice, never a change.
    bot_api.push_callback(CHAT, card.message_id, "set:s:no-such-source", check_button=False)
    bot_api.push_callback(CHAT, card.message_id, "set:r:99", check_button=False)
    await bot_api.wait_for_calls("answerCallbackQuery", 9)
    assert (await _subscription(bot)).channels == ()
