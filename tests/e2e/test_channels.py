"""Channels, several digests a day, quiet hours, watches and keyword rules through the real bot."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fakes.archive import seed_store
from news.ingest.fingerprint import fingerprint
from news.models import ParsedArticle
from storage import open_store
from tests.e2e.conftest import ADMIN_ID
from tests.store_sql import execute_sql, fetch_sql

pytestmark = pytest.mark.both_backends

USER = 5151  # a channel's administrator, in a private chat with the bot
CHANNEL = -1002003004005
NAME = "@lnnews_test"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Two sources: the province's, and a city's.
SOURCES = """
[[source]]
name = "nen-liaoning"
title = "东北新闻网·辽宁要闻"
profile = "nen"
lists = ["http://127.0.0.1:9/list.shtml"]
interval_minutes = 600

[[source]]
name = "dalian-news"
title = "大连新闻网·要闻"
region = "大连"
profile = "generic"
lists = ["http://127.0.0.1:9/dl.shtml"]
interval_minutes = 600
"""
_numbers = itertools.count(1)


@pytest.fixture
async def bot(make_settings, start_bot, bot_api):
    settings = make_settings(SOURCES)
    # Yesterday's news, published and stored: the back catalogue, never an alert.
    yesterday = datetime.now(UTC) - timedelta(days=1)
    await seed_store(settings.db, fetched_at=yesterday, published_at=yesterday)
    bot_api.add_channel(CHANNEL, username=NAME[1:], title="辽宁新闻频道", admins=(USER,))
    running = await start_bot(settings)
    # The first tick sets the alert cursor: what is stored from then on is new.
    await tick(bot_api)
    return running


async def say(api, chat: int, text: str, **kwargs) -> str:
    """Send a command and return the bot's next message to that chat."""
    before = len(api.messages_to(chat))
    api.push_text(chat, text, **kwargs)
    return (await api.wait_for_messages(chat, before + 1))[-1].plain_text


async def tick(api) -> None:
    """Run one delivery tick now: an admin's /digest_now runs the bot's own tick."""
    before = len(api.messages_to(ADMIN_ID))
    api.push_text(ADMIN_ID, "/digest_now", user_id=ADMIN_ID)
    for _ in range(100):
        sent = api.messages_to(ADMIN_ID)[before:]
        if any("生成摘要" in m.plain_text for m in sent):
            return
        await api.wait_for_messages(ADMIN_ID, len(api.messages_to(ADMIN_ID)) + 1)
    raise AssertionError("the tick did not finish")


async def add_article(
    db: str, title: str, *, source: str = "nen-liaoning", ago: timedelta = timedelta(0)
) -> int:
    """Store an article of a configured source published `ago` before now; return its id."""
    n = next(_numbers)
    article = ParsedArticle(
        url=f"https://example.nen.com.cn/channels/{n:06d}.shtml",
        title=title,
        published_at=datetime.now(UTC) - ago,
        paragraphs=("正文。",),
        source="测试",
    )
    store = await open_store(db)
    try:
        await store.upsert_source(source, source, "nen")
        outcome = await store.add_article(
            article,
            url_key=article.url,
            fingerprint=fingerprint(article.title, article.body),
            source_name=source,
            fetched_at=article.published_at,  # crawled as it was published
        )
        return outcome.article_id
    finally:
        await store.close()


async def make_due(db: str, chat_id: int, ago: timedelta) -> None:
    """Move a subscription's next digest to `ago` before now (as if its time had come)."""
    store = await open_store(db)
    try:
        due = (datetime.now(UTC) - ago).strftime("%Y-%m-%dT%H:%M:%SZ")
        await execute_sql(
            store, "UPDATE subscriptions SET next_due_at = ? WHERE chat_id = ?", due, chat_id
        )
    finally:
        await store.close()


