"""Reading inside Telegram with the real bot: /summary, /article, /search, /speaker, paging."""

from __future__ import annotations

import pytest

from fakes.archive import seed_store

pytestmark = pytest.mark.both_backends

CHAT = 2002
SEED = "seed_2018-03-01_yilianhong_chengshipinzhi.txt"


@pytest.fixture
async def reading_bot(make_settings, start_bot):
    settings = make_settings()
    ids = await seed_store(settings.db)
    bot = await start_bot(settings)
    return bot, ids


def buttons(message) -> list[dict]:
    markup = message.reply_markup or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def test_summary_card(reading_bot, bot_api) -> None:
    _bot, ids = reading_bot
    bot_api.push_text(CHAT, f"/summary {ids[SEED]}")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    text = reply.plain_text
    assert text.startswith("易炼红:奋力拼搏")
    assert "城市品质" in text
    assert "讲话：" in text and "易炼红" in text and "姜有为" in text
    assert "于振明" not in text.split("讲话：")[1].split("\n")[0]  # presided, did not speak
    assert f"/article {ids[SEED]}" in text


@pytest.mark.parametrize("args", ["", "abc", "1 2", "-5", "99999999999999999999999"])
async def test_summary_usage(reading_bot, bot_api, args) -> None:
    bot_api.push_text(CHAT, f"/summary {args}".strip())
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert reply.plain_text.startswith("用法：/summary")


