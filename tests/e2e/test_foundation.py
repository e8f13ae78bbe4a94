"""The real bot against the strict fake Bot API: /start, /help, /latest, errors, the menu."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handlers.texts import COMMANDS
from news.models import ParsedArticle
from storage.sqlite import SqliteStore
from tests.e2e.conftest import ADMIN_ID

CHAT = 1001


async def seed_articles(
    path: Any, count: int, *, title: str = "辽宁新闻", long: bool = False
) -> None:
    """Put articles straight into the bot's database."""
    store = await SqliteStore.open(path)
    try:
        for n in range(count):
            text = f"{title}{n} <&> " + ("振兴发展" * 60 if long else "")
            day = n % 28 + 1
            article = ParsedArticle(
                url=f"https://liaoning.nen.com.cn/network/a/2024/10/{day:02d}/{n:018d}.shtml?x=1&y=2",
                title=text,
                published_at=datetime(2024, 10, 1, tzinfo=UTC) + timedelta(hours=n),
                paragraphs=("正文。",),
                source="辽宁日报",
            )
            await store.add_article(article, url_key=f"k{n}", fingerprint=f"f{n}", source_name=None)
    finally:
        await store.close()


async def test_start_welcomes_in_chinese_and_registers_the_chat(
    make_settings, start_bot, bot_api
) -> None:
    bot = await start_bot(make_settings())
    bot_api.push_text(CHAT, "/start")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert "东北新闻网" in reply.plain_text
    assert reply.parse_mode == "HTML"
    store = await SqliteStore.open(bot.settings.db_path)
    try:
        chat = await store.get_chat(CHAT)
    finally:
        await store.close()
    assert chat is not None and chat.type == "private" and chat.language == "zh"


async def test_start_in_english_for_english_users(make_settings, start_bot, bot_api) -> None:
    await start_bot(make_settings())
    bot_api.push_text(CHAT, "/start", language_code="en-GB")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert "Hello" in reply.plain_text and "nen.com.cn" in reply.plain_text


async def test_help_lists_every_command_and_menu_is_published(
    make_settings, start_bot, bot_api
) -> None:
    await start_bot(make_settings())
    bot_api.push_text(CHAT, "/help")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    public = [c.name for c in COMMANDS if not c.admin]
    for command in public:
        assert f"/{command}" in reply.plain_text
    assert "/status" not in reply.plain_text  # admin command hidden from others
    menu = [c["command"] for c in bot_api.commands()]
    assert menu == public
    assert [c["command"] for c in bot_api.commands(language_code="en")] == menu


async def test_help_shows_admin_commands_to_admins(make_settings, start_bot, bot_api) -> None:
    await start_bot(make_settings())
    bot_api.push_text(ADMIN_ID, "/help", user_id=ADMIN_ID)
    [reply] = await bot_api.wait_for_messages(ADMIN_ID, 1)
    assert "/status" in reply.plain_text


async def test_latest_on_an_empty_store_says_so(make_settings, start_bot, bot_api) -> None:
    await start_bot(make_settings())
    bot_api.push_text(CHAT, "/latest")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert "还没有新闻" in reply.plain_text
    # A page button under a message of other text (a list whose articles have all gone since)
    # is answered, and the message says there is no news.
    bot_api.push_text(CHAT, "/help")
    [_, help_reply] = await bot_api.wait_for_messages(CHAT, 2)
    bot_api.push_callback(CHAT, help_reply.message_id, "lp:1:10", check_button=False)
    [answer] = await bot_api.wait_for_calls("answerCallbackQuery", 1)
    assert answer.status == 200
    [edit] = await bot_api.wait_for_messages(CHAT, 1, kind="edit")
    assert "还没有新闻" in edit.plain_text


async def test_latest_lists_newest_first_with_links_and_sources(
    make_settings, start_bot, bot_api
) -> None:
    settings = make_settings()
    await seed_articles(settings.db_path, 12)
    await start_bot(settings)
    bot_api.push_text(CHAT, "/latest 3")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    lines = reply.plain_text.splitlines()
    assert lines[0] == "最新新闻 · 第 1/4 页"
    assert lines[1].startswith("1. 2024-10-01 19:00 辽宁新闻11 <&>")  # 11:00 UTC shown in Shanghai
    assert "辽宁日报" in lines[1] and lines[1].endswith("#12")
    assert len(lines) == 4
    links = [e for e in reply.entities if e["type"] == "text_link"]
    assert len(links) == 3
    assert links[0]["url"].endswith("000000000000000011.shtml?x=1&y=2")
    bot_api.push_text(CHAT, "/latest")
    replies = await bot_api.wait_for_messages(CHAT, 2)
    assert len(replies[1].plain_text.splitlines()) == 11  # default 10 + title


@pytest.mark.parametrize("argument", ["abc", "0", "31", "-1", "5 6", "３"])
async def test_latest_with_a_bad_count_gets_usage(
    make_settings, start_bot, bot_api, argument
) -> None:
    await start_bot(make_settings())
    bot_api.push_text(CHAT, f"/latest {argument}")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert reply.plain_text.startswith("用法：/latest [n]")


async def test_thirty_long_headlines_fit_one_accepted_message(
    make_settings, start_bot, bot_api
) -> None:
    settings = make_settings()
    await seed_articles(settings.db_path, 31, long=True)
    await start_bot(settings)
    bot_api.push_text(CHAT, "/latest 30")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert all(call.status == 200 for call in bot_api.calls_to("sendMessage"))
    assert all(f"辽宁新闻{n} " in reply.plain_text for n in range(1, 31))
    assert reply.plain_text.count("…") == 30  # long titles are cut in lists
    buttons = [b for row in reply.reply_markup["inline_keyboard"] for b in row]
    assert len([b for b in buttons if b["callback_data"].startswith("sum:")]) == 30
    assert [b["text"] for b in buttons if b["callback_data"].startswith("lp:")] == ["下一页 ➡️"]


async def test_an_error_is_logged_apologised_once_and_the_bot_goes_on(
    make_settings, start_bot, bot_api, monkeypatch, caplog
) -> None:
    async def broken(self: SqliteStore, *args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(SqliteStore, "latest_page", broken)
    await start_bot(make_settings())
    bot_api.push_text(CHAT, "/latest")
    [apology] = await bot_api.wait_for_messages(CHAT, 1)
    assert "出了点问题" in apology.plain_text
    assert "disk on fire" in caplog.text and "/latest" in caplog.text
    bot_api.push_text(CHAT, "/help")
    replies = await bot_api.wait_for_messages(CHAT, 2)
    assert "/latest" in replies[1].plain_text
    assert len(bot_api.messages_to(CHAT)) == 2  # one apology, no more


async def test_status_is_for_admins_only(make_settings, start_bot, bot_api) -> None:
    await start_bot(make_settings())
    bot_api.push_text(CHAT, "/status")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert "管理员" in reply.plain_text
    bot_api.push_text(ADMIN_ID, "/status", user_id=ADMIN_ID)
    [reply] = await bot_api.wait_for_messages(ADMIN_ID, 1)
    assert "没有配置" in reply.plain_text