async def rows_of(db: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    store = await open_store(db)
    try:
        return await fetch_sql(store, sql, *params)
    finally:
        await store.close()


async def eventually(check, seconds: float = 10) -> None:
    """Wait until an async check holds (the bot handles updates on its own time)."""
    for _ in range(int(seconds * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("never happened")


def buttons(message) -> dict[str, str]:
    markup = message.reply_markup or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


async def test_channel_subscribed_from_a_private_chat_gets_digests_and_alerts(bot, bot_api) -> None:
    db = bot.settings.db
    reply = await say(bot_api, USER, f"/subscribe {NAME} 08:00 18:00")
    assert reply.startswith(f"✅ 频道 {NAME} 已订阅：每天 08:00、18:00（Asia/Shanghai）")
    assert (await say(bot_api, USER, f"/keyword {NAME} 营商环境")).startswith(
        f"频道 {NAME}：✅ 新文章标题出现“营商环境”"
    )
    listing = await say(bot_api, USER, "/channels")
    assert f"{NAME}：每天 08:00、18:00（Asia/Shanghai）；领导 0 位、关键词 1 个" in listing
    # Its settings from the private chat: the buttons carry the channel; silence it.
    bot_api.push_text(USER, f"/settings {NAME}")
    card = (await bot_api.wait_for_messages(USER, 4))[-1]
    assert f"设置 · 频道 {NAME}" in card.plain_text and "静音推送：关" in card.plain_text
    press = buttons(card)
    assert press["🔕 静音推送 ▫️"].endswith(f":{CHANNEL}")
    bot_api.push_callback(USER, card.message_id, press["🔕 静音推送 ▫️"], user_id=USER)
    [edit] = await bot_api.wait_for_messages(USER, 1, kind="edit")
    assert "静音推送：开" in edit.plain_text
    # The morning's news, and a new article saying 营商环境; the first digest comes due.
    await add_article(db, "辽宁今晨要闻", ago=timedelta(minutes=10))
    await add_article(db, "沈阳优化营商环境新举措")
    await make_due(db, CHANNEL, ago=timedelta(minutes=5))
    await tick(bot_api)
    sent = bot_api.messages_to(CHANNEL)
    digests = [m for m in sent if m.plain_text.startswith("📰")]
    alerts = [m for m in sent if m.plain_text.startswith("🔔")]
    assert len(digests) == 1 and "辽宁今晨要闻" in digests[0].plain_text
    assert len(alerts) == 1 and "沈阳优化营商环境新举措" in alerts[0].plain_text
    # Two a day: the header names the time too; silent, as set.
    assert digests[0].plain_text.split("\n")[0].count(":") == 1
    assert all(m.params.get("disable_notification") is True for m in sent)
    # The second digest of the day covers only what came since the first.
    await add_article(db, "大连港口新航线开通", source="dalian-news", ago=timedelta(minutes=1))
    await make_due(db, CHANNEL, ago=timedelta(seconds=30))
    await tick(bot_api)
    later = [m for m in bot_api.messages_to(CHANNEL) if m.plain_text.startswith("📰")]
    assert len(later) == 2
    assert "大连港口新航线开通" in later[1].plain_text
    assert "辽宁今晨要闻" not in later[1].plain_text


@pytest.mark.parametrize(
    ("setup", "ref", "answer"),
    [
        ("unknown", "@nobody_here", "找不到频道 @nobody_here"),
        ("not_admin", NAME, f"你不是 {NAME} 的管理员"),
        ("private", "123456789", "123456789 是个人用户"),
        ("group", "-1009998887776", "-1009998887776 是群组，不是频道"),
        ("cannot_post", NAME, f"机器人在 {NAME} 还不能发布消息"),
    ],
)
async def test_a_channel_that_cannot_be_served_gets_one_line_and_nothing_saved(
    bot, bot_api, setup, ref, answer
) -> None:
    if setup == "not_admin":
        bot_api.set_chat_member(CHANNEL, USER, "member")
    elif setup == "group":
        bot_api.add_chat(-1009998887776, type="supergroup", title="辽宁新闻群")
    elif setup == "cannot_post":
        bot_api.set_chat_member(
            CHANNEL, bot_api.bot_user["id"], "administrator", can_post_messages=False
        )
    reply = await say(bot_api, USER, f"/subscribe {ref} 08:00")
    assert reply.startswith(answer) and "\n" not in reply
    db = bot.settings.db
    assert await rows_of(db, "SELECT chat_id FROM subscriptions") == []
    assert await rows_of(db, "SELECT channel_id FROM channel_managers") == []


async def test_bad_input_gets_one_line(bot, bot_api) -> None:
    cases = {
        "/subscribe 07:00 08:00 12:00 18:00 21:00": "每天最多 4 个摘要时间（你写了 5 个）",
        "/quiet 07:00 23:00": "07:00–23:00 长达 16 小时，是不是写反了？",
        "/quiet 23:00 23:00": "开始和结束时间不能相同",
        "/quiet 22:00 02:00 01:00 06:00": "只能设置一个免打扰时段",
        "/watch 火星日报": "没有叫“火星日报”的来源或地区",
        "/keyword -招聘": "只有排除词，没有要找的词",
        f"/follow {NAME}": "用法：/follow",
    }
    for command, answer in cases.items():
        reply = await say(bot_api, USER, command)
        assert reply.startswith(answer), (command, reply)
        assert "\n" not in reply
    db = bot.settings.db
    assert await rows_of(db, "SELECT chat_id FROM subscriptions") == []
    assert await rows_of(db, "SELECT chat_id FROM watches") == []
    assert await rows_of(db, "SELECT chat_id FROM keyword_follows") == []
    assert await rows_of(db, "SELECT id FROM chats WHERE quiet_start <> ''") == []
    # From a group, a channel is refused: channels are managed in a private chat.
    bot_api.add_chat(-1001112223334, type="supergroup", title="群")
    bot_api.set_chat_member(-1001112223334, 77, "administrator")
    reply = await say(bot_api, -1001112223334, f"/subscribe {NAME}", user_id=77)
    assert reply.startswith("频道请在与机器人的私聊中管理")


async def test_removed_from_the_channel_stops_it_and_tells_the_user_once(bot, bot_api) -> None:
    db = bot.settings.db
    await say(bot_api, USER, f"/subscribe {NAME} 08:00")
    await say(bot_api, USER, f"/watch {NAME} 大连")
    bot_api.remove_bot(CHANNEL, by_user=USER)

    async def stopped() -> bool:
        return await rows_of(db, "SELECT active FROM subscriptions") == [(0,)]

    await eventually(stopped)
    await tick(bot_api)
    await add_article(db, "大连新闻", source="dalian-news")
    await tick(bot_api)
    notices = [m for m in bot_api.messages_to(USER) if m.plain_text.startswith("⚠️")]
    assert len(notices) == 1 and f"频道 {NAME} 的推送已停止" in notices[0].plain_text
    assert bot_api.messages_to(CHANNEL) == []
    assert await rows_of(db, "SELECT active FROM subscriptions") == [(0,)]
    assert await rows_of(db, "SELECT active FROM watches") == [(0,)]
    assert "已停止" in await say(bot_api, USER, "/channels")


async def test_demoted_mid_way_stops_at_the_send_and_tells_the_user_once(bot, bot_api) -> None:
    db = bot.settings.db
    await say(bot_api, USER, f"/subscribe {NAME} 08:00")
    # Demoted without the update reaching the bot: the send itself is refused.
    bot_api.set_chat_member(
        CHANNEL, bot_api.bot_user["id"], "administrator", can_post_messages=False
    )
    await add_article(db, "辽宁新闻一则", ago=timedelta(minutes=10))
    await make_due(db, CHANNEL, ago=timedelta(minutes=5))
    await tick(bot_api)
    await tick(bot_api)
    notices = [m for m in bot_api.messages_to(USER) if m.plain_text.startswith("⚠️")]
    assert len(notices) == 1
    assert bot_api.messages_to(CHANNEL) == []
    assert await rows_of(db, "SELECT active FROM subscriptions") == [(0,)]


async def test_quiet_hours_hold_alerts_then_send_them_as_one(bot, bot_api) -> None:
    db = bot.settings.db
    now = datetime.now(SHANGHAI)
    start = (now - timedelta(hours=1)).strftime("%H:%M")
    end = (now + timedelta(hours=1)).strftime("%H:%M")
    assert (await say(bot_api, USER, f"/quiet {start} {end}")).startswith(
        f"🌙 免打扰：{start}–{end}"
    )
    await say(bot_api, USER, "/keyword 营商环境")
    first = await add_article(db, "营商环境一")
    second = await add_article(db, "营商环境二")
    await tick(bot_api)
    assert not any(m.plain_text.startswith("🔔") for m in bot_api.messages_to(USER))
    held = await rows_of(
        db, "SELECT key FROM deliveries WHERE chat_id = ? AND status = 'pending'", USER
    )
    assert sorted(held) == [(str(first),), (str(second),)]
    # The quiet hours end (here: are switched off): both come in one message.
    assert await say(bot_api, USER, "/quiet off") == "已关闭免打扰时段。"
    await tick(bot_api)
    alerts = [m for m in bot_api.messages_to(USER) if m.plain_text.startswith("🔔")]
    assert len(alerts) == 1 and "（2 篇）" in alerts[0].plain_text
    assert "营商环境一" in alerts[0].plain_text and "营商环境二" in alerts[0].plain_text


async def test_watch_a_region_and_keyword_exclusion(bot, bot_api) -> None:
    db = bot.settings.db
    assert (await say(bot_api, USER, "/watch 大连市")).startswith("✅ 已关注 大连：")
    assert (await say(bot_api, USER, "/watch 大连")).startswith("已经在关注 大连")
    assert (await say(bot_api, USER, "/keyword 营商环境 -招聘")).startswith(
        "✅ 新文章标题出现“营商环境”、且不含“招聘”时推送"
    )
    listing = await say(bot_api, USER, "/following")
    assert "关键词：营商环境 -招聘" in listing and "来源/地区：大连" in listing
    await add_article(db, "大连港新航线", source="dalian-news")
    await add_article(db, "营商环境专场招聘会")
    await add_article(db, "营商环境再优化")
    await add_article(db, "沈阳新闻")
    await tick(bot_api)
    # One push a tick (the bot's own tick may have taken some of the articles first).
    pushed = "\n".join(
        m.plain_text for m in bot_api.messages_to(USER) if m.plain_text.startswith("🔔")
    )
    assert "大连港新航线" in pushed and "营商环境再优化" in pushed
    assert "招聘会" not in pushed and "沈阳新闻" not in pushed
    assert (await say(bot_api, USER, "/unwatch 大连")).startswith("已取消关注 大连")


async def test_a_command_posted_in_the_channel_gets_a_silent_hint(bot, bot_api) -> None:
    bot_api.push_channel_post(CHANNEL, "/subscribe 08:00")
    [hint] = await bot_api.wait_for_messages(CHANNEL, 1)
    assert hint.plain_text.startswith("请在与 @newsbot_test_bot 的私聊中管理本频道")
    assert f"/subscribe {NAME} 08:00" in hint.plain_text
    assert hint.params.get("disable_notification") is True