async def test_summary_of_an_unknown_article(reading_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/summary 4242")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert "找不到编号为 4242" in reply.plain_text


async def test_article_sends_the_whole_body(reading_bot, bot_api) -> None:
    _bot, ids = reading_bot
    bot_api.push_text(CHAT, f"/article {ids[SEED]}")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert "提升城市品质,认识必须再深化" in reply.plain_text
    assert "更多>>" not in reply.plain_text
    assert reply.plain_text.endswith("相关新闻\n• 相关报道 14")


async def test_latest_summary_button_and_paging(reading_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/latest 5")
    [page1] = await bot_api.wait_for_messages(CHAT, 1)
    summary = next(b for b in buttons(page1) if b["text"] == "摘要 1")
    bot_api.push_callback(CHAT, page1.message_id, summary["callback_data"])
    replies = await bot_api.wait_for_messages(CHAT, 2)
    headline = page1.plain_text.splitlines()[1]
    first_id = headline.rsplit("#", 1)[1]
    card = replies[1].plain_text
    assert summary["callback_data"] == f"sum:{first_id}"
    assert card.splitlines()[0] in headline  # the card of the first listed article
    assert card.endswith(f"/article {first_id}") and "讲话：" in card
    [next_button] = [b for b in buttons(page1) if b["callback_data"].startswith("lp:")]
    bot_api.push_callback(CHAT, page1.message_id, next_button["callback_data"])
    [edit] = await bot_api.wait_for_messages(CHAT, 1, kind="edit")
    assert "第 2/" in edit.plain_text and "6." in edit.plain_text
    assert any(b["text"].startswith("⬅️") for b in buttons(edit))
    # Pressing the same (now stale) button again is answered, never an exception.
    bot_api.push_callback(CHAT, page1.message_id, "lp:1:5", check_button=False)
    bot_api.push_callback(CHAT, page1.message_id, "lp:999:5", check_button=False)
    bot_api.push_callback(CHAT, page1.message_id, "lp:x:y", check_button=False)
    bot_api.push_callback(CHAT, page1.message_id, "sum:999999", check_button=False)
    bot_api.push_callback(CHAT, page1.message_id, "bogus", check_button=False)
    await bot_api.wait_for_calls("answerCallbackQuery", 7)
    refused = [c for c in bot_api.calls if c.status != 200]
    # The repeated press asks for the page already shown: Telegram says "not modified",
    # which the bot expects and swallows.
    assert all("not modified" in c.response["description"] for c in refused)


async def test_search_three_characters_newest_first(reading_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/search 市委书记")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert reply.plain_text.startswith("搜索“市委书记”：共")
    bold = [e for e in reply.entities if e["type"] == "bold"]
    assert len(bold) > 2  # the word is highlighted in snippets


async def test_search_two_characters_and_traditional(reading_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/search 振兴")
    await bot_api.wait_for_messages(CHAT, 1)
    bot_api.push_text(CHAT, "/search 振興")
    replies = await bot_api.wait_for_messages(CHAT, 2)
    first, second = replies[0].plain_text, replies[1].plain_text
    assert "共" in first and "振兴" in first
    assert first.split("：")[1].split(" ")[0] == second.split("：")[1].split(" ")[0]


async def test_search_one_character_name_part(reading_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/search 雷")  # 张雷: a single character is still found
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert "共" in reply.plain_text


@pytest.mark.parametrize(
    "query",
    ['"', "*", "NEAR(a b)", "a AND OR", "(", ")", "-", '" OR 1=1 --', "振兴 -", "'; DROP TABLE x;"],
)
async def test_search_syntax_is_searched_as_text(reading_bot, bot_api, query) -> None:
    bot_api.push_text(CHAT, f"/search {query}")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert reply.plain_text.startswith(("没有找到", "搜索", "用法"))


async def test_search_with_date_range(reading_bot, bot_api) -> None:
    expected = [
        ("/search 振兴 2026-11-01..2026-11-03", "搜索“振兴 2026-11-01..2026-11-03”：共 2 篇"),
        ("/search 振兴 2019..2020", "没有找到"),
        ("/search 振兴 2026-13..2026-14", "用法"),
        ("/search 振兴 2026-11-05..2026-11-01", "用法"),
    ]
    for count, (command, start) in enumerate(expected, start=1):
        bot_api.push_text(CHAT, command)
        replies = await bot_api.wait_for_messages(CHAT, count)
        assert replies[-1].plain_text.startswith(start), command


async def test_search_relevance_toggle_and_forged_query(reading_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/search 城市")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    [toggle] = [b for b in buttons(reply) if b["text"] == "按相关度"]
    bot_api.push_callback(CHAT, reply.message_id, toggle["callback_data"])
    [edit] = await bot_api.wait_for_messages(CHAT, 1, kind="edit")
    assert [b["text"] for b in buttons(edit) if b["callback_data"].endswith(":0:d")] == ["按时间"]
    # A chat cannot page another chat's query, even with a forged payload.
    bot_api.push_text(CHAT + 1, "/search 振兴")
    [other] = await bot_api.wait_for_messages(CHAT + 1, 1)
    other_query = buttons(other)[-1]["callback_data"].split(":")[1]
    bot_api.push_callback(CHAT, reply.message_id, f"sq:{other_query}:0:d", check_button=False)
    await bot_api.wait_for_calls("answerCallbackQuery", 2)
    assert len(bot_api.messages_to(CHAT, kind="edit")) == 1


async def test_speaker_by_name_traditional_and_pinyin(reading_bot, bot_api) -> None:
    for count, query in enumerate(
        ("易炼红", "易煉紅", "yilianhong", "yi lianhong", "Yi Lianhong"), 1
    ):
        bot_api.push_text(CHAT, f"/speaker {query}")
        reply = (await bot_api.wait_for_messages(CHAT, count))[-1]
        assert reply.plain_text.startswith("易炼红"), reply.plain_text[:80]
        assert "全部文章（第 1/" in reply.plain_text
        assert "城市品质" in reply.plain_text


async def test_speaker_by_title(reading_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/speaker 市委书记")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert reply.plain_text.startswith("担任过“市委书记”的人")
    names = [b["text"] for b in buttons(reply)]
    assert "易炼红" in names
    pick = next(b for b in buttons(reply) if b["text"] == "易炼红")
    bot_api.push_callback(CHAT, reply.message_id, pick["callback_data"])
    [edit] = await bot_api.wait_for_messages(CHAT, 1, kind="edit")
    assert edit.plain_text.startswith("易炼红")


async def test_speaker_unknown_gets_suggestions(reading_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/speaker 易练红")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert "没有找到“易练红”" in reply.plain_text
    assert "易炼红" in reply.plain_text


@pytest.mark.parametrize(
    "query", ["", "x" * 200, "😀😀", '"', "' OR 1=1 --", "NEAR(", "*", "<b>", "🙂 张"]
)
async def test_speaker_bad_input_gets_a_clear_reply(reading_bot, bot_api, query) -> None:
    bot_api.push_text(CHAT, f"/speaker {query}".strip())
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert reply.plain_text.startswith(("用法", "没有找到"))


async def test_speakers_of_the_week(make_settings, start_bot, bot_api) -> None:
    from datetime import UTC, datetime

    from storage import open_store
    from tests.store_sql import execute_sql

    settings = make_settings()
    await seed_store(settings.db)
    store = await open_store(settings.db)
    await execute_sql(
        store,
        "UPDATE mentions SET published_at = ?",
        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    await store.close()
    await start_bot(settings)
    bot_api.push_text(CHAT, "/speakers")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert reply.plain_text.startswith("近 7 天讲话最多的领导")
    assert "易炼红" in reply.plain_text


async def test_relevance_order_of_a_common_word_says_how_many_it_ranked(
    reading_bot, bot_api, monkeypatch
) -> None:
    import handlers.search
    import storage.postgres.store
    import storage.sqlite.store

    for module in (handlers.search, storage.sqlite.store, storage.postgres.store):
        monkeypatch.setattr(module, "RELEVANCE_CAP", 2, raising=False)
    bot_api.push_text(CHAT, "/search 城市")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert "最新的" not in reply.plain_text  # date order counts and pages every match
    [toggle] = [b for b in buttons(reply) if b["text"] == "按相关度"]
    bot_api.push_callback(CHAT, reply.message_id, toggle["callback_data"])
    [edit] = await bot_api.wait_for_messages(CHAT, 1, kind="edit")
    assert "按相关度排列的是最新的 2 篇 · 第 1/1 页" in edit.plain_text
    assert edit.plain_text.count("#") == 2
